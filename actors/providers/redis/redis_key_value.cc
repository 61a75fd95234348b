#include "providers/redis/redis_key_value.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "providers/names.h"
#include "providers/redis/redis_replies.h"
#include "providers/redis/redis_scripts.h"

namespace cloudkit::redis {
namespace {

using ports::RedisReply;

constexpr uint32_t kMaxPageSize = 1000;
constexpr int kMaxBatch = 1000;
// Index entries a page may look at, expired ones included: bounds the time a
// List holds the server when a table's index is mostly expired entries (the
// page then comes back short, with a token to go on from).
constexpr uint32_t kListScanBudget = 10 * kMaxPageSize;
// A page ends once its keys and values hold this much (replies stay under 8 MiB).
constexpr size_t kMaxPageBytes = 2u << 20;
constexpr uint64_t kMaxTtlMs = uint64_t{1} << 50;  // ~35,000 years; keeps the server's sum exact

std::string Describe(const std::string& table, const std::string& key) {
  return "item " + names::Quote(key) + " in table " + names::Quote(table);
}

Status CheckNames(const std::string& table, const std::string& key) {
  CK_RETURN_IF_ERROR(names::CheckContainerName("table", table));
  return names::CheckItemKey(key);
}

bool IsText(const RedisReply& reply) {
  return reply.type == RedisReply::Type::kString || reply.type == RedisReply::Type::kStatus;
}

// An item's fields as the server gave them: value, ETag, expiry.
Status FillItem(std::string_view what, const std::string& key, RedisReply* value, RedisReply* etag,
                const RedisReply& expires, v1::Item* item) {
  std::optional<int64_t> expires_at = IsText(expires) ? ParseInteger(expires.text) : std::nullopt;
  if (!IsText(*etag) || !expires_at || (value != nullptr && !IsText(*value))) {
    return Status::Internal("redis: " + std::string(what) + ": malformed fields for item " + names::Quote(key));
  }
  item->set_key(key);
  if (value != nullptr) item->set_value(std::move(value->text));
  item->set_etag(std::move(etag->text));
  item->set_expires_at_ms(*expires_at);
  return Status::Ok();
}

// The reply to HMGET item v e x: true and `item` filled when the item is there.
Result<bool> ReadItem(std::string_view what, const std::string& key, RedisReply fields, v1::Item* item) {
  if (!fields.is_array() || fields.elements.size() != 3) return Unexpected(what, fields);
  if (fields.elements[1].is_nil()) return false;  // absent, or expired
  CK_RETURN_IF_ERROR(FillItem(what, key, &fields.elements[0], &fields.elements[1], fields.elements[2], item));
  return true;
}

// The answer word of a script's reply array ("ok", "missing", ...).
const std::string* Outcome(const RedisReply& reply) {
  if (!reply.is_array() || reply.elements.empty() || !IsText(reply.elements[0])) return nullptr;
  return &reply.elements[0].text;
}

}  // namespace

RedisKeyValue::RedisKeyValue(std::unique_ptr<RedisService> redis, std::string prefix)
    : redis_(std::move(redis)), layout_(std::move(prefix)), scripts_(redis_.get()) {}

void RedisKeyValue::NoteExpiry(int64_t expires_at_ms) {
  if (expires_at_ms != 0 && (new_expiry_ == 0 || expires_at_ms < new_expiry_)) new_expiry_ = expires_at_ms;
}

int64_t RedisKeyValue::TakeNewExpiry() { return std::exchange(new_expiry_, 0); }

Task<Result<v1::GetResponse>> RedisKeyValue::Get(const v1::GetRequest& req) {
  const int64_t deadline = redis_->CallDeadline();
  CK_CO_RETURN_IF_ERROR(CheckNames(req.table(), req.key()));
  const std::string what = "get " + Describe(req.table(), req.key());
  // Commands are built before the await: g++ 12 cannot keep an initializer
  // list's array across a suspension.
  std::vector<std::string> command = {"HMGET", layout_.Item(req.table(), req.key()), "v", "e", "x"};
  Result<RedisReply> fields =
      NotAnError(what, co_await redis_->Command(deadline, std::move(command), Repeatable::kYes));
  if (!fields.ok()) co_return fields.status();
  v1::GetResponse resp;
  Result<bool> found = ReadItem(what, req.key(), std::move(*fields), resp.mutable_item());
  if (!found.ok()) co_return found.status();
  if (!*found) co_return Status::NotFound(Describe(req.table(), req.key()));
  co_return resp;
}

Task<Result<RedisReply>> RedisKeyValue::Write(int64_t deadline_ms, const std::string& table, const std::vector<Entry>& entries,
                                              bool if_absent, const std::string& if_match) {
  std::vector<std::string> keys = {layout_.EtagCounter(), layout_.Expiries(), layout_.Index(table)};
  std::vector<std::string> args = {if_absent ? "1" : "", if_match, table};
  for (const Entry& entry : entries) {
    keys.push_back(layout_.Item(table, *entry.key));
    args.push_back(*entry.key);
    args.push_back(*entry.value);
    args.push_back(std::to_string(std::min(entry.ttl_ms, kMaxTtlMs)));
  }
  Result<RedisReply> reply =
      co_await scripts_.Run(deadline_ms, kWriteScript, std::move(keys), std::move(args), Repeatable::kNo);
  if (!reply.ok()) co_return reply;
  const std::string* outcome = Outcome(*reply);
  if (outcome == nullptr) co_return Unexpected("write script", *reply);
  const std::string& first = *entries.front().key;
  if (*outcome == "exists") co_return Status::AlreadyExists(Describe(table, first));
  if (*outcome == "missing") {
    co_return Status::FailedPrecondition(Describe(table, first) + " does not exist (if-match " + if_match + ")");
  }
  if (*outcome == "mismatch" && reply->elements.size() == 2 && IsText(reply->elements[1])) {
    co_return Status::FailedPrecondition(Describe(table, first) + " has ETag " + reply->elements[1].text +
                                         ", not " + if_match);
  }
  if (*outcome != "ok" || reply->elements.size() != 1 + 2 * entries.size()) {
    co_return Unexpected("write script", *reply);
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    const RedisReply& etag = reply->elements[1 + 2 * i];
    const RedisReply& expires = reply->elements[2 + 2 * i];
    if (!IsText(etag) || expires.type != RedisReply::Type::kInteger) co_return Unexpected("write script", *reply);
    NoteExpiry(expires.integer);
  }
  co_return reply;
}

Task<Result<v1::PutResponse>> RedisKeyValue::Put(const v1::PutRequest& req) {
  const int64_t deadline = redis_->CallDeadline();
  CK_CO_RETURN_IF_ERROR(CheckNames(req.table(), req.key()));
  const std::vector<Entry> entries = {{&req.key(), &req.value(), req.ttl_ms()}};
  Result<RedisReply> written = co_await Write(deadline, req.table(), entries, req.if_absent(), req.if_match());
  if (!written.ok()) co_return written.status();
  v1::PutResponse resp;
  resp.set_etag(std::move(written->elements[1].text));
  resp.set_expires_at_ms(written->elements[2].integer);
  co_return resp;
}

Task<Result<v1::BatchPutResponse>> RedisKeyValue::BatchPut(const v1::BatchPutRequest& req) {
  const int64_t deadline = redis_->CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("table", req.table()));
  if (req.entries_size() > kMaxBatch) {
    co_return Status::InvalidArgument("at most " + std::to_string(kMaxBatch) + " entries per batch put, got " +
                                      std::to_string(req.entries_size()));
  }
  // Every key is checked before anything is sent: a bad one writes nothing.
  std::vector<Entry> entries;
  for (const v1::BatchPutEntry& entry : req.entries()) {
    CK_CO_RETURN_IF_ERROR(names::CheckItemKey(entry.key()));
    entries.push_back({&entry.key(), &entry.value(), entry.ttl_ms()});
  }
  v1::BatchPutResponse resp;
  if (entries.empty()) co_return resp;
  Result<RedisReply> written = co_await Write(deadline, req.table(), entries, false, "");
  if (!written.ok()) co_return written.status();
  for (size_t i = 0; i < entries.size(); ++i) resp.add_etags(std::move(written->elements[1 + 2 * i].text));
  co_return resp;
}

