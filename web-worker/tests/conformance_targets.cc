// The browser's conformance targets: `memory`, `local` on IndexedDB (a
// fresh database per test; reopening it is a page reload's worth of restart),
// and the emulators the page started and named on the suite's command line,
// reached over fetch (their CORS rules must allow the page's origin): `s3` on
// s3rver (--s3rver=ENDPOINT), each case on a fresh key prefix; `azure` on
// Azurite (--azurite-blob=ENDPOINT --azurite-table=ENDPOINT, the account in
// each), each case on a fresh blob prefix and table. The cases are
// tests/conformance/*_cases.cc, the same files the native suite runs.
#include <emscripten.h>
#include <emscripten/em_js.h>

#include <string>
#include <utility>

#include "browser_ports.h"
#include "browser_providers.h"
#include "conformance/azurite_binding.h"
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

// The endpoints of the emulators the page started ("" for those it did not).
struct Emulators {
  std::string s3rver;
  std::string azurite_blob;
  std::string azurite_table;
};
Emulators& PageEmulators() {
  static Emulators emulators;
  return emulators;
}

// A fresh name per case, of letters and digits (Azure table names want them).
std::string FreshName(const char* stem) {
  static int next = 0;
  return stem + std::to_string(next++) + "t" + std::to_string(static_cast<int64_t>(emscripten_get_now() * 1000));
}

// A provider of a remote service through the browser's own ports: fetch, the
// setTimeout sleep port, the JS hashes; signed with the real time.
class BrowserRemoteTarget : public ConformanceTarget {
 public:
  explicit BrowserRemoteTarget(BindingConfig config) : config_(std::move(config)) {
    web::RegisterBrowserProviders(&registry_);
  }
  bool durable() const override { return true; }
  bool host_clock() const override { return false; }
  Result<BindingInstance> Open(ports::Clock*) override {
    HostPorts ports{&clock_, &hash_, nullptr, ""};
    ports.http = &http_;
    ports.sleep = &sleep_;
    return registry_.Create(config_, ports);
  }

 private:
  BindingConfig config_;
  ProviderRegistry registry_;
  web::BrowserClock clock_;
  web::JsHashPort hash_;
  web::FetchHttpClient http_;
  web::JsSleepPort sleep_;
};

// `s3` on the page's s3rver.
class BrowserS3rverTarget : public BrowserRemoteTarget {
 public:
  BrowserS3rverTarget() : BrowserRemoteTarget(S3rverBinding(PageEmulators().s3rver, FreshName("browser-case"))) {}
  std::string Cannot(const std::string& feature) const override { return S3rverCannot(feature); }
};

// `azure` on the page's Azurite, with the account key as the page's
// credentials (docs/browser.md says why a real page should not hold one).
class BrowserAzuriteTarget : public BrowserRemoteTarget {
 public:
  BrowserAzuriteTarget() : BrowserRemoteTarget(Config()) {}
  std::string Cannot(const std::string& feature) const override { return AzuriteCannot(feature); }

 private:
  static BindingConfig Config() {
    BindingConfig config = AzuriteBinding(FreshName("browser-case"), FreshName("browsercase"));
    config.options["endpoint"] = PageEmulators().azurite_blob;
    config.options["table_endpoint"] = PageEmulators().azurite_table;
    config.credentials = {{"account_name", kAzuriteAccount}, {"account_key", kAzuriteKey}};
    return config;
  }
};

}  // namespace

std::vector<TargetParam> ConformanceTargets() {
  std::vector<TargetParam> targets = {
      {"memory", [] { return std::make_unique<BrowserTarget>("memory", false); }},
      {"local", [] { return std::make_unique<BrowserTarget>("local", true); }},
  };
  const Emulators& emulators = PageEmulators();
  if (!emulators.s3rver.empty()) {
    targets.push_back({"s3_on_s3rver", [] { return std::make_unique<BrowserS3rverTarget>(); }, {kObjectStorageService}});
  }
  if (!emulators.azurite_blob.empty() && !emulators.azurite_table.empty()) {
    targets.push_back({"azure_on_azurite", [] { return std::make_unique<BrowserAzuriteTarget>(); },
                       {kObjectStorageService, kKeyValueService}});
  }
  return targets;
}

// Takes the emulators' flags (--s3rver=, --azurite-blob=, --azurite-table=)
// off the command line, before GoogleTest reads it and instantiates the cases
// for the targets.
void TakeEmulatorFlags(int* argc, char** argv) {
  const std::pair<std::string, std::string*> flags[] = {
      {"--s3rver=", &PageEmulators().s3rver},
      {"--azurite-blob=", &PageEmulators().azurite_blob},
      {"--azurite-table=", &PageEmulators().azurite_table},
  };
  int kept = 0;
  for (int i = 0; i < *argc; ++i) {
    const std::string arg = argv[i];
    bool taken = false;
    for (const auto& [flag, value] : flags) {
      if (arg.compare(0, flag.size(), flag) == 0) {
        *value = arg.substr(flag.size());
        taken = true;
      }
    }
    if (!taken) argv[kept++] = argv[i];
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
  cloudkit::conformance::TakeEmulatorFlags(&argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  int exit_code = RUN_ALL_TESTS();
  ck_conformance_done(exit_code);
  return exit_code;
}
