// The file behind an ipc:// endpoint. ZeroMQ's bind unlinks whatever is at
// the path and creates the socket with the process's umask; cloudkitd
// checks first, so that it never deletes a file that is not a socket, never
// takes over a socket another process still serves, and creates its socket
// readable and writable by its own user only (or the mode and group the
// configuration gives).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace cloudkit {

// The path of an ipc:// endpoint; empty for other transports.
std::string IpcPath(std::string_view endpoint);

// OK when the path is free or holds a socket nobody answers on (left by a
// daemon that died); FAILED_PRECONDITION naming the endpoint otherwise.
Status CheckIpcPathFree(const std::string& endpoint, const std::string& path);

// Sets the socket's mode (e.g. 0600) and, when `group` is not empty, its group.
Status SecureIpcSocket(const std::string& path, unsigned mode, const std::string& group);

}  // namespace cloudkit
