#include "ports/openssl_hash.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/hex.h"
#include "ports/crypto_library.h"

namespace cloudkit {
namespace {

using openssl::Crypto;

[[noreturn]] void Fatal(const char* what) {
  char buf[256];
  Crypto().error_string(Crypto().get_error(), buf, sizeof buf);
  std::fprintf(stderr, "cloudkit: OpenSSL %s failed: %s\n", what, buf);
  std::abort();
}

class EvpHasher : public ports::Hasher {
 public:
  explicit EvpHasher(const EVP_MD* md) : ctx_(Crypto().md_ctx_new()) {
    if (ctx_ == nullptr) Fatal("EVP_MD_CTX_new");
    if (Crypto().digest_init(ctx_, md, nullptr) != 1) Fatal("EVP_DigestInit_ex");
  }
  ~EvpHasher() override { Crypto().md_ctx_free(ctx_); }
  EvpHasher(const EvpHasher&) = delete;
  EvpHasher& operator=(const EvpHasher&) = delete;

  void Update(std::string_view data) override {
    if (done_ || data.empty()) return;
    if (Crypto().digest_update(ctx_, data.data(), data.size()) != 1) Fatal("EVP_DigestUpdate");
  }

  std::string FinishHex() override {
    if (done_) return {};
    done_ = true;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (Crypto().digest_final(ctx_, digest, &len) != 1) Fatal("EVP_DigestFinal_ex");
    return ToHex(std::string_view(reinterpret_cast<const char*>(digest), len));
  }

 private:
  EVP_MD_CTX* ctx_;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<ports::Hasher> OpenSslHashPort::NewMd5() {
  return std::make_unique<EvpHasher>(Crypto().md5());
}

std::unique_ptr<ports::Hasher> OpenSslHashPort::NewSha256() { return std::make_unique<EvpHasher>(Crypto().sha256()); }

std::string OpenSslHashPort::HmacSha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (Crypto().hmac(Crypto().sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
           data.size(), mac, &len) == nullptr) {
    Fatal("HMAC(SHA-256)");
  }
  return std::string(reinterpret_cast<const char*>(mac), len);
}

}  // namespace cloudkit
