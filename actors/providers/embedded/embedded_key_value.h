// The KeyValue provider behind `memory` and `local`: items in an OrderedStore
// (a map in memory, SQLite natively), one record per item holding its value,
// ETag and expiry. Expired items read as absent; SweepExpired removes them
// (the actor runs it from a timer), and writing the key removes one too.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "cloudkit/store/v1/records.pb.h"
#include "ports/clock.h"
#include "ports/ordered_store.h"
#include "services/key_value_provider.h"

namespace cloudkit::embedded {

class EmbeddedKeyValue : public KeyValueProvider {
 public:
  EmbeddedKeyValue(std::unique_ptr<ports::OrderedStore> items, ports::Clock* clock);

  Result<v1::GetResponse> Get(const v1::GetRequest& req) override;
  Result<v1::PutResponse> Put(const v1::PutRequest& req) override;
  Result<v1::DeleteResponse> Delete(const v1::DeleteRequest& req) override;
  Result<v1::ExistsResponse> Exists(const v1::ExistsRequest& req) override;
  Result<v1::ListResponse> List(const v1::ListRequest& req) override;
  Result<v1::BatchGetResponse> BatchGet(const v1::BatchGetRequest& req) override;
  Result<v1::BatchPutResponse> BatchPut(const v1::BatchPutRequest& req) override;
  // Unconditional puts share one OrderedStore write (one SQLite transaction).
  std::vector<Result<v1::PutResponse>> PutGroup(const std::vector<const v1::PutRequest*>& requests) override;
  Result<SweepStep> SweepExpired(size_t budget) override;
  int64_t TakeNewExpiry() override;

 private:
  // The live item, or nullopt when absent or expired.
  Result<std::optional<store::v1::ItemRecord>> Load(const std::string& table, const std::string& key);
  // ETags are "<generation>-<sequence>": the generation is a counter kept in
  // the store and bumped once per opening, so ETags never repeat, also across
  // restarts and whatever the clock does.
  Result<std::string> NewEtag();
  int64_t ExpiryFor(uint64_t ttl_ms);
  // Adds a new record for the item to `batch` and returns what its put answers
  // (new ETag, expiry). Nothing is written until the batch is.
  Result<v1::PutResponse> StagePut(const std::string& table, const std::string& key,
                                   const std::string& value, uint64_t ttl_ms, ports::WriteBatch* batch);

  std::unique_ptr<ports::OrderedStore> items_;
  ports::Clock* clock_;
  uint64_t generation_ = 0;  // 0 until the first write claims one
  uint64_t writes_ = 0;
  // Sweeping: where the pass in progress resumes (empty: a new pass starts),
  // the earliest future expiry it has seen, and the earliest expiry written
  // since TakeNewExpiry last ran (0 = none).
  std::string sweep_resume_;
  int64_t sweep_next_expiry_ = 0;
  int64_t new_expiry_ = 0;
};

}  // namespace cloudkit::embedded
