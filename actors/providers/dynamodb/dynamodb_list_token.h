// The continuation tokens of the `dynamodb` provider's List: the last key a
// page returned (where DynamoDB's Query resumes, its ExclusiveStartKey),
// tagged with the listing it belongs to (the binding's DynamoDB table, the API
// table and the prefix), so that a token from another listing is refused
// rather than misread. Opaque to clients: base64 of "ck1:<tag>:<key>".
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ports/hash.h"

namespace cloudkit::dynamodb {

std::string ListingTag(ports::HashPort& hash, std::string_view dynamo_table, std::string_view table,
                       std::string_view prefix);
std::string EncodeListToken(std::string_view tag, std::string_view last_key);
// The last key of the previous page; nullopt when `token` is not one of the
// listing tagged `tag`.
std::optional<std::string> DecodeListToken(std::string_view token, std::string_view tag);

}  // namespace cloudkit::dynamodb
