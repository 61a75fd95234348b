// RuntimeClient: typed calls of the cloudkit.v1.Runtime service (what the
// daemon is and serves). Obtain one from Client::runtime().
#pragma once

#include <future>

#include "cloudkit/v1/runtime.pb.h"
#include "client/client_options.h"

namespace cloudkit {

namespace client_internal {
class Caller;
}

class RuntimeClient {
 public:
  explicit RuntimeClient(client_internal::Caller& caller) : caller_(caller) {}

  using StatusResult = Result<v1::StatusResponse>;

  // Runtime/Status: version, uptime, bindings, providers, endpoints, counters.
  StatusResult GetStatus(const v1::StatusRequest& request = {}, const CallOptions& options = {});
  std::future<StatusResult> GetStatusAsync(const v1::StatusRequest& request = {}, const CallOptions& options = {});

 private:
  client_internal::Caller& caller_;
};

}  // namespace cloudkit
