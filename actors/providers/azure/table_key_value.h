// The `azure` provider of KeyValue: Azure Table (or Azurite) over the host's
// HTTP port, signed with Shared Key, within the binding's resilience. One
// Azure table per binding; the API's tables are its partitions and keys are
// encoded into RowKeys that keep their order (table_keys.h); items are
// entities (table_entities.h).
//
// Semantics are the embedded provider's, kept atomically by Azure's ETags
// rather than by locks, so they hold across hosts too: an item's ETag is its
// entity's (new on every write); if_absent is Insert Entity (or, over an
// expired entity, a replace conditional on that entity's ETag); if_match and
// deletes read the entity, check it, and write conditionally on the ETag they
// read. BatchPut is an entity group transaction: all or none, up to 100
// distinct keys (Azure's limit); larger batches answer UNIMPLEMENTED rather
// than write in several steps.
//
// Expiry: Azure Table has no TTL. An entity keeps its expiry as a property,
// reads and listings treat an expired one as absent, and SweepExpired
// deletes them, a page at a time, with a filtered query over the whole table
// (each delete conditional on the ETag the query saw, so a newer write is
// never removed).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "providers/azure/azure_client.h"
#include "providers/azure/azure_location.h"
#include "providers/azure/table_entities.h"
#include "providers/registry.h"
#include "services/key_value_provider.h"

namespace cloudkit::azure {

class AzureTableKeyValue : public KeyValueProvider {
 public:
  AzureTableKeyValue(std::string binding, TableLocation location, const remote::RemoteOptions& options,
                     const HostPorts& ports);

  Task<Result<v1::GetResponse>> Get(const v1::GetRequest& req) override;
  Task<Result<v1::PutResponse>> Put(const v1::PutRequest& req) override;
  Task<Result<v1::DeleteResponse>> Delete(const v1::DeleteRequest& req) override;
  Task<Result<v1::ExistsResponse>> Exists(const v1::ExistsRequest& req) override;
  Task<Result<v1::ListResponse>> List(const v1::ListRequest& req) override;
  Task<Result<v1::BatchGetResponse>> BatchGet(const v1::BatchGetRequest& req) override;
  Task<Result<v1::BatchPutResponse>> BatchPut(const v1::BatchPutRequest& req) override;
  Task<Result<SweepStep>> SweepExpired(size_t budget) override;
  int64_t TakeNewExpiry() override;
  std::vector<std::string> Unsupported() const override;

  // What the provider and its concurrent steps share.
  struct Shared {
    Shared(TableLocation where, AzureClient azure) : location(std::move(where)), client(std::move(azure)) {}
    TableLocation location;
    AzureClient client;
    // The status for a refusal of a request about `what`.
    remote::HttpService::MapError Errors(std::string what) const;
    // Headers every table request carries.
    ports::HttpHeaders Headers() const;
  };

 private:
  // With create_table, creates the table the first time (a no-op when it exists).
  Task<Status> EnsureTable(int64_t deadline);
  int64_t ExpiryFor(uint64_t ttl_ms);
  bool Live(const StoredEntity& entity) const;
  // The item's fields from an entity of this provider.
  void Fill(const std::string& key, StoredEntity&& entity, bool with_value, v1::Item* item) const;
  // Writes the entity of `key` (Insert Or Replace; with `if_match`, Update
  // Entity conditional on that ETag); its new ETag.
  Task<Result<std::string>> Write(const std::string& table, const std::string& key, const std::string& value,
                                  int64_t expires_at_ms, const std::string& if_match, int64_t deadline);
  // Insert Entity: ALREADY_EXISTS when the key is present; its new ETag.
  Task<Result<std::string>> Insert(const std::string& table, const std::string& key, const std::string& value,
                                   int64_t expires_at_ms, int64_t deadline);

  std::string binding_;
  std::shared_ptr<Shared> shared_;
  bool table_ensured_ = false;
  int64_t new_expiry_ = 0;
  // Where the sweep's pass in progress resumes (both empty: a new pass), and
  // the earliest future expiry it has seen.
  std::string sweep_next_partition_;
  std::string sweep_next_row_;
  int64_t sweep_next_expiry_ = 0;
};

// Reads the entity of `key` in API table `table`: nullopt when there is none;
// an expired one is returned (its expiry tells), as writes need its ETag.
Task<Result<std::optional<StoredEntity>>> LoadEntity(std::shared_ptr<AzureTableKeyValue::Shared> shared,
                                                     std::string table, std::string key, int64_t deadline);

}  // namespace cloudkit::azure
