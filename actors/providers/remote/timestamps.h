// The timestamps remote services send: HTTP dates in headers ("Wed, 02 Dec
// 2026 02:53:21 GMT", RFC 9110's IMF-fixdate) and ISO 8601 in documents
// ("2026-12-02T02:53:21.000Z"), as milliseconds since the Unix epoch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cloudkit::remote {

std::optional<int64_t> ParseHttpDate(std::string_view text);
std::optional<int64_t> ParseIso8601(std::string_view text);
// "Wed, 02 Dec 2026 02:53:21 GMT".
std::string FormatHttpDate(int64_t unix_ms);
// "2026-12-02T02:53:21Z" (whole seconds, as Azure's SAS times).
std::string FormatIso8601(int64_t unix_ms);

}  // namespace cloudkit::remote
