// Which endpoints a daemon without client keys may serve: those only this
// machine reaches (ipc://, inproc://, tcp:// on a loopback address). Anything
// else would give every binding to whoever reaches the port, so cloudkitd
// refuses it unless CURVE is on or --insecure-listen says so
// (docs/daemon.md, "Running safely on a shared machine and on a network").
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cloudkit {

// True for ipc:// and inproc:// endpoints, and for tcp:// ones whose host is
// a loopback address (127.0.0.0/8, ::1) or "localhost". Wildcards ("*",
// 0.0.0.0, ::), interface names and other hosts are not.
bool IsLocalOnlyEndpoint(std::string_view endpoint);

// The endpoints of `endpoints` that others could reach.
std::vector<std::string> ReachableFromOutside(const std::vector<std::string>& endpoints);

}  // namespace cloudkit
