// How the API's objects map onto blob properties. The API's ETag is the
// quoted hex MD5 of the content (cloudkit.v1.ObjectInfo), which Azure keeps as
// the blob's Content-MD5: every blob this provider writes carries it (Put
// Blob sends it, Put Block List sets x-ms-blob-content-md5, Copy Blob copies
// it). Azure's own ETag is opaque and changes on every write, so a condition
// on the API's ETag is checked against the MD5 and then sent to Azure as a
// condition on the Azure ETag that blob had: atomic, as Azure applies it.
// A blob written by someone else without an MD5 shows Azure's ETag instead.
//
// Metadata are x-ms-meta-* headers: names must be C# identifiers (Azure's
// rule), values printable ASCII; names come back in lower case.
#pragma once

#include <string>
#include <string_view>

#include "cloudkit/v1/object_storage.pb.h"
#include "core/status.h"
#include "ports/hash.h"
#include "ports/http.h"

namespace cloudkit::azure {

inline constexpr char kMetaPrefix[] = "x-ms-meta-";

// The API's ETag of a blob: from its Content-MD5 (base64), else its Azure ETag
// (quoted, as a HEAD gives it; a listing gives it bare).
std::string ApiEtag(std::string_view content_md5_base64, std::string_view azure_etag);

// The base64 Content-MD5 for an MD5 given in lower-case hex.
std::string Md5Base64FromHex(std::string_view hex);

// Whether ETag `condition` (quoted or not; "*" matches any) matches `etag`.
bool EtagMatches(std::string_view condition, std::string_view etag);

// INVALID_ARGUMENT naming the entry Azure would refuse.
Status CheckMetadata(const google::protobuf::Map<std::string, std::string>& metadata);

// A blob as its HEAD or GET answer describes it (the whole blob's MD5 also
// for a ranged GET; its size is the answer's length: a GET sets the whole
// size from remote::SliceOfAnswer).
v1::ObjectInfo InfoFromHeaders(const std::string& bucket, const std::string& key, const ports::HttpHeaders& headers);

}  // namespace cloudkit::azure
