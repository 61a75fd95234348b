// The wasm core one Web Worker runs: the actor core (actors/, unchanged) plus
// a C interface the worker script drives. The worker script owns scheduling
// (mailboxes, fairness, timers' setTimeout); this file only creates actors,
// hands one message to one actor — a frame, a timer expiry, a port's reply,
// or the functions posted to the actor's executor — and passes the actor's
// outbound frames back to JS as
// [cloudkit.v1.ResponseEnvelope, body] byte pairs, the daemon's wire format.
// Every export returns without waiting: an operation that waits on a port
// yields, and its reply arrives later in the actor's mailbox (js_port_call.h).
#include <emscripten.h>
#include <emscripten/em_js.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>

#include "browser_ports.h"
#include "browser_providers.h"
#include "fetch_http.h"
#include "indexeddb_storage.h"
#include "js_port_call.h"
#include "js_sleep.h"
#include "cloudkit/v1/envelope.pb.h"
#include "cloudkit/web/v1/worker.pb.h"
#include "core/protobuf_log.h"
#include "ports/timer_generations.h"
#include "ports/timers.h"
#include "providers/registry.h"
#include "services/call_frames.h"
#include "services/service_descriptor.h"

// Hands one outbound frame to the worker script, which copies the bytes out of
// the wasm heap (one packed message, or a transferable body when large).
EM_JS(void, ck_emit, (uint32_t actor_id, const char* envelope, size_t envelope_size, const char* body,
                      size_t body_size, int ends_call),
      { Module.ckEmit(actor_id, envelope, envelope_size, body, body_size, ends_call != 0); });

// Asks the worker script to queue a {run: true} message in the actor's
// mailbox; it comes back through ck_run.
EM_JS(void, ck_request_run, (uint32_t actor_id), { Module.ckRequestRun(actor_id); });

// Asks the worker script to queue a timer expiry into the actor's mailbox
// after delay_ms (setTimeout); it comes back through ck_timer.
EM_JS(void, ck_arm_timer, (uint32_t actor_id, uint32_t token, uint32_t generation, double delay_ms),
      { Module.ckArmTimer(actor_id, token, generation, delay_ms); });

namespace cloudkit::web {
namespace {

// The Timers port of one actor: setTimeout in the worker script, which queues
// the expiry in the actor's mailbox; stale expiries are dropped by generation.
class JsTimers : public ports::Timers {
 public:
  explicit JsTimers(uint32_t actor_id) : actor_id_(actor_id) {}
  void Arm(uint32_t token, int64_t delay_ms) override {
    ck_arm_timer(actor_id_, token, generations_.Next(token), static_cast<double>(std::max<int64_t>(delay_ms, 0)));
  }
  void Disarm(uint32_t token) override { generations_.Next(token); }
  bool IsCurrent(uint32_t token, uint32_t generation) const { return generations_.IsCurrent(token, generation); }

 private:
  uint32_t actor_id_;
  ports::TimerGenerations generations_;
};

class JsOutbox : public Outbox {
 public:
  explicit JsOutbox(uint32_t actor_id) : actor_id_(actor_id) {}
  void Send(Outbound&& frame) override {
    // The page chose the call id: it is the request id its envelope carried.
    frames::ToResponseEnvelope(frame, frame.call_id, &envelope_);
    std::string bytes = envelope_.SerializeAsString();
    ck_emit(actor_id_, bytes.data(), bytes.size(), frame.body.data(), frame.body.size(), frame.ends_call);
  }

 private:
  uint32_t actor_id_;
  ::cloudkit::v1::ResponseEnvelope envelope_;  // reused: Send runs on one thread, one frame at a time
};

// The Executor of one actor: what ports answer to (and what names the actor
// to the JS half of a port call). Post queues here and asks for a {run}
// message in the actor's mailbox, so posted functions run on a turn of their
// own, in turn with the actor's frames.
class WorkerExecutor : public ActorExecutor {
 public:
  explicit WorkerExecutor(uint32_t actor_id) : actor_id_(actor_id) {}
  uint32_t actor_id() const override { return actor_id_; }
  void Post(std::function<void()> fn) override {
    if (stopped_) return;
    queue_.push_back(std::move(fn));
    if (queue_.size() == 1 && !running_) ck_request_run(actor_id_);
  }
  // Runs what was posted before this turn; what those post runs on a later one.
  void RunPosted() {
    std::vector<std::function<void()>> batch;
    batch.swap(queue_);
    running_ = true;
    for (auto& fn : batch) {
      if (stopped_) break;
      fn();
    }
    running_ = false;
    if (!queue_.empty() && !stopped_) ck_request_run(actor_id_);
  }
  void Stop() {
    stopped_ = true;
    queue_.clear();
  }

