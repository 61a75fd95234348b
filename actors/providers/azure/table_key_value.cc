#include "providers/azure/table_key_value.h"

#include <algorithm>
#include <functional>
#include <map>
#include <utility>

#include "core/base64.h"
#include "providers/aws/sigv4.h"
#include "providers/azure/azure_errors.h"
#include "providers/azure/table_batch.h"
#include "providers/azure/table_keys.h"
#include "providers/names.h"
#include "providers/remote/bounded_parallel.h"
#include "providers/remote/http_errors.h"

namespace cloudkit::azure {
namespace {

using ports::HttpHeaders;
using remote::HeaderValue;

constexpr uint32_t kMaxPageSize = 1000;
constexpr int kMaxBatch = 1000;
constexpr size_t kParallelReads = 16;
// Tries of a read-check-write whose write found the entity changed since
// the read (another writer came in between): then it reads again.
constexpr int kConditionalTries = 4;
constexpr char kTokenTag[] = "ck1:";
// A listing page ends once its items hold this many bytes (an entity holds
// at most kMaxValueBytes), so a page of big items stays far below the reply
// limit; the next page starts after the last entity it examined.
constexpr size_t kMaxPageBytes = 2u << 20;

std::string Describe(const std::string& table, const std::string& key) {
  return "item " + names::Quote(key) + " in table " + names::Quote(table);
}

Status CheckNames(const std::string& table, const std::string& key) {
  CK_RETURN_IF_ERROR(names::CheckContainerName("table", table));
  CK_RETURN_IF_ERROR(names::CheckItemKey(key));
  const size_t encoded = EncodeRowKey(key).size();
  if (encoded > kMaxRowKeyChars) {
    return Status::InvalidArgument("item key " + names::Quote(key) + " takes " + std::to_string(encoded) +
                                   " characters as an Azure Table RowKey, over the " +
                                   std::to_string(kMaxRowKeyChars) + " this provider allows");
  }
  return Status::Ok();
}

Status CheckValue(const std::string& table, const std::string& key, const std::string& value) {
  if (value.size() <= kMaxValueBytes) return Status::Ok();
  return Status::InvalidArgument("the value of " + Describe(table, key) + " has " + std::to_string(value.size()) +
                                 " bytes; an Azure Table item holds at most " + std::to_string(kMaxValueBytes));
}

std::string Query(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string query;
  for (const auto& [name, value] : params) {
    if (value.empty()) continue;
    if (!query.empty()) query += '&';
    query += name + "=" + aws::UriEncode(value, false);
  }
  return query;
}

// List tokens name the listing they continue (table and prefix), so that
// one from another listing is refused rather than misread.
std::string ListingTag(ports::HashPort& hash, const v1::ListRequest& req) {
  auto sha = hash.NewSha256();
  sha->Update(req.table());
  sha->Update(std::string_view("\0", 1));
  sha->Update(req.prefix());
  return sha->FinishHex().substr(0, 16);
}

// Where a listing goes on: Azure's continuation of a query, as response
// headers name it (opaque), or, after a page that ended on its byte bound,
// the encoded row key it examined last.
struct Continuation {
  std::string partition;
  std::string row;
  std::string after_row;
  bool empty() const { return partition.empty() && row.empty() && after_row.empty(); }
};
Continuation ContinuationOf(const HttpHeaders& headers) {
  return {std::string(HeaderValue(headers, "x-ms-continuation-nextpartitionkey")),
          std::string(HeaderValue(headers, "x-ms-continuation-nextrowkey")), std::string()};
}

}  // namespace

remote::HttpService::MapError AzureTableKeyValue::Shared::Errors(std::string what) const {
  return [what = std::move(what), home = "the binding's table " + names::Quote(location.table)](
             int status, const HttpHeaders& headers, std::string_view body) {
    return MapAzureError(status, headers, body, what, home);
  };
}

HttpHeaders AzureTableKeyValue::Shared::Headers() const {
  HttpHeaders headers;
  headers.emplace_back("accept", kTableAccept);
  headers.emplace_back("dataserviceversion", "3.0;");
  headers.emplace_back("maxdataserviceversion", "3.0;NetFx");
  return headers;
}

Task<Result<std::optional<StoredEntity>>> LoadEntity(std::shared_ptr<AzureTableKeyValue::Shared> shared,
                                                     std::string table, std::string key, int64_t deadline) {
  const std::string url = shared->location.TableUrl(EntityPath(table, EncodeRowKey(key)));
  Result<remote::HttpAnswer> got = co_await shared->client.http.Fetch(
      deadline, shared->client.Request("GET", url, shared->Headers()), shared->Errors(Describe(table, key)));
  if (!got.ok()) {
    if (got.status().code() == v1::NOT_FOUND) co_return std::optional<StoredEntity>();
    co_return got.status();
  }
  Result<StoredEntity> entity = ParseEntity(got->body);
  if (!entity.ok()) co_return entity.status();
  if (std::string_view etag = HeaderValue(got->headers, "etag"); !etag.empty()) entity->etag = std::string(etag);
  co_return std::optional<StoredEntity>(std::move(*entity));
}

AzureTableKeyValue::AzureTableKeyValue(std::string binding, TableLocation location,
                                       const remote::RemoteOptions& options, const HostPorts& ports)
    : binding_(binding) {
  SharedKey key = location.key;
  shared_ = std::make_shared<Shared>(std::move(location),
                                     AzureClient(std::move(binding), std::move(key), SignedService::kTable, options,
                                                 ports.http, ports.clock, ports.sleep, ports.hash));
}

std::vector<std::string> AzureTableKeyValue::Unsupported() const {
  return {"atomic batch puts of more than 100 distinct keys (an Azure entity group transaction's limit)"};
}

Task<Status> AzureTableKeyValue::EnsureTable(int64_t deadline) {
  if (!shared_->location.create_table || table_ensured_) co_return Status::Ok();
  HttpHeaders headers = shared_->Headers();
  headers.emplace_back("content-type", "application/json");
  headers.emplace_back("prefer", "return-no-content");
  Result<remote::HttpAnswer> created = co_await shared_->client.http.Fetch(
      deadline,
      shared_->client.Request("POST", shared_->location.ServiceUrl("Tables"), std::move(headers),
                              CreateTableJson(shared_->location.table)),
      shared_->Errors("the binding's table " + names::Quote(shared_->location.table)));
  if (!created.ok() && created.status().code() != v1::ALREADY_EXISTS) co_return created.status();
  table_ensured_ = true;
  co_return Status::Ok();
}

int64_t AzureTableKeyValue::ExpiryFor(uint64_t ttl_ms) {
  if (ttl_ms == 0) return 0;
  constexpr uint64_t kMaxTtlMs = uint64_t{1} << 50;  // ~35,000 years; keeps the sum in range
  const int64_t expiry = shared_->client.clock->NowMs() + static_cast<int64_t>(std::min(ttl_ms, kMaxTtlMs));
  if (new_expiry_ == 0 || expiry < new_expiry_) new_expiry_ = expiry;
  return expiry;
}

bool AzureTableKeyValue::Live(const StoredEntity& entity) const {
  return entity.expires_at_ms == 0 || entity.expires_at_ms > shared_->client.clock->NowMs();
}

void AzureTableKeyValue::Fill(const std::string& key, StoredEntity&& entity, bool with_value, v1::Item* item) const {
  item->set_key(key);
  if (with_value) item->set_value(std::move(entity.value));
  item->set_etag(std::move(entity.etag));
  item->set_expires_at_ms(entity.expires_at_ms);
}

Task<Result<std::string>> AzureTableKeyValue::Write(const std::string& table, const std::string& key,
                                                    const std::string& value, int64_t expires_at_ms,
                                                    const std::string& if_match, int64_t deadline) {
  const std::string row_key = EncodeRowKey(key);
  HttpHeaders headers = shared_->Headers();
  headers.emplace_back("content-type", "application/json");
  if (!if_match.empty()) headers.emplace_back("if-match", if_match);
  Result<remote::HttpAnswer> written = co_await shared_->client.http.Fetch(
      deadline,
      shared_->client.Request("PUT", shared_->location.TableUrl(EntityPath(table, row_key)), std::move(headers),
                              EntityJson(table, row_key, value, expires_at_ms)),
      shared_->Errors(Describe(table, key)));
  if (!written.ok()) co_return written.status();
  co_return std::string(HeaderValue(written->headers, "etag"));
}

Task<Result<std::string>> AzureTableKeyValue::Insert(const std::string& table, const std::string& key,
                                                     const std::string& value, int64_t expires_at_ms,
                                                     int64_t deadline) {
  HttpHeaders headers = shared_->Headers();
  headers.emplace_back("content-type", "application/json");
  headers.emplace_back("prefer", "return-no-content");
  Result<remote::HttpAnswer> inserted = co_await shared_->client.http.Fetch(
      deadline,
      shared_->client.Request("POST", shared_->location.TableUrl(""), std::move(headers),
                              EntityJson(table, EncodeRowKey(key), value, expires_at_ms)),
      shared_->Errors(Describe(table, key)));
  if (!inserted.ok()) co_return inserted.status();
  co_return std::string(HeaderValue(inserted->headers, "etag"));
}

Task<Result<v1::GetResponse>> AzureTableKeyValue::Get(const v1::GetRequest& req) {
  const int64_t deadline = shared_->client.http.CallDeadline();
  CK_CO_RETURN_IF_ERROR(CheckNames(req.table(), req.key()));
  CK_CO_RETURN_IF_ERROR(co_await EnsureTable(deadline));
  Result<std::optional<StoredEntity>> entity = co_await LoadEntity(shared_, req.table(), req.key(), deadline);
  if (!entity.ok()) co_return entity.status();
  if (!*entity || !Live(**entity)) co_return Status::NotFound(Describe(req.table(), req.key()));
  v1::GetResponse response;
  Fill(req.key(), std::move(**entity), true, response.mutable_item());
  co_return response;
}

Task<Result<v1::ExistsResponse>> AzureTableKeyValue::Exists(const v1::ExistsRequest& req) {
  const int64_t deadline = shared_->client.http.CallDeadline();
  CK_CO_RETURN_IF_ERROR(CheckNames(req.table(), req.key()));
  CK_CO_RETURN_IF_ERROR(co_await EnsureTable(deadline));
  Result<std::optional<StoredEntity>> entity = co_await LoadEntity(shared_, req.table(), req.key(), deadline);
  if (!entity.ok()) co_return entity.status();
  v1::ExistsResponse response;
  response.set_exists(entity->has_value() && Live(**entity));
  co_return response;
}

Task<Result<v1::PutResponse>> AzureTableKeyValue::Put(const v1::PutRequest& req) {
  const int64_t deadline = shared_->client.http.CallDeadline();
  CK_CO_RETURN_IF_ERROR(CheckNames(req.table(), req.key()));
  CK_CO_RETURN_IF_ERROR(CheckValue(req.table(), req.key(), req.value()));
  CK_CO_RETURN_IF_ERROR(co_await EnsureTable(deadline));
  const std::string what = Describe(req.table(), req.key());
  const int64_t expires_at_ms = ExpiryFor(req.ttl_ms());
  v1::PutResponse response;
  response.set_expires_at_ms(expires_at_ms);
  if (!req.if_absent() && req.if_match().empty()) {
    const std::string unconditional;  // named: a temporary bound to a reference in a co_await trips g++ 12
    Result<std::string> etag =
        co_await Write(req.table(), req.key(), req.value(), expires_at_ms, unconditional, deadline);
    if (!etag.ok()) co_return etag.status();
    response.set_etag(std::move(*etag));
    co_return response;
  }
  for (int tried = 0; tried < kConditionalTries; ++tried) {
    if (req.if_absent() && req.if_match().empty()) {
      Result<std::string> inserted = co_await Insert(req.table(), req.key(), req.value(), expires_at_ms, deadline);
      if (inserted.ok()) {
        response.set_etag(std::move(*inserted));
        co_return response;
      }
      if (inserted.status().code() != v1::ALREADY_EXISTS) co_return inserted.status();
      // Present: but an expired item is absent, and may be replaced.
    }
    Result<std::optional<StoredEntity>> current = co_await LoadEntity(shared_, req.table(), req.key(), deadline);
    if (!current.ok()) co_return current.status();
    const bool live = current->has_value() && Live(**current);
    if (req.if_absent() && live) co_return Status::AlreadyExists(what);
    if (!req.if_match().empty()) {
      if (!live) co_return Status::FailedPrecondition(what + " does not exist (if-match " + req.if_match() + ")");
      if ((*current)->etag != req.if_match()) {
        co_return Status::FailedPrecondition(what + " has ETag " + (*current)->etag + ", not " + req.if_match());
      }
    }
    if (!current->has_value()) continue;  // gone since the insert failed: insert again
    // Conditional on the version just read (the expired one, or the one matched).
    Result<std::string> written =
        co_await Write(req.table(), req.key(), req.value(), expires_at_ms, (*current)->etag, deadline);
    if (written.ok()) {
      response.set_etag(std::move(*written));
      co_return response;
    }
    const bool changed = written.status().code() == v1::FAILED_PRECONDITION || written.status().code() == v1::NOT_FOUND;
    if (!changed) co_return written.status();
    // Written or deleted by someone else since: an if_match put has lost; an
    // if_absent one looks again.
    if (!req.if_match().empty()) {
      co_return Status::FailedPrecondition(what + " changed (if-match " + req.if_match() + ")");
    }
  }
  co_return Status::Aborted(what + " kept changing while this put checked it");
}

Task<Result<v1::DeleteResponse>> AzureTableKeyValue::Delete(const v1::DeleteRequest& req) {
  const int64_t deadline = shared_->client.http.CallDeadline();
  CK_CO_RETURN_IF_ERROR(CheckNames(req.table(), req.key()));
  CK_CO_RETURN_IF_ERROR(co_await EnsureTable(deadline));
  const std::string what = Describe(req.table(), req.key());
  const std::string url = shared_->location.TableUrl(EntityPath(req.table(), EncodeRowKey(req.key())));
  for (int tried = 0; tried < kConditionalTries; ++tried) {
    Result<std::optional<StoredEntity>> current = co_await LoadEntity(shared_, req.table(), req.key(), deadline);
    if (!current.ok()) co_return current.status();
    const bool live = current->has_value() && Live(**current);
    if (!req.if_match().empty()) {
      if (!live) co_return Status::NotFound(what);
      if ((*current)->etag != req.if_match()) {
        co_return Status::FailedPrecondition(what + " has ETag " + (*current)->etag + ", not " + req.if_match());
      }
    }
    v1::DeleteResponse response;
    if (!current->has_value()) co_return response;
    // Also removes an expired entity; conditional on the version read.
    HttpHeaders headers = shared_->Headers();
    headers.emplace_back("if-match", (*current)->etag);
    Result<remote::HttpAnswer> removed = co_await shared_->client.http.Fetch(
        deadline, shared_->client.Request("DELETE", url, std::move(headers)), shared_->Errors(what));
    if (removed.ok()) {
      response.set_existed(live);
      co_return response;
    }
    const bool changed = removed.status().code() == v1::FAILED_PRECONDITION || removed.status().code() == v1::NOT_FOUND;
    if (!changed) co_return removed.status();
    if (!req.if_match().empty()) {
      co_return removed.status().code() == v1::NOT_FOUND
                    ? Status::NotFound(what)
                    : Status::FailedPrecondition(what + " changed (if-match " + req.if_match() + ")");
    }
  }
  co_return Status::Aborted(what + " kept changing while this delete checked it");
}

Task<Result<v1::ListResponse>> AzureTableKeyValue::List(const v1::ListRequest& req) {
  const int64_t deadline = shared_->client.http.CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("table", req.table()));
  const std::string tag = ListingTag(*shared_->client.hash, req);
  Continuation next;
  if (!req.continuation_token().empty()) {
    // "ck1:<tag>:<partition>\n<row>" (Azure's) or "ck1:<tag>><row key>" (ours).
    std::optional<std::string> decoded = Base64Decode(req.continuation_token());
    const std::string expected = std::string(kTokenTag) + tag;
    const bool ours = decoded && decoded->compare(0, expected.size(), expected) == 0 &&
                      decoded->size() > expected.size() + 1 && (*decoded)[expected.size()] == '>';
    const size_t newline = decoded ? decoded->find('\n', expected.size()) : std::string::npos;
    if (ours) {
      next.after_row = decoded->substr(expected.size() + 1);
    } else if (decoded && decoded->compare(0, expected.size(), expected) == 0 && decoded->size() > expected.size() &&
               (*decoded)[expected.size()] == ':' && newline != std::string::npos) {
      next.partition = decoded->substr(expected.size() + 1, newline - expected.size() - 1);
      next.row = decoded->substr(newline + 1);
    } else {
      co_return Status::InvalidArgument("continuation token does not belong to this listing of table " +
                                        names::Quote(req.table()));
    }
  }
  CK_CO_RETURN_IF_ERROR(co_await EnsureTable(deadline));
  const uint32_t page = req.page_size() == 0 ? kMaxPageSize : std::min(req.page_size(), kMaxPageSize);
  const std::string encoded_prefix = EncodeRowKey(req.prefix());
  std::string filter = "PartitionKey eq " + ODataString(req.table());
  if (!next.after_row.empty()) {
    filter += " and RowKey gt " + ODataString(next.after_row);
  } else if (!encoded_prefix.empty()) {
    filter += " and RowKey ge " + ODataString(encoded_prefix);
  }
  filter += " and RowKey lt " + ODataString(RowKeyPrefixEnd(encoded_prefix));
  // Expired entities are left out here, not by a filter on e: a filter drops
  // every entity without an Int64 e (one another client wrote without it,
  // which Get reads as never expiring), and Azurite fails the whole query
  // with 500 when some e is an Int32.
  v1::ListResponse response;
  size_t page_bytes = 0;
  std::string full_after;  // the page reached kMaxPageBytes at this row key
  // Azure may answer fewer entities than asked, with a continuation: ask on
  // until the page is full or the listing ends.
  do {
    const uint32_t want = page - static_cast<uint32_t>(response.items_size());
    std::vector<std::pair<std::string, std::string>> params;
    params.emplace_back("$filter", filter);
    params.emplace_back("$top", std::to_string(want));
    if (req.keys_only()) params.emplace_back("$select", "RowKey,e");
    params.emplace_back("NextPartitionKey", next.partition);
    params.emplace_back("NextRowKey", next.row);
    const std::string url = shared_->location.TableUrl("()", Query(params));
    Result<remote::HttpAnswer> listed = co_await shared_->client.http.Fetch(
        deadline, shared_->client.Request("GET", url, shared_->Headers()),
        shared_->Errors("items of table " + names::Quote(req.table())));
    if (!listed.ok()) co_return listed.status();
    Result<std::vector<StoredEntity>> entities = ParseEntities(listed->body);
    if (!entities.ok()) co_return entities.status();
    for (size_t i = 0; i < entities->size() && full_after.empty(); ++i) {
      StoredEntity& entity = (*entities)[i];
      std::optional<std::string> key = DecodeRowKey(entity.row_key);
      if (!key) continue;  // not this provider's
      if (!Live(entity)) continue;
      std::string row_key = entity.row_key;
      v1::Item* item = response.add_items();
      Fill(*key, std::move(entity), !req.keys_only(), item);
      page_bytes += item->key().size() + item->value().size();
      // Ends the page here unless this was the listing's last entity anyway.
      const bool last = i + 1 == entities->size() && ContinuationOf(listed->headers).empty();
      if (page_bytes >= kMaxPageBytes && !last) full_after = std::move(row_key);
    }
    next = full_after.empty() ? ContinuationOf(listed->headers) : Continuation{{}, {}, full_after};
  } while (full_after.empty() && !next.empty() && static_cast<uint32_t>(response.items_size()) < page);
  if (!next.after_row.empty()) {
    response.set_next_continuation_token(Base64Encode(std::string(kTokenTag) + tag + ">" + next.after_row));
  } else if (!next.empty()) {
    response.set_next_continuation_token(
        Base64Encode(std::string(kTokenTag) + tag + ":" + next.partition + "\n" + next.row));
  }
  co_return response;
}

