#include "providers/dynamodb/dynamodb_errors.h"

#include <algorithm>

#include "providers/dynamodb/dynamodb_items.h"
#include "providers/remote/http_errors.h"

namespace cloudkit::dynamodb {
namespace {

bool Any(const std::vector<std::string>& reasons, std::initializer_list<std::string_view> codes) {
  return std::any_of(reasons.begin(), reasons.end(), [&](const std::string& reason) {
    return std::find(codes.begin(), codes.end(), reason) != codes.end();
  });
}

// A cancelled transaction: the worst of its actions' reasons decides.
Status ForCancelledTransaction(const DynamoError& error, const std::string& what, const std::string& detail) {
  const auto& reasons = error.cancellation_reasons;
  if (Any(reasons, {"ValidationError"})) return Status::InvalidArgument(what + ": DynamoDB refused it" + detail);
  if (Any(reasons, {"ConditionalCheckFailed"})) {
    return Status::FailedPrecondition(what + " does not meet the request's condition" + detail);
  }
  if (Any(reasons, {"ItemCollectionSizeLimitExceeded"})) {
    return Status::OverLimit(what + detail);
  }
  if (Any(reasons, {"ProvisionedThroughputExceeded", "ThrottlingError"})) {
    return Status::ResourceExhausted("DynamoDB throttled " + what + detail);
  }
  // TransactionConflict: another request wrote one of its items meanwhile.
  return Status::Aborted("a concurrent change to " + what + detail);
}

}  // namespace

DynamoError ParseDynamoError(std::string_view body) {
  DynamoError error;
  Json parsed = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) return error;
  if (auto type = parsed.find("__type"); type != parsed.end() && type->is_string()) {
    const std::string& full = type->get_ref<const std::string&>();
    error.type = full.substr(full.rfind('#') + 1);  // npos + 1 == 0: the whole
  }
  for (const char* key : {"message", "Message"}) {
    if (auto message = parsed.find(key); message != parsed.end() && message->is_string()) {
      error.message = message->get<std::string>();
    }
  }
  if (auto reasons = parsed.find("CancellationReasons"); reasons != parsed.end() && reasons->is_array()) {
    for (const Json& reason : *reasons) {
      auto code = reason.is_object() ? reason.find("Code") : reason.end();
      error.cancellation_reasons.push_back(code != reason.end() && code->is_string() ? code->get<std::string>() : "");
    }
  }
  return error;
}

Status MapDynamoError(int http_status, const ports::HttpHeaders& headers, std::string_view body,
                      const std::string& what, const std::string& table) {
  const DynamoError error = ParseDynamoError(body);
  const std::string& type = error.type;
  std::string detail = " (DynamoDB " + (type.empty() ? "HTTP " + std::to_string(http_status) : remote::OneLine(type, 80));
  if (!error.message.empty()) detail += ": " + remote::OneLine(error.message);
  detail += ")";
  const uint32_t retry_after_ms = remote::RetryAfterMs(headers);

  if (type == "ConditionalCheckFailedException") {
    return Status::FailedPrecondition(what + " does not meet the request's condition" + detail);
  }
  if (type == "ResourceNotFoundException") {
    return Status::FailedPrecondition("the binding's " + table + " does not exist (or is not active yet), for " +
                                      what + "; create it, or give the binding create_table=true" + detail);
  }
  if (type == "TransactionCanceledException") return ForCancelledTransaction(error, what, detail);
  if (type == "TransactionConflictException" || type == "TransactionInProgressException") {
    return Status::Aborted("a concurrent change to " + what + detail);
  }
  if (type == "ProvisionedThroughputExceededException" || type == "RequestLimitExceeded" ||
      type == "LimitExceededException") {
    return Status(v1::RESOURCE_EXHAUSTED, "resource exhausted: DynamoDB throttled " + what + detail, true,
                  retry_after_ms);
  }
  if (type == "ThrottlingException" || type == "InternalServerError" || type == "ServiceUnavailable" ||
      type == "ServiceUnavailableException") {
    return Status::Unavailable("DynamoDB could not serve " + what + " now" + detail, retry_after_ms);
  }
  if (type == "UnrecognizedClientException" || type == "InvalidSignatureException" ||
      type == "MissingAuthenticationToken" || type == "MissingAuthenticationTokenException" ||
      type == "IncompleteSignatureException" || type == "ExpiredTokenException" ||
      type == "InvalidClientTokenId" || http_status == 401) {
    return Status::Unauthenticated("DynamoDB refused the binding's credentials for " + what + detail);
  }
  if (type == "AccessDeniedException") {
    return Status::PermissionDenied("the binding's credentials may not access " + what + detail);
  }
  if (type == "ItemCollectionSizeLimitExceededException") {
    return Status::OverLimit(what + detail);
  }
  if (type == "ValidationException" || type == "SerializationException") {
    return Status::InvalidArgument(what + ": DynamoDB refused it" + detail);
  }
  if (type == "UnknownOperationException") return Status::Unimplemented(what + detail);
  remote::ServiceError service_error{http_status, type, error.message, retry_after_ms};
  return remote::StatusForHttpError(service_error, what);
}

}  // namespace cloudkit::dynamodb
