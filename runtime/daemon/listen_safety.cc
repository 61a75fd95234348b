#include "daemon/listen_safety.h"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace cloudkit {

bool IsLocalOnlyEndpoint(std::string_view endpoint) {
  if (endpoint.rfind("ipc://", 0) == 0 || endpoint.rfind("inproc://", 0) == 0) return true;
  constexpr std::string_view kTcp = "tcp://";
  if (endpoint.rfind(kTcp, 0) != 0) return false;
  std::string_view address = endpoint.substr(kTcp.size());
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string host(address.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;  // "*", an interface name, a host name, a source;destination pair
}

std::vector<std::string> ReachableFromOutside(const std::vector<std::string>& endpoints) {
  std::vector<std::string> reachable;
  for (const std::string& endpoint : endpoints) {
    if (!IsLocalOnlyEndpoint(endpoint)) reachable.push_back(endpoint);
  }
  return reachable;
}

}  // namespace cloudkit
