#include "daemon/ipc_endpoint.h"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cloudkit {

std::string IpcPath(std::string_view endpoint) {
  constexpr std::string_view kScheme = "ipc://";
  return endpoint.starts_with(kScheme) ? std::string(endpoint.substr(kScheme.size())) : std::string();
}

namespace {

// True when a process accepts connections on the Unix socket at `path`.
bool SomeoneListens(const std::string& path) {
  sockaddr_un address{};
  if (path.size() >= sizeof address.sun_path) return false;
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool connected = connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  close(fd);
  return connected;
}

}  // namespace

Status CheckIpcPathFree(const std::string& endpoint, const std::string& path) {
  struct stat info {};
  if (lstat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return Status::FailedPrecondition("cannot listen on '" + endpoint + "': " + std::strerror(errno));
  }
  if (!S_ISSOCK(info.st_mode)) {
    return Status::FailedPrecondition("cannot listen on '" + endpoint +
                                      "': the path exists and is not a socket (cloudkitd never replaces it)");
  }
  if (SomeoneListens(path)) {
    return Status::FailedPrecondition("cannot listen on '" + endpoint +
                                      "': another process serves it (another cloudkitd?)");
  }
  return Status::Ok();  // a socket left behind: ZeroMQ replaces it
}

Status SecureIpcSocket(const std::string& path, unsigned mode, const std::string& group) {
  if (!group.empty()) {
    const struct group* entry = getgrnam(group.c_str());
    if (entry == nullptr) return Status::InvalidArgument("ipc group '" + group + "' does not exist");
    if (chown(path.c_str(), static_cast<uid_t>(-1), entry->gr_gid) != 0) {
      return Status::PermissionDenied("cannot give the ipc socket to group '" + group + "': " + std::strerror(errno));
    }
  }
  if (chmod(path.c_str(), static_cast<mode_t>(mode)) != 0) {
    return Status::PermissionDenied(std::string("cannot set the ipc socket's mode: ") + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace cloudkit
