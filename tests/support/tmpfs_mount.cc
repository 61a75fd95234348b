#include "support/tmpfs_mount.h"

#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace cloudkit::testing_util {

Result<std::unique_ptr<TmpfsMount>> TmpfsMount::Create(uint64_t size_bytes) {
  char dir_template[] = "/tmp/cloudkit-tmpfs-XXXXXX";
  if (!::mkdtemp(dir_template)) return Status::Internal(std::string("mkdtemp: ") + std::strerror(errno));
  const std::string options = "size=" + std::to_string(size_bytes) + ",mode=0700";
  if (::mount("tmpfs", dir_template, "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
    const int err = errno;
    ::rmdir(dir_template);
    return Status::FailedPrecondition(std::string("cannot mount a tmpfs (needs CAP_SYS_ADMIN): ") + std::strerror(err));
  }
  return std::unique_ptr<TmpfsMount>(new TmpfsMount(dir_template));
}

TmpfsMount::~TmpfsMount() {
  ::umount2(dir_.c_str(), MNT_DETACH);
  ::rmdir(dir_.c_str());
}

uint64_t TmpfsMount::FreeBytes() const {
  struct statvfs st;
  if (::statvfs(dir_.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

}  // namespace cloudkit::testing_util
