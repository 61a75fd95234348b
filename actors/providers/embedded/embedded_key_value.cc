#include "providers/embedded/embedded_key_value.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "providers/embedded/store_keys.h"
#include "providers/names.h"

namespace cloudkit::embedded {
namespace {

using store::v1::ItemRecord;

constexpr uint32_t kMaxPageSize = 1000;
// A page ends once its items hold this much: with values of at most 4 MiB
// (the request limit) a page stays inside the 8 MiB a reply may hold.
constexpr size_t kMaxPageBytes = 2u << 20;
constexpr int kMaxBatch = 1000;
constexpr std::string_view kGenerationKey{"\0generation", 11};

std::string Describe(const std::string& table, const std::string& key) {
  return "item " + names::Quote(key) + " in table " + names::Quote(table);
}

Status CheckNames(const std::string& table, const std::string& key) {
  CK_RETURN_IF_ERROR(names::CheckContainerName("table", table));
  return names::CheckItemKey(key);
}

void Fill(const std::string& key, const ItemRecord& record, bool with_value, v1::Item* item) {
  item->set_key(key);
  if (with_value) item->set_value(record.value());
  item->set_etag(record.etag());
  item->set_expires_at_ms(record.expires_at_ms());
}

Status HasEtag(const std::string& table, const std::string& key, const ItemRecord& current,
               const std::string& wanted) {
  if (current.etag() == wanted) return Status::Ok();
  return Status::FailedPrecondition(Describe(table, key) + " has ETag " + current.etag() + ", not " + wanted);
}

}  // namespace

EmbeddedKeyValue::EmbeddedKeyValue(std::unique_ptr<ports::OrderedStore> items, ports::Clock* clock)
    : items_(std::move(items)), clock_(clock) {}

Task<Status> EmbeddedKeyValue::ClaimGeneration() {
  // Claims made together (by this store's calls or by another store on the
  // same location) conflict but for one; a loser reads the winner's claim
  // and claims the next, unless one of its own calls has claimed meanwhile.
  for (int conflicts = 0; generation_ == 0; ++conflicts) {
    // Table names are never empty, so this key cannot collide with an item.
    Result<std::string> stored = co_await items_->Get(std::string(kGenerationKey));
    uint64_t previous = 0;
    if (stored.ok()) {
      previous = std::strtoull(stored->c_str(), nullptr, 16);
    } else if (stored.status().code() != v1::NOT_FOUND) {
      co_return stored.status();
    }
    char claimed[24];
    std::snprintf(claimed, sizeof claimed, "%llx", static_cast<unsigned long long>(previous + 1));
    ports::WriteBatch claim;
    claim.Expect(std::string(kGenerationKey), stored.ok() ? std::optional<std::string>(std::move(*stored)) : std::nullopt);
    claim.Put(std::string(kGenerationKey), claimed);
    Status written = co_await items_->Write(std::move(claim));
    if (written.ok() && generation_ == 0) generation_ = previous + 1;
    if (!written.ok() && (!ports::IsWriteConflict(written) || conflicts == ports::kMaxWriteConflicts)) {
      co_return written;
    }
  }
  co_return Status::Ok();
}

Task<Status> EmbeddedKeyValue::Commit(ports::WriteBatch batch) {
  if (sweep_scanning_) {
    for (const auto& op : batch.ops) written_while_sweeping_.insert(op.key);
  }
  co_return co_await items_->Write(std::move(batch));
}

int64_t EmbeddedKeyValue::ExpiryFor(uint64_t ttl_ms) {
  if (ttl_ms == 0) return 0;
  constexpr uint64_t kMaxTtlMs = uint64_t{1} << 50;  // ~35,000 years; keeps the sum in range
  return clock_->NowMs() + static_cast<int64_t>(std::min(ttl_ms, kMaxTtlMs));
}

Task<Result<std::optional<ItemRecord>>> EmbeddedKeyValue::Load(const std::string& table, const std::string& key) {
  Result<StoredItem> stored = co_await LoadStored(table, key);
  if (!stored.ok()) co_return stored.status();
  co_return std::move(stored->live);
}

Task<Result<EmbeddedKeyValue::StoredItem>> EmbeddedKeyValue::LoadStored(const std::string& table,
                                                                       const std::string& key) {
  Result<std::string> raw = co_await items_->Get(ItemKey(table, key));
  StoredItem stored;
  if (!raw.ok()) {
    if (raw.status().code() == v1::NOT_FOUND) co_return stored;
    co_return raw.status();
  }
  ItemRecord record;
  if (!record.ParseFromString(*raw)) co_return Status::Internal("corrupt record for " + Describe(table, key));
  stored.raw = std::move(*raw);
  if (record.expires_at_ms() == 0 || record.expires_at_ms() > clock_->NowMs()) stored.live = std::move(record);
  co_return stored;
}

Task<Result<v1::GetResponse>> EmbeddedKeyValue::Get(const v1::GetRequest& req) {
  CK_CO_RETURN_IF_ERROR(CheckNames(req.table(), req.key()));
  auto record = co_await Load(req.table(), req.key());
  if (!record.ok()) co_return record.status();
  if (!*record) co_return Status::NotFound(Describe(req.table(), req.key()));
  // The record is ours: move its strings into the reply rather than copy them.
  v1::GetResponse resp;
  v1::Item* item = resp.mutable_item();
  item->set_key(req.key());
  item->set_value(std::move(*(*record)->mutable_value()));
  item->set_etag(std::move(*(*record)->mutable_etag()));
  item->set_expires_at_ms((*record)->expires_at_ms());
  co_return resp;
}

Task<Result<v1::PutResponse>> EmbeddedKeyValue::Put(const v1::PutRequest& req) {
  CK_CO_RETURN_IF_ERROR(CheckNames(req.table(), req.key()));
  auto holding = writing_.Acquire({{ItemKey(req.table(), req.key()), true}});
  co_await holding->Granted();
  CK_CO_RETURN_IF_ERROR(co_await ClaimGeneration());
  const bool conditional = req.if_absent() || !req.if_match().empty();
  // A conditional put writes only if the item is still what it checked.
  for (int conflicts = 0;; ++conflicts) {
    ports::WriteBatch batch;
    if (conditional) {
      Result<StoredItem> current = co_await LoadStored(req.table(), req.key());
      if (!current.ok()) co_return current.status();
      if (req.if_absent() && current->live) co_return Status::AlreadyExists(Describe(req.table(), req.key()));
      if (!req.if_match().empty()) {
        if (!current->live) {
          co_return Status::FailedPrecondition(Describe(req.table(), req.key()) + " does not exist (if-match " +
                                               req.if_match() + ")");
        }
        CK_CO_RETURN_IF_ERROR(HasEtag(req.table(), req.key(), *current->live, req.if_match()));
      }
      batch.Expect(ItemKey(req.table(), req.key()), std::move(current->raw));
    }
    v1::PutResponse resp = StagePut(req.table(), req.key(), req.value(), req.ttl_ms(), &batch);
    Status written = co_await Commit(std::move(batch));
    if (written.ok()) co_return resp;
    if (!ports::IsWriteConflict(written) || conflicts == ports::kMaxWriteConflicts) co_return written;
  }
}

v1::PutResponse EmbeddedKeyValue::StagePut(const std::string& table, const std::string& key,
                                           const std::string& value, uint64_t ttl_ms, ports::WriteBatch* batch) {
  char etag[48];
  std::snprintf(etag, sizeof etag, "%llx-%llx", static_cast<unsigned long long>(generation_),
                static_cast<unsigned long long>(++writes_));
  ItemRecord record;
  record.set_value(value);
  record.set_etag(etag);
  record.set_expires_at_ms(ExpiryFor(ttl_ms));
  if (record.expires_at_ms() != 0 && (new_expiry_ == 0 || record.expires_at_ms() < new_expiry_)) {
    new_expiry_ = record.expires_at_ms();
  }
  batch->Put(ItemKey(table, key), record.SerializeAsString());
  v1::PutResponse resp;
  resp.set_etag(std::move(*record.mutable_etag()));
  resp.set_expires_at_ms(record.expires_at_ms());
  return resp;
}

Task<Result<v1::DeleteResponse>> EmbeddedKeyValue::Delete(const v1::DeleteRequest& req) {
  CK_CO_RETURN_IF_ERROR(CheckNames(req.table(), req.key()));
  auto holding = writing_.Acquire({{ItemKey(req.table(), req.key()), true}});
  co_await holding->Granted();
  // Deletes only what it checked, so that `existed` and if-match hold.
  for (int conflicts = 0;; ++conflicts) {
    Result<StoredItem> current = co_await LoadStored(req.table(), req.key());
    if (!current.ok()) co_return current.status();
    if (!req.if_match().empty()) {
      if (!current->live) co_return Status::NotFound(Describe(req.table(), req.key()));
      CK_CO_RETURN_IF_ERROR(HasEtag(req.table(), req.key(), *current->live, req.if_match()));
    }
    // Also removes an expired record still on disk.
    ports::WriteBatch batch;
    batch.Expect(ItemKey(req.table(), req.key()), std::move(current->raw));
    batch.Delete(ItemKey(req.table(), req.key()));
    Status written = co_await Commit(std::move(batch));
    if (written.ok()) {
      v1::DeleteResponse resp;
      resp.set_existed(current->live.has_value());
      co_return resp;
    }
    if (!ports::IsWriteConflict(written) || conflicts == ports::kMaxWriteConflicts) co_return written;
  }
}

Task<Result<v1::ExistsResponse>> EmbeddedKeyValue::Exists(const v1::ExistsRequest& req) {
  CK_CO_RETURN_IF_ERROR(CheckNames(req.table(), req.key()));
  auto current = co_await Load(req.table(), req.key());
  if (!current.ok()) co_return current.status();
  v1::ExistsResponse resp;
  resp.set_exists(current->has_value());
  co_return resp;
}

Task<Result<v1::ListResponse>> EmbeddedKeyValue::List(const v1::ListRequest& req) {
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("table", req.table()));
  const std::string base = ItemKey(req.table(), "");
  const std::string end = PrefixSuccessor(base + req.prefix());
  std::string start = base + req.prefix();
  if (!req.continuation_token().empty()) {
    std::optional<std::string> resume = DecodeToken(req.continuation_token());
    if (!resume || *resume < start || *resume >= end) {
      co_return Status::InvalidArgument("continuation token does not belong to this listing of table " +
                                        names::Quote(req.table()));
    }
    start = *resume;
  }
  const uint32_t page = req.page_size() == 0 ? kMaxPageSize : std::min(req.page_size(), kMaxPageSize);
  const int64_t now = clock_->NowMs();
  v1::ListResponse resp;
  bool exhausted = false;
  size_t page_bytes = 0;
  while (static_cast<uint32_t>(resp.items_size()) < page && !exhausted && page_bytes < kMaxPageBytes) {
    const size_t want = page - resp.items_size();
    Result<ports::OrderedStore::Entries> batch = co_await items_->Scan(start, end, want);
    if (!batch.ok()) co_return batch.status();
    exhausted = batch->size() < want;
    for (const auto& [store_key, value] : *batch) {
      start = store_key + '\0';
      ItemRecord record;
      std::string key = store_key.substr(base.size());
      if (!record.ParseFromString(value)) co_return Status::Internal("corrupt record for " + Describe(req.table(), key));
      if (record.expires_at_ms() != 0 && record.expires_at_ms() <= now) continue;
      page_bytes += key.size() + (req.keys_only() ? 0 : record.value().size());
      Fill(key, record, !req.keys_only(), resp.add_items());
      if (page_bytes >= kMaxPageBytes) {
        exhausted = false;  // the rest may hold more: the probe below says
        break;
      }
    }
  }
  if (!exhausted) {
    Result<ports::OrderedStore::Entries> probe = co_await items_->Scan(start, end, 1);
    if (!probe.ok()) co_return probe.status();
    if (!probe->empty()) resp.set_next_continuation_token(EncodeToken(start));
  }
  co_return resp;
}

