// An upload to Azure Blob: one Put Blob when the body fits in a block, else
// Put Block for each block (block_size_mb each, up to parallel_blocks in
// flight while the client's next chunks come in, so at most
// parallel_blocks + 1 blocks sit in memory) and one Put Block List that
// publishes them, atomically. The final write carries the put's conditions
// (If-None-Match: *, If-Match on the Azure ETag the caller checked), which
// Azure applies atomically; and the whole content's MD5, the API's ETag
// (blob_properties.h).
//
// Block ids start with a nonce of the upload: two uploads of one blob never
// share a block. Whichever commits first discards the other's uncommitted
// blocks (Azure's rule), so the later one fails ABORTED rather than publish
// a mix. An abandoned upload leaves uncommitted blocks, which Azure removes
// after a week (it has no call to abort them).
#pragma once

#include <memory>
#include <string>

#include "cloudkit/v1/object_storage.pb.h"
#include "providers/azure/blob_context.h"
#include "services/object_storage_provider.h"

namespace cloudkit::azure {

// `azure_if_match` is the Azure ETag the final write is conditional on ("" =
// none, "*" = any existing blob).
std::unique_ptr<ObjectUpload> NewBlobUpload(std::shared_ptr<BlobContext> context, v1::PutObjectRequest req,
                                            std::string azure_if_match, std::string upload_nonce, int64_t deadline);

}  // namespace cloudkit::azure
