#include "providers/embedded/embedded_secrets.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "providers/embedded/store_keys.h"
#include "providers/names.h"

namespace cloudkit::embedded {
namespace {

using store::v1::SecretRecord;
using store::v1::SecretVersionRecord;

constexpr uint32_t kMaxPageSize = 1000;
constexpr std::string_view kSecretPrefix = "s/";
constexpr std::string_view kVersionPrefix = "v/";
constexpr std::string_view kKeyCheckKey{"\0key-check", 10};
constexpr std::string_view kKeyCheckText = "cloudkit secrets key check";

std::string SecretKey(std::string_view name) { return std::string(kSecretPrefix).append(name); }
// The start of the secret's versions.
std::string VersionsKey(std::string_view name) { return std::string(kVersionPrefix).append(name).append(1, '\0'); }
std::string VersionKey(std::string_view name, uint64_t version) {
  char digits[20];
  std::snprintf(digits, sizeof digits, "%016llx", static_cast<unsigned long long>(version));
  return VersionsKey(name) + digits;
}
// What a sealed value is bound to: a record copied under another name or
// version does not open.
std::string AssociatedData(std::string_view name, uint64_t version) {
  return std::string(name).append(1, '\0').append(std::to_string(version));
}

std::string Describe(const std::string& name) { return "secret " + names::Quote(name); }
std::string Describe(const std::string& name, uint64_t version) {
  return "version " + std::to_string(version) + " of " + Describe(name);
}

}  // namespace

EmbeddedSecrets::EmbeddedSecrets(std::unique_ptr<ports::OrderedStore> store, std::unique_ptr<ports::Sealer> sealer,
                                 ports::Clock* clock)
    : store_(std::move(store)), sealer_(std::move(sealer)), clock_(clock) {}

Task<Status> EmbeddedSecrets::CheckKey(const std::string& name, ports::WriteBatch* batch) {
  if (!sealer_ || key_checked_) co_return Status::Ok();
  Result<std::string> stored = co_await store_->Get(std::string(kKeyCheckKey));
  if (!stored.ok()) {
    if (stored.status().code() != v1::NOT_FOUND) co_return stored.status();
    // Nothing sealed yet: the first write seals the check with its key.
    if (batch != nullptr) {
      Result<std::string> sealed = co_await sealer_->Seal(std::string(kKeyCheckText), std::string(kKeyCheckKey));
      if (!sealed.ok()) co_return sealed.status();
      batch->Expect(std::string(kKeyCheckKey), std::nullopt);
      batch->Put(std::string(kKeyCheckKey), std::move(*sealed));
    }
    co_return Status::Ok();
  }
  Result<std::string> opened = co_await sealer_->Open(std::move(*stored), std::string(kKeyCheckKey));
  if (!opened.ok() || *opened != kKeyCheckText) {
    co_return Status::FailedPrecondition(
        Describe(name) + " cannot be opened: this binding's secrets were sealed with another key than the one it "
        "has now (its key file or CLOUDKIT_SECRETS_KEY changed)");
  }
  key_checked_ = true;
  co_return Status::Ok();
}

Task<Result<std::optional<SecretRecord>>> EmbeddedSecrets::LoadSecret(const std::string& name,
                                                                      std::optional<std::string>* stored) {
  Result<std::string> raw = co_await store_->Get(SecretKey(name));
  if (!raw.ok()) {
    if (raw.status().code() == v1::NOT_FOUND) co_return std::optional<SecretRecord>();
    co_return raw.status();
  }
  SecretRecord record;
  if (!record.ParseFromString(*raw)) co_return Status::Internal("corrupt record for " + Describe(name));
  if (stored != nullptr) *stored = std::move(*raw);
  co_return std::optional<SecretRecord>(std::move(record));
}

Task<Result<ports::OrderedStore::Entries>> EmbeddedSecrets::LoadVersions(const std::string& name,
                                                                         std::optional<std::string>* stored) {
  auto secret = co_await LoadSecret(name, stored);
  if (!secret.ok()) co_return secret.status();
  if (!*secret) co_return Status::NotFound(Describe(name));
  // Versions are written and dropped with their secret's record, in one
  // batch: at most kMaxVersions of them exist.
  const std::string base = VersionsKey(name);
  co_return co_await store_->Scan(base, PrefixSuccessor(base), kMaxVersions);
}

Task<Result<v1::PutSecretResponse>> EmbeddedSecrets::Put(const v1::PutSecretRequest& req) {
  CK_CO_RETURN_IF_ERROR(names::CheckSecretName(req.name()));
  if (req.value().size() > kMaxValueBytes) {
    co_return Status::InvalidArgument("the value of " + Describe(req.name()) + " is " +
                                      std::to_string(req.value().size()) + " bytes, more than " +
                                      std::to_string(kMaxValueBytes));
  }
  auto holding = writing_.Acquire({{req.name(), true}});
  co_await holding->Granted();
  // Writes the next version only over the record it read.
  for (int conflicts = 0;; ++conflicts) {
    ports::WriteBatch batch;
    CK_CO_RETURN_IF_ERROR(co_await CheckKey(req.name(), &batch));
    std::optional<std::string> stored;
    auto current = co_await LoadSecret(req.name(), &stored);
    if (!current.ok()) co_return current.status();
    const int64_t now = clock_->NowMs();
    SecretRecord secret;
    if (*current) {
      secret = std::move(**current);
    } else {
      secret.set_created_at_ms(now);
    }
    const uint64_t version = secret.latest_version() + 1;
    secret.set_latest_version(version);
    secret.set_updated_at_ms(now);
    SecretVersionRecord record;
    record.set_created_at_ms(now);
    if (sealer_) {
      Result<std::string> sealed = co_await sealer_->Seal(req.value(), AssociatedData(req.name(), version));
      if (!sealed.ok()) co_return sealed.status();
      record.set_value(std::move(*sealed));
    } else {
      record.set_value(req.value());
    }
    batch.Expect(SecretKey(req.name()), std::move(stored));
    batch.Put(SecretKey(req.name()), secret.SerializeAsString());
    batch.Put(VersionKey(req.name(), version), record.SerializeAsString());
    if (version > kMaxVersions) batch.Delete(VersionKey(req.name(), version - kMaxVersions));
    Status written = co_await store_->Write(std::move(batch));
    if (ports::IsWriteConflict(written) && conflicts < ports::kMaxWriteConflicts) continue;
    CK_CO_RETURN_IF_ERROR(written);
    if (sealer_) key_checked_ = true;  // the check record exists now, sealed with this key
    v1::PutSecretResponse resp;
    resp.set_version(version);
    resp.set_created_at_ms(now);
    co_return resp;
  }
}

Task<Result<v1::GetSecretResponse>> EmbeddedSecrets::Get(const v1::GetSecretRequest& req) {
  CK_CO_RETURN_IF_ERROR(names::CheckSecretName(req.name()));
  CK_CO_RETURN_IF_ERROR(co_await CheckKey(req.name(), nullptr));
  auto secret = co_await LoadSecret(req.name());
  if (!secret.ok()) co_return secret.status();
  if (!*secret) co_return Status::NotFound(Describe(req.name()));
  const uint64_t version = req.version() == 0 ? (*secret)->latest_version() : req.version();
  Result<std::string> raw = co_await store_->Get(VersionKey(req.name(), version));
  if (!raw.ok()) {
    if (raw.status().code() == v1::NOT_FOUND) co_return Status::NotFound(Describe(req.name(), version));
    co_return raw.status();
  }
  SecretVersionRecord record;
  if (!record.ParseFromString(*raw)) co_return Status::Internal("corrupt record for " + Describe(req.name(), version));
  v1::GetSecretResponse resp;
  if (sealer_) {
    Result<std::string> opened =
        co_await sealer_->Open(std::move(*record.mutable_value()), AssociatedData(req.name(), version));
    if (!opened.ok()) {
      if (opened.status().code() != v1::FAILED_PRECONDITION) co_return opened.status();
      co_return Status::FailedPrecondition(Describe(req.name(), version) +
                                           " does not open with this binding's key: its stored record was altered "
                                           "or copied from elsewhere");
    }
    resp.set_value(std::move(*opened));
  } else {
    resp.set_value(std::move(*record.mutable_value()));
  }
  resp.set_name(req.name());
  resp.set_version(version);
  resp.set_created_at_ms(record.created_at_ms());
  co_return resp;
}

Task<Result<v1::ListSecretsResponse>> EmbeddedSecrets::List(const v1::ListSecretsRequest& req) {
  const std::string start_of_prefix = SecretKey(req.prefix());
  const std::string end = PrefixSuccessor(start_of_prefix);
  std::string start = start_of_prefix;
  if (!req.continuation_token().empty()) {
    std::optional<std::string> resume = DecodeToken(req.continuation_token());
    if (!resume || *resume < start || (!end.empty() && *resume >= end)) {
      co_return Status::InvalidArgument("continuation token does not belong to this listing of secrets");
    }
    start = *resume;
  }
  const uint32_t page = req.page_size() == 0 ? kMaxPageSize : std::min(req.page_size(), kMaxPageSize);
  // One more than the page: whether a next page exists, and where it starts.
  Result<ports::OrderedStore::Entries> entries = co_await store_->Scan(start, end, page + 1);
  if (!entries.ok()) co_return entries.status();
  v1::ListSecretsResponse resp;
  for (const auto& [store_key, value] : *entries) {
    if (static_cast<uint32_t>(resp.secrets_size()) == page) {
      resp.set_next_continuation_token(EncodeToken(store_key));
      break;
    }
    std::string name = store_key.substr(kSecretPrefix.size());
    SecretRecord record;
    if (!record.ParseFromString(value)) co_return Status::Internal("corrupt record for " + Describe(name));
    v1::SecretInfo* info = resp.add_secrets();
    info->set_name(std::move(name));
    info->set_latest_version(record.latest_version());
    info->set_created_at_ms(record.created_at_ms());
    info->set_updated_at_ms(record.updated_at_ms());
  }
  co_return resp;
}

Task<Result<v1::ListSecretVersionsResponse>> EmbeddedSecrets::ListVersions(
    const v1::ListSecretVersionsRequest& req) {
  CK_CO_RETURN_IF_ERROR(names::CheckSecretName(req.name()));
  Result<ports::OrderedStore::Entries> entries = co_await LoadVersions(req.name());
  if (!entries.ok()) co_return entries.status();
  const size_t base = VersionsKey(req.name()).size();
  v1::ListSecretVersionsResponse resp;
  for (const auto& [store_key, value] : *entries) {
    const uint64_t version = std::strtoull(store_key.c_str() + base, nullptr, 16);
    SecretVersionRecord record;
    if (!record.ParseFromString(value)) {
      co_return Status::Internal("corrupt record for " + Describe(req.name(), version));
    }
    v1::SecretVersion* out = resp.add_versions();
    out->set_version(version);
    out->set_created_at_ms(record.created_at_ms());
  }
  co_return resp;
}

Task<Result<v1::DeleteSecretResponse>> EmbeddedSecrets::Delete(const v1::DeleteSecretRequest& req) {
  CK_CO_RETURN_IF_ERROR(names::CheckSecretName(req.name()));
  auto holding = writing_.Acquire({{req.name(), true}});
  co_await holding->Granted();
  // Deletes only the versions of the record it read.
  for (int conflicts = 0;; ++conflicts) {
    std::optional<std::string> stored;
    Result<ports::OrderedStore::Entries> versions = co_await LoadVersions(req.name(), &stored);
    if (!versions.ok()) co_return versions.status();
    ports::WriteBatch batch;
    batch.Expect(SecretKey(req.name()), std::move(stored));
    batch.Delete(SecretKey(req.name()));
    for (const auto& entry : *versions) batch.Delete(entry.first);
    Status written = co_await store_->Write(std::move(batch));
    if (ports::IsWriteConflict(written) && conflicts < ports::kMaxWriteConflicts) continue;
    CK_CO_RETURN_IF_ERROR(written);
    v1::DeleteSecretResponse resp;
    resp.set_versions_deleted(static_cast<uint32_t>(versions->size()));
    co_return resp;
  }
}

std::vector<std::string> UnsealedSecrets::Unsupported() const {
  return {"all methods (no key to seal values at rest on this host; use 'memory')"};
}

Status UnsealedSecrets::Refusal() {
  return Status::Unimplemented("secrets on 'local' need a key to seal them at rest, which this host does not keep");
}

}  // namespace cloudkit::embedded