Task<Result<v1::BatchGetResponse>> EmbeddedKeyValue::BatchGet(const v1::BatchGetRequest& req) {
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("table", req.table()));
  if (req.keys_size() > kMaxBatch) {
    co_return Status::InvalidArgument("at most " + std::to_string(kMaxBatch) + " keys per batch get, got " +
                                      std::to_string(req.keys_size()));
  }
  v1::BatchGetResponse resp;
  for (const std::string& key : req.keys()) {
    CK_CO_RETURN_IF_ERROR(names::CheckItemKey(key));
    auto record = co_await Load(req.table(), key);
    if (!record.ok()) co_return record.status();
    if (*record) {
      Fill(key, **record, true, resp.add_items());
    } else {
      resp.add_missing(key);
    }
  }
  co_return resp;
}

Task<Result<v1::BatchPutResponse>> EmbeddedKeyValue::BatchPut(const v1::BatchPutRequest& req) {
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("table", req.table()));
  if (req.entries_size() > kMaxBatch) {
    co_return Status::InvalidArgument("at most " + std::to_string(kMaxBatch) + " entries per batch put, got " +
                                      std::to_string(req.entries_size()));
  }
  for (const v1::BatchPutEntry& entry : req.entries()) CK_CO_RETURN_IF_ERROR(names::CheckItemKey(entry.key()));
  v1::BatchPutResponse resp;
  if (req.entries_size() == 0) co_return resp;
  std::vector<KeyLocks::Key> items;
  for (const v1::BatchPutEntry& entry : req.entries()) items.push_back({ItemKey(req.table(), entry.key()), true});
  auto holding = writing_.Acquire(std::move(items));
  co_await holding->Granted();
  CK_CO_RETURN_IF_ERROR(co_await ClaimGeneration());
  ports::WriteBatch batch;
  for (const v1::BatchPutEntry& entry : req.entries()) {
    v1::PutResponse staged = StagePut(req.table(), entry.key(), entry.value(), entry.ttl_ms(), &batch);
    resp.add_etags(std::move(*staged.mutable_etag()));
  }
  CK_CO_RETURN_IF_ERROR(co_await Commit(std::move(batch)));
  co_return resp;
}

