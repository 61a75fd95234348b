// cloudkit: the command-line client of cloudkitd (docs/cli.md).
//   cloudkit [--endpoint E] [--binding B] [--json] [--timeout MS] <group> <verb> ...
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/cli_context.h"
#include "cli/commands.h"
#include "cli/number_checks.h"
#include "core/protobuf_log.h"

using cloudkit::cli::Action;
using cloudkit::cli::CliContext;

int main(int argc, char** argv) {
  // Protobuf would print its own line for a name that is not UTF-8; cloudkitd's
  // answer says the same as a one-line error.
  cloudkit::RouteProtobufLog(nullptr);
  CliContext context;
  Action action;

  CLI::App app{"cloudkit: object storage, key-value, queues, pub/sub and secrets through cloudkitd", "cloudkit"};
  app.set_version_flag("--version", CLOUDKIT_VERSION);
  app.require_subcommand(1);
  app.add_option("--endpoint", context.options.endpoint, "cloudkitd endpoint")
      ->envname("CLOUDKIT_ENDPOINT")
      ->capture_default_str();
  app.add_option("--binding", context.options.binding, "Binding to use")->capture_default_str();
  app.add_flag("--json", context.options.json, "Machine-readable output (results and errors as JSON)");
  app.add_option("--timeout", context.options.timeout_ms,
                 "Deadline per call in milliseconds (for transfers: the longest pause)")
      ->check(cloudkit::cli::WholeNumber(1, UINT32_MAX))
      ->capture_default_str();
  app.add_option("--key", context.options.key_file, "This client's CURVE key pair file (cloudkit keygen)")
      ->envname("CLOUDKIT_KEY");
  app.add_option("--server-key", context.options.server_key,
                 "The daemon's CURVE public key: 40 characters of Z85, or a key file holding it")
      ->envname("CLOUDKIT_SERVER_KEY");

  cloudkit::cli::AddStatusCommand(app, context, &action);
  cloudkit::cli::AddKeygenCommand(app, context, &action);
  CLI::App* storage = app.add_subcommand("storage", "Buckets and objects");
  storage->require_subcommand(1);
  storage->fallthrough();
  cloudkit::cli::AddStorageCommands(*storage, context, &action);
  cloudkit::cli::AddTransferCommands(*storage, context, &action);
  CLI::App* kv = app.add_subcommand("kv", "Key-value tables");
  kv->require_subcommand(1);
  kv->fallthrough();
  cloudkit::cli::AddKeyValueCommands(*kv, context, &action);
  CLI::App* queue = app.add_subcommand("queue", "Message queues");
  queue->require_subcommand(1);
  queue->fallthrough();
  cloudkit::cli::AddQueueCommands(*queue, context, &action);
  CLI::App* pubsub = app.add_subcommand("pubsub", "Topics and subscriptions");
  pubsub->require_subcommand(1);
  pubsub->fallthrough();
  cloudkit::cli::AddPubSubCommands(*pubsub, context, &action);
  CLI::App* secrets = app.add_subcommand("secrets", "Versioned secrets");
  secrets->require_subcommand(1);
  secrets->fallthrough();
  cloudkit::cli::AddSecretsCommands(*secrets, context, &action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "cloudkit: %s (see cloudkit --help)\n", e.what());
    return cloudkit::cli::kExitUsage;
  }
  if (!action) {
    std::fprintf(stderr, "cloudkit: no command given (see cloudkit --help)\n");
    return cloudkit::cli::kExitUsage;
  }
  const int exit_code = action();
  // What was printed must have reached stdout (a full disk, a closed descriptor).
  errno = 0;
  const bool flushed = std::fflush(stdout) == 0;
  const int error = errno;
  if (!flushed || std::ferror(stdout)) {
    std::fprintf(stderr, "cloudkit: cannot write stdout: %s\n", !flushed && error != 0 ? std::strerror(error) : "a write failed");
    return exit_code == 0 ? cloudkit::cli::kExitLocalError : exit_code;
  }
  return exit_code;
}
