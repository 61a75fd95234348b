#include "providers/dynamodb/dynamodb_key_value.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <utility>

#include "providers/dynamodb/dynamodb_expressions.h"
#include "providers/dynamodb/dynamodb_list_token.h"
#include "providers/dynamodb/dynamodb_table.h"
#include "providers/names.h"
#include "providers/remote/remote_options.h"

namespace cloudkit::dynamodb {
namespace {

constexpr uint32_t kMaxPageSize = 1000;
constexpr int kMaxBatch = 1000;             // the API's, as the embedded provider's
constexpr size_t kMaxBatchGetKeys = 100;    // one BatchGetItem
constexpr size_t kMaxTransactionItems = 100;  // one TransactWriteItems
constexpr size_t kMaxRequestTokenSize = 36;   // TransactWriteItems' ClientRequestToken
constexpr char kGenerationKey[] = "generation";
constexpr char kGenerationAttr[] = "n";

std::string Describe(const std::string& table, const std::string& key) {
  return "item " + names::Quote(key) + " in table " + names::Quote(table);
}

Status CheckNames(const std::string& table, const std::string& key) {
  CK_RETURN_IF_ERROR(names::CheckContainerName("table", table));
  return names::CheckItemKey(key);
}

// A request on the binding's table.
Json OnTable(const DynamoLocation& location) {
  Json request = Json::object();
  request["TableName"] = location.table;
  return request;
}

bool ConditionFailed(const Json& refusal) {
  const Json* type = Member(refusal, "__type");
  return type && type->is_string() &&
         type->get_ref<const std::string&>().find("ConditionalCheckFailedException") != std::string::npos;
}

void Fill(const StoredItem& stored, bool with_value, v1::Item* item) {
  item->set_key(stored.key);
  if (with_value) item->set_value(stored.value);
  item->set_etag(stored.etag);
  item->set_expires_at_ms(stored.expires_at_ms);
}

Status EtagMismatch(const std::string& what, const StoredItem& current, const std::string& wanted) {
  return Status::FailedPrecondition(what + " has ETag " + current.etag + ", not " + wanted);
}

// A condition failed, yet the item as read afterwards meets it: it changed in between.
Status ChangedMeanwhile(const std::string& what) {
  return Status::Aborted(what + " changed while the request ran; try again");
}

}  // namespace

DynamoKeyValue::DynamoKeyValue(std::string binding, DynamoLocation location, const remote::RemoteOptions& options,
                               const HostPorts& ports)
    : binding_(binding),
      client_(std::move(binding), std::move(location), options, ports),
      clock_(ports.clock),
      hash_(ports.hash),
      sleep_(ports.sleep) {}

std::vector<std::string> DynamoKeyValue::Unsupported() const {
  if (client_.location().transactions) return {};
  return {"atomic BatchPut (the binding has transactions=false: its service lacks TransactWriteItems)"};
}

Task<Status> DynamoKeyValue::TableReady(int64_t deadline) {
  if (!client_.location().create_table || table_ready_) co_return Status::Ok();
  auto held = preparing_.Acquire({{"table", true}});
  co_await held->Granted();
  if (table_ready_) co_return Status::Ok();  // made by the call this one waited for
  Status created = co_await CreateTableIfMissing(client_, *sleep_, deadline);
  if (created.ok()) table_ready_ = true;
  co_return created;
}

Task<Status> DynamoKeyValue::ClaimGeneration(int64_t deadline) {
  if (generation_ != 0) co_return Status::Ok();
  auto held = preparing_.Acquire({{"generation", true}});
  co_await held->Granted();
  if (generation_ != 0) co_return Status::Ok();
  Json request = OnTable(client_.location());
  request["Key"] = KeyOf(kOwnPartition, kGenerationKey);
  Expressions e;
  request["UpdateExpression"] = "ADD " + e.Name(kGenerationAttr) + " " + e.Value("one", NumberValue(1));
  e.AddTo(&request);
  request["ReturnValues"] = "UPDATED_NEW";
  Result<Json> claimed = co_await client_.Call(deadline, "UpdateItem", std::move(request),
                                               "the ETag generation of binding " + names::Quote(binding_));
  if (!claimed.ok()) co_return claimed.status();
  const Json* attributes = Member(*claimed, "Attributes");
  std::optional<int64_t> generation = attributes ? NumberAttribute(*attributes, kGenerationAttr) : std::nullopt;
  if (!generation || *generation <= 0) co_return Status::Internal("DynamoDB answered no ETag generation");
  generation_ = static_cast<uint64_t>(*generation);
  co_return Status::Ok();
}

std::string DynamoKeyValue::NextEtag() {
  char etag[48];
  std::snprintf(etag, sizeof etag, "%llx-%llx", static_cast<unsigned long long>(generation_),
                static_cast<unsigned long long>(++writes_));
  return etag;
}

int64_t DynamoKeyValue::ExpiryFor(uint64_t ttl_ms) const {
  if (ttl_ms == 0) return 0;
  constexpr uint64_t kMaxTtlMs = uint64_t{1} << 50;  // ~35,000 years; keeps the sum in range
  return clock_->NowMs() + static_cast<int64_t>(std::min(ttl_ms, kMaxTtlMs));
}

Task<Result<std::optional<StoredItem>>> DynamoKeyValue::Load(const std::string& table, const std::string& key,
                                                             bool with_value, int64_t deadline) {
  Json request = OnTable(client_.location());
  request["Key"] = KeyOf(table, key);
  request["ConsistentRead"] = true;
  if (!with_value) {
    Expressions e;
    request["ProjectionExpression"] = WithoutValue(e);
    e.AddTo(&request);
  }
  const std::string what = Describe(table, key);
  Result<Json> got = co_await client_.Call(deadline, "GetItem", std::move(request), what);
  if (!got.ok()) co_return got.status();
  const Json* attributes = Member(*got, "Item");
  if (attributes == nullptr) co_return std::optional<StoredItem>();
  Result<StoredItem> item = ParseItem(*attributes, what);
  if (!item.ok()) co_return item.status();
  if (!item->LiveAt(clock_->NowMs())) co_return std::optional<StoredItem>();
  co_return std::optional<StoredItem>(std::move(*item));
}

Task<Result<std::optional<StoredItem>>> DynamoKeyValue::FailedOn(const Json& refusal, const std::string& table,
                                                                 const std::string& key, int64_t deadline) {
  // DynamoDB returns the item a condition failed on (ReturnValuesOnConditionCheckFailure);
  // when it returns none, the item was absent, or the service does not say (dynalite): read it.
  const Json* attributes = Member(refusal, "Item");
  if (attributes == nullptr) co_return co_await Load(table, key, false, deadline);
  Result<StoredItem> item = ParseItem(*attributes, Describe(table, key));
  if (!item.ok()) co_return item.status();
  if (!item->LiveAt(clock_->NowMs())) co_return std::optional<StoredItem>();
  co_return std::optional<StoredItem>(std::move(*item));
}

Task<Result<v1::GetResponse>> DynamoKeyValue::Get(const v1::GetRequest& req) {
  const int64_t deadline = client_.CallDeadline();
  CK_CO_RETURN_IF_ERROR(CheckNames(req.table(), req.key()));
  CK_CO_RETURN_IF_ERROR(co_await TableReady(deadline));
  auto item = co_await Load(req.table(), req.key(), true, deadline);
  if (!item.ok()) co_return item.status();
  if (!*item) co_return Status::NotFound(Describe(req.table(), req.key()));
  v1::GetResponse resp;
  v1::Item* out = resp.mutable_item();
  out->set_key(req.key());
  out->set_value(std::move((*item)->value));
  out->set_etag(std::move((*item)->etag));
  out->set_expires_at_ms((*item)->expires_at_ms);
  co_return resp;
}

Task<Result<v1::PutResponse>> DynamoKeyValue::Put(const v1::PutRequest& req) {
  const int64_t deadline = client_.CallDeadline();
  CK_CO_RETURN_IF_ERROR(CheckNames(req.table(), req.key()));
  CK_CO_RETURN_IF_ERROR(co_await TableReady(deadline));
  CK_CO_RETURN_IF_ERROR(co_await ClaimGeneration(deadline));
  const std::string what = Describe(req.table(), req.key());
  const StoredItem item{req.key(), req.value(), NextEtag(), ExpiryFor(req.ttl_ms())};
  Json request = OnTable(client_.location());
  request["Item"] = AttributesOf(req.table(), item);
  const bool conditional = req.if_absent() || !req.if_match().empty();
  if (conditional) {
    const int64_t now = clock_->NowMs();
    Expressions e;
    std::string condition;
    if (req.if_absent()) condition = AbsentOrExpired(e, now);
    if (!req.if_match().empty()) condition += (condition.empty() ? "" : " AND ") + HasEtag(e, req.if_match(), now);
    request["ConditionExpression"] = condition;
    e.AddTo(&request);
    request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD";
  }
  Json refusal = Json::object();
  Result<Json> put = co_await client_.Call(deadline, "PutItem", std::move(request), what, &refusal);
  if (!put.ok()) {
    if (!conditional || !ConditionFailed(refusal)) co_return put.status();
    auto current = co_await FailedOn(refusal, req.table(), req.key(), deadline);
    if (!current.ok()) co_return current.status();
    // Holding the ETag this call wrote: an earlier try of this call landed,
    // and its answer was lost.
    const bool ours = *current && (*current)->etag == item.etag;
    if (!ours) {
      if (req.if_absent() && *current) co_return Status::AlreadyExists(what);
      if (!req.if_match().empty()) {
        if (!*current) co_return Status::FailedPrecondition(what + " does not exist (if-match " + req.if_match() + ")");
        if ((*current)->etag != req.if_match()) co_return EtagMismatch(what, **current, req.if_match());
      }
      co_return ChangedMeanwhile(what);
    }
  }
  v1::PutResponse resp;
  resp.set_etag(item.etag);
  resp.set_expires_at_ms(item.expires_at_ms);
  co_return resp;
}

Task<Result<v1::DeleteResponse>> DynamoKeyValue::Delete(const v1::DeleteRequest& req) {
  const int64_t deadline = client_.CallDeadline();
  CK_CO_RETURN_IF_ERROR(CheckNames(req.table(), req.key()));
  CK_CO_RETURN_IF_ERROR(co_await TableReady(deadline));
  const std::string what = Describe(req.table(), req.key());
  Json request = OnTable(client_.location());
  request["Key"] = KeyOf(req.table(), req.key());
  request["ReturnValues"] = "ALL_OLD";
  if (!req.if_match().empty()) {
    Expressions e;
    request["ConditionExpression"] = HasEtag(e, req.if_match(), clock_->NowMs());
    e.AddTo(&request);
    request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD";
  }
  Json refusal = Json::object();
  Result<Json> deleted = co_await client_.Call(deadline, "DeleteItem", std::move(request), what, &refusal);
  if (!deleted.ok()) {
    if (req.if_match().empty() || !ConditionFailed(refusal)) co_return deleted.status();
    auto current = co_await FailedOn(refusal, req.table(), req.key(), deadline);
    if (!current.ok()) co_return current.status();
    if (!*current) co_return Status::NotFound(what);
    if ((*current)->etag != req.if_match()) co_return EtagMismatch(what, **current, req.if_match());
    co_return ChangedMeanwhile(what);
  }
  v1::DeleteResponse resp;
  // The old item, expired or not, is gone; it existed only if it was live.
  if (const Json* old = Member(*deleted, "Attributes")) {
    Result<StoredItem> item = ParseItem(*old, what);
    if (!item.ok()) co_return item.status();
    resp.set_existed(item->LiveAt(clock_->NowMs()));
  }
  co_return resp;
}

Task<Result<v1::ExistsResponse>> DynamoKeyValue::Exists(const v1::ExistsRequest& req) {
  const int64_t deadline = client_.CallDeadline();
  CK_CO_RETURN_IF_ERROR(CheckNames(req.table(), req.key()));
  CK_CO_RETURN_IF_ERROR(co_await TableReady(deadline));
  auto item = co_await Load(req.table(), req.key(), false, deadline);
  if (!item.ok()) co_return item.status();
  v1::ExistsResponse resp;
  resp.set_exists(item->has_value());
  co_return resp;
}

Task<Result<v1::ListResponse>> DynamoKeyValue::List(const v1::ListRequest& req) {
  const int64_t deadline = client_.CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("table", req.table()));
  const DynamoLocation& location = client_.location();
  const std::string tag = ListingTag(*hash_, location.table, req.table(), req.prefix());
  std::optional<std::string> resume_after;
  if (!req.continuation_token().empty()) {
    resume_after = DecodeListToken(req.continuation_token(), tag);
    if (!resume_after || resume_after->compare(0, req.prefix().size(), req.prefix()) != 0) {
      co_return Status::InvalidArgument("continuation token does not belong to this listing of table " +
                                        names::Quote(req.table()));
    }
  }
  CK_CO_RETURN_IF_ERROR(co_await TableReady(deadline));
  const size_t page = req.page_size() == 0 ? kMaxPageSize : std::min(req.page_size(), kMaxPageSize);
  const int64_t now = clock_->NowMs();
  const std::string what = "the items of table " + names::Quote(req.table());
  // One item beyond the page tells whether another page follows, so the
  // last page has no token (as the embedded provider's).
  std::vector<StoredItem> items;
  Json start = resume_after ? KeyOf(req.table(), *resume_after) : Json();
  bool exhausted = false;
  while (items.size() <= page && !exhausted) {
    Json request = OnTable(location);
    Expressions e;
    request["KeyConditionExpression"] = InTableWithPrefix(e, req.table(), req.prefix());
    // DynamoDB's Limit counts the items it read, before this filter.
    request["FilterExpression"] = Live(e, now);
    if (req.keys_only()) request["ProjectionExpression"] = WithoutValue(e);
    e.AddTo(&request);
    request["ConsistentRead"] = true;
    request["Limit"] = page + 1 - items.size();
    if (!start.is_null()) request["ExclusiveStartKey"] = std::move(start);
    Result<Json> queried = co_await client_.Call(deadline, "Query", std::move(request), what);
    if (!queried.ok()) co_return queried.status();
    if (const Json* found = Member(*queried, "Items"); found && found->is_array()) {
      for (const Json& attributes : *found) {
        Result<StoredItem> item = ParseItem(attributes, what);
        if (!item.ok()) co_return item.status();
        if (item->LiveAt(now)) items.push_back(std::move(*item));
      }
    }
    const Json* last = Member(*queried, "LastEvaluatedKey");
    exhausted = last == nullptr || !last->is_object();
    start = exhausted ? Json() : *last;
  }
  v1::ListResponse resp;
  if (items.size() > page) {
    items.resize(page);
    resp.set_next_continuation_token(EncodeListToken(tag, items.back().key));
  }
  for (const StoredItem& item : items) Fill(item, !req.keys_only(), resp.add_items());
  co_return resp;
}

