#include "cli/local_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace cloudkit::cli {
namespace {

Status LocalError(const std::string& what, int error) {
  return Status(v1::INTERNAL, what + ": " + std::strerror(error));
}

// The process umask, for giving the downloaded file ordinary permissions
// (mkstemp creates it 0600).
mode_t CurrentUmask() {
  mode_t mask = umask(0);
  umask(mask);
  return mask;
}

}  // namespace

Result<std::unique_ptr<InputFile>> InputFile::Open(const std::string& path) {
  int fd = STDIN_FILENO;
  std::string name = "stdin";
  if (path != "-") {
    fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return LocalError("cannot open '" + path + "'", errno);
    name = "'" + path + "'";
  }
  struct stat info {};
  if (fstat(fd, &info) != 0) {
    int error = errno;
    if (fd != STDIN_FILENO) close(fd);
    return LocalError("cannot stat " + name, error);
  }
  if (S_ISDIR(info.st_mode)) {
    if (fd != STDIN_FILENO) close(fd);
    return Status(v1::INTERNAL, "cannot read " + name + ": it is a directory");
  }
  std::optional<uint64_t> size;
  if (S_ISREG(info.st_mode)) size = static_cast<uint64_t>(info.st_size);
  return std::unique_ptr<InputFile>(new InputFile(fd, name, size));
}

InputFile::~InputFile() {
  if (fd_ != STDIN_FILENO) close(fd_);
}

Result<std::unique_ptr<OutputFile>> OutputFile::Open(const std::string& path) {
  if (path == "-") return std::unique_ptr<OutputFile>(new OutputFile(STDOUT_FILENO, "-", ""));
  struct stat info {};
  if (stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    return Status(v1::INTERNAL, "cannot write '" + path + "': it is a directory");
  }
  std::string temp = path + ".cloudkit-XXXXXX";
  std::vector<char> name(temp.begin(), temp.end());
  name.push_back('\0');
  int fd = mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) return LocalError("cannot create a file next to '" + path + "'", errno);
  fchmod(fd, 0666 & ~CurrentUmask());
  return std::unique_ptr<OutputFile>(new OutputFile(fd, path, name.data()));
}

OutputFile::~OutputFile() {
  if (is_stdout()) return;
  if (fd_ >= 0) close(fd_);
  if (!committed_) unlink(temp_path_.c_str());
}

Status OutputFile::Commit() {
  if (is_stdout()) return Status::Ok();
  if (fsync(fd_) != 0) return LocalError("cannot write " + name_, errno);
  int closed = close(fd_);
  fd_ = -1;
  if (closed != 0) return LocalError("cannot write " + name_, errno);
  if (rename(temp_path_.c_str(), path_.c_str()) != 0) return LocalError("cannot create " + name_, errno);
  committed_ = true;
  return Status::Ok();
}

}  // namespace cloudkit::cli
