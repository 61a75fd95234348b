#include "providers/dynamodb/dynamodb_table.h"

#include <algorithm>

#include "providers/names.h"

namespace cloudkit::dynamodb {
namespace {

Json KeyAttribute(const char* name) { return Json{{"AttributeName", name}, {"AttributeType", "S"}}; }
Json KeyElement(const char* name, const char* type) { return Json{{"AttributeName", name}, {"KeyType", type}}; }

Json CreateTableRequest(const std::string& table) {
  Json request = Json::object();
  request["TableName"] = table;
  request["AttributeDefinitions"] = Json::array({KeyAttribute(kTableAttr), KeyAttribute(kKeyAttr)});
  request["KeySchema"] = Json::array({KeyElement(kTableAttr, "HASH"), KeyElement(kKeyAttr, "RANGE")});
  request["BillingMode"] = "PAY_PER_REQUEST";
  return request;
}

Json TableNameRequest(const std::string& table) {
  Json request = Json::object();
  request["TableName"] = table;
  return request;
}

Json EnableTtlRequest(const std::string& table) {
  Json request = TableNameRequest(table);
  request["TimeToLiveSpecification"] = Json{{"Enabled", true}, {"AttributeName", kTtlAttr}};
  return request;
}

// Polls DescribeTable until the table is ACTIVE (at once on emulators; some
// seconds on AWS).
Task<Status> AwaitActive(DynamoClient& client, ports::SleepPort& sleep, int64_t deadline_ms, const std::string& what) {
  const std::string& table = client.location().table;
  for (int64_t pause_ms = 100;; pause_ms = std::min<int64_t>(pause_ms * 2, 2000)) {
    Result<Json> described = co_await client.Call(deadline_ms, "DescribeTable", TableNameRequest(table), what);
    if (!described.ok()) co_return described.status();
    const Json* description = Member(*described, "Table");
    const Json* status = description ? Member(*description, "TableStatus") : nullptr;
    if (status && status->is_string() && status->get_ref<const std::string&>() == "ACTIVE") co_return Status::Ok();
    (void)co_await sleep.Sleep(pause_ms);
  }
}

}  // namespace

Task<Status> CreateTableIfMissing(DynamoClient& client, ports::SleepPort& sleep, int64_t deadline_ms) {
  const std::string& table = client.location().table;
  const std::string what = "creating the binding's " + client.location().Describe();
  Json refusal = Json::object();
  Result<Json> created = co_await client.Call(deadline_ms, "CreateTable", CreateTableRequest(table), what, &refusal);
  if (!created.ok()) {
    // ResourceInUseException: it exists already (perhaps still being created).
    const Json* type = Member(refusal, "__type");
    const bool exists = type && type->is_string() &&
                        type->get_ref<const std::string&>().find("ResourceInUseException") != std::string::npos;
    if (!exists) co_return created.status();
  }
  CK_CO_RETURN_IF_ERROR(co_await AwaitActive(client, sleep, deadline_ms, what));
  Result<Json> ttl = co_await client.Call(deadline_ms, "UpdateTimeToLive", EnableTtlRequest(table), what);
  // UNIMPLEMENTED: the service has no TTL (dynalite). INVALID_ARGUMENT: TTL is
  // on already ("TimeToLive is already enabled"), or on another attribute,
  // which only leaves expired items stored longer.
  if (!ttl.ok() && ttl.status().code() != v1::UNIMPLEMENTED && ttl.status().code() != v1::INVALID_ARGUMENT) {
    co_return ttl.status();
  }
  co_return Status::Ok();
}

}  // namespace cloudkit::dynamodb
