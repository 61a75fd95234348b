// BlobStore port: immutable byte blobs named by ids the store chooses. The
// embedded providers keep object bodies here, streamed in and out in chunks so
// memory stays bounded whatever the size. Natively: files under the data dir,
// written to a temp file, fsynced and renamed (runtime/ports/file_blob_store).
//
// Every call is asynchronous (core/async.h): natively the file work runs on
// the host's disk workers, so a long copy never holds up the actor.
//
// REQUIRES: called from the turns of the one actor owning the store; a
// writer's calls one after another (await each before the next).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/async.h"
#include "core/status.h"

namespace cloudkit::ports {

// Receives a new blob's content. Nothing is visible until Commit.
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  virtual Async<Status> Append(std::string chunk) = 0;
  // Makes the blob durable and returns its id. The writer is spent afterwards.
  virtual Async<Result<std::string>> Commit() = 0;
  // Discards the content. Also what the destructor does when not committed.
  virtual void Abort() = 0;
};

class BlobReader {
 public:
  virtual ~BlobReader() = default;
  virtual uint64_t size() const = 0;
  // Reads up to `max_bytes` starting at `offset`; an empty result means end.
  virtual Async<Result<std::string>> Read(uint64_t offset, size_t max_bytes) = 0;
};

// A blob as a sweep sees it.
struct ListedBlob {
  std::string id;
  uint64_t bytes = 0;
  int64_t written_ms = 0;  // when its content was last written (Unix ms)
};

// What a store removed of the uploads a crash left unfinished.
struct SweptUploads {
  uint64_t files = 0;
  uint64_t bytes = 0;
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  virtual Async<Result<std::unique_ptr<BlobWriter>>> Create() = 0;
  // NOT_FOUND when no blob has that id.
  virtual Async<Result<std::unique_ptr<BlobReader>>> Open(const std::string& blob_id) = 0;
  // Removing a missing blob is OK.
  virtual Async<Status> Remove(const std::string& blob_id) = 0;
  // A new blob with the content of `blob_id` (NOT_FOUND when none), durable
  // when answered. Blobs are immutable, so a store may share the content;
  // natively the copy is made in the kernel, in one disk job.
  virtual Async<Result<std::string>> Copy(const std::string& blob_id) = 0;

  // Up to `limit` blobs with ids greater than `after` (empty: from the
  // first), in id order, for sweeps of blobs a crash left without a record.
  // UNIMPLEMENTED where blobs are not swept (memory: nothing outlives a crash).
  virtual Async<Result<std::vector<ListedBlob>>> List(const std::string& after, size_t limit) {
    return Async<Result<std::vector<ListedBlob>>>::Ready(Status::Unimplemented("listing blobs"));
  }
  // Removes unfinished uploads that no writer of this store is using (a
  // crash's), and answers what it removed since the last call, opening the
  // store included.
  virtual Async<Result<SweptUploads>> SweepUnfinished() {
    return Async<Result<SweptUploads>>::Ready(SweptUploads{});
  }
};

}  // namespace cloudkit::ports
