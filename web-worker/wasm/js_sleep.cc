#include "js_sleep.h"

#include <algorithm>
#include <string>

#include "cloudkit/web/v1/worker.pb.h"
#include "core/task.h"
#include "js_port_call.h"

namespace cloudkit::web {
namespace {

// setTimeout takes at most 2^31 - 1 ms; an early wake-up only means a
// backoff retries a little sooner.
constexpr int64_t kLongestTimeoutMs = 2147483647;

Task<void> WakeWhenCalledBack(std::string request, Completion<bool> done) {
  Result<std::string> reply = co_await CallJsPort("ckTimer", "sleep", request);
  done.Complete(reply.ok());
}

}  // namespace

Async<bool> JsSleepPort::Sleep(int64_t ms) {
  if (!CurrentExecutor()) return Async<bool>::Ready(false);
  v1::SleepCall call;
  call.set_ms(static_cast<uint32_t>(std::clamp<int64_t>(ms, 0, kLongestTimeoutMs)));
  Completion<bool> done;
  Async<bool> answer = done.async();
  Detach(WakeWhenCalledBack(call.SerializeAsString(), done));
  return answer;
}

}  // namespace cloudkit::web
