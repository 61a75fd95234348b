// Fuzzes what a client can send cloudkitd: each input is a script of
// messages of any number of frames with any bytes (envelopes, bodies, stream
// frames for calls that exist or not), sent on one connection to the daemon's
// real front door, served in this process on an ipc:// endpoint with a
// `memory` default binding. After the messages the harness cancels the calls
// they started and asks Runtime/Status: the front door must still answer,
// within seconds. The daemon is made anew every few thousand inputs, so what
// the inputs stored stays bounded.
#include <fcntl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "cloudkit/v1/envelope.pb.h"
#include "core/protobuf_log.h"
#include "daemon/binding_host.h"
#include "daemon/config.h"
#include "daemon/front_door.h"
#include "daemon/reply_queue.h"
#include "fuzz_script.h"
#include "ports/openssl_hash.h"
#include "ports/system_clock.h"
#include "providers/builtin_providers.h"

namespace cloudkit::fuzz {
namespace {

constexpr int kInputsPerDaemon = 5000;
constexpr int kAnswerWithinMs = 10'000;
constexpr uint64_t kSyncIds = uint64_t{0xC10D} << 48;  // the harness's own request ids

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz check failed: %s\n", what.c_str());
  std::abort();
}

// The parts cloudkitd's main assembles, serving on a thread of their own.
class InProcessDaemon {
 public:
  explicit InProcessDaemon(const std::string& dir) {
    config_.listen = {"ipc://" + dir + "/cloudkitd.sock"};
    config_.data_dir = dir;
    BindingConfig memory;
    memory.name = "default";
    memory.provider = "memory";
    config_.bindings = {memory};
    if (Status finalized = FinalizeConfig(&config_); !finalized.ok()) Fail(finalized.message());
    RegisterBuiltinProviders(&registry_);
    RegisterBuiltinServices(&services_);
    caf_config_.set("scheduler.max-threads", size_t{1});
    system_ = std::make_unique<caf::actor_system>(caf_config_);
    bindings_ = std::make_unique<BindingHost>(*system_, services_, replies_, clock_);
    HostPorts ports;
    ports.clock = &clock_;
    ports.hash = &hash_;
    ports.data_dir = dir;
    if (Status added = bindings_->Add(config_.bindings[0], registry_, ports); !added.ok()) Fail(added.message());
    front_door_ = std::make_unique<FrontDoor>(config_, *bindings_, replies_, registry_, services_, clock_);
    if (Status bound = front_door_->Bind(); !bound.ok()) Fail(bound.message());
    if (pipe2(stop_, O_CLOEXEC) != 0) Fail("pipe2");
    serving_ = std::thread([this] { front_door_->Run(stop_[0]); });
  }
  ~InProcessDaemon() {
    // Readable like the signalfd it stands for: one siginfo's worth of bytes
    // (signal 0: neither SIGHUP nor anything else the front door reloads on).
    const char stop[sizeof(signalfd_siginfo)] = {};
    if (write(stop_[1], stop, sizeof stop) != static_cast<ssize_t>(sizeof stop)) Fail("cannot stop the front door");
    serving_.join();
    front_door_.reset();
    bindings_->StopAll();
    close(stop_[0]);
    close(stop_[1]);
  }
  const std::string& endpoint() const { return config_.listen[0]; }

 private:
  DaemonConfig config_;
  SystemClock clock_;
  OpenSslHashPort hash_;
  ProviderRegistry registry_;
  ServiceRegistry services_;
  caf::actor_system_config caf_config_;
  std::unique_ptr<caf::actor_system> system_;
  ReplyQueue replies_;
  std::unique_ptr<BindingHost> bindings_;
  std::unique_ptr<FrontDoor> front_door_;
  int stop_[2] = {-1, -1};  // a pipe standing for cloudkitd's signalfd
  std::thread serving_;
};

// One client connection to the daemon, made anew with it.
class Harness {
 public:
  Harness() {
    spdlog::set_level(spdlog::level::off);  // each malformed message would log a line
    char dir[] = "/tmp/cloudkit-fuzz-XXXXXX";
    if (!mkdtemp(dir)) Fail("mkdtemp");
    dir_ = dir;
  }
  // Never destroyed: at exit CAF's own statics may be gone before an
  // actor system torn down then. Only the directory is removed.
  ~Harness() = delete;
  const std::string& dir() const { return dir_; }

