// cloudkit status: what the daemon is and serves.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/formatting.h"

namespace cloudkit::cli {
namespace {

std::string Join(const google::protobuf::RepeatedPtrField<std::string>& items) {
  std::string joined;
  for (const auto& item : items) joined += (joined.empty() ? "" : ", ") + item;
  return joined;
}

// "1 pass", "2 passes": a count with its noun.
std::string Counted(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string Uptime(uint64_t ms) {
  uint64_t s = ms / 1000;
  char buffer[64];
  if (s >= 86400) {
    std::snprintf(buffer, sizeof buffer, "%llud %lluh", (unsigned long long)(s / 86400),
                  (unsigned long long)(s % 86400 / 3600));
  } else if (s >= 3600) {
    std::snprintf(buffer, sizeof buffer, "%lluh %llum", (unsigned long long)(s / 3600),
                  (unsigned long long)(s % 3600 / 60));
  } else {
    std::snprintf(buffer, sizeof buffer, "%llum %llus", (unsigned long long)(s / 60), (unsigned long long)(s % 60));
  }
  return buffer;
}

int RunStatus(CliContext& context) {
  int exit_code = kExitOk;
  Client* client = context.client(&exit_code);
  if (!client) return exit_code;
  Result<v1::StatusResponse> status = client->runtime().GetStatus();
  if (!status.ok()) return context.Fail(status.status());
  if (context.json()) {
    context.PrintJson(StatusJson(*status));
    return kExitOk;
  }
  std::printf("cloudkitd %s at %s, up %s\n", status->version().c_str(), client->endpoint().c_str(),
              Uptime(status->uptime_ms()).c_str());
  std::printf("endpoints: %s\n", Join(status->endpoints()).c_str());
  std::printf("requests: %llu served, %u in flight\n", (unsigned long long)status->requests_served(),
              status->requests_in_flight());
  std::printf("bindings:\n");
  for (const auto& binding : status->bindings()) {
    std::printf("  %-12s %-10s %s\n", binding.name().c_str(), binding.provider().c_str(),
                Join(binding.services()).c_str());
    for (const std::string& promise : binding.unsupported()) std::printf("  %-12s unsupported: %s\n", "", promise.c_str());
    if (binding.calls_in_flight() || binding.operations_open() || binding.calls_parked()) {
      std::printf("  %-12s calls: %u in flight, %u open in actors, %u parked\n", "", binding.calls_in_flight(),
                  binding.operations_open(), binding.calls_parked());
    }
    if (binding.has_upkeep()) {
      const v1::StorageUpkeep& upkeep = binding.upkeep();
      std::printf("  %-12s swept: %s (%s), %s (%s) in %s\n", "",
                  Counted(upkeep.orphan_blobs(), "orphan blob", "orphan blobs").c_str(),
                  HumanBytes(upkeep.orphan_blob_bytes()).c_str(),
                  Counted(upkeep.partial_uploads(), "partial upload", "partial uploads").c_str(),
                  HumanBytes(upkeep.partial_upload_bytes()).c_str(),
                  Counted(upkeep.sweeps(), "pass", "passes").c_str());
    }
  }
  std::printf("providers:\n");
  for (const auto& provider : status->providers()) {
    std::printf("  %-12s %-28s %s\n", provider.name().c_str(), Join(provider.services()).c_str(),
                provider.description().c_str());
  }
  return kExitOk;
}

}  // namespace

void AddStatusCommand(CLI::App& app, CliContext& context, Action* action) {
  CLI::App* status = app.add_subcommand("status", "Show the daemon's version, uptime, endpoints and bindings");
  status->fallthrough();
  status->callback([&context, action] { *action = [&context] { return RunStatus(context); }; });
}

}  // namespace cloudkit::cli
