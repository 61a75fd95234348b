// DiskReserve: space held aside on a file system in a file of its own, given
// back when the disk is full so that writes which free space (deletes) can
// still be made, and taken again once there is room. The native SQLite store
// keeps one beside its database (runtime/ports/sqlite_ordered_store).
//
// REQUIRES: one user at a time.
#pragma once

#include <cstdint>
#include <string>

namespace cloudkit {

class DiskReserve {
 public:
  DiskReserve(std::string path, uint64_t bytes) : path_(std::move(path)), bytes_(bytes) {}
  ~DiskReserve();
  DiskReserve(const DiskReserve&) = delete;
  DiskReserve& operator=(const DiskReserve&) = delete;

  // Allocates the reserve unless it is held already (also by the file a
  // previous run left). False when the file system has no room for it yet.
  bool Hold();
  // Gives the space back to the file system; the file stays, empty.
  void Release();
  bool held() const { return held_; }

 private:
  std::string path_;
  uint64_t bytes_;
  int fd_ = -1;
  bool held_ = false;
};

}  // namespace cloudkit