Task<Result<KeyValueProvider::SweepStep>> EmbeddedKeyValue::SweepExpired(size_t budget) {
  budget = std::max<size_t>(budget, 1);
  // Item keys start with their table's name, which is never empty nor starts
  // with NUL; keys starting with NUL are the provider's own (the generation).
  const std::string start = sweep_resume_.empty() ? std::string(1, '\x01') : sweep_resume_;
  sweep_scanning_ = true;
  written_while_sweeping_.clear();
  Result<ports::OrderedStore::Entries> entries = co_await items_->Scan(start, "", budget);
  sweep_scanning_ = false;
  if (!entries.ok()) co_return entries.status();
  const int64_t now = clock_->NowMs();
  ports::WriteBatch expired;
  int64_t next_expiry = sweep_next_expiry_;
  for (const auto& [store_key, value] : *entries) {
    ItemRecord record;
    // A record that does not parse is left for a reader to report, not deleted.
    if (!record.ParseFromString(value) || record.expires_at_ms() == 0) continue;
    // Written since the scan read it: the newer record decides, next pass.
    if (written_while_sweeping_.count(store_key)) continue;
    if (record.expires_at_ms() <= now) {
      expired.Expect(store_key, value);  // another store on the location may have written it since
      expired.Delete(store_key);
    } else if (next_expiry == 0 || record.expires_at_ms() < next_expiry) {
      next_expiry = record.expires_at_ms();
    }
  }
  written_while_sweeping_.clear();
  SweepStep step;
  step.removed = expired.ops.size();
  // Issued now, so it lands before any write the actor starts after this turn.
  if (!expired.ops.empty()) {
    Status written = co_await items_->Write(std::move(expired));
    // Rewritten since the scan: this step removes nothing; a later pass does.
    if (ports::IsWriteConflict(written)) step.removed = 0;
    else CK_CO_RETURN_IF_ERROR(written);
  }
  step.pass_complete = entries->size() < budget;
  if (step.pass_complete) {
    step.next_expiry_ms = next_expiry;
    sweep_resume_.clear();
    sweep_next_expiry_ = 0;
  } else {
    sweep_resume_ = entries->back().first + '\0';
    sweep_next_expiry_ = next_expiry;
  }
  co_return step;
}

int64_t EmbeddedKeyValue::TakeNewExpiry() { return std::exchange(new_expiry_, 0); }

}  // namespace cloudkit::embedded
