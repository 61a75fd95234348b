// How the browser's asynchronous ports (storage, HTTP) call their JS halves:
// Module[port].call(op, requestBytes) resolves to reply bytes, and Asyncify
// suspends the calling actor until it does. Requests and replies are
// serialized protobuf messages of web-worker/proto/cloudkit/web/v1/worker.proto.
#pragma once

#include <string>

#include "core/status.h"

namespace cloudkit::web {

// The reply bytes; INTERNAL when the JS side gave none.
Result<std::string> CallJsPort(const char* port, const std::string& op, const std::string& request);

}  // namespace cloudkit::web
