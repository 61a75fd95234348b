// Sealer port: authenticated encryption of small values under a key the host
// keeps, so the embedded Secrets provider of `local` stores secrets sealed at
// rest. The core never sees the key: where it comes from (a key file, the
// environment) and the cipher (natively libsodium's XChaCha20-Poly1305) are
// the host's. A sealed value opens only with the same key and the same
// associated data, so a record copied under another secret's name, or with
// one byte changed, does not open.
#pragma once

#include <memory>
#include <string>

#include "core/async.h"
#include "core/status.h"

namespace cloudkit::ports {

class Sealer {
 public:
  virtual ~Sealer() = default;
  // `plaintext` encrypted and authenticated under the sealer's key, bound to
  // `associated_data` (which the result does not hold: Open needs it again).
  // Each call uses a fresh random nonce, so equal values seal differently.
  virtual Async<Result<std::string>> Seal(std::string plaintext, std::string associated_data) = 0;
  // The plaintext of `sealed`, or FAILED_PRECONDITION when it does not open
  // (another key, a changed byte, other associated data). The message names
  // none of the bytes; the caller adds what they belong to.
  virtual Async<Result<std::string>> Open(std::string sealed, std::string associated_data) = 0;
};

// Where a sealer's key comes from.
struct SealerKey {
  // The key itself, base64 of 32 bytes, when given (e.g. from the
  // environment); it wins over the file.
  std::string key_base64;
  // Where key_base64 came from, for messages ("CLOUDKIT_SECRETS_KEY").
  std::string key_source;
  // Else a file holding it: created with a new random key (mode 0600) when
  // absent, read when present.
  std::string key_file;
};

class SealerPort {
 public:
  virtual ~SealerPort() = default;
  // A sealer with the key `key` names. INVALID_ARGUMENT for a key that is not
  // base64 of 32 bytes (the message never shows it); FAILED_PRECONDITION for
  // a key file that others may read or that holds no such key.
  virtual Result<std::unique_ptr<Sealer>> OpenSealer(const SealerKey& key) = 0;
};

}  // namespace cloudkit::ports
