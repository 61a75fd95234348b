#include "ports/disk_reserve.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cloudkit {

DiskReserve::~DiskReserve() {
  if (fd_ >= 0) ::close(fd_);
}

bool DiskReserve::Hold() {
  if (held_ || bytes_ == 0) return true;
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) return false;
  }
  struct stat st;
  if (::fstat(fd_, &st) == 0 && static_cast<uint64_t>(st.st_blocks) * 512 >= bytes_) return held_ = true;
  // posix_fallocate allocates blocks (a sparse file would hold nothing); on
  // failure it may have taken part of them, which a full disk needs back.
  if (::posix_fallocate(fd_, 0, static_cast<off_t>(bytes_)) == 0) return held_ = true;
  if (::ftruncate(fd_, 0) != 0) {
    // Nothing more to do: the next Hold or Release tries again.
  }
  return false;
}

void DiskReserve::Release() {
  if (fd_ < 0) return;
  if (::ftruncate(fd_, 0) == 0) held_ = false;
}

}  // namespace cloudkit
