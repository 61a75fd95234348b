// CURVE key pairs (ZeroMQ's CurveZMQ) and the files that hold them, shared by
// the client library, the `cloudkit` CLI (keygen, --key, --server-key) and
// cloudkitd (its server key, its clients' public keys).
//
// A key file is ZeroMQ's certificate text, as CZMQ and pyzmq
// (zmq.auth.load_certificate) read and write it:
//
//   #   CloudKit CURVE key pair (cloudkit keygen): keep it secret
//   metadata
//   curve
//       public-key = "<40 characters of Z85>"
//       secret-key = "<40 characters of Z85>"
//
// The secret file holds both keys and must be readable by its owner alone
// (mode 0600); FILE.pub beside it holds the public key only. Messages name
// files, never secret keys.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace cloudkit {

inline constexpr size_t kCurveKeyZ85Length = 40;  // Z85 text of a 32-byte key

struct CurveKeyPair {
  std::string public_key;  // Z85
  std::string secret_key;  // Z85
};

// A new random key pair (zmq_curve_keypair). UNIMPLEMENTED when this libzmq
// was built without CURVE.
Result<CurveKeyPair> GenerateCurveKeyPair();

// Whether `text` is a key in Z85 (40 characters that decode to 32 bytes).
bool IsZ85Key(std::string_view text);

// The key file's text for `pair` (both keys), or for its public key alone.
std::string KeyFileText(const CurveKeyPair& pair, bool with_secret);

// Writes `path` (both keys, mode 0600) and `path`.pub (the public key, mode
// 0644). ALREADY_EXISTS when either is there: a key is never overwritten.
Status WriteKeyPairFiles(const std::string& path, const CurveKeyPair& pair);

// The key pair in the secret key file `path`. FAILED_PRECONDITION when group
// or others may access the file, or it holds no valid pair.
Result<CurveKeyPair> ReadKeyPairFile(const std::string& path);

// A public key given as Z85 text or as a key file (secret or public) naming it.
Result<std::string> ReadPublicKey(const std::string& z85_or_path);

}  // namespace cloudkit
