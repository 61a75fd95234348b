// From a remote service's HTTP error answer to a protocol status. Each
// provider first names the errors its service spells out (S3's NoSuchKey,
// DynamoDB's ConditionalCheckFailedException...); what it does not name
// falls back on the HTTP status here: 404 not found, 409 aborted, 412 failed
// precondition, 401 unauthenticated, 403 permission denied, 429 and 503
// retryable (resource exhausted, unavailable), other 5xx unavailable, other
// 4xx invalid argument. Messages name the resource the call was about and
// quote the service's own code and message, never a credential.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "ports/http.h"

namespace cloudkit::remote {

// What a remote service said when it refused a request.
struct ServiceError {
  int http_status = 0;
  std::string code;     // the service's own error code, when it gave one
  std::string message;  // its message (cut to one short line)
  uint32_t retry_after_ms = 0;  // from Retry-After, when present
};

// The status for `error` on `what` (e.g. "object 'a.txt' in bucket 'docs'").
Status StatusForHttpError(const ServiceError& error, const std::string& what);

// Retry-After in milliseconds (delta-seconds form; 0 when absent or a date).
uint32_t RetryAfterMs(const ports::HttpHeaders& headers);

// The value of header `name` (lower case), or empty.
std::string_view HeaderValue(const ports::HttpHeaders& headers, std::string_view name);

// `text` made fit for a one-line message: at most `max` bytes, C0 controls
// and DEL replaced by spaces, the rest escaped as names::Escaped does.
std::string OneLine(std::string_view text, size_t max = 200);

}  // namespace cloudkit::remote
