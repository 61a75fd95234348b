#include "client/endpoint_port.h"

#include <charconv>

namespace cloudkit {

Status CheckEndpointPort(const std::string& endpoint, AnyPort any) {
  if (endpoint.rfind("tcp://", 0) != 0) return Status::Ok();
  const size_t colon = endpoint.rfind(':');
  const std::string port = colon == std::string::npos || colon < 6 ? "" : endpoint.substr(colon + 1);
  const bool any_allowed = any == AnyPort::kAllowed;
  if (port == "*" && any_allowed) return Status::Ok();
  unsigned value = 0;
  auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
  const bool number = !port.empty() && port.size() <= 5 && error == std::errc() && end == port.data() + port.size();
  if (!number || value > 65535 || (value == 0 && !any_allowed)) {
    return Status::InvalidArgument("endpoint '" + endpoint + "': the port must be a number from " +
                                   (any_allowed ? "0 to 65535 (0 or * for any free port)" : "1 to 65535"));
  }
  return Status::Ok();
}

}  // namespace cloudkit
