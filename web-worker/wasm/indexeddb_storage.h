// The browser's durable storage port, behind the `local` provider: IndexedDB,
// one database per location, reached through asynchronous JS calls that
// Asyncify turns into synchronous port calls (the actor core stays
// synchronous and unchanged). Ordered entries live in the `entries` store
// under their raw bytes as keys (IndexedDB orders binary keys bytewise, as
// OrderedStore requires); blobs are 256 KiB chunks in `chunks`, published by a
// record in `blobs` written after them, so a blob is visible whole or not at
// all. Writes that acknowledge use IndexedDB's "strict" durability.
#pragma once

#include "ports/storage.h"

namespace cloudkit::web {

class IndexedDbStoragePort : public ports::StoragePort {
 public:
  Result<std::unique_ptr<ports::OrderedStore>> OpenOrderedStore(const std::string& location) override;
  Result<std::unique_ptr<ports::BlobStore>> OpenBlobStore(const std::string& location) override;
};

}  // namespace cloudkit::web
