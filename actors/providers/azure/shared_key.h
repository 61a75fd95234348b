// Azure Storage Shared Key authorization: how requests to Azure Blob and
// Azure Table are signed, and the service SAS that lets a browser read or
// write one blob directly. The account key (base64 in the portal and in
// connection strings) is used decoded, as the HMAC-SHA256 key; the HMAC comes
// from the host's HashPort (never hand-written crypto).
//
// Blob (and Queue, File) sign the verb, twelve standard headers, every x-ms-
// header and the canonicalized resource with all query parameters; Table
// signs a shorter string: verb, Content-MD5, Content-Type, the date and the
// resource with only `comp`. Both are Microsoft's "Authorize with Shared Key"
// (version 2009-09-19 and later), as Azurite verifies them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "ports/hash.h"
#include "ports/http.h"

namespace cloudkit::azure {

// The service versions this provider speaks (x-ms-version): the blob one
// has every feature the provider uses (conditional Put Block List, If-None-Match
// on Copy Blob, encoded names in listings); the table one is what Microsoft's
// own Table SDKs send.
inline constexpr char kBlobApiVersion[] = "2021-12-02";
inline constexpr char kTableApiVersion[] = "2019-02-02";

struct SharedKey {
  std::string account;
  std::string key;  // the raw key bytes (base64-decoded); empty with a SAS token
  // A SAS token ("sv=...&sig=...") the binding was given instead of the key:
  // requests carry it in their query rather than a signature.
  std::string sas_token;
};

enum class SignedService { kBlob, kTable };

// The string each service signs, for a request whose url is
// "scheme://host[:port]/path[?query]" and whose headers hold x-ms-date (names
// in lower case, as this project's requests have them). Exposed for tests and
// diagnostics.
std::string BlobStringToSign(const ports::HttpRequest& request, std::string_view account);
std::string TableStringToSign(const ports::HttpRequest& request, std::string_view account);

// Adds x-ms-date (at `now_ms`), x-ms-version and Authorization
// ("SharedKey account:signature") to `request`, signed for `service`.
// INVALID_ARGUMENT for a URL without scheme and host.
Status SignRequest(ports::HttpRequest* request, const SharedKey& key, SignedService service, int64_t now_ms,
                   ports::HashPort& hash);

// A service SAS for one blob (signed resource "b"), version kBlobApiVersion,
// HTTPS and HTTP allowed: the query string to append to the blob's URL
// ("sv=...&sp=...&sig=..."). `permissions` in Azure's order ("r", "cw",
// "rcw"...); `blob` is the blob's name, not percent-encoded.
struct BlobSas {
  std::string container;
  std::string blob;
  std::string permissions;
  int64_t start_ms = 0;  // 0: valid from when it is made (no st=)
  int64_t expiry_ms = 0;
};
std::string BlobSasStringToSign(const BlobSas& sas, std::string_view account);
std::string BlobSasQuery(const BlobSas& sas, const SharedKey& key, ports::HashPort& hash);

}  // namespace cloudkit::azure