  void Run(ScriptReader& script) {
    if (!daemon_ || ++inputs_ % kInputsPerDaemon == 0) Restart();
    std::vector<uint64_t> started;
    while (!script.done()) {
      const int frames = script.Byte() % 5;
      std::vector<zmq::message_t> message;
      for (int i = 0; i < frames; ++i) {
        std::string_view bytes = script.Bytes();
        message.emplace_back(bytes.data(), bytes.size());
      }
      if (message.empty()) continue;  // ZeroMQ sends no message without frames
      v1::RequestEnvelope env;
      if (env.ParseFromArray(message[0].data(), static_cast<int>(message[0].size())) && env.kind() == v1::REQUEST) {
        started.push_back(env.request_id());
      }
      Send(message);
    }
    for (uint64_t id : started) {
      v1::RequestEnvelope cancel;
      cancel.set_request_id(id);
      cancel.set_kind(v1::CANCEL);
      SendEnvelope(cancel, "");
    }
    // Still serving: Runtime/Status comes back, past every reply before it.
    const uint64_t sync_id = kSyncIds + inputs_;
    v1::RequestEnvelope status;
    status.set_request_id(sync_id);
    status.set_kind(v1::REQUEST);
    status.set_method("cloudkit.v1.Runtime/Status");
    SendEnvelope(status, "");
    for (;;) {
      std::vector<zmq::message_t> reply;
      if (!Receive(&reply)) {
        Fail("the front door did not answer Runtime/Status within " + std::to_string(kAnswerWithinMs) + " ms");
      }
      v1::ResponseEnvelope env;
      if (reply.empty() || !env.ParseFromArray(reply[0].data(), static_cast<int>(reply[0].size()))) {
        Fail("a reply whose envelope does not parse");
      }
      if (env.request_id() != sync_id) continue;
      if (env.status().code() != v1::OK) Fail("Runtime/Status failed: " + env.status().message());
      return;
    }
  }

 private:
  void Restart() {
    client_.reset();
    daemon_.reset();
    daemon_ = std::make_unique<InProcessDaemon>(dir_);
    client_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
    client_->set(zmq::sockopt::linger, 0);
    client_->set(zmq::sockopt::rcvtimeo, kAnswerWithinMs);
    client_->connect(daemon_->endpoint());
  }
  // One reply; false when none came in time. libFuzzer's own signals may interrupt the wait.
  bool Receive(std::vector<zmq::message_t>* reply) {
    for (;;) {
      try {
        return zmq::recv_multipart(*client_, std::back_inserter(*reply)).has_value();
      } catch (const zmq::error_t& e) {
        if (e.num() != EINTR) Fail(std::string("receiving a reply: ") + e.what());
        reply->clear();
      }
    }
  }
  void Send(std::vector<zmq::message_t>& message) {
    for (size_t i = 0; i < message.size(); ++i) {
      const zmq::send_flags flags = i + 1 < message.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
      for (bool sent = false; !sent;) {
        try {
          sent = client_->send(message[i], flags).has_value();
        } catch (const zmq::error_t& e) {
          if (e.num() != EINTR) Fail(std::string("sending a message: ") + e.what());
        }
      }
    }
  }
  void SendEnvelope(const v1::RequestEnvelope& env, const std::string& body) {
    std::vector<zmq::message_t> message;
    message.emplace_back(env.SerializeAsString());
    message.emplace_back(body.data(), body.size());
    Send(message);
  }

  std::string dir_;
  zmq::context_t context_{1};
  std::unique_ptr<InProcessDaemon> daemon_;
  std::unique_ptr<zmq::socket_t> client_;
  uint64_t inputs_ = 0;
};

}  // namespace
}  // namespace cloudkit::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static cloudkit::fuzz::Harness* harness = [] {
    cloudkit::RouteProtobufLog(nullptr);  // a line per malformed string would be most of the run's time
    auto* made = new cloudkit::fuzz::Harness;
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(harness->dir(), ignored);
    });
    return made;
  }();
  cloudkit::fuzz::ScriptReader script(data, size);
  harness->Run(script);
  return 0;
}
