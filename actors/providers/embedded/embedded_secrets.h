// The Secrets provider behind `memory` and `local`: secrets in an
// OrderedStore (a map in memory, SQLite natively), laid out as
//   "s/" name                         -> store.v1.SecretRecord (latest version, times)
//   "v/" name "\0" %016x version      -> store.v1.SecretVersionRecord (the value)
//   "\0key-check"                     -> a known text, sealed (local only)
// Names never contain NUL, so each secret's versions are contiguous and in
// version order. Given a Sealer (`local`), values are sealed at rest, bound
// to their secret's name and version, and the key-check record tells a wrong
// key (FAILED_PRECONDITION, before any value is read or written) from a
// record altered on disk. Without one (`memory`: nothing is at rest) values
// are kept as given. Puts and deletes hold their secret from read to write,
// so overlapping writes of one secret get consecutive versions.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cloudkit/store/v1/secret_records.pb.h"
#include "core/key_locks.h"
#include "ports/clock.h"
#include "ports/ordered_store.h"
#include "ports/sealer.h"
#include "services/secrets_provider.h"

namespace cloudkit::embedded {

class EmbeddedSecrets : public SecretsProvider {
 public:
  static constexpr size_t kMaxValueBytes = 64 << 10;
  static constexpr uint64_t kMaxVersions = 100;  // kept per secret; a put beyond drops the oldest

  // `sealer` may be null: values are then stored as given.
  EmbeddedSecrets(std::unique_ptr<ports::OrderedStore> store, std::unique_ptr<ports::Sealer> sealer,
                  ports::Clock* clock);

  Task<Result<v1::PutSecretResponse>> Put(const v1::PutSecretRequest& req) override;
  Task<Result<v1::GetSecretResponse>> Get(const v1::GetSecretRequest& req) override;
  Task<Result<v1::ListSecretsResponse>> List(const v1::ListSecretsRequest& req) override;
  Task<Result<v1::ListSecretVersionsResponse>> ListVersions(const v1::ListSecretVersionsRequest& req) override;
  Task<Result<v1::DeleteSecretResponse>> Delete(const v1::DeleteSecretRequest& req) override;

 private:
  // The secret's record, or nullopt when it does not exist.
  // Also the record as stored into *stored: what a write relying on it expects.
  Task<Result<std::optional<store::v1::SecretRecord>>> LoadSecret(const std::string& name,
                                                                  std::optional<std::string>* stored = nullptr);
  // The version records of the secret, oldest first; NOT_FOUND naming it when
  // it does not exist.
  Task<Result<ports::OrderedStore::Entries>> LoadVersions(const std::string& name,
                                                          std::optional<std::string>* stored = nullptr);
  // OK when the sealer's key is the one the stored secrets were sealed with,
  // FAILED_PRECONDITION naming `name` when not. A write passes `batch`: when
  // no key-check record exists yet, it stages one there.
  Task<Status> CheckKey(const std::string& name, ports::WriteBatch* batch);

  std::unique_ptr<ports::OrderedStore> store_;
  std::unique_ptr<ports::Sealer> sealer_;
  ports::Clock* clock_;
  KeyLocks writing_;
  bool key_checked_ = false;  // the key-check record opened, or one was written
};

// The Secrets provider of `local` on a host that keeps no keys (the
// browser): values would sit in the clear in its storage, so it serves none.
// Every call answers UNIMPLEMENTED, and Unsupported() says why (`status`).
class UnsealedSecrets : public SecretsProvider {
 public:
  std::vector<std::string> Unsupported() const override;

  Task<Result<v1::PutSecretResponse>> Put(const v1::PutSecretRequest&) override { co_return Refusal(); }
  Task<Result<v1::GetSecretResponse>> Get(const v1::GetSecretRequest&) override { co_return Refusal(); }
  Task<Result<v1::ListSecretsResponse>> List(const v1::ListSecretsRequest&) override { co_return Refusal(); }
  Task<Result<v1::ListSecretVersionsResponse>> ListVersions(const v1::ListSecretVersionsRequest&) override {
    co_return Refusal();
  }
  Task<Result<v1::DeleteSecretResponse>> Delete(const v1::DeleteSecretRequest&) override { co_return Refusal(); }

 private:
  static Status Refusal();
};

}  // namespace cloudkit::embedded