Task<Result<v1::BatchGetResponse>> AzureTableKeyValue::BatchGet(const v1::BatchGetRequest& req) {
  const int64_t deadline = shared_->client.http.CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("table", req.table()));
  if (req.keys_size() > kMaxBatch) {
    co_return Status::InvalidArgument("at most " + std::to_string(kMaxBatch) + " keys per batch get, got " +
                                      std::to_string(req.keys_size()));
  }
  for (const std::string& key : req.keys()) CK_CO_RETURN_IF_ERROR(CheckNames(req.table(), key));
  CK_CO_RETURN_IF_ERROR(co_await EnsureTable(deadline));
  // One read per key, concurrently.
  using Loaded = Result<std::optional<StoredEntity>>;
  auto loaded = std::make_shared<std::vector<Loaded>>(static_cast<size_t>(req.keys_size()),
                                                      Loaded(Status::Internal("not read")));
  const std::vector<std::string> keys(req.keys().begin(), req.keys().end());
  std::shared_ptr<Shared> shared = shared_;
  const std::string table = req.table();
  // Built apart from the co_await: g++ 12 mishandles such a temporary in one.
  std::function<Task<void>(size_t)> read = [shared, table, keys, loaded, deadline](size_t i) -> Task<void> {
    (*loaded)[i] = co_await LoadEntity(shared, table, keys[i], deadline);
  };
  co_await remote::RunBounded(keys.size(), kParallelReads, std::move(read));
  v1::BatchGetResponse response;
  for (size_t i = 0; i < keys.size(); ++i) {  // in request order
    Loaded& entity = (*loaded)[i];
    if (!entity.ok()) co_return entity.status();
    if (*entity && Live(**entity)) {
      Fill(keys[i], std::move(**entity), true, response.add_items());
    } else {
      response.add_missing(keys[i]);
    }
  }
  co_return response;
}

