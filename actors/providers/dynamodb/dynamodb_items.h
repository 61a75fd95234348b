// How the `dynamodb` provider lays its items out in its one DynamoDB table
// (single-table design), written as DynamoDB's wire JSON (AttributeValue
// maps) through nlohmann-json. The API's tables are partitions, its keys
// sort keys, so a table's items are one partition in key order:
//   pk      S  the API table ("users")
//   sk      S  the item's key
//   v       B  the value (base64 in the JSON)
//   etag    S  the item's ETag: "<generation>-<sequence>", as the embedded
//              provider's, so ETags never repeat (dynamodb_key_value.h)
//   exp_ms  N  when it expires, Unix epoch ms (absent: never)
//   exp     N  the same in seconds, rounded up: what DynamoDB's TTL deletes by
// The provider's own records live under a partition key no API table can
// have (API table names start with a letter or digit): kOwnPartition.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace cloudkit::dynamodb {

using Json = nlohmann::json;

// Attribute names.
inline constexpr char kTableAttr[] = "pk";
inline constexpr char kKeyAttr[] = "sk";
inline constexpr char kValueAttr[] = "v";
inline constexpr char kEtagAttr[] = "etag";
inline constexpr char kExpiresMsAttr[] = "exp_ms";
inline constexpr char kTtlAttr[] = "exp";
inline constexpr char kOwnPartition[] = "#cloudkit";
// The ETag an item shows when it has no `etag` attribute: one written by
// another DynamoDB client. if_match on it holds while the item still has none.
inline constexpr char kForeignEtag[] = "0";

struct StoredItem {
  std::string key;
  std::string value;
  std::string etag;
  int64_t expires_at_ms = 0;  // 0 = never
  // Expired items read as absent at once (DynamoDB's TTL deletes them later).
  bool LiveAt(int64_t now_ms) const { return expires_at_ms == 0 || expires_at_ms > now_ms; }
};

// Attribute values.
Json StringValue(std::string_view text);
Json NumberValue(int64_t number);
Json BinaryValue(std::string_view bytes);

// The primary key of item `key` of API table `table`.
Json KeyOf(std::string_view table, std::string_view key);
// Every attribute of `item` in API table `table` (a PutItem's Item).
Json AttributesOf(std::string_view table, const StoredItem& item);
// An item from its attributes as DynamoDB answers them: all of them, or a
// projection without the value. Items other clients wrote are read too: a
// string value as its UTF-8 bytes, no ETag as kForeignEtag. INTERNAL naming
// `what` when an attribute this provider reads has another type.
Result<StoredItem> ParseItem(const Json& attributes, const std::string& what);

// Member `name` of a JSON object; null when `object` is not one or lacks it.
const Json* Member(const Json& object, const char* name);

// Attribute `name` of `attributes` as a string (S) or a number (N);
// nullopt when absent or of another type.
std::optional<std::string> StringAttribute(const Json& attributes, const char* name);
std::optional<int64_t> NumberAttribute(const Json& attributes, const char* name);

// Request bodies as text. Never throws: item keys are checked UTF-8 before
// they get here, and anything else invalid would be replaced, not thrown on.
std::string Dump(const Json& json);
// An answer's body; INTERNAL naming `what` when it is not a JSON object.
Result<Json> ParseBody(std::string_view body, const std::string& what);

}  // namespace cloudkit::dynamodb
