// The `dynamodb` provider of KeyValue: every API table of a binding in ONE
// DynamoDB table (dynamodb_location.h; the layout in dynamodb_items.h), over
// the host's HTTP port, signed with Signature V4, within the binding's
// resilience (dynamodb_client.h). Its semantics are the embedded provider's
// (embedded/embedded_key_value.h), which the conformance suite checks:
// - Conditional writes (if_absent, if_match, Delete's if_match) are
//   DynamoDB condition expressions, so they are atomic on the service, also
//   among hosts sharing the table.
// - Expired items read as absent at once: reads and conditions compare the
//   stored expiry with the host's clock; DynamoDB's TTL deletes them later,
//   so this provider keeps the default (no) sweeping.
// - ETags are "<generation>-<sequence>" as the embedded provider's: the
//   generation is an atomic counter in the table, claimed once per provider
//   instance, so an ETag never repeats, whichever host wrote it, and a write
//   sent again by a retry writes the same ETag (a conditional write whose
//   first try did land is recognised by it).
// - BatchPut is one TransactWriteItems (up to 100 distinct keys). A binding
//   whose service has no transactions (transactions=false: dynalite) answers
//   it UNIMPLEMENTED, rather than write the entries one by one.
// - Tables spring into existence with their first item and vanish with
//   their last: an API table is a partition.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/key_locks.h"
#include "providers/dynamodb/dynamodb_client.h"
#include "providers/dynamodb/dynamodb_items.h"
#include "providers/registry.h"
#include "services/key_value_provider.h"

namespace cloudkit::dynamodb {

class DynamoKeyValue : public KeyValueProvider {
 public:
  DynamoKeyValue(std::string binding, DynamoLocation location, const remote::RemoteOptions& options,
                 const HostPorts& ports);

  Task<Result<v1::GetResponse>> Get(const v1::GetRequest& req) override;
  Task<Result<v1::PutResponse>> Put(const v1::PutRequest& req) override;
  Task<Result<v1::DeleteResponse>> Delete(const v1::DeleteRequest& req) override;
  Task<Result<v1::ExistsResponse>> Exists(const v1::ExistsRequest& req) override;
  Task<Result<v1::ListResponse>> List(const v1::ListRequest& req) override;
  Task<Result<v1::BatchGetResponse>> BatchGet(const v1::BatchGetRequest& req) override;
  Task<Result<v1::BatchPutResponse>> BatchPut(const v1::BatchPutRequest& req) override;
  std::vector<std::string> Unsupported() const override;

 private:
  // Before a binding's first call: its table, when it creates it.
  Task<Status> TableReady(int64_t deadline);
  // Before its first write: the generation of its ETags.
  Task<Status> ClaimGeneration(int64_t deadline);
  std::string NextEtag();
  int64_t ExpiryFor(uint64_t ttl_ms) const;
  // The live item (a consistent read), nullopt when absent or expired.
  Task<Result<std::optional<StoredItem>>> Load(const std::string& table, const std::string& key, bool with_value,
                                               int64_t deadline);
  // After a failed condition: the item it failed on (the refusal's Item,
  // where the service gives it), else the item as it is now.
  Task<Result<std::optional<StoredItem>>> FailedOn(const Json& refusal, const std::string& table,
                                                   const std::string& key, int64_t deadline);

  std::string binding_;
  DynamoClient client_;
  ports::Clock* clock_;
  ports::HashPort* hash_;
  ports::SleepPort* sleep_;
  // The first calls wait for the one creating the table or claiming the generation.
  KeyLocks preparing_;
  bool table_ready_ = false;
  uint64_t generation_ = 0;  // 0 until the first write claims one
  uint64_t writes_ = 0;
};

// Registers `dynamodb`.
void RegisterDynamoDbProvider(ProviderRegistry* registry);

}  // namespace cloudkit::dynamodb
