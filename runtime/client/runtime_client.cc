#include "client/runtime_client.h"

#include "client/caller.h"

namespace cloudkit {

std::future<RuntimeClient::StatusResult> RuntimeClient::GetStatusAsync(const v1::StatusRequest& request,
                                                                       const CallOptions& options) {
  return caller_.Unary<v1::StatusResponse>("cloudkit.v1.Runtime/Status", request, options);
}

RuntimeClient::StatusResult RuntimeClient::GetStatus(const v1::StatusRequest& request, const CallOptions& options) {
  return caller_.Call<v1::StatusResponse>("cloudkit.v1.Runtime/Status", request, options);
}

}  // namespace cloudkit
