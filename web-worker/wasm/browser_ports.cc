#include "browser_ports.h"

#include <emscripten.h>
#include <emscripten/em_js.h>

#include <string>

// Each hasher is a handle into the worker script's table of JS hashers.
EM_JS(int, ck_md5_create, (), { return Module.ckMd5.create(); });
EM_JS(void, ck_md5_update, (int handle, const char* data, size_t size),
      { Module.ckMd5.update(handle, HEAPU8.subarray(data, data + size)); });
EM_JS(void, ck_md5_finish, (int handle, char* hex_out),
      { stringToUTF8(Module.ckMd5.finish(handle), hex_out, 33); });
EM_JS(void, ck_md5_discard, (int handle), { Module.ckMd5.discard(handle); });
EM_JS(double, ck_date_now, (), { return Date.now(); });

namespace cloudkit::web {
namespace {

class JsMd5 : public ports::Hasher {
 public:
  JsMd5() : handle_(ck_md5_create()) {}
  ~JsMd5() override {
    if (handle_ >= 0) ck_md5_discard(handle_);
  }
  void Update(std::string_view data) override { ck_md5_update(handle_, data.data(), data.size()); }
  std::string FinishHex() override {
    char hex[33] = {0};
    ck_md5_finish(handle_, hex);
    handle_ = -1;
    return hex;
  }

 private:
  int handle_;
};

}  // namespace

int64_t BrowserClock::NowMs() { return static_cast<int64_t>(ck_date_now()); }

std::unique_ptr<ports::Hasher> JsHashPort::NewMd5() { return std::make_unique<JsMd5>(); }

}  // namespace cloudkit::web
