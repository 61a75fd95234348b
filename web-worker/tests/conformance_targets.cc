// The browser's conformance targets: `memory`, and `local` on IndexedDB (a
// fresh database per test; reopening it is a page reload's worth of restart).
// The cases are tests/conformance/*_cases.cc, the same files the native suite runs.
#include <emscripten.h>
#include <emscripten/em_js.h>

#include <string>

#include "browser_ports.h"
#include "conformance/conformance.h"
#include "indexeddb_storage.h"
#include "js_port_call.h"

namespace cloudkit::conformance {
namespace {

class BrowserTarget : public ConformanceTarget {
 public:
  BrowserTarget(std::string provider, bool durable) : provider_(std::move(provider)), durable_(durable) {
    RegisterBuiltinProviders(&registry_);
    static int instances = 0;
    data_dir_ = "conformance-" + std::to_string(static_cast<int64_t>(clock_.NowMs())) + "-" +
                std::to_string(++instances);
  }
  bool durable() const override { return durable_; }
  Result<BindingInstance> Open(ports::Clock* clock) override {
    HostPorts ports{clock, &hash_, &storage_, data_dir_};
    return registry_.Create(BindingConfig{"conformance", provider_, {}, {}}, ports);
  }

 private:
  std::string provider_;
  bool durable_;
  std::string data_dir_;
  ProviderRegistry registry_;
  web::BrowserClock clock_;
  web::JsHashPort hash_;
  web::IndexedDbStoragePort storage_;
};

}  // namespace

std::vector<TargetParam> ConformanceTargets() {
  return {
      {"memory", [] { return std::make_unique<BrowserTarget>("memory", false); }},
      {"local", [] { return std::make_unique<BrowserTarget>("local", true); }},
  };
}

}  // namespace cloudkit::conformance

// A port's reply (js_port_call.h). The suite's tests wait in RunTask, which
// sleeps through Asyncify while JS works; the test worker delivers each reply
// during such a sleep, and it is posted to the test thread's executor, whose
// RunTask runs it once the sleep ends.
extern "C" EMSCRIPTEN_KEEPALIVE void ck_port_reply(uint32_t actor_id, uint32_t id, const char* bytes, size_t size) {
  cloudkit::web::PostPortReply(id, size == 0 ? std::string() : std::string(bytes, size));
}

// The suite's own main: it reports the result to the runner explicitly, since
// with Asyncify the runtime may stay alive past main and never call onExit.
EM_JS(void, ck_conformance_done, (int exit_code), { Module.onDone(exit_code); });

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  int exit_code = RUN_ALL_TESTS();
  ck_conformance_done(exit_code);
  return exit_code;
}
