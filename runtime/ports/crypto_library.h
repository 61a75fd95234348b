// libcrypto (OpenSSL 3), loaded (dlopen) on the first hash rather than when
// the process starts: its relocated tables alone cost about 1.4 MB of
// resident memory, which a daemon that has not stored anything yet need not
// carry. The functions the hash port uses are reached through this table.
#pragma once

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace cloudkit::openssl {

struct CryptoLibrary {
  decltype(&::EVP_MD_CTX_new) md_ctx_new;
  decltype(&::EVP_MD_CTX_free) md_ctx_free;
  decltype(&::EVP_DigestInit_ex) digest_init;
  decltype(&::EVP_DigestUpdate) digest_update;
  decltype(&::EVP_DigestFinal_ex) digest_final;
  decltype(&::EVP_md5) md5;
  decltype(&::EVP_sha256) sha256;
  decltype(&::HMAC) hmac;
  decltype(&::ERR_get_error) get_error;
  decltype(&::ERR_error_string_n) error_string;
};

// The library, loaded by the first call (thread-safe). A libcrypto that
// cannot be loaded is a broken installation, not a request's error: the
// process stops with a message naming what is missing.
const CryptoLibrary& Crypto();

}  // namespace cloudkit::openssl
