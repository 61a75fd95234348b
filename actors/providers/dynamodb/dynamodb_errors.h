// From DynamoDB's refusals to protocol statuses. DynamoDB answers errors as
// JSON, {"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
// "message": "..."}, mostly with HTTP 400 whatever the cause, so the type
// decides: a failed condition is FAILED_PRECONDITION (the provider turns it
// into what the API promises), a missing table FAILED_PRECONDITION naming the
// binding's table, throttling retryable, credentials UNAUTHENTICATED, rights
// PERMISSION_DENIED, malformed requests INVALID_ARGUMENT, server errors
// UNAVAILABLE; what it does not name falls back on the HTTP status
// (remote/http_errors.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "ports/http.h"

namespace cloudkit::dynamodb {

struct DynamoError {
  std::string type;     // after the '#': "ConditionalCheckFailedException"; empty when not an error document
  std::string message;
  // TransactionCanceledException: each action's reason ("None",
  // "ConditionalCheckFailed", "TransactionConflict", ...), in order.
  std::vector<std::string> cancellation_reasons;
};
DynamoError ParseDynamoError(std::string_view body);

// The status for DynamoDB's refusal of a request about `what` (e.g. "item
// 'k' in table 'users'"); `table` describes the binding's DynamoDB table.
Status MapDynamoError(int http_status, const ports::HttpHeaders& headers, std::string_view body,
                      const std::string& what, const std::string& table);

}  // namespace cloudkit::dynamodb
