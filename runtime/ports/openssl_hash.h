// OpenSslHashPort: the native Hash port over OpenSSL 3's EVP digest API
// (libcrypto is loaded by the first hasher: ports/crypto_library.h).
// Hashers are independent of each other; the port itself is stateless and
// thread-safe.
#pragma once

#include <memory>

#include "ports/hash.h"

namespace cloudkit {

class OpenSslHashPort : public ports::HashPort {
 public:
  // MD5 (for S3-compatible ETags, not for security). Aborts the process with a
  // message if OpenSSL cannot provide MD5 (e.g. a FIPS-only configuration):
  // that is a broken installation, not a request error.
  std::unique_ptr<ports::Hasher> NewMd5() override;
  std::unique_ptr<ports::Hasher> NewSha256() override;
  std::string HmacSha256(std::string_view key, std::string_view data) override;
};

}  // namespace cloudkit