Task<Result<v1::DeleteResponse>> RedisKeyValue::Delete(const v1::DeleteRequest& req) {
  const int64_t deadline = redis_->CallDeadline();
  CK_CO_RETURN_IF_ERROR(CheckNames(req.table(), req.key()));
  std::vector<std::string> keys = {layout_.Item(req.table(), req.key()), layout_.Index(req.table()),
                                   layout_.Expiries()};
  std::vector<std::string> args = {req.key(), req.if_match(), req.table()};
  Result<RedisReply> reply =
      co_await scripts_.Run(deadline, kDeleteScript, std::move(keys), std::move(args), Repeatable::kNo);
  if (!reply.ok()) co_return reply.status();
  const std::string* outcome = Outcome(*reply);
  if (outcome != nullptr && *outcome == "missing") co_return Status::NotFound(Describe(req.table(), req.key()));
  if (outcome != nullptr && *outcome == "mismatch" && reply->elements.size() == 2 && IsText(reply->elements[1])) {
    co_return Status::FailedPrecondition(Describe(req.table(), req.key()) + " has ETag " + reply->elements[1].text +
                                         ", not " + req.if_match());
  }
  if (outcome == nullptr || *outcome != "ok" || reply->elements.size() != 2 ||
      reply->elements[1].type != RedisReply::Type::kInteger) {
    co_return Unexpected("delete script", *reply);
  }
  v1::DeleteResponse resp;
  resp.set_existed(reply->elements[1].integer != 0);
  co_return resp;
}

