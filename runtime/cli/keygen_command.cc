// cloudkit keygen: a new CURVE key pair for a client or a daemon, written as
// FILE (both keys, mode 0600) and FILE.pub (the public key).
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "client/curve_keys.h"

namespace cloudkit::cli {
namespace {

int RunKeygen(CliContext& context, const std::string& out) {
  Result<CurveKeyPair> pair = GenerateCurveKeyPair();
  if (!pair.ok()) return context.FailLocal(pair.status().message());
  Status written = WriteKeyPairFiles(out, *pair);
  if (!written.ok()) return context.FailLocal(written.message());
  if (context.json()) {
    context.PrintJson({{"key_file", out}, {"public_key_file", out + ".pub"}, {"public_key", pair->public_key}});
    return kExitOk;
  }
  std::printf("wrote %s (the key pair: keep it secret) and %s.pub\npublic key: %s\n", out.c_str(), out.c_str(),
              pair->public_key.c_str());
  return kExitOk;
}

}  // namespace

void AddKeygenCommand(CLI::App& app, CliContext& context, Action* action) {
  CLI::App* keygen = app.add_subcommand("keygen", "Write a new CURVE key pair: FILE (mode 0600) and FILE.pub");
  keygen->fallthrough();
  auto out = std::make_shared<std::string>("cloudkit.key");
  keygen->add_option("--out", *out, "the key pair's file; its public key goes to FILE.pub")->capture_default_str();
  keygen->callback([&context, action, out] { *action = [&context, out] { return RunKeygen(context, *out); }; });
}

}  // namespace cloudkit::cli
