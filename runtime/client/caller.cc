#include "client/caller.h"

#include <algorithm>
#include <limits>

namespace cloudkit::client_internal {

v1::RequestEnvelope Caller::Envelope(const char* method, const CallOptions& call_options, uint32_t credits) {
  v1::RequestEnvelope envelope;
  envelope.set_request_id(transport_->NewRequestId());
  envelope.set_kind(v1::REQUEST);
  envelope.set_method(method);
  envelope.set_binding(call_options.binding.value_or(options_.binding));
  // timeout_ms 0 would mean "the daemon's default": never send it by accident.
  int64_t timeout_ms = std::clamp<int64_t>(Timeout(call_options).count(), 1, std::numeric_limits<uint32_t>::max());
  envelope.set_timeout_ms(static_cast<uint32_t>(timeout_ms));
  if (credits) envelope.set_credits(credits);
  return envelope;
}

}  // namespace cloudkit::client_internal
