#include "providers/azure/azure_errors.h"

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "providers/remote/http_errors.h"

namespace cloudkit::azure {
namespace {

std::string FirstLine(std::string text) {
  if (size_t newline = text.find_first_of("\r\n"); newline != std::string::npos) text.resize(newline);
  return text;
}

bool OneOf(const std::string& code, std::initializer_list<const char*> codes) {
  for (const char* candidate : codes) {
    if (code == candidate) return true;
  }
  return false;
}

}  // namespace

AzureError ParseAzureError(const ports::HttpHeaders& headers, std::string_view body) {
  AzureError error;
  error.code = std::string(remote::HeaderValue(headers, "x-ms-error-code"));
  if (body.empty()) return error;
  if (body.front() == '{') {
    // Table, JSON: {"odata.error":{"code":"...","message":{"lang":"en-US","value":"..."}}}
    nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
    if (doc.is_object() && doc.contains("odata.error") && doc["odata.error"].is_object()) {
      const nlohmann::json& odata = doc["odata.error"];
      if (error.code.empty() && odata.contains("code") && odata["code"].is_string()) error.code = odata["code"];
      if (odata.contains("message") && odata["message"].is_object() && odata["message"].contains("value") &&
          odata["message"]["value"].is_string()) {
        error.message = FirstLine(odata["message"]["value"].get<std::string>());
      }
    }
    return error;
  }
  // Blob (and Table's XML form): <Error><Code>...</Code><Message>...</Message></Error>
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8)) return error;
  pugi::xml_node root = doc.first_child();
  if (error.code.empty()) {
    error.code = root.child("Code").text().as_string(root.child("code").text().as_string());
  }
  error.message = FirstLine(root.child("Message").text().as_string(root.child("message").text().as_string()));
  return error;
}

Status MapAzureError(int http_status, const ports::HttpHeaders& headers, std::string_view body,
                     const std::string& what, const std::string& home) {
  const AzureError parsed = ParseAzureError(headers, body);
  const std::string& code = parsed.code;
  const std::string detail =
      " (Azure " + (code.empty() ? "HTTP " + std::to_string(http_status) : remote::OneLine(code, 80)) + ")";
  const uint32_t retry_after = remote::RetryAfterMs(headers);
  if (OneOf(code, {"BlobNotFound", "ResourceNotFound"}) || (http_status == 404 && code.empty())) {
    return Status::NotFound(what);
  }
  if (OneOf(code, {"ContainerNotFound", "TableNotFound"})) {
    return Status::FailedPrecondition(home + " does not exist, for " + what + detail);
  }
  if (OneOf(code, {"ConditionNotMet", "UpdateConditionNotSatisfied", "SourceConditionNotMet",
                   "TargetConditionNotMet"}) ||
      http_status == 412 || http_status == 304) {
    return Status::FailedPrecondition(what + " does not meet the request's condition" + detail);
  }
  // Only a write with If-None-Match: * answers it: the condition failed.
  if (code == "BlobAlreadyExists") return Status::FailedPrecondition(what + " already exists" + detail);
  if (OneOf(code, {"EntityAlreadyExists", "TableAlreadyExists", "ContainerAlreadyExists"})) {
    return Status::AlreadyExists(what);
  }
  // Azurite answers a wrong signature with AuthorizationFailure and the
  // message of AuthenticationFailed; Azure uses AuthorizationFailure for
  // requests its network rules refuse ("not authorized to perform").
  if (code == "AuthenticationFailed" ||
      (code == "AuthorizationFailure" && parsed.message.find("not authorized") == std::string::npos) ||
      http_status == 401) {
    return Status::Unauthenticated("Azure Storage refused the binding's credentials for " + what + detail +
                                   ": check the account name and key");
  }
  if (OneOf(code, {"AuthorizationFailure", "AuthorizationPermissionMismatch", "AuthorizationResourceTypeMismatch",
                   "AuthorizationServiceMismatch", "AuthorizationProtocolMismatch", "AuthorizationSourceIPMismatch",
                   "InsufficientAccountPermissions", "AccountIsDisabled"})) {
    return Status::PermissionDenied("the binding's credentials may not access " + what + detail);
  }
  // Md5Mismatch: the body was damaged on its way; sending it again may do.
  if (OneOf(code, {"ServerBusy", "InternalError", "OperationTimedOut", "ContainerBeingDeleted", "TableBeingDeleted",
                   "Md5Mismatch"})) {
    return Status::Unavailable("Azure Storage could not serve " + what + " now" + detail, retry_after);
  }
  // Put Block List after another upload to the same blob committed (which
  // discards the other's uncommitted blocks).
  if (OneOf(code, {"InvalidBlockList", "InvalidBlockId", "BlockListTooLong"})) {
    return Status::Aborted("a concurrent write to " + what + detail);
  }
  if (OneOf(code, {"LeaseIdMissing", "LeaseIdMismatchWithBlobOperation", "LeaseIdMismatchWithContainerOperation",
                   "LeaseIsBreakingAndCannotBeAcquired", "LeasePresent"})) {
    return Status::FailedPrecondition(what + " is leased" + detail);
  }
  if (OneOf(code, {"InvalidRange"}) || http_status == 416) {
    return Status(v1::INVALID_ARGUMENT, "invalid argument: range not satisfiable: " + what + detail);
  }
  if (OneOf(code, {"InvalidResourceName", "InvalidUri", "InvalidMetadata", "InvalidHeaderValue", "InvalidInput",
                   "OutOfRangeInput", "RequestBodyTooLarge", "EntityTooLarge", "PropertyValueTooLarge",
                   "InvalidDuplicateRow", "InvalidXmlDocument", "InvalidQueryParameterValue"})) {
    return Status::InvalidArgument(what + ": " + remote::OneLine(parsed.message.empty() ? code : parsed.message) +
                                   detail);
  }
  remote::ServiceError error{http_status, code, parsed.message, retry_after};
  return remote::StatusForHttpError(error, what);
}

}  // namespace cloudkit::azure