Task<Result<v1::BatchGetResponse>> DynamoKeyValue::BatchGet(const v1::BatchGetRequest& req) {
  const int64_t deadline = client_.CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("table", req.table()));
  if (req.keys_size() > kMaxBatch) {
    co_return Status::InvalidArgument("at most " + std::to_string(kMaxBatch) + " keys per batch get, got " +
                                      std::to_string(req.keys_size()));
  }
  for (const std::string& key : req.keys()) CK_CO_RETURN_IF_ERROR(names::CheckItemKey(key));
  CK_CO_RETURN_IF_ERROR(co_await TableReady(deadline));
  const DynamoLocation& location = client_.location();
  const std::string what = "a batch get from table " + names::Quote(req.table());
  // DynamoDB refuses a key twice in one request.
  std::vector<std::string> distinct;
  std::set<std::string> seen;
  for (const std::string& key : req.keys()) {
    if (seen.insert(key).second) distinct.push_back(key);
  }
  std::map<std::string, StoredItem> found;
  for (size_t first = 0; first < distinct.size(); first += kMaxBatchGetKeys) {
    Json pending = Json::array();
    for (size_t i = first; i < std::min(distinct.size(), first + kMaxBatchGetKeys); ++i) {
      pending.push_back(KeyOf(req.table(), distinct[i]));
    }
    // What DynamoDB leaves unprocessed (over its answer's size, or
    // throttled) is asked again after a pause, while the deadline allows.
    for (int64_t pause_ms = 50; !pending.empty(); pause_ms = std::min<int64_t>(pause_ms * 2, 2000)) {
      Json request = Json::object();
      request["RequestItems"][location.table] = Json{{"Keys", std::move(pending)}, {"ConsistentRead", true}};
      Result<Json> got = co_await client_.Call(deadline, "BatchGetItem", std::move(request), what);
      if (!got.ok()) co_return got.status();
      const Json* responses = Member(*got, "Responses");
      const Json* items = responses ? Member(*responses, location.table.c_str()) : nullptr;
      if (items && items->is_array()) {
        for (const Json& attributes : *items) {
          Result<StoredItem> item = ParseItem(attributes, what);
          if (!item.ok()) co_return item.status();
          std::string key = item->key;
          found[std::move(key)] = std::move(*item);
        }
      }
      const Json* unprocessed = Member(*got, "UnprocessedKeys");
      const Json* left = unprocessed ? Member(*unprocessed, location.table.c_str()) : nullptr;
      const Json* keys = left ? Member(*left, "Keys") : nullptr;
      pending = keys && keys->is_array() ? *keys : Json::array();
      if (pending.empty()) break;
      if (clock_->NowMs() + pause_ms >= deadline) {
        co_return Status::Unavailable("DynamoDB left " + std::to_string(pending.size()) + " keys of " + what +
                                      " unprocessed until the call's deadline");
      }
      (void)co_await sleep_->Sleep(pause_ms);
    }
  }
  const int64_t now = clock_->NowMs();
  v1::BatchGetResponse resp;
  for (const std::string& key : req.keys()) {
    auto it = found.find(key);
    if (it != found.end() && it->second.LiveAt(now)) {
      Fill(it->second, true, resp.add_items());
    } else {
      resp.add_missing(key);
    }
  }
  co_return resp;
}

