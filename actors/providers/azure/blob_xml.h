// The XML documents of the Azure Blob REST API that the azure provider reads
// and writes, through pugixml: List Blobs answers and Put Block List bodies.
// (Error documents: azure_errors.)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace cloudkit::azure {

struct ListedBlob {
  std::string name;
  uint64_t size = 0;
  std::string content_md5;  // base64, as Azure keeps it; empty when the blob has none
  std::string etag;         // Azure's own
  std::string content_type;
  int64_t last_modified_ms = 0;
};
struct BlobListing {
  std::vector<ListedBlob> blobs;
  std::vector<std::string> prefixes;  // BlobPrefix names (with a delimiter)
  std::string next_marker;            // empty on the last page
};
// A List Blobs answer (EnumerationResults). Names Azure sent encoded
// (Encoded="true": percent-encoded, for characters XML cannot carry) are
// decoded. INTERNAL when it is not one.
Result<BlobListing> ParseBlobListing(std::string_view body);

// The body of Put Block List committing `block_ids` (base64) in order.
std::string BlockListBody(const std::vector<std::string>& block_ids);

}  // namespace cloudkit::azure
