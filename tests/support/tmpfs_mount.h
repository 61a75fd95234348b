// TmpfsMount: a small tmpfs of its own on a fresh directory under /tmp, for
// tests of a full disk: a file system that fills up without touching the
// machine's disks. Mounting needs CAP_SYS_ADMIN (root, or a user namespace);
// without it Create fails FAILED_PRECONDITION saying so, and tests skip.
// Destroying it unmounts (lazily, should a file still be open) and removes
// the directory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"

namespace cloudkit::testing_util {

class TmpfsMount {
 public:
  static Result<std::unique_ptr<TmpfsMount>> Create(uint64_t size_bytes);
  ~TmpfsMount();
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  const std::string& dir() const { return dir_; }
  // Bytes still free on it.
  uint64_t FreeBytes() const;

 private:
  explicit TmpfsMount(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace cloudkit::testing_util