Task<Result<v1::BatchPutResponse>> AzureTableKeyValue::BatchPut(const v1::BatchPutRequest& req) {
  const int64_t deadline = shared_->client.http.CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("table", req.table()));
  if (req.entries_size() > kMaxBatch) {
    co_return Status::InvalidArgument("at most " + std::to_string(kMaxBatch) + " entries per batch put, got " +
                                      std::to_string(req.entries_size()));
  }
  for (const v1::BatchPutEntry& entry : req.entries()) {
    CK_CO_RETURN_IF_ERROR(CheckNames(req.table(), entry.key()));
    CK_CO_RETURN_IF_ERROR(CheckValue(req.table(), entry.key(), entry.value()));
  }
  v1::BatchPutResponse response;
  if (req.entries_size() == 0) co_return response;
  // A key given twice is written once, with its last entry (as writing the
  // entries in order would leave it); a transaction may name an entity once.
  std::map<std::string, int> last_entry;
  for (int i = 0; i < req.entries_size(); ++i) last_entry[req.entries(i).key()] = i;
  if (last_entry.size() > kMaxBatchWrites) {
    co_return Status::Unimplemented("atomic batch puts of more than " + std::to_string(kMaxBatchWrites) +
                                    " distinct keys: an Azure entity group transaction holds at most that many, "
                                    "and binding " + names::Quote(binding_) + " does not write in several steps");
  }
  CK_CO_RETURN_IF_ERROR(co_await EnsureTable(deadline));
  std::vector<BatchUpsert> upserts;
  std::vector<int> written_entries;  // the entry each upsert writes
  for (int i = 0; i < req.entries_size(); ++i) {
    const v1::BatchPutEntry& entry = req.entries(i);
    if (last_entry[entry.key()] != i) continue;
    const std::string row_key = EncodeRowKey(entry.key());
    upserts.push_back({shared_->location.TableUrl(EntityPath(req.table(), row_key)),
                       EntityJson(req.table(), row_key, entry.value(), ExpiryFor(entry.ttl_ms()))});
    written_entries.push_back(i);
  }
  auto id_hash = shared_->client.hash->NewSha256();
  id_hash->Update(binding_ + "/" + std::to_string(shared_->client.clock->NowMs()) + "/" + upserts.front().entity_url);
  const std::string id = id_hash->FinishHex().substr(0, 32);
  HttpHeaders headers = shared_->Headers();
  headers.emplace_back("content-type", BatchContentType(id));
  const std::string what = std::to_string(upserts.size()) + " items in table " + names::Quote(req.table());
  Result<remote::HttpAnswer> sent = co_await shared_->client.http.Fetch(
      deadline,
      shared_->client.Request("POST", shared_->location.ServiceUrl("$batch"), std::move(headers),
                              BatchBody(id, upserts)),
      shared_->Errors(what));
  if (!sent.ok()) co_return sent.status();
  Result<std::vector<BatchAnswer>> answers = ParseBatchAnswers(sent->body);
  if (!answers.ok()) co_return answers.status();
  for (const BatchAnswer& answer : *answers) {
    if (answer.status < 200 || answer.status >= 300) {
      co_return MapAzureError(answer.status, {}, answer.body, what,
                              "the binding's table " + names::Quote(shared_->location.table));
    }
  }
  if (answers->size() != upserts.size()) {
    co_return Status::Internal("the Azure table service answered " + std::to_string(answers->size()) +
                               " of the " + std::to_string(upserts.size()) + " writes of a batch");
  }
  std::map<std::string, std::string> etags;  // by key
  for (size_t i = 0; i < upserts.size(); ++i) etags[req.entries(written_entries[i]).key()] = (*answers)[i].etag;
  for (const v1::BatchPutEntry& entry : req.entries()) response.add_etags(etags[entry.key()]);
  co_return response;
}