 private:
  uint32_t actor_id_;
  std::vector<std::function<void()>> queue_;
  bool running_ = false;
  bool stopped_ = false;
};

struct HostedActor {
  std::shared_ptr<WorkerExecutor> executor;
  BindingInstance binding;
  std::unique_ptr<JsOutbox> outbox;
  std::unique_ptr<JsTimers> timers;
  std::unique_ptr<Actor> actor;
};

struct Core {
  Core() {
    RegisterBrowserProviders(&registry);  // those a page can use: no redis, no dynamodb
    RegisterBuiltinServices(&services);
    ports.clock = &clock;
    ports.hash = &hash;
    ports.durable_storage = &storage;
    ports.data_dir = "browser";  // `local` bindings live in IndexedDB databases named after it
    ports.http = &http;          // remote services (`s3`, `azure`), over fetch
    ports.sleep = &sleep;        // their backoff between tries, on setTimeout
    // No environment: a page has none, so credentials come from the binding alone.
    // Protobuf's complaints about a page's bad message go back to it in the
    // error (NotAValid), not to the console.
    RouteProtobufLog(nullptr);
  }
  BrowserClock clock;
  JsHashPort hash;
  IndexedDbStoragePort storage;
  FetchHttpClient http;
  JsSleepPort sleep;
  HostPorts ports;
  ProviderRegistry registry;
  ServiceRegistry services;
  std::map<uint32_t, HostedActor> actors;
  std::string last_error;
};

Core& TheCore() {
  static Core* core = new Core();  // lives as long as the worker
  return *core;
}

Status Spawn(const web::v1::SpawnActor& spec) {
  Core& core = TheCore();
  if (core.actors.count(spec.actor_id())) {
    return Status::AlreadyExists("actor " + std::to_string(spec.actor_id()));
  }
  BindingConfig config{spec.binding(), spec.provider(), {spec.service()},
                       {spec.options().begin(), spec.options().end()},
                       {spec.credentials().begin(), spec.credentials().end()}};
  Result<BindingInstance> binding = core.registry.Create(config, core.ports);
  if (!binding.ok()) return binding.status();
  HostedActor hosted;
  hosted.executor = std::make_shared<WorkerExecutor>(spec.actor_id());
  hosted.binding = std::move(*binding);
  hosted.outbox = std::make_unique<JsOutbox>(spec.actor_id());
  hosted.timers = std::make_unique<JsTimers>(spec.actor_id());
  ExecutorScope scope(hosted.executor);  // what the actor's constructor starts answers to it
  const ServiceDescriptor* service = core.services.Find(spec.service());
  auto provider = hosted.binding.providers.find(spec.service());
  if (service == nullptr || provider == hosted.binding.providers.end()) {
    return Status::InvalidArgument("binding '" + spec.binding() + "' serves no service '" + spec.service() + "'");
  }
  hosted.actor = service->make_actor(*provider->second, {&core.clock, hosted.outbox.get(), hosted.timers.get()});
  if (!hosted.actor) return Status::Internal("service '" + spec.service() + "' made no actor");
  core.actors.emplace(spec.actor_id(), std::move(hosted));
  return Status::Ok();
}

// The actor `actor_id` when it runs here, else null.
HostedActor* Find(uint32_t actor_id) {
  auto& actors = TheCore().actors;
  auto it = actors.find(actor_id);
  return it == actors.end() ? nullptr : &it->second;
}

}  // namespace
}  // namespace cloudkit::web

using cloudkit::ExecutorScope;
using cloudkit::Status;
using cloudkit::web::Find;
using cloudkit::web::TheCore;

namespace {
constexpr uint64_t kPageClient = 1;  // the page is each actor's one client
}  // namespace

