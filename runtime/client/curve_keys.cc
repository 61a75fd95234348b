#include "client/curve_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include <zmq.h>

namespace cloudkit {
namespace {

constexpr size_t kMaxKeyFileBytes = 4096;

Status FileError(const char* what, const std::string& path, int error) {
  std::string message = std::string(what) + " key file '" + path + "': " + std::strerror(error);
  if (error == ENOENT) return Status::NotFound(message);
  if (error == EEXIST) return Status::AlreadyExists("key file '" + path + "' (a key is never overwritten)");
  return Status::FailedPrecondition(message);
}

// The file's text; with `owner_only`, refused unless only its owner may access it.
Result<std::string> ReadKeyFile(const std::string& path, bool owner_only) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return FileError("cannot open", path, errno);
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode) || info.st_size > static_cast<off_t>(kMaxKeyFileBytes)) {
    ::close(fd);
    return Status::FailedPrecondition("key file '" + path + "' is not a key file (a small regular file)");
  }
  if (owner_only && (info.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    return Status::FailedPrecondition("key file '" + path + "' holds a secret key but others may access it (mode " +
                                      mode + "): chmod 600 it");
  }
  std::string text(kMaxKeyFileBytes, '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  text.resize(got);
  return text;
}

// The value of `name = "..."` in a key file's text; empty when absent.
std::string KeyField(std::string_view text, std::string_view name) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line.substr(first, name.size()) != name) continue;
    std::string_view rest = line.substr(first + name.size());
    const size_t equals = rest.find('=');
    if (equals == std::string_view::npos || rest.substr(0, equals).find_first_not_of(" \t") != std::string_view::npos) {
      continue;
    }
    rest = rest.substr(equals + 1);
    const size_t value_start = rest.find_first_not_of(" \t\"'");
    const size_t value_end = rest.find_last_not_of(" \t\r\"'");
    if (value_start == std::string_view::npos || value_end < value_start) return {};
    return std::string(rest.substr(value_start, value_end - value_start + 1));
  }
  return {};
}

Status WriteNewFile(const std::string& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return FileError("cannot create", path, errno);
  // The umask may take bits away, never add: the mode is exactly `mode`.
  Status written;
  if (::fchmod(fd, mode) != 0) written = FileError("cannot chmod", path, errno);
  for (size_t done = 0; written.ok() && done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) written = FileError("cannot write", path, errno);
    else done += static_cast<size_t>(n);
  }
  if (written.ok() && ::fsync(fd) != 0) written = FileError("cannot fsync", path, errno);
  ::close(fd);
  if (!written.ok()) ::unlink(path.c_str());
  return written;
}

}  // namespace

Result<CurveKeyPair> GenerateCurveKeyPair() {
  char public_key[kCurveKeyZ85Length + 1];
  char secret_key[kCurveKeyZ85Length + 1];
  if (zmq_curve_keypair(public_key, secret_key) != 0) {
    return Status::Unimplemented(std::string("CURVE keys: ") + zmq_strerror(zmq_errno()));
  }
  CurveKeyPair pair{public_key, secret_key};
  std::memset(secret_key, 0, sizeof secret_key);
  return pair;
}

bool IsZ85Key(std::string_view text) {
  if (text.size() != kCurveKeyZ85Length) return false;
  const std::string terminated(text);
  uint8_t decoded[32];
  return zmq_z85_decode(decoded, terminated.c_str()) != nullptr;
}

std::string KeyFileText(const CurveKeyPair& pair, bool with_secret) {
  std::string text = with_secret ? "#   CloudKit CURVE key pair (cloudkit keygen): keep it secret, mode 0600\n"
                                 : "#   CloudKit CURVE public key (cloudkit keygen): give it to cloudkitd's auth.clients\n";
  text += "metadata\ncurve\n    public-key = \"" + pair.public_key + "\"\n";
  if (with_secret) text += "    secret-key = \"" + pair.secret_key + "\"\n";
  return text;
}

Status WriteKeyPairFiles(const std::string& path, const CurveKeyPair& pair) {
  const std::string public_path = path + ".pub";
  struct stat existing {};
  if (::stat(public_path.c_str(), &existing) == 0) return FileError("", public_path, EEXIST);
  CK_RETURN_IF_ERROR(WriteNewFile(path, KeyFileText(pair, true), 0600));
  Status public_written = WriteNewFile(public_path, KeyFileText(pair, false), 0644);
  if (!public_written.ok()) ::unlink(path.c_str());
  return public_written;
}

Result<CurveKeyPair> ReadKeyPairFile(const std::string& path) {
  Result<std::string> text = ReadKeyFile(path, /*owner_only=*/true);
  if (!text.ok()) return text.status();
  CurveKeyPair pair{KeyField(*text, "public-key"), KeyField(*text, "secret-key")};
  std::fill(text->begin(), text->end(), '\0');
  if (!IsZ85Key(pair.secret_key)) {
    return Status::FailedPrecondition("key file '" + path + "' holds no secret-key of 40 Z85 characters" +
                                      (pair.public_key.empty() ? "" : " (a public key file?)"));
  }
  char derived[kCurveKeyZ85Length + 1];
  if (zmq_curve_public(derived, pair.secret_key.c_str()) != 0) {
    return Status::FailedPrecondition("key file '" + path + "': its secret key is not a CURVE key");
  }
  if (!pair.public_key.empty() && pair.public_key != derived) {
    return Status::FailedPrecondition("key file '" + path + "': its public-key does not match its secret-key");
  }
  pair.public_key = derived;
  return pair;
}

Result<std::string> ReadPublicKey(const std::string& z85_or_path) {
  struct stat info {};
  if (IsZ85Key(z85_or_path) && ::stat(z85_or_path.c_str(), &info) != 0) return z85_or_path;
  Result<std::string> text = ReadKeyFile(z85_or_path, /*owner_only=*/false);
  if (!text.ok()) return text.status();
  std::string public_key = KeyField(*text, "public-key");
  std::fill(text->begin(), text->end(), '\0');
  if (!IsZ85Key(public_key)) {
    return Status::FailedPrecondition("key file '" + z85_or_path + "' holds no public-key of 40 Z85 characters");
  }
  return public_key;
}

}  // namespace cloudkit
