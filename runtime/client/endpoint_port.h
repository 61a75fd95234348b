// The port of a tcp:// endpoint, checked before ZeroMQ sees it: ZeroMQ takes
// "tcp://127.0.0.1:99999" as port 34463 (the number wrapped to 16 bits), so
// a typo would reach, or listen on, some other port.
#pragma once

#include <string>

#include "core/status.h"

namespace cloudkit {

enum class AnyPort { kAllowed, kRefused };  // 0 or "*": any free port (listening only)

// INVALID_ARGUMENT naming `endpoint` when it is tcp:// with a port that is not
// a number from 1 (0 with AnyPort::kAllowed, or "*") to 65535. Other
// transports pass.
Status CheckEndpointPort(const std::string& endpoint, AnyPort any);

}  // namespace cloudkit
