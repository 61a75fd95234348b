// The command groups of the `cloudkit` CLI. Each Add...Commands registers its
// subcommands on the CLI11 app; when the command line selects one, its
// callback stores in `*action` the function that runs it and returns the
// process exit code (see cli_context.h).
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

#include "cli/cli_context.h"

namespace cloudkit::cli {

using Action = std::function<int()>;

// cloudkit status
void AddStatusCommand(CLI::App& app, CliContext& context, Action* action);
// cloudkit keygen (no daemon needed)
void AddKeygenCommand(CLI::App& app, CliContext& context, Action* action);
// cloudkit storage create-bucket | delete-bucket | list-buckets | head | delete | copy | list | presign
void AddStorageCommands(CLI::App& storage, CliContext& context, Action* action);
// cloudkit storage put | get (streamed transfers)
void AddTransferCommands(CLI::App& storage, CliContext& context, Action* action);
// cloudkit kv put | get | delete | list
void AddKeyValueCommands(CLI::App& kv, CliContext& context, Action* action);
// cloudkit queue create | delete | list | send | receive | ack | depth | purge
void AddQueueCommands(CLI::App& queue, CliContext& context, Action* action);
// cloudkit pubsub create-topic | delete-topic | list-topics | subscribe | unsubscribe | list-subscriptions |
//   publish | listen
void AddPubSubCommands(CLI::App& pubsub, CliContext& context, Action* action);
// cloudkit secrets put | get | list | versions | delete
void AddSecretsCommands(CLI::App& secrets, CliContext& context, Action* action);

}  // namespace cloudkit::cli
