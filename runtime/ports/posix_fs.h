// Small POSIX helpers shared by the native storage ports: errno -> Status,
// mkdir -p with fsync of each new entry, directory fsync, full writes, and
// random ids. Internal to runtime/ports.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "core/status.h"

namespace cloudkit::posix_fs {

// "<op> <path>: <strerror(err)>" with a code that fits `err` (ENOENT ->
// NOT_FOUND, ENOSPC/EDQUOT -> RESOURCE_EXHAUSTED, EINTR/EAGAIN/EBUSY ->
// UNAVAILABLE, otherwise INTERNAL).
Status ErrnoStatus(std::string_view op, const std::string& path, int err);

// The directory holding `path` ("." for a bare name, "/" for "/x").
std::string ParentDir(const std::string& path);

// fsync() on a directory, so entries created, renamed or removed in it are durable.
Status FsyncDir(const std::string& dir);

// mkdir -p. Directories it creates get `mode` (minus the umask) and their
// parent is fsynced, so a fresh location survives power loss. Existing
// directories (or symlinks to them) are left as they are.
Status MakeDirs(const std::string& path, mode_t mode);

// Writes all of `data` to `fd`, retrying on EINTR and short writes.
Status WriteAll(int fd, std::string_view data, const std::string& path);

// `bytes` random bytes from the kernel (getrandom, else /dev/urandom) as
// lower-case hex.
Result<std::string> RandomHex(size_t bytes);

}  // namespace cloudkit::posix_fs
