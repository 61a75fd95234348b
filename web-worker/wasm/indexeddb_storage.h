// The browser's durable storage port, behind the `local` provider: IndexedDB,
// one database per location, reached through asynchronous JS calls
// (js_port_call.h): every store call returns at once and is answered on a
// later turn of the calling actor, so one actor has many calls in flight and
// a slow transaction holds up nobody but the operation waiting for it.
// Calls reach IndexedDB in the order they are made, and the transactions of
// one connection run in that order, so a read sees every write asked for
// before it. Ordered entries live in the `entries` store under their raw
// bytes as keys (IndexedDB orders binary keys bytewise, as OrderedStore
// requires); blobs are 256 KiB chunks in `chunks`, published by a record in
// `blobs` written after them, so a blob is visible whole or not at all.
// Writes that acknowledge use IndexedDB's "strict" durability. A write's
// expectations are checked inside its readwrite transaction, which IndexedDB
// runs alone among the origin's connections (every tab, window and worker).
#pragma once

#include "ports/storage.h"

namespace cloudkit::web {

class IndexedDbStoragePort : public ports::StoragePort {
 public:
  // Opening starts the database's open in JS and returns at once; calls made
  // meanwhile wait for it there, and fail with UNAVAILABLE if it fails.
  Result<std::unique_ptr<ports::OrderedStore>> OpenOrderedStore(const std::string& location) override;
  Result<std::unique_ptr<ports::BlobStore>> OpenBlobStore(const std::string& location) override;
};

}  // namespace cloudkit::web
