#include "ports/crypto_library.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "ports/shared_library.h"

namespace cloudkit::openssl {
namespace {

[[noreturn]] void CannotLoad(const std::string& why) {
  std::fprintf(stderr, "cloudkit: %s\n", why.c_str());
  std::abort();
}

CryptoLibrary Load() {
  // The soname of the libcrypto this was built against (libssl-dev 3.x).
  void* handle = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    CannotLoad(std::string("cannot load libcrypto.so.3: ") + (why ? why : "unknown error"));
  }
  CryptoLibrary crypto;
  std::string missing;
  const bool bound = BindSymbol(handle, "EVP_MD_CTX_new", &crypto.md_ctx_new, &missing) &&
                     BindSymbol(handle, "EVP_MD_CTX_free", &crypto.md_ctx_free, &missing) &&
                     BindSymbol(handle, "EVP_DigestInit_ex", &crypto.digest_init, &missing) &&
                     BindSymbol(handle, "EVP_DigestUpdate", &crypto.digest_update, &missing) &&
                     BindSymbol(handle, "EVP_DigestFinal_ex", &crypto.digest_final, &missing) &&
                     BindSymbol(handle, "EVP_md5", &crypto.md5, &missing) &&
                     BindSymbol(handle, "EVP_sha256", &crypto.sha256, &missing) &&
                     BindSymbol(handle, "HMAC", &crypto.hmac, &missing) &&
                     BindSymbol(handle, "ERR_get_error", &crypto.get_error, &missing) &&
                     BindSymbol(handle, "ERR_error_string_n", &crypto.error_string, &missing);
  if (!bound) CannotLoad("libcrypto.so.3 lacks " + missing);
  return crypto;
}

}  // namespace

const CryptoLibrary& Crypto() {
  static const CryptoLibrary crypto = Load();
  return crypto;
}

}  // namespace cloudkit::openssl
