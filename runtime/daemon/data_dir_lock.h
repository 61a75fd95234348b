// An exclusive lock on the daemon's data dir (flock on <data_dir>/cloudkitd.lock),
// held while the daemon runs, so that two daemons never share one: their
// SQLite files and blobs would be written by both. The lock goes with the
// process, however it ends; the file stays, holding the last holder's pid.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"

namespace cloudkit {

class DataDirLock {
 public:
  // FAILED_PRECONDITION naming the dir (and the holder's pid when known)
  // when another process holds it.
  static Result<std::unique_ptr<DataDirLock>> Acquire(const std::string& data_dir);
  ~DataDirLock();
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace cloudkit
