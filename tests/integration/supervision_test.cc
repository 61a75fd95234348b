// Supervision, end to end in one process: a daemon (front door, binding host,
// CAF) with a provider built into this test only, which throws on demand.
// The call that made it throw fails with INTERNAL, the other calls the failed
// actor held fail with INTERNAL too, the actor is replaced (the event is
// logged), the daemon keeps serving, and the binding's data is still there.
// Once for an actor on its own CAF thread, once for one inline on the front
// door thread.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>

#include "daemon/binding_host.h"
#include "daemon/front_door.h"
#include "integration/test_helpers.h"
#include "ports/memory_storage.h"
#include "ports/system_clock.h"
#include "providers/embedded/embedded_key_value.h"

namespace cloudkit::integration {
namespace {

// Key-value over memory, except: a Get of "boom" throws, and a Get of "hang"
// never completes (it keeps the actor busy with an open call).
class CrashOnDemandKeyValue : public KeyValueProvider {
 public:
  CrashOnDemandKeyValue(ports::Clock* clock, std::atomic<int>* hanging_calls)
      : items_(std::make_unique<ports::MemoryOrderedStore>(), clock), hanging_calls_(hanging_calls) {}

  Task<Result<v1::GetResponse>> Get(const v1::GetRequest& req) override {
    if (req.key() == "boom") throw std::runtime_error("crashed on demand");
    if (req.key() == "hang") {
      Completion<Result<v1::GetResponse>> never;
      hanging_.push_back(never);
      hanging_calls_->fetch_add(1);
      co_return co_await never.async();
    }
    co_return co_await items_.Get(req);
  }
  Task<Result<v1::PutResponse>> Put(const v1::PutRequest& req) override { return items_.Put(req); }
  Task<Result<v1::DeleteResponse>> Delete(const v1::DeleteRequest& req) override { return items_.Delete(req); }
  Task<Result<v1::ExistsResponse>> Exists(const v1::ExistsRequest& req) override { return items_.Exists(req); }
  Task<Result<v1::ListResponse>> List(const v1::ListRequest& req) override { return items_.List(req); }
  Task<Result<v1::BatchGetResponse>> BatchGet(const v1::BatchGetRequest& req) override {
    return items_.BatchGet(req);
  }
  Task<Result<v1::BatchPutResponse>> BatchPut(const v1::BatchPutRequest& req) override {
    return items_.BatchPut(req);
  }

 private:
  embedded::EmbeddedKeyValue items_;
  std::vector<Completion<Result<v1::GetResponse>>> hanging_;
  std::atomic<int>* hanging_calls_;
};

class SupervisionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegisterBuiltinServices(&services_);
    auto crashy = [this](bool blocking) {
      return [this, blocking](const BindingConfig&, const HostPorts& ports) -> Result<BindingInstance> {
        BindingInstance instance;
        instance.blocking_io = blocking;  // false: the actor runs inline on the front door thread
        instance.providers[kKeyValueService] = std::make_unique<CrashOnDemandKeyValue>(ports.clock, &hanging_calls_);
        return instance;
      };
    };
    ASSERT_TRUE(registry_.Register({"crash-threaded", "tests only", {kKeyValueService}, {}, crashy(true)}).ok());
    ASSERT_TRUE(registry_.Register({"crash-inline", "tests only", {kKeyValueService}, {}, crashy(false)}).ok());
    config_.listen = {"tcp://127.0.0.1:*"};
    config_.bindings = {{"threaded", "crash-threaded", {}, {}}, {"inline", "crash-inline", {}, {}}};
    HostPorts ports{&clock_, nullptr, nullptr, ""};
    for (const auto& binding : config_.bindings) ASSERT_TRUE(bindings_.Add(binding, registry_, ports).ok());
    front_door_ = std::make_unique<FrontDoor>(config_, bindings_, replies_, registry_, services_, clock_);
    ASSERT_TRUE(front_door_->Bind().ok());
    ASSERT_EQ(pipe(stop_), 0);
    serving_ = std::thread([this] { front_door_->Run(stop_[0]); });
  }
  void TearDown() override {
    // Readable like the signalfd it stands for: one siginfo's worth of bytes.
    char stop[128] = {};
    ASSERT_EQ(write(stop_[1], stop, sizeof stop), static_cast<ssize_t>(sizeof stop));
    serving_.join();
    bindings_.StopAll();
    close(stop_[0]);
    close(stop_[1]);
  }
  std::unique_ptr<Client> Connect(const std::string& binding) {
    ClientOptions options;
    options.binding = binding;
    options.timeout = std::chrono::seconds(10);
    auto client = Client::Connect(front_door_->endpoints()[0], options);
    EXPECT_TRUE(client.ok()) << client.status().message();
    return client.ok() ? std::move(*client) : nullptr;
  }

  void FailsAndRecovers(const std::string& binding) {
    auto client = Connect(binding);
    auto waiter = Connect(binding);
    ASSERT_TRUE(client && waiter);
    ASSERT_CK_OK(client->kv().Put(KvPut("t", "kept", "value")));
    auto hanging = std::async(std::launch::async, [&] { return waiter->kv().Get(KvGet("t", "hang")); });
    // The hanging call must be open in the actor before it crashes.
    const auto open_by = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (hanging_calls_.load() == 0 && std::chrono::steady_clock::now() < open_by) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_EQ(hanging_calls_.load(), 1) << "the hanging call never reached the provider";

    auto crashed = client->kv().Get(KvGet("t", "boom"));
    EXPECT_CK_CODE(crashed, v1::INTERNAL);
    EXPECT_NE(crashed.status().message().find("crashed on demand"), std::string::npos) << crashed.status().message();
    auto lost = hanging.get();
    EXPECT_CK_CODE(lost, v1::INTERNAL);
    EXPECT_NE(lost.status().message().find("restarted"), std::string::npos) << lost.status().message();

    // A new actor serves the binding, over the same data; the daemon is up.
    auto kept = client->kv().Get(KvGet("t", "kept"));
    ASSERT_CK_OK(kept);
    EXPECT_EQ(kept->item().value(), "value");
    ASSERT_CK_OK(client->runtime().GetStatus());
    // And it can fail and recover again.
    EXPECT_CK_CODE(client->kv().Get(KvGet("t", "boom")), v1::INTERNAL);
    ASSERT_CK_OK(client->kv().Get(KvGet("t", "kept")));
  }

  std::atomic<int> hanging_calls_{0};
  SystemClock clock_;
  ProviderRegistry registry_;
  ServiceRegistry services_;
  DaemonConfig config_;
  caf::actor_system_config caf_config_;
  caf::actor_system system_{caf_config_};
  ReplyQueue replies_;
  BindingHost bindings_{system_, services_, replies_, clock_};
  std::unique_ptr<FrontDoor> front_door_;
  int stop_[2] = {-1, -1};
  std::thread serving_;
};

TEST_F(SupervisionTest, ActorOnItsOwnThreadIsRestartedAndItsCallsFail) { FailsAndRecovers("threaded"); }

TEST_F(SupervisionTest, InlineActorIsRestartedAndItsCallsFail) { FailsAndRecovers("inline"); }

}  // namespace
}  // namespace cloudkit::integration
