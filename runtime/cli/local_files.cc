#include "cli/local_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <csignal>
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

// The temporary file of the download under way, for the signal handler to
// remove: a process ended by Ctrl-C runs no destructor. One download at a time.
char g_temp_path[PATH_MAX];
volatile sig_atomic_t g_temp_set = 0;

extern "C" void RemoveTempAndDie(int signal_number) {
  if (g_temp_set) unlink(g_temp_path);  // async-signal-safe, as is what follows
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
}

void WatchTemp(const std::string& path) {
  if (path.size() >= sizeof g_temp_path) return;  // mkostemp took it, so it fits; never reached
  std::memcpy(g_temp_path, path.c_str(), path.size() + 1);
  g_temp_set = 1;
  static const bool installed = [] {
    for (int signal_number : {SIGINT, SIGTERM, SIGHUP}) {
      struct sigaction action {};
      action.sa_handler = RemoveTempAndDie;
      sigemptyset(&action.sa_mask);
      sigaction(signal_number, &action, nullptr);
    }
    return true;
  }();
  (void)installed;
}

void UnwatchTemp() { g_temp_set = 0; }

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
  if (path == "-") return std::unique_ptr<OutputFile>(new OutputFile(STDOUT_FILENO, "-", "", ""));
  const std::string name = "'" + path + "'";
  struct stat info {};
  const bool exists = stat(path.c_str(), &info) == 0;  // through links
  if (exists && S_ISDIR(info.st_mode)) return Status(v1::INTERNAL, "cannot write " + name + ": it is a directory");
  if (exists && !S_ISREG(info.st_mode)) {
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return LocalError("cannot open " + name, errno);
    return std::unique_ptr<OutputFile>(new OutputFile(fd, path, path, ""));
  }
  std::string final_path = path;
  if (exists) {
    char resolved[PATH_MAX];
    if (realpath(path.c_str(), resolved) == nullptr) return LocalError("cannot resolve " + name, errno);
    final_path = resolved;
  }
  std::string temp = final_path + ".cloudkit-XXXXXX";
  std::vector<char> temp_name(temp.begin(), temp.end());
  temp_name.push_back('\0');
  int fd = mkostemp(temp_name.data(), O_CLOEXEC);
  if (fd < 0) return LocalError("cannot create a file next to " + name, errno);
  WatchTemp(temp_name.data());
  if (exists) {
    // As the file it replaces: its mode, and its owner where we may set it.
    (void)fchown(fd, info.st_uid, info.st_gid);
    fchmod(fd, info.st_mode & 07777);
  } else {
    fchmod(fd, 0666 & ~CurrentUmask());
  }
  return std::unique_ptr<OutputFile>(new OutputFile(fd, path, final_path, temp_name.data()));
}

OutputFile::~OutputFile() {
  if (is_stdout()) return;
  if (fd_ >= 0) close(fd_);
  if (!temp_path_.empty() && !committed_) unlink(temp_path_.c_str());
  if (!temp_path_.empty()) UnwatchTemp();
}

Status OutputFile::Commit() {
  if (is_stdout()) return Status::Ok();
  if (temp_path_.empty()) {
    int closed = close(fd_);
    fd_ = -1;
    if (closed != 0) return LocalError("cannot write " + name_, errno);
    committed_ = true;
    return Status::Ok();
  }
  if (fsync(fd_) != 0) return LocalError("cannot write " + name_, errno);
  int closed = close(fd_);
  fd_ = -1;
  if (closed != 0) return LocalError("cannot write " + name_, errno);
  if (rename(temp_path_.c_str(), final_path_.c_str()) != 0) return LocalError("cannot create " + name_, errno);
  committed_ = true;
  UnwatchTemp();
  return Status::Ok();
}

}  // namespace cloudkit::cli