Task<Result<v1::ExistsResponse>> RedisKeyValue::Exists(const v1::ExistsRequest& req) {
  const int64_t deadline = redis_->CallDeadline();
  CK_CO_RETURN_IF_ERROR(CheckNames(req.table(), req.key()));
  const std::string what = "exists " + Describe(req.table(), req.key());
  std::vector<std::string> command = {"EXISTS", layout_.Item(req.table(), req.key())};
  Result<RedisReply> count =
      NotAnError(what, co_await redis_->Command(deadline, std::move(command), Repeatable::kYes));
  if (!count.ok()) co_return count.status();
  if (count->type != RedisReply::Type::kInteger) co_return Unexpected(what, *count);
  v1::ExistsResponse resp;
  resp.set_exists(count->integer != 0);
  co_return resp;
}

Task<Result<v1::ListResponse>> RedisKeyValue::List(const v1::ListRequest& req) {
  const int64_t deadline = redis_->CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("table", req.table()));
  const std::string& prefix = req.prefix();
  // ZRANGEBYLEX bounds: from the prefix (or after the last key a page saw) to
  // before the first string past every key starting with the prefix.
  std::string start = prefix.empty() ? "-" : "[" + prefix;
  if (!req.continuation_token().empty()) {
    std::optional<std::string> last = DecodeListToken(req.table(), req.continuation_token());
    if (!last || last->compare(0, prefix.size(), prefix) != 0) {
      co_return Status::InvalidArgument("continuation token does not belong to this listing of table " +
                                        names::Quote(req.table()));
    }
    start = "(" + *last;
  }
  std::string end = "+";
  for (size_t n = prefix.size(); n > 0; --n) {
    if (static_cast<unsigned char>(prefix[n - 1]) != 0xFF) {
      end = "(" + prefix.substr(0, n - 1) + static_cast<char>(prefix[n - 1] + 1);
      break;
    }
  }
  const uint32_t page = req.page_size() == 0 ? kMaxPageSize : std::min(req.page_size(), kMaxPageSize);
  const std::string what = "list of table " + names::Quote(req.table());
  std::vector<std::string> keys = {layout_.Index(req.table()), layout_.Expiries()};
  std::vector<std::string> args = {layout_.ItemBase(req.table()), std::move(start), std::move(end),
                                   std::to_string(page), req.keys_only() ? "1" : "", req.table(),
                                   std::to_string(kListScanBudget), std::to_string(kMaxPageBytes)};
  Result<RedisReply> reply =
      co_await scripts_.Run(deadline, kListScript, std::move(keys), std::move(args), Repeatable::kYes);
  if (!reply.ok()) co_return reply.status();
  if (!reply->is_array() || reply->elements.size() != 2 || !reply->elements[0].is_array() ||
      reply->elements[0].elements.size() % 4 != 0 || !IsText(reply->elements[1])) {
    co_return Unexpected(what, *reply);
  }
  std::vector<RedisReply>& fields = reply->elements[0].elements;
  v1::ListResponse resp;
  for (size_t i = 0; i < fields.size(); i += 4) {
    if (!IsText(fields[i])) co_return Unexpected(what, *reply);
    const std::string key = std::move(fields[i].text);
    CK_CO_RETURN_IF_ERROR(FillItem(what, key, req.keys_only() ? nullptr : &fields[i + 1], &fields[i + 2],
                                   fields[i + 3], resp.add_items()));
  }
  if (!reply->elements[1].text.empty()) {
    resp.set_next_continuation_token(EncodeListToken(req.table(), reply->elements[1].text));
  }
  co_return resp;
}

