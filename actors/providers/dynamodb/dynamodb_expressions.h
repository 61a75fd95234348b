// The condition, key, filter and projection expressions of the `dynamodb`
// provider's requests. Every attribute goes through a "#name" placeholder
// (some names could be reserved words), every value through a ":label";
// DynamoDB refuses placeholders that a request does not use, so Expressions
// collects exactly those its expressions used.
//
// Expiry is part of every condition: an expired item still stored (DynamoDB's
// TTL deletes it hours later, dynalite never) counts as absent, as the
// embedded provider's do.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "providers/dynamodb/dynamodb_items.h"

namespace cloudkit::dynamodb {

class Expressions {
 public:
  // "#attribute", registered.
  std::string Name(const char* attribute);
  // ":label", bound to `value`.
  std::string Value(const char* label, Json value);
  // Adds ExpressionAttributeNames and ExpressionAttributeValues to
  // `request`, those that were used.
  void AddTo(Json* request) const;

 private:
  Json names_ = Json::object();
  Json values_ = Json::object();
};

// The item has not expired at `now_ms` (or never expires).
std::string Live(Expressions& e, int64_t now_ms);
// There is no item, or it has expired: what if_absent wants.
std::string AbsentOrExpired(Expressions& e, int64_t now_ms);
// The item is live and its ETag is `etag`: what if_match wants.
std::string HasEtag(Expressions& e, std::string_view etag, int64_t now_ms);
// The items of API table `table` whose keys start with `prefix`.
std::string InTableWithPrefix(Expressions& e, std::string_view table, std::string_view prefix);
// What a read without the value fetches: key, ETag, expiry.
std::string WithoutValue(Expressions& e);

}  // namespace cloudkit::dynamodb
