// cloudkit-microbench: Google Benchmark microbenchmarks of cloudkitd's hot
// paths without a network or a daemon: envelope and request encode/decode,
// dispatch of a request through the KeyValue actor into the memory provider
// with a recording Outbox, and the memory provider's get/put on their own.
#include <benchmark/benchmark.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cloudkit/v1/envelope.pb.h"
#include "cloudkit/v1/key_value.pb.h"
#include "core/actor.h"
#include "ports/clock.h"
#include "ports/memory_storage.h"
#include "providers/embedded/embedded_key_value.h"
#include "services/key_value_actor.h"
#include "core/task.h"

namespace cloudkit {
namespace {

constexpr char kGetMethod[] = "cloudkit.v1.KeyValue/Get";

// Keeps the last frame an actor sent, as the host's ReplyQueue would take it.
class RecordingOutbox : public Outbox {
 public:
  void Send(Outbound&& frame) override {
    last = std::move(frame);
    sent++;
  }
  Outbound last;
  uint64_t sent = 0;
};

std::string GetBody() {
  v1::GetRequest get;
  get.set_table("bench");
  get.set_key("hot-key");
  return get.SerializeAsString();
}

// Runs a provider call over memory, which finishes without waiting.
template <typename T>
T RunNow(Task<T> task) {
  std::optional<T> out;
  Detach([](Task<T> t, std::optional<T>* result) -> Task<void> { result->emplace(co_await std::move(t)); }(
      std::move(task), &out));
  if (!out) std::abort();  // a memory call never waits
  return std::move(*out);
}

// A memory KeyValue provider holding one 64-byte item at bench/hot-key.
struct MemoryKeyValue {
  ports::ManualClock clock{1'000};
  embedded::EmbeddedKeyValue provider{std::make_unique<ports::MemoryOrderedStore>(), &clock};
  MemoryKeyValue() {
    v1::PutRequest put;
    put.set_table("bench");
    put.set_key("hot-key");
    put.set_value(std::string(64, 'v'));
    if (!RunNow(provider.Put(put)).ok()) std::abort();
  }
};

void BM_RequestEncode(benchmark::State& state) {
  v1::RequestEnvelope env;
  std::string envelope_bytes, body;
  uint64_t request_id = 0;
  for (auto _ : state) {
    env.Clear();
    env.set_request_id(++request_id);
    env.set_kind(v1::REQUEST);
    env.set_method(kGetMethod);
    env.set_timeout_ms(30'000);
    env.SerializeToString(&envelope_bytes);
    v1::GetRequest get;
    get.set_table("bench");
    get.set_key("hot-key");
    get.SerializeToString(&body);
    benchmark::DoNotOptimize(envelope_bytes.data());
    benchmark::DoNotOptimize(body.data());
  }
}
BENCHMARK(BM_RequestEncode);

void BM_RequestEnvelopeDecode(benchmark::State& state) {
  v1::RequestEnvelope env;
  env.set_request_id(42);
  env.set_kind(v1::REQUEST);
  env.set_method(kGetMethod);
  env.set_timeout_ms(30'000);
  std::string bytes = env.SerializeAsString();
  for (auto _ : state) {
    v1::RequestEnvelope parsed;
    benchmark::DoNotOptimize(parsed.ParseFromString(bytes));
  }
}
BENCHMARK(BM_RequestEnvelopeDecode);

void BM_ResponseEncode(benchmark::State& state) {
  v1::GetResponse response;
  response.mutable_item()->set_key("hot-key");
  response.mutable_item()->set_value(std::string(64, 'v'));
  response.mutable_item()->set_etag("1-1");
  v1::ResponseEnvelope env;
  std::string envelope_bytes, body;
  for (auto _ : state) {
    env.Clear();
    env.set_request_id(42);
    env.set_kind(v1::RESPONSE);
    env.SerializeToString(&envelope_bytes);
    response.SerializeToString(&body);
    benchmark::DoNotOptimize(envelope_bytes.data());
    benchmark::DoNotOptimize(body.data());
  }
}
BENCHMARK(BM_ResponseEncode);

// Request frame in, response frame out: what one actor turn costs.
void BM_KeyValueActorGet(benchmark::State& state) {
  MemoryKeyValue kv;
  RecordingOutbox outbox;
  KeyValueActor actor(&kv.provider, &kv.clock, &outbox);
  const std::string body = GetBody();
  uint64_t call_id = 0;
  for (auto _ : state) {
    Inbound in;
    in.call_id = ++call_id;
    in.method = kGetMethod;
    in.body = body;
    actor.Receive(std::move(in));
  }
  if (!outbox.last.status.ok()) state.SkipWithError(outbox.last.status.message().c_str());
}
BENCHMARK(BM_KeyValueActorGet);

void BM_MemoryProviderGet(benchmark::State& state) {
  MemoryKeyValue kv;
  v1::GetRequest get;
  get.set_table("bench");
  get.set_key("hot-key");
  for (auto _ : state) benchmark::DoNotOptimize(RunNow(kv.provider.Get(get)));
}
BENCHMARK(BM_MemoryProviderGet);

void BM_MemoryProviderPut(benchmark::State& state) {
  MemoryKeyValue kv;
  v1::PutRequest put;
  put.set_table("bench");
  put.set_value(std::string(64, 'v'));
  std::vector<std::string> keys;
  for (int i = 0; i < 1024; ++i) keys.push_back("key-" + std::to_string(i));
  size_t next = 0;
  for (auto _ : state) {
    put.set_key(keys[next++ & 1023]);
    benchmark::DoNotOptimize(RunNow(kv.provider.Put(put)));
  }
}
BENCHMARK(BM_MemoryProviderPut);

}  // namespace
}  // namespace cloudkit

BENCHMARK_MAIN();
