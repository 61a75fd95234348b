// Base64 (RFC 4648, with padding): S3's Content-MD5, Azure's keys and
// signatures, DynamoDB's binary values, and the CLI's JSON output of values
// that are not text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cloudkit {

std::string Base64Encode(std::string_view bytes);
// nullopt for text that is not padded standard base64.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace cloudkit
