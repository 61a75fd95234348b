// AWS Signature Version 4: how requests to AWS (and S3-compatible services)
// are signed. Builds the canonical request, the string to sign and the
// Authorization header from a request's parts, with HMAC-SHA256 and SHA-256
// from the host's HashPort (never hand-written crypto). Checked against AWS's
// published Signature V4 test suite (tests/unit/sigv4_test.cc).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ports/hash.h"
#include "ports/http.h"

namespace cloudkit::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
};

struct SigV4Scope {
  std::string region;   // "us-east-1"
  std::string service;  // "s3", "dynamodb"
  // S3 signs the path as sent: no dot-segment removal, each segment encoded
  // once. Every other service normalizes the path and encodes it twice.
  bool s3_paths = false;
};

// What is signed of a request. `headers` must hold Host and X-Amz-Date (and
// X-Amz-Security-Token when the credentials have a session token); every
// header listed is signed.
struct SignedParts {
  std::string method;
  std::string path;   // as in the request line, percent-encoded or not
  std::string query;  // after '?', raw
  ports::HttpHeaders headers;
  std::string payload_sha256_hex;  // or "UNSIGNED-PAYLOAD" where the service allows it
};

// "20150830T123600Z" for a time in milliseconds since the Unix epoch (UTC).
std::string AmzDate(int64_t unix_ms);

// The steps, exposed for tests and diagnostics.
std::string CanonicalRequest(const SignedParts& parts, const SigV4Scope& scope);
std::string StringToSign(std::string_view amz_date, const SigV4Scope& scope, std::string_view canonical_request,
                         ports::HashPort& hash);

// The value of the Authorization header for `parts`, signed with `credentials`
// at the time in its X-Amz-Date header. INVALID_ARGUMENT when that header is
// missing or malformed.
Result<std::string> Authorization(const SignedParts& parts, const Credentials& credentials, const SigV4Scope& scope,
                                  ports::HashPort& hash);

// A presigned URL (query-string authentication): `url`
// ("https://host[:port]/path[?query]") for `method`, valid `expires_seconds`
// from `amz_date` ("20150830T123600Z"). Signs only the Host header and not the
// payload (UNSIGNED-PAYLOAD), as S3 does; a session token rides in the query.
// INVALID_ARGUMENT for a URL without scheme and host, or an expiry outside
// 1 s to 7 days (S3's bounds).
Result<std::string> PresignUrl(std::string_view method, std::string_view url, const Credentials& credentials,
                               const SigV4Scope& scope, std::string_view amz_date, uint32_t expires_seconds,
                               ports::HashPort& hash);

// Percent-encoding as SigV4 wants it: unreserved characters (A-Z a-z 0-9
// - _ . ~) stay, every other byte becomes %XX (upper case); '/' stays when
// `keep_slash`.
std::string UriEncode(std::string_view text, bool keep_slash);

}  // namespace cloudkit::aws