Task<Result<v1::BatchPutResponse>> DynamoKeyValue::BatchPut(const v1::BatchPutRequest& req) {
  const int64_t deadline = client_.CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("table", req.table()));
  if (req.entries_size() > kMaxBatch) {
    co_return Status::InvalidArgument("at most " + std::to_string(kMaxBatch) + " entries per batch put, got " +
                                      std::to_string(req.entries_size()));
  }
  for (const v1::BatchPutEntry& entry : req.entries()) CK_CO_RETURN_IF_ERROR(names::CheckItemKey(entry.key()));
  v1::BatchPutResponse resp;
  if (req.entries_size() == 0) co_return resp;
  const DynamoLocation& location = client_.location();
  if (!location.transactions) {
    co_return Status::Unimplemented("atomic BatchPut: binding " + names::Quote(binding_) +
                                    " has transactions=false (its service lacks TransactWriteItems)");
  }
  // A key given twice is written once, with its last entry (as a batch
  // applied in order would leave it); DynamoDB refuses a key twice in one
  // transaction.
  std::map<std::string, int> last_entry;
  for (int i = 0; i < req.entries_size(); ++i) last_entry[req.entries(i).key()] = i;
  if (last_entry.size() > kMaxTransactionItems) {
    co_return Status::InvalidArgument("at most " + std::to_string(kMaxTransactionItems) +
                                      " distinct keys per batch put on DynamoDB (one transaction), got " +
                                      std::to_string(last_entry.size()));
  }
  CK_CO_RETURN_IF_ERROR(co_await TableReady(deadline));
  CK_CO_RETURN_IF_ERROR(co_await ClaimGeneration(deadline));
  Json actions = Json::array();
  for (int i = 0; i < req.entries_size(); ++i) {
    const v1::BatchPutEntry& entry = req.entries(i);
    const StoredItem item{entry.key(), entry.value(), NextEtag(), ExpiryFor(entry.ttl_ms())};
    resp.add_etags(item.etag);
    if (last_entry[entry.key()] != i) continue;
    Json put = OnTable(location);
    put["Item"] = AttributesOf(req.table(), item);
    actions.push_back(Json{{"Put", std::move(put)}});
  }
  Json request = Json::object();
  request["TransactItems"] = std::move(actions);
  // A try sent again after a lost answer is then not applied twice (over a
  // write that came in between). The first ETag is unique to this call.
  if (resp.etags(0).size() <= kMaxRequestTokenSize) request["ClientRequestToken"] = resp.etags(0);
  Result<Json> written = co_await client_.Call(deadline, "TransactWriteItems", std::move(request),
                                               "a batch put to table " + names::Quote(req.table()));
  if (!written.ok()) co_return written.status();
  co_return resp;
}