Task<Result<v1::BatchGetResponse>> RedisKeyValue::BatchGet(const v1::BatchGetRequest& req) {
  const int64_t deadline = redis_->CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("table", req.table()));
  if (req.keys_size() > kMaxBatch) {
    co_return Status::InvalidArgument("at most " + std::to_string(kMaxBatch) + " keys per batch get, got " +
                                      std::to_string(req.keys_size()));
  }
  std::vector<std::string> items;
  for (const std::string& key : req.keys()) {
    CK_CO_RETURN_IF_ERROR(names::CheckItemKey(key));
    items.push_back(layout_.Item(req.table(), key));
  }
  v1::BatchGetResponse resp;
  if (items.empty()) co_return resp;
  const std::string what = "batch get in table " + names::Quote(req.table());
  Result<RedisReply> reply =
      co_await scripts_.Run(deadline, kBatchGetScript, std::move(items), std::vector<std::string>(), Repeatable::kYes);
  if (!reply.ok()) co_return reply.status();
  if (!reply->is_array() || reply->elements.size() != static_cast<size_t>(req.keys_size())) {
    co_return Unexpected(what, *reply);
  }
  for (int i = 0; i < req.keys_size(); ++i) {
    v1::Item item;
    Result<bool> found = ReadItem(what, req.keys(i), std::move(reply->elements[i]), &item);
    if (!found.ok()) co_return found.status();
    if (*found) {
      *resp.add_items() = std::move(item);
    } else {
      resp.add_missing(req.keys(i));
    }
  }
  co_return resp;
}

Task<Result<KeyValueProvider::SweepStep>> RedisKeyValue::SweepExpired(size_t budget) {
  const int64_t deadline = redis_->CallDeadline();
  budget = std::max<size_t>(budget, 1);
  std::vector<std::string> keys = {layout_.Expiries()};
  std::vector<std::string> args = {layout_.ItemRoot(), layout_.IndexRoot(), std::to_string(budget)};
  Result<RedisReply> reply =
      co_await scripts_.Run(deadline, kSweepScript, std::move(keys), std::move(args), Repeatable::kYes);
  if (!reply.ok()) co_return reply.status();
  const auto is_integer = [](const RedisReply& r) { return r.type == RedisReply::Type::kInteger; };
  if (!reply->is_array() || reply->elements.size() != 3 ||
      !std::all_of(reply->elements.begin(), reply->elements.end(), is_integer)) {
    co_return Unexpected("sweep script", *reply);
  }
  SweepStep step;
  step.removed = static_cast<size_t>(reply->elements[0].integer);
  step.pass_complete = reply->elements[1].integer != 0;
  step.next_expiry_ms = reply->elements[2].integer;
  co_return step;
}

}  // namespace cloudkit::redis
