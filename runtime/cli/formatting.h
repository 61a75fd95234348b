// How the `cloudkit` CLI shows daemon results: JSON objects for --json (one
// shape per message, documented in docs/cli.md) and the small text helpers
// (times, sizes) its plain output uses.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "providers/names.h"

#include "cloudkit/v1/key_value.pb.h"
#include "cloudkit/v1/object_storage.pb.h"
#include "cloudkit/v1/runtime.pb.h"

namespace cloudkit::cli {

// "2026-11-24T07:00:00.123Z" (UTC).
std::string IsoTime(int64_t epoch_ms);
// "2026-11-24 07:00:00" (UTC), the listing format of `aws s3 ls`.
std::string ListingTime(int64_t epoch_ms);
// "1.5 MiB".
std::string HumanBytes(double bytes);
// Text for a terminal (names::Escaped): control characters as \xNN and
// backslashes doubled, so a key cannot move the cursor, change colours or
// split one entry in two.
std::string Printable(std::string_view text);

// The core's strict check: what it accepts is what JSON output may show as text.
using names::IsValidUtf8;

nlohmann::ordered_json BucketJson(const v1::Bucket& bucket);
nlohmann::ordered_json ObjectJson(const v1::ObjectInfo& object);
// Item values that are not UTF-8 text appear as "value_base64" instead of "value".
nlohmann::ordered_json ItemJson(const v1::Item& item);
// Adds `value` to `json` as "value" when it is UTF-8 text, else as "value_base64".
void AddValueJson(const std::string& value, nlohmann::ordered_json* json);
// Adds `bytes` to `json` as `name` when they are UTF-8 text, else as `name`_base64.
void AddBytesJson(const std::string& name, const std::string& bytes, nlohmann::ordered_json* json);
nlohmann::ordered_json StatusJson(const v1::StatusResponse& status);

}  // namespace cloudkit::cli
