#include "js_port_call.h"

#include <emscripten.h>
#include <emscripten/em_js.h>

#include <optional>
#include <unordered_map>
#include <utility>

// Starts the JS half of a port call; it answers later through the host's
// ck_port_reply (id 0: no answer wanted). Never re-enters the wasm core.
EM_JS(void, ck_js_port_call, (uint32_t actor_id, uint32_t id, const char* port, const char* op,
                              const char* request, size_t request_size), {
  Module.ckPortCall(actor_id, id, UTF8ToString(port), UTF8ToString(op), HEAPU8.slice(request, request + request_size));
});

namespace cloudkit::web {
namespace {

struct PendingCall {
  uint32_t actor_id;
  Completion<Result<std::string>> done;
  std::shared_ptr<Executor> executor;
};

struct PortCalls {
  std::unordered_map<uint32_t, PendingCall> pending;
  uint32_t next_id = 1;
  uint32_t NextId() {
    uint32_t id = next_id++;
    if (next_id == 0) next_id = 1;  // 0 means "no answer wanted"
    return id;
  }
};

PortCalls& Calls() {
  static PortCalls* calls = new PortCalls();  // lives as long as the worker
  return *calls;
}

std::optional<PendingCall> Take(uint32_t id) {
  auto& pending = Calls().pending;
  auto it = pending.find(id);
  if (it == pending.end()) return std::nullopt;
  PendingCall call = std::move(it->second);
  pending.erase(it);
  return call;
}

}  // namespace

Async<Result<std::string>> CallJsPort(const char* port, const std::string& op, const std::string& request) {
  const std::shared_ptr<Executor>& executor = CurrentExecutor();
  if (!executor) {
    return Async<Result<std::string>>::Ready(
        Status::Internal(std::string(port) + " " + op + ": called outside an actor's turn"));
  }
  auto* actor = dynamic_cast<ActorExecutor*>(executor.get());
  const uint32_t actor_id = actor ? actor->actor_id() : 0;
  PortCalls& calls = Calls();
  const uint32_t id = calls.NextId();
  PendingCall& call = calls.pending[id];
  call.actor_id = actor_id;
  call.executor = executor;
  Async<Result<std::string>> answer = call.done.async();
  ck_js_port_call(actor_id, id, port, op.c_str(), request.data(), request.size());
  return answer;
}

void CallJsPortAndForget(const char* port, const std::string& op, const std::string& request) {
  ck_js_port_call(0, 0, port, op.c_str(), request.data(), request.size());
}

bool CompletePortCall(uint32_t id, Result<std::string> reply) {
  std::optional<PendingCall> call = Take(id);
  if (!call) return false;
  call->done.Complete(std::move(reply));
  return true;
}

bool PostPortReply(uint32_t id, Result<std::string> reply) {
  std::optional<PendingCall> call = Take(id);
  if (!call) return false;
  call->done.PostTo(*call->executor, std::move(reply));
  return true;
}

void DropPortCalls(uint32_t actor_id) {
  auto& pending = Calls().pending;
  for (auto it = pending.begin(); it != pending.end();) {
    it = it->second.actor_id == actor_id ? pending.erase(it) : std::next(it);
  }
}

size_t PendingPortCalls() { return Calls().pending.size(); }

}  // namespace cloudkit::web
