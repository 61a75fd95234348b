// The native Sealer port on libsodium: XChaCha20-Poly1305 (IETF AEAD), a
// random 192-bit nonce per seal, the associated data authenticated along.
// A sealed value is one format byte, the nonce, then the ciphertext and its
// tag. Keys come from SealerKey: the base64 key given, else the key file
// (runtime/ports/key_file), created on first use. Sealers are independent of
// each other and each is used from one actor; the port is thread-safe.
#pragma once

#include <memory>

#include "ports/sealer.h"

namespace cloudkit {

class SodiumSealerPort : public ports::SealerPort {
 public:
  // Initialises libsodium; aborts with a message if it cannot (no source of
  // randomness: a broken system, not a request error).
  SodiumSealerPort();
  Result<std::unique_ptr<ports::Sealer>> OpenSealer(const ports::SealerKey& key) override;
};

}  // namespace cloudkit