Task<Result<KeyValueProvider::SweepStep>> AzureTableKeyValue::SweepExpired(size_t budget) {
  const int64_t deadline = shared_->client.http.CallDeadline();
  budget = std::clamp<size_t>(budget, 1, kMaxPageSize);
  CK_CO_RETURN_IF_ERROR(co_await EnsureTable(deadline));
  const int64_t now = shared_->client.clock->NowMs();
  // Every item with an expiry, whatever its API table: without an index on
  // e, Azure scans the table, a page per step.
  std::vector<std::pair<std::string, std::string>> params;
  params.emplace_back("$filter", "e gt 0L");
  params.emplace_back("$select", "PartitionKey,RowKey,e");
  params.emplace_back("$top", std::to_string(budget));
  params.emplace_back("NextPartitionKey", sweep_next_partition_);
  params.emplace_back("NextRowKey", sweep_next_row_);
  Result<remote::HttpAnswer> listed = co_await shared_->client.http.Fetch(
      deadline, shared_->client.Request("GET", shared_->location.TableUrl("()", Query(params)), shared_->Headers()),
      shared_->Errors("expired items"));
  if (!listed.ok()) co_return listed.status();
  Result<std::vector<StoredEntity>> entities = ParseEntities(listed->body);
  if (!entities.ok()) co_return entities.status();
  auto expired = std::make_shared<std::vector<StoredEntity>>();
  int64_t next_expiry = sweep_next_expiry_;
  for (StoredEntity& entity : *entities) {
    if (entity.expires_at_ms <= now) {
      expired->push_back(std::move(entity));
    } else if (next_expiry == 0 || entity.expires_at_ms < next_expiry) {
      next_expiry = entity.expires_at_ms;
    }
  }
  // Each delete is conditional on the ETag the query saw: an item written
  // since (with a new expiry, or none) stays.
  auto removed = std::make_shared<size_t>(0);
  std::shared_ptr<Shared> shared = shared_;
  std::function<Task<void>(size_t)> remove = [shared, expired, removed, deadline](size_t i) -> Task<void> {
    const StoredEntity& entity = (*expired)[i];
    HttpHeaders headers = shared->Headers();
    headers.emplace_back("if-match", entity.etag);
    const std::string url = shared->location.TableUrl(EntityPath(entity.partition_key, entity.row_key));
    Result<remote::HttpAnswer> gone = co_await shared->client.http.Fetch(
        deadline, shared->client.Request("DELETE", url, std::move(headers)), shared->Errors("an expired item"));
    if (gone.ok()) ++*removed;
  };
  co_await remote::RunBounded(expired->size(), kParallelReads, std::move(remove));
  const Continuation next = ContinuationOf(listed->headers);
  SweepStep step;
  step.removed = *removed;
  step.pass_complete = next.empty();
  if (step.pass_complete) {
    step.next_expiry_ms = next_expiry;
    sweep_next_expiry_ = 0;
  } else {
    sweep_next_expiry_ = next_expiry;
  }
  sweep_next_partition_ = next.partition;
  sweep_next_row_ = next.row;
  co_return step;
}

int64_t AzureTableKeyValue::TakeNewExpiry() { return std::exchange(new_expiry_, 0); }

}  // namespace cloudkit::azure