namespace {

Result<BindingInstance> CreateDynamoDb(const BindingConfig& config, const HostPorts& ports) {
  if (ports.http == nullptr || ports.sleep == nullptr) {
    return Status::FailedPrecondition("provider 'dynamodb' needs an HTTP client, which this host lacks");
  }
  Result<DynamoLocation> location = DynamoLocationFromBinding(config);
  if (!location.ok()) return location.status();
  Result<remote::RemoteOptions> options = remote::ParseRemoteOptions(config);
  if (!options.ok()) return options.status();
  BindingInstance instance;
  instance.blocking_io = true;
  instance.providers[kKeyValueService] =
      std::make_unique<DynamoKeyValue>(config.name, std::move(*location), *options, ports);
  return instance;
}

}  // namespace

void RegisterDynamoDbProvider(ProviderRegistry* registry) {
  std::vector<OptionDoc> options = {
      {"table", "the DynamoDB table holding every table of this binding (the URL's host)", ""},
      {"region", "the table's AWS region", "us-east-1", "AWS_REGION"},
      {"endpoint", "a DynamoDB-compatible service's URL instead of AWS's, e.g. http://127.0.0.1:4567", ""},
      {"create_table", "create the table (keys pk and sk, on demand billing, TTL on exp) when it is missing",
       "false"},
      {"transactions", "the service has TransactWriteItems; false answers BatchPut UNIMPLEMENTED", "true"},
  };
  for (OptionDoc& doc : remote::RemoteOptionDocs()) options.push_back(std::move(doc));
  ProviderFactory factory{
      "dynamodb",
      "AWS DynamoDB or a DynamoDB-compatible service, one DynamoDB table per binding",
      {kKeyValueService},
      std::move(options),
      &CreateDynamoDb,
      {{"access_key_id", "AWS access key id", "AWS_ACCESS_KEY_ID"},
       {"secret_access_key", "AWS secret access key", "AWS_SECRET_ACCESS_KEY"},
       {"session_token", "session token of temporary credentials", "AWS_SESSION_TOKEN"}},
  };
  if (!registry->Register(std::move(factory)).ok()) std::abort();
}

}  // namespace cloudkit::dynamodb
