// cloudkit kv: put / get / delete / list items of a key-value table.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/message_args.h"
#include "cli/number_checks.h"
#include "cli/formatting.h"

namespace cloudkit::cli {
namespace {

struct KeyValueArgs {
  std::string table;
  std::string key;
  std::string value;
  uint64_t ttl_ms = 0;
  bool if_absent = false;
  std::string if_match;
  std::string prefix;
};

// The most a request body may carry (the daemon's default limits.max_body_bytes).
constexpr size_t kMaxValueFromStdin = 4 << 20;

int Put(CliContext& context, const KeyValueArgs& args) {
  std::string unread;
  std::optional<std::string> value = ArgOrStdin(args.value, kMaxValueFromStdin, "value", &unread);
  if (!value) return context.FailLocal(unread);
  return WithClient(context, [&](Client& client) {
    v1::PutRequest request;
    request.set_table(args.table);
    request.set_key(args.key);
    request.set_value(std::move(*value));
    request.set_ttl_ms(args.ttl_ms);
    request.set_if_absent(args.if_absent);
    request.set_if_match(args.if_match);
    auto put = client.kv().Put(request);
    if (!put.ok()) return context.Fail(put.status());
    if (context.json()) {
      context.PrintJson({{"table", args.table}, {"key", args.key}, {"etag", put->etag()},
                         {"expires_at_ms", put->expires_at_ms()}});
    } else {
      std::printf("%s\n", put->etag().c_str());
    }
    return kExitOk;
  });
}

int Get(CliContext& context, const KeyValueArgs& args) {
  return WithClient(context, [&](Client& client) {
    v1::GetRequest request;
    request.set_table(args.table);
    request.set_key(args.key);
    auto got = client.kv().Get(request);
    if (!got.ok()) return context.Fail(got.status());
    if (context.json()) {
      context.PrintJson(ItemJson(got->item()));
    } else {
      // The value's bytes as they are, then a newline (like redis-cli).
      const std::string& value = got->item().value();
      std::fwrite(value.data(), 1, value.size(), stdout);
      std::fputc('\n', stdout);
    }
    return kExitOk;
  });
}

int Delete(CliContext& context, const KeyValueArgs& args) {
  return WithClient(context, [&](Client& client) {
    v1::DeleteRequest request;
    request.set_table(args.table);
    request.set_key(args.key);
    auto deleted = client.kv().Delete(request);
    if (!deleted.ok()) return context.Fail(deleted.status());
    if (context.json()) {
      context.PrintJson({{"table", args.table}, {"key", args.key}, {"existed", deleted->existed()}});
    } else if (deleted->existed()) {
      std::printf("deleted %s/%s\n", args.table.c_str(), args.key.c_str());
    } else {
      std::printf("no key %s in table %s: nothing deleted\n", args.key.c_str(), args.table.c_str());
    }
    return kExitOk;
  });
}

// Pages through the whole table. Text: KEY<TAB>VALUE per line.
int List(CliContext& context, const KeyValueArgs& args) {
  return WithClient(context, [&](Client& client) {
    v1::ListRequest request;
    request.set_table(args.table);
    request.set_prefix(args.prefix);
    nlohmann::ordered_json items = nlohmann::ordered_json::array();
    do {
      auto page = client.kv().List(request);
      if (!page.ok()) return context.Fail(page.status());
      for (const auto& item : page->items()) {
        if (context.json()) {
          items.push_back(ItemJson(item));
        } else {
          std::printf("%s\t%s\n", Printable(item.key()).c_str(), Printable(item.value()).c_str());
        }
      }
      request.set_continuation_token(page->next_continuation_token());
    } while (!request.continuation_token().empty());
    if (context.json()) context.PrintJson({{"table", args.table}, {"items", items}});
    return kExitOk;
  });
}

}  // namespace

void AddKeyValueCommands(CLI::App& kv, CliContext& context, Action* action) {
  auto args = std::make_shared<KeyValueArgs>();
  auto add = [&](const char* name, const char* help) {
    CLI::App* command = kv.add_subcommand(name, help);
    command->fallthrough();
    command->add_option("table", args->table, "Table name")->required();
    return command;
  };

  CLI::App* put = add("put", "Write an item");
  put->add_option("key", args->key, "Key")->required();
  put->add_option("value", args->value, "Value, or - for stdin")->required();
  put->add_option("--ttl", args->ttl_ms, "Expire the item after this many milliseconds")
      ->check(WholeNumber(1, uint64_t{1} << 50));
  CLI::Option* if_absent =
      put->add_flag("--if-absent", args->if_absent, "Only if the key is absent (else ALREADY_EXISTS)");
  // An empty ETag (an unset $ETAG in a script) would make the put unconditional.
  put->add_option("--if-match", args->if_match, "Only if the item's current ETag is this (else FAILED_PRECONDITION)")
      ->check(CLI::Validator([](std::string& etag) { return etag.empty() ? std::string("the ETag is empty") : std::string(); },
                             "", "NotEmpty"))
      ->excludes(if_absent);
  put->callback([&context, action, args] { *action = [&context, args] { return Put(context, *args); }; });

  CLI::App* get = add("get", "Print an item's value");
  get->add_option("key", args->key, "Key")->required();
  get->callback([&context, action, args] { *action = [&context, args] { return Get(context, *args); }; });

  CLI::App* del = add("delete", "Delete an item");
  del->add_option("key", args->key, "Key")->required();
  del->callback([&context, action, args] { *action = [&context, args] { return Delete(context, *args); }; });

  CLI::App* list = add("list", "List a table's items (all pages)");
  list->add_option("--prefix", args->prefix, "Only keys starting with this");
  list->callback([&context, action, args] { *action = [&context, args] { return List(context, *args); }; });
}

}  // namespace cloudkit::cli
