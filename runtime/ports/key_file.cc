#include "ports/key_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <vector>

#include "ports/posix_fs.h"

namespace cloudkit::key_file {
namespace {

constexpr size_t kMaxFileBytes = 4096;

Result<std::string> Read(const std::string& path, size_t size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return posix_fs::ErrnoStatus("open key file", path, errno);
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    int err = errno;
    ::close(fd);
    return posix_fs::ErrnoStatus("stat key file", path, err);
  }
  if (!S_ISREG(info.st_mode) || (info.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    return Status::FailedPrecondition("key file '" + path + "' must be a regular file only its owner may access " +
                                      "(mode " + mode + "): chmod 600 it");
  }
  std::string text(kMaxFileBytes, '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return posix_fs::ErrnoStatus("read key file", path, err);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  text.resize(got);
  Result<std::string> key = DecodeKey(text, size);
  sodium_memzero(text.data(), text.size());
  if (!key.ok()) {
    return Status::FailedPrecondition("key file '" + path + "' does not hold base64 of " + std::to_string(size) +
                                      " bytes");
  }
  return key;
}

// Writes a new random key to a temporary file, then links it under `path`
// unless one is there already: the file never appears half-written, and the
// first of two racing creators wins.
Status Create(const std::string& path, size_t size) {
  const std::string dir = posix_fs::ParentDir(path);
  CK_RETURN_IF_ERROR(posix_fs::MakeDirs(dir, 0700));
  Result<std::string> suffix = posix_fs::RandomHex(8);
  if (!suffix.ok()) return suffix.status();
  const std::string temp = path + ".new-" + *suffix;
  std::vector<unsigned char> key(size);
  randombytes_buf(key.data(), key.size());
  std::string text(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(text.data(), text.size(), key.data(), key.size(), sodium_base64_VARIANT_ORIGINAL);
  sodium_memzero(key.data(), key.size());
  text.resize(text.size() - 1);  // the terminating NUL
  text += '\n';
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return posix_fs::ErrnoStatus("create key file", temp, errno);
  Status written = posix_fs::WriteAll(fd, text, temp);
  sodium_memzero(text.data(), text.size());
  if (written.ok() && ::fsync(fd) != 0) written = posix_fs::ErrnoStatus("fsync key file", temp, errno);
  ::close(fd);
  if (written.ok() && ::link(temp.c_str(), path.c_str()) != 0 && errno != EEXIST) {
    written = posix_fs::ErrnoStatus("link key file", path, errno);
  }
  ::unlink(temp.c_str());
  CK_RETURN_IF_ERROR(written);
  return posix_fs::FsyncDir(dir);
}

}  // namespace

Result<std::string> DecodeKey(std::string_view text, size_t size) {
  std::string key(size, '\0');
  size_t decoded = 0;
  const char* end = nullptr;
  const int rc = sodium_base642bin(reinterpret_cast<unsigned char*>(key.data()), key.size(), text.data(), text.size(),
                                   " \t\r\n", &decoded, &end, sodium_base64_VARIANT_ORIGINAL);
  if (rc != 0 || decoded != size || end != text.data() + text.size()) {
    sodium_memzero(key.data(), key.size());
    return Status::InvalidArgument("not base64 of " + std::to_string(size) + " bytes");
  }
  return key;
}

Result<std::string> ReadOrCreate(const std::string& path, size_t size) {
  Result<std::string> key = Read(path, size);
  if (key.ok() || key.status().code() != v1::NOT_FOUND) return key;
  CK_RETURN_IF_ERROR(Create(path, size));
  return Read(path, size);
}

}  // namespace cloudkit::key_file
