// Signs an HTTP request for AWS (S3, DynamoDB, and S3-compatible services)
// with Signature V4 in headers: adds Host, X-Amz-Date, X-Amz-Content-Sha256
// (S3 wants it), X-Amz-Security-Token for temporary credentials, and
// Authorization, over every header the request carries.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "ports/clock.h"
#include "ports/hash.h"
#include "ports/http.h"
#include "providers/aws/sigv4.h"

namespace cloudkit::aws {

inline constexpr char kUnsignedPayload[] = "UNSIGNED-PAYLOAD";

// The lower-case hex SHA-256 of `payload` (what X-Amz-Content-Sha256 holds).
std::string PayloadSha256(ports::HashPort& hash, std::string_view payload);

// Signs `request` (method, url and headers set; url "scheme://host[:port]/path[?query]")
// at the clock's time. `payload_sha256` is PayloadSha256 of the body, or
// kUnsignedPayload. INVALID_ARGUMENT for a URL without scheme and host.
Status SignRequest(ports::HttpRequest* request, std::string_view payload_sha256, const Credentials& credentials,
                   const SigV4Scope& scope, ports::Clock& clock, ports::HashPort& hash);

}  // namespace cloudkit::aws
