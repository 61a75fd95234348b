#include "ports/posix_fs.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace cloudkit::posix_fs {

Status ErrnoStatus(std::string_view op, const std::string& path, int err) {
  std::string m = std::string(op) + " " + path + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
      return Status::NotFound(std::move(m));
    case ENOSPC:
    case EDQUOT:
    case EMFILE:  // the process's open files: more come free as calls end
    case ENFILE:
      return Status::ResourceExhausted(std::move(m));
    case EINTR:
    case EAGAIN:
    case EBUSY:
      return Status::Unavailable(std::move(m));
    default:
      return Status::Internal(std::move(m));
  }
}

std::string ParentDir(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  p.resize(slash);
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

Status FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open directory", dir, errno);
  int rc;
  do {
    rc = ::fsync(fd);
  } while (rc != 0 && errno == EINTR);
  int err = errno;
  ::close(fd);
  // Some file systems refuse fsync on directories; their entries are then as
  // durable as they can be made.
  if (rc != 0 && err != EINVAL && err != EROFS) return ErrnoStatus("fsync directory", dir, err);
  return Status::Ok();
}

Status MakeDirs(const std::string& path, mode_t mode) {
  if (path.empty()) return Status::InvalidArgument("empty directory path");
  // Every prefix ending at a component boundary, shortest first.
  std::vector<std::string> prefixes;
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (path[i - 1] == '/') continue;  // "//" or a trailing '/'
      prefixes.push_back(path.substr(0, i));
    }
  }
  for (const std::string& dir : prefixes) {
    if (::mkdir(dir.c_str(), mode) == 0) {
      CK_RETURN_IF_ERROR(FsyncDir(ParentDir(dir)));
      continue;
    }
    int err = errno;
    if (err != EEXIST) return ErrnoStatus("mkdir", dir, err);
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0) return ErrnoStatus("stat", dir, errno);
    if (!S_ISDIR(st.st_mode)) return ErrnoStatus("mkdir", dir, ENOTDIR);
  }
  return Status::Ok();
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", path, errno);
    }
    if (n == 0) return ErrnoStatus("write", path, EIO);
    p += n;
    left -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

namespace {

Status FillRandom(unsigned char* buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t n = ::getrandom(buf + got, len - got, 0);
    if (n > 0) {
      got += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;  // ENOSYS (old kernel or seccomp): fall back to the device
  }
  if (got == len) return Status::Ok();

  const std::string dev = "/dev/urandom";
  int fd = ::open(dev.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", dev, errno);
  while (got < len) {
    ssize_t n = ::read(fd, buf + got, len - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      ::close(fd);
      return ErrnoStatus("read", dev, err);
    }
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  return Status::Ok();
}

}  // namespace

Result<std::string> RandomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  CK_RETURN_IF_ERROR(FillRandom(buf.data(), buf.size()));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char b : buf) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

}  // namespace cloudkit::posix_fs
