// cloudkit secrets: put / get / list / versions / delete versioned secrets.
// A value given as `-` is read from stdin, so it need not appear on a
// command line (where `ps` and shell history would keep it).
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/number_checks.h"
#include "cli/formatting.h"
#include "cli/message_args.h"

namespace cloudkit::cli {
namespace {

// What a secret may hold: more on stdin is refused before sending.
constexpr size_t kMaxSecretBytes = 64 << 10;

struct SecretsArgs {
  std::string name;
  std::string value;
  uint64_t version = 0;
  std::string prefix;
};

int Put(CliContext& context, const SecretsArgs& args) {
  std::string unread;
  std::optional<std::string> value = ArgOrStdin(args.value, kMaxSecretBytes, "secret", &unread);
  if (!value) return context.FailLocal(unread);
  return WithClient(context, [&](Client& client) {
    v1::PutSecretRequest request;
    request.set_name(args.name);
    request.set_value(std::move(*value));
    auto put = client.secrets().Put(request);
    if (!put.ok()) return context.Fail(put.status());
    if (context.json()) {
      context.PrintJson({{"name", args.name}, {"version", put->version()}, {"created_at_ms", put->created_at_ms()},
                         {"created_at", IsoTime(put->created_at_ms())}});
    } else {
      std::printf("%s version %llu\n", args.name.c_str(), static_cast<unsigned long long>(put->version()));
    }
    return kExitOk;
  });
}

int Get(CliContext& context, const SecretsArgs& args) {
  return WithClient(context, [&](Client& client) {
    v1::GetSecretRequest request;
    request.set_name(args.name);
    request.set_version(args.version);
    auto got = client.secrets().Get(request);
    if (!got.ok()) return context.Fail(got.status());
    if (context.json()) {
      nlohmann::ordered_json json = {{"name", got->name()}, {"version", got->version()},
                                     {"created_at_ms", got->created_at_ms()},
                                     {"created_at", IsoTime(got->created_at_ms())}};
      AddValueJson(got->value(), &json);
      context.PrintJson(json);
    } else {
      // The value's bytes as they are, then a newline (as `kv get`).
      std::fwrite(got->value().data(), 1, got->value().size(), stdout);
      std::fputc('\n', stdout);
    }
    return kExitOk;
  });
}

// Pages through every name. Text: NAME<TAB>LATEST VERSION<TAB>UPDATED per line.
int List(CliContext& context, const SecretsArgs& args) {
  return WithClient(context, [&](Client& client) {
    v1::ListSecretsRequest request;
    request.set_prefix(args.prefix);
    nlohmann::ordered_json secrets = nlohmann::ordered_json::array();
    do {
      auto page = client.secrets().List(request);
      if (!page.ok()) return context.Fail(page.status());
      for (const v1::SecretInfo& info : page->secrets()) {
        if (context.json()) {
          secrets.push_back({{"name", info.name()}, {"latest_version", info.latest_version()},
                             {"created_at_ms", info.created_at_ms()}, {"created_at", IsoTime(info.created_at_ms())},
                             {"updated_at_ms", info.updated_at_ms()}, {"updated_at", IsoTime(info.updated_at_ms())}});
        } else {
          std::printf("%s\t%llu\t%s\n", info.name().c_str(), static_cast<unsigned long long>(info.latest_version()),
                      ListingTime(info.updated_at_ms()).c_str());
        }
      }
      request.set_continuation_token(page->next_continuation_token());
    } while (!request.continuation_token().empty());
    if (context.json()) context.PrintJson({{"secrets", secrets}});
    return kExitOk;
  });
}

// Text: VERSION<TAB>CREATED per line, oldest first.
int Versions(CliContext& context, const SecretsArgs& args) {
  return WithClient(context, [&](Client& client) {
    v1::ListSecretVersionsRequest request;
    request.set_name(args.name);
    auto listed = client.secrets().ListVersions(request);
    if (!listed.ok()) return context.Fail(listed.status());
    nlohmann::ordered_json versions = nlohmann::ordered_json::array();
    for (const v1::SecretVersion& version : listed->versions()) {
      if (context.json()) {
        versions.push_back({{"version", version.version()}, {"created_at_ms", version.created_at_ms()},
                            {"created_at", IsoTime(version.created_at_ms())}});
      } else {
        std::printf("%llu\t%s\n", static_cast<unsigned long long>(version.version()),
                    ListingTime(version.created_at_ms()).c_str());
      }
    }
    if (context.json()) context.PrintJson({{"name", args.name}, {"versions", versions}});
    return kExitOk;
  });
}

int Delete(CliContext& context, const SecretsArgs& args) {
  return WithClient(context, [&](Client& client) {
    v1::DeleteSecretRequest request;
    request.set_name(args.name);
    auto deleted = client.secrets().Delete(request);
    if (!deleted.ok()) return context.Fail(deleted.status());
    if (context.json()) {
      context.PrintJson({{"name", args.name}, {"versions_deleted", deleted->versions_deleted()}});
    } else {
      std::printf("deleted secret %s (%u versions)\n", args.name.c_str(), deleted->versions_deleted());
    }
    return kExitOk;
  });
}

}  // namespace

void AddSecretsCommands(CLI::App& secrets, CliContext& context, Action* action) {
  auto args = std::make_shared<SecretsArgs>();
  auto add = [&](const char* name, const char* help, bool named) {
    CLI::App* command = secrets.add_subcommand(name, help);
    command->fallthrough();
    if (named) command->add_option("name", args->name, "Secret name")->required();
    return command;
  };

  CLI::App* put = add("put", "Store a new version of a secret", true);
  put->add_option("value", args->value, "Value, or - to read it from stdin")->required();
  put->callback([&context, action, args] { *action = [&context, args] { return Put(context, *args); }; });

  CLI::App* get = add("get", "Print a secret's value (the latest version unless --version)", true);
  get->add_option("--version", args->version, "Version to read")->check(WholeNumber(1, UINT32_MAX));
  get->callback([&context, action, args] { *action = [&context, args] { return Get(context, *args); }; });

  CLI::App* list = add("list", "List secret names (all pages; never values)", false);
  list->add_option("--prefix", args->prefix, "Only names starting with this");
  list->callback([&context, action, args] { *action = [&context, args] { return List(context, *args); }; });

  CLI::App* versions = add("versions", "List a secret's versions and when each was put", true);
  versions->callback([&context, action, args] { *action = [&context, args] { return Versions(context, *args); }; });

  CLI::App* del = add("delete", "Delete a secret and all its versions", true);
  del->callback([&context, action, args] { *action = [&context, args] { return Delete(context, *args); }; });
}

}  // namespace cloudkit::cli
