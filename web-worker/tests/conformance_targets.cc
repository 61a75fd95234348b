// The browser's conformance targets: `memory`, `local` on IndexedDB (a
// fresh database per test; reopening it is a page reload's worth of restart),
// and, when the page started an s3rver and named it on the suite's command
// line (--s3rver=ENDPOINT), `s3` on it, over fetch, each case on a fresh key
// prefix (its bucket must allow the page's origin: CORS). The cases are
// tests/conformance/*_cases.cc, the same files the native suite runs.
#include <emscripten.h>
#include <emscripten/em_js.h>

#include <cstring>
#include <string>

#include "browser_ports.h"
#include "browser_providers.h"
#include "conformance/conformance.h"
#include "conformance/s3rver_binding.h"
#include "fetch_http.h"
#include "indexeddb_storage.h"
#include "js_port_call.h"
#include "js_sleep.h"

namespace cloudkit::conformance {
namespace {

class BrowserTarget : public ConformanceTarget {
 public:
  BrowserTarget(std::string provider, bool durable) : provider_(std::move(provider)), durable_(durable) {
    web::RegisterBrowserProviders(&registry_);
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

// The endpoint of the page's s3rver ("" when it started none).
std::string& S3rverEndpoint() {
  static std::string endpoint;
  return endpoint;
}

// `s3` on the page's s3rver, through the browser's own ports: fetch, the
// setTimeout sleep port, the JS hashes; signed with the real time.
class BrowserS3rverTarget : public ConformanceTarget {
 public:
  BrowserS3rverTarget() { web::RegisterBrowserProviders(&registry_); }
  bool durable() const override { return true; }
  bool host_clock() const override { return false; }
  std::string Cannot(const std::string& feature) const override { return S3rverCannot(feature); }
  Result<BindingInstance> Open(ports::Clock*) override {
    HostPorts ports{&clock_, &hash_, nullptr, ""};
    ports.http = &http_;
    ports.sleep = &sleep_;
    return registry_.Create(S3rverBinding(S3rverEndpoint(), prefix_), ports);
  }

 private:
  static std::string FreshPrefix() {
    static int next = 0;
    return "browser-case" + std::to_string(next++) + "-" + std::to_string(static_cast<int64_t>(emscripten_get_now()));
  }
  std::string prefix_ = FreshPrefix();
  ProviderRegistry registry_;
  web::BrowserClock clock_;
  web::JsHashPort hash_;
  web::FetchHttpClient http_;
  web::JsSleepPort sleep_;
};

}  // namespace

std::vector<TargetParam> ConformanceTargets() {
  std::vector<TargetParam> targets = {
      {"memory", [] { return std::make_unique<BrowserTarget>("memory", false); }},
      {"local", [] { return std::make_unique<BrowserTarget>("local", true); }},
  };
  if (!S3rverEndpoint().empty()) {
    targets.push_back({"s3_on_s3rver", [] { return std::make_unique<BrowserS3rverTarget>(); }, {kObjectStorageService}});
  }
  return targets;
}

// Takes --s3rver=ENDPOINT off the command line (before GoogleTest reads it
// and instantiates the cases for the targets).
void TakeS3rverFlag(int* argc, char** argv) {
  constexpr char kFlag[] = "--s3rver=";
  int kept = 0;
  for (int i = 0; i < *argc; ++i) {
    if (std::strncmp(argv[i], kFlag, sizeof(kFlag) - 1) == 0) {
      S3rverEndpoint() = argv[i] + sizeof(kFlag) - 1;
    } else {
      argv[kept++] = argv[i];
    }
  }
  *argc = kept;
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
  cloudkit::conformance::TakeS3rverFlag(&argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  int exit_code = RUN_ALL_TESTS();
  ck_conformance_done(exit_code);
  return exit_code;
}
