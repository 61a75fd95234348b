#include "ports/sodium_sealer.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>

#include "ports/key_file.h"

namespace cloudkit {
namespace {

constexpr unsigned char kFormat = 1;  // XChaCha20-Poly1305, nonce first
constexpr size_t kKeyBytes = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;

const unsigned char* Bytes(const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); }

class SodiumSealer : public ports::Sealer {
 public:
  explicit SodiumSealer(std::string key) : key_(std::move(key)) {}
  ~SodiumSealer() override { sodium_memzero(key_.data(), key_.size()); }

  Async<Result<std::string>> Seal(std::string plaintext, std::string associated_data) override {
    std::string sealed(1 + kNonceBytes + plaintext.size() + kTagBytes, '\0');
    auto* out = reinterpret_cast<unsigned char*>(sealed.data());
    out[0] = kFormat;
    randombytes_buf(out + 1, kNonceBytes);
    unsigned long long length = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + 1 + kNonceBytes, &length, Bytes(plaintext), plaintext.size(),
                                               Bytes(associated_data), associated_data.size(), nullptr, out + 1,
                                               Bytes(key_));
    sodium_memzero(plaintext.data(), plaintext.size());
    sealed.resize(1 + kNonceBytes + length);
    return Async<Result<std::string>>::Ready(std::move(sealed));
  }

  Async<Result<std::string>> Open(std::string sealed, std::string associated_data) override {
    if (sealed.size() < 1 + kNonceBytes + kTagBytes || Bytes(sealed)[0] != kFormat) {
      return Async<Result<std::string>>::Ready(Status::FailedPrecondition("the sealed value is malformed"));
    }
    const size_t body = sealed.size() - 1 - kNonceBytes;
    std::string plaintext(body - kTagBytes, '\0');
    unsigned long long length = 0;
    const int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
        reinterpret_cast<unsigned char*>(plaintext.data()), &length, nullptr, Bytes(sealed) + 1 + kNonceBytes, body,
        Bytes(associated_data), associated_data.size(), Bytes(sealed) + 1, Bytes(key_));
    if (rc != 0) {
      return Async<Result<std::string>>::Ready(
          Status::FailedPrecondition("the sealed value does not open with this key and associated data"));
    }
    plaintext.resize(length);
    return Async<Result<std::string>>::Ready(std::move(plaintext));
  }

 private:
  std::string key_;
};

}  // namespace

SodiumSealerPort::SodiumSealerPort() {
  if (sodium_init() < 0) {
    std::fprintf(stderr, "cloudkit: libsodium cannot initialise (no source of randomness?)\n");
    std::abort();
  }
}

Result<std::unique_ptr<ports::Sealer>> SodiumSealerPort::OpenSealer(const ports::SealerKey& key) {
  Result<std::string> bytes = Status::Internal("no key");
  if (!key.key_base64.empty()) {
    bytes = key_file::DecodeKey(key.key_base64, kKeyBytes);
    if (!bytes.ok()) {
      const std::string source = key.key_source.empty() ? "the key given" : key.key_source;
      return Status::InvalidArgument(source + " is not base64 of " + std::to_string(kKeyBytes) + " bytes");
    }
  } else if (!key.key_file.empty()) {
    bytes = key_file::ReadOrCreate(key.key_file, kKeyBytes);
    if (!bytes.ok()) return bytes.status();
  } else {
    return Status::InvalidArgument("no key and no key file given");
  }
  return std::unique_ptr<ports::Sealer>(std::make_unique<SodiumSealer>(std::move(*bytes)));
}

}  // namespace cloudkit
