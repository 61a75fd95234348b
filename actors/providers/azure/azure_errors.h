// From an Azure Storage refusal to a protocol status. Blob answers carry an
// XML <Error> document, Table answers a JSON "odata.error" (or XML), and both
// the x-ms-error-code header (all a HEAD has). Each code Azure spells out is
// mapped here (BlobNotFound: NOT_FOUND naming the object; ContainerNotFound,
// TableNotFound: FAILED_PRECONDITION naming the binding's container or
// table; ConditionNotMet, UpdateConditionNotSatisfied: FAILED_PRECONDITION;
// AuthenticationFailed: UNAUTHENTICATED; ServerBusy: UNAVAILABLE, retryable...);
// the rest falls back on the HTTP status (providers/remote/http_errors).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "ports/http.h"

namespace cloudkit::azure {

struct AzureError {
  std::string code;     // "BlobNotFound"
  std::string message;  // its first line
};
AzureError ParseAzureError(const ports::HttpHeaders& headers, std::string_view body);

// The status for a refusal of a request about `what` (e.g. "object 'a.txt'
// in bucket 'docs'"); `home` names what the binding lives in ("the binding's
// container 'c'", "the binding's table 'T'").
Status MapAzureError(int http_status, const ports::HttpHeaders& headers, std::string_view body,
                     const std::string& what, const std::string& home);

}  // namespace cloudkit::azure
