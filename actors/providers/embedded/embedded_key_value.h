// The KeyValue provider behind `memory` and `local`: items in an OrderedStore
// (a map in memory, SQLite natively), one record per item holding its value,
// ETag and expiry. Calls overlap; each write holds its items from its check to
// its write, and writes expecting what it checked, so conditional writes are
// atomic, also against other stores open on the same location (browser tabs). Expired items read as absent; SweepExpired removes them
// (the actor runs it from a timer), and writing the key removes one too.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>

#include "cloudkit/store/v1/records.pb.h"
#include "core/key_locks.h"
#include "ports/clock.h"
#include "ports/ordered_store.h"
#include "services/key_value_provider.h"

namespace cloudkit::embedded {

class EmbeddedKeyValue : public KeyValueProvider {
 public:
  EmbeddedKeyValue(std::unique_ptr<ports::OrderedStore> items, ports::Clock* clock);

  Task<Result<v1::GetResponse>> Get(const v1::GetRequest& req) override;
  Task<Result<v1::PutResponse>> Put(const v1::PutRequest& req) override;
  Task<Result<v1::DeleteResponse>> Delete(const v1::DeleteRequest& req) override;
  Task<Result<v1::ExistsResponse>> Exists(const v1::ExistsRequest& req) override;
  Task<Result<v1::ListResponse>> List(const v1::ListRequest& req) override;
  Task<Result<v1::BatchGetResponse>> BatchGet(const v1::BatchGetRequest& req) override;
  Task<Result<v1::BatchPutResponse>> BatchPut(const v1::BatchPutRequest& req) override;
  Task<Result<SweepStep>> SweepExpired(size_t budget) override;
  int64_t TakeNewExpiry() override;

 private:
  // An item's record as stored (what a write relying on it expects) and,
  // unless absent or expired, parsed.
  struct StoredItem {
    std::optional<std::string> raw;
    std::optional<store::v1::ItemRecord> live;
  };
  // The live item, or nullopt when absent or expired.
  Task<Result<std::optional<store::v1::ItemRecord>>> Load(const std::string& table, const std::string& key);
  Task<Result<StoredItem>> LoadStored(const std::string& table, const std::string& key);
  // ETags are "<generation>-<sequence>": the generation is a counter kept in
  // the store and bumped once per opening, so ETags never repeat, also across
  // restarts, whatever the clock does, and between stores open on the same
  // location at once (browser tabs). The first write claims one, durably,
  // before any ETag made with it is handed out.
  Task<Status> ClaimGeneration();
  // Writes `batch` (staged puts and deletes of the keys it names).
  Task<Status> Commit(ports::WriteBatch batch);
  int64_t ExpiryFor(uint64_t ttl_ms);
  // Adds a new record for the item to `batch` and returns what its put answers
  // (new ETag, expiry). Nothing is written until the batch is.
  v1::PutResponse StagePut(const std::string& table, const std::string& key, const std::string& value,
                           uint64_t ttl_ms, ports::WriteBatch* batch);

  std::unique_ptr<ports::OrderedStore> items_;
  ports::Clock* clock_;
  // Writes hold their items while they read, check and write, so that
  // overlapping calls on one item apply one after the other.
  KeyLocks writing_;
  uint64_t generation_ = 0;  // 0 until the first write claims one
  uint64_t writes_ = 0;
  // Sweeping: where the pass in progress resumes (empty: a new pass starts),
  // the earliest future expiry it has seen, and the earliest expiry written
  // since TakeNewExpiry last ran (0 = none).
  std::string sweep_resume_;
  int64_t sweep_next_expiry_ = 0;
  int64_t new_expiry_ = 0;
  // While a sweep step waits for its scan, the keys written meanwhile: the
  // step must not delete what a newer write put there.
  bool sweep_scanning_ = false;
  std::unordered_set<std::string> written_while_sweeping_;
};

}  // namespace cloudkit::embedded
