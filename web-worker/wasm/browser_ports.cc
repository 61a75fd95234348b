#include "browser_ports.h"

#include <emscripten.h>
#include <emscripten/em_js.h>

#include <string>

// Each hasher is a handle into the worker script's table of JS hashers.
EM_JS(int, ck_hash_create, (const char* algorithm), { return Module.ckHash.create(UTF8ToString(algorithm)); });
EM_JS(void, ck_hash_update, (int handle, const char* data, size_t size),
      { Module.ckHash.update(handle, HEAPU8.subarray(data, data + size)); });
EM_JS(void, ck_hash_finish, (int handle, char* hex_out, size_t capacity),
      { stringToUTF8(Module.ckHash.finish(handle), hex_out, capacity); });
EM_JS(void, ck_hash_discard, (int handle), { Module.ckHash.discard(handle); });
EM_JS(void, ck_hmac_sha256, (const char* key, size_t key_size, const char* data, size_t data_size, char* mac_out), {
  HEAPU8.set(Module.ckHash.hmacSha256(HEAPU8.slice(key, key + key_size), HEAPU8.subarray(data, data + data_size)),
             mac_out);
});

EM_JS(double, ck_date_now, (), { return Date.now(); });

namespace cloudkit::web {
namespace {

// An incremental hasher in JS; `hex_size` is the digest's length in hex.
class JsHasher : public ports::Hasher {
 public:
  JsHasher(const char* algorithm, size_t hex_size) : handle_(ck_hash_create(algorithm)), hex_size_(hex_size) {}
  ~JsHasher() override {
    if (handle_ >= 0) ck_hash_discard(handle_);
  }
  void Update(std::string_view data) override { ck_hash_update(handle_, data.data(), data.size()); }
  std::string FinishHex() override {
    std::string hex(hex_size_ + 1, '\0');
    ck_hash_finish(handle_, hex.data(), hex.size());
    handle_ = -1;
    hex.resize(hex_size_);
    return hex;
  }

 private:
  int handle_;
  size_t hex_size_;
};

}  // namespace

int64_t BrowserClock::NowMs() { return static_cast<int64_t>(ck_date_now()); }

std::unique_ptr<ports::Hasher> JsHashPort::NewMd5() { return std::make_unique<JsHasher>("md5", 32); }

std::unique_ptr<ports::Hasher> JsHashPort::NewSha256() { return std::make_unique<JsHasher>("sha256", 64); }

std::string JsHashPort::HmacSha256(std::string_view key, std::string_view data) {
  std::string mac(32, '\0');
  ck_hmac_sha256(key.data(), key.size(), data.data(), data.size(), mac.data());
  return mac;
}

}  // namespace cloudkit::web
