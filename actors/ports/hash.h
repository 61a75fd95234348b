// Hash port: incremental content digests (MD5 for S3-compatible ETags,
// SHA-256 for request signing) and HMAC-SHA256 (AWS Signature V4, Azure
// SharedKey).
// Hashing is a solved problem: each host wraps a well-kept library (OpenSSL
// natively) rather than the core carrying its own.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace cloudkit::ports {

class Hasher {
 public:
  virtual ~Hasher() = default;
  virtual void Update(std::string_view data) = 0;
  // Lower-case hex digest. The hasher is spent afterwards.
  virtual std::string FinishHex() = 0;
};

class HashPort {
 public:
  virtual ~HashPort() = default;
  virtual std::unique_ptr<Hasher> NewMd5() = 0;
  virtual std::unique_ptr<Hasher> NewSha256() = 0;
  // HMAC-SHA256 of `data` under `key`: the 32 raw bytes of the MAC.
  virtual std::string HmacSha256(std::string_view key, std::string_view data) = 0;
};

}  // namespace cloudkit::ports