extern "C" {

// Creates an actor from a serialized cloudkit.web.v1.SpawnActor. Returns the
// StatusCode (0 = OK); ck_last_error() then holds the message.
EMSCRIPTEN_KEEPALIVE int ck_spawn(const char* spec_bytes, size_t size) {
  cloudkit::web::v1::SpawnActor spec;
  Status status = spec.ParseFromArray(spec_bytes, static_cast<int>(size))
                      ? cloudkit::web::Spawn(spec)
                      : Status::InvalidArgument("spawn request does not parse");
  TheCore().last_error = status.message();
  return status.code();
}

EMSCRIPTEN_KEEPALIVE const char* ck_last_error() { return TheCore().last_error.c_str(); }

// The core's services and providers as a serialized
// cloudkit.web.v1.CoreDescription, `*size` bytes long, valid until the next call.
EMSCRIPTEN_KEEPALIVE const char* ck_describe(uint32_t* size) {
  auto& core = TheCore();
  cloudkit::web::v1::CoreDescription description;
  for (const cloudkit::ServiceDescriptor& service : core.services.all()) {
    auto* out = description.add_services();
    out->set_name(service.name);
    out->set_proto_service(service.proto_service);
    for (const cloudkit::MethodDescriptor& method : service.methods) {
      auto* m = out->add_methods();
      m->set_name(method.name);
      m->set_streams(method.streams);
    }
  }
  for (const cloudkit::ProviderFactory* factory : core.registry.All()) {
    auto* out = description.add_providers();
    out->set_name(factory->name);
    for (const std::string& service : factory->services) out->add_services(service);
  }
  static std::string bytes;
  bytes = description.SerializeAsString();
  *size = static_cast<uint32_t>(bytes.size());
  return bytes.data();
}

// Delivers [RequestEnvelope, body] to an actor. The call's operation runs
// until it finishes or waits; what it sends goes out through ck_emit. The
// page is the actor's one client.
EMSCRIPTEN_KEEPALIVE void ck_deliver(uint32_t actor_id, const char* envelope_bytes, size_t envelope_size,
                                     const char* body, size_t body_size) {
  auto& core = TheCore();
  cloudkit::v1::RequestEnvelope envelope;
  cloudkit::web::HostedActor* hosted = Find(actor_id);
  auto fail = [&](uint64_t request_id, const Status& status) {
    cloudkit::web::JsOutbox outbox(actor_id);
    cloudkit::Outbound frame;
    frame.call_id = request_id;
    frame.status = status;
    outbox.Send(std::move(frame));
  };
  cloudkit::ClearProtobufComplaint();
  if (!envelope.ParseFromArray(envelope_bytes, static_cast<int>(envelope_size))) {
    return fail(0, cloudkit::NotAValid("the envelope", "cloudkit.v1.RequestEnvelope"));
  }
  if (hosted == nullptr) {
    return fail(envelope.request_id(), Status::NotFound("actor " + std::to_string(actor_id) + " on this worker"));
  }
  cloudkit::Inbound in;
  in.call_id = envelope.request_id();
  in.client = kPageClient;
  in.kind = envelope.kind();
  in.method = envelope.method();
  in.body.assign(body, body_size);
  in.credits = envelope.credits();
  in.end_of_stream = envelope.end_of_stream();
  in.idempotency_key = envelope.idempotency_key();
  if (envelope.timeout_ms() != 0) in.deadline_ms = core.clock.NowMs() + envelope.timeout_ms();
  ExecutorScope scope(hosted->executor);
  hosted->actor->Receive(std::move(in));
}

// A timer the actor armed expired (queued by the worker script in turn with
// its frames). Stale expiries (re-armed, disarmed, or a stopped actor) do nothing.
EMSCRIPTEN_KEEPALIVE void ck_timer(uint32_t actor_id, uint32_t token, uint32_t generation) {
  cloudkit::web::HostedActor* hosted = Find(actor_id);
  if (hosted == nullptr || !hosted->timers->IsCurrent(token, generation)) return;
  ExecutorScope scope(hosted->executor);
  hosted->actor->OnTimer(token);
}

// The reply to port call `id` (js_port_call.h), taken from the actor's
// mailbox: completes the call, resuming the operation that waits for it. A
// reply for a stopped actor, or for a call it no longer has, is dropped.
EMSCRIPTEN_KEEPALIVE void ck_port_reply(uint32_t actor_id, uint32_t id, const char* bytes, size_t size) {
  cloudkit::web::HostedActor* hosted = Find(actor_id);
  if (hosted == nullptr) return;
  ExecutorScope scope(hosted->executor);
  cloudkit::web::CompletePortCall(id, size == 0 ? std::string() : std::string(bytes, size));
}

// Runs what was posted to the actor's executor (a {run} message).
EMSCRIPTEN_KEEPALIVE void ck_run(uint32_t actor_id) {
  cloudkit::web::HostedActor* hosted = Find(actor_id);
  if (hosted == nullptr) return;
  ExecutorScope scope(hosted->executor);
  hosted->executor->RunPosted();
}

// Stops an actor: its waiting operations are never resumed, and the replies
// still on their way to it are dropped.
EMSCRIPTEN_KEEPALIVE void ck_stop(uint32_t actor_id) {
  auto& actors = TheCore().actors;
  auto it = actors.find(actor_id);
  if (it == actors.end()) return;
  it->second.executor->Stop();
  cloudkit::web::DropPortCalls(actor_id);
  actors.erase(it);
}

}  // extern "C"
