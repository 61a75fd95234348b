// The same `cloudkit` CLI session run against a binding on each provider —
// `local`, and `s3`, `azure`, `dynamodb`, `redis` on their emulators — as a
// user who switched one binding in the YAML would run it. Every command must
// answer as it does on `local`: the same exit codes and the same output once
// what differs by nature is masked (ETags, times).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "integration/daemon_fixture.h"
#include "integration/subprocess.h"
#include "integration/test_helpers.h"
#include "support/child_process.h"
#include "support/emulator.h"

namespace cloudkit::integration {
namespace {

using testing_util::Emulator;
using testing_util::EmulatorKind;

// One provider: the emulator it needs, and the binding `app` on it.
struct ProviderSetup {
  std::string name;
  std::optional<EmulatorKind> emulator;
  bool storage = false;
  bool key_value = false;
  // The YAML entry of binding `app` and the daemon's environment.
  std::function<std::string(const Emulator*)> binding;
  std::function<std::map<std::string, std::string>(const Emulator*)> env =
      [](const Emulator*) { return std::map<std::string, std::string>(); };
};

std::map<std::string, std::string> AwsEnv(const Emulator* e) {
  return {{"AWS_ACCESS_KEY_ID", e->credentials().access_key_id},
          {"AWS_SECRET_ACCESS_KEY", e->credentials().secret_access_key}};
}

std::vector<ProviderSetup> Providers() {
  return {
      {"local", std::nullopt, true, true,
       [](const Emulator*) { return std::string("  - {name: app, provider: local}\n"); }},
      {"s3", EmulatorKind::kS3rver, true, false,
       [](const Emulator* e) {
         return "  - {name: app, url: 's3://cli/app?endpoint=" + UrlEscape(e->endpoint()) +
                "&conditional_writes=false&part_size_mb=5'}\n";
       },
       AwsEnv},
      {"azure", EmulatorKind::kAzurite, true, true,
       [](const Emulator*) {
         return std::string("  - {name: app, url: 'azblob://cli/app?table=cli&create_container=true"
                            "&create_table=true&block_size_mb=1'}\n");
       },
       [](const Emulator* e) {
         return std::map<std::string, std::string>{{"AZURE_STORAGE_CONNECTION_STRING", e->connection_string()}};
       }},
      {"dynamodb", EmulatorKind::kDynalite, false, true,
       [](const Emulator* e) {
         return "  - {name: app, url: 'dynamodb://cli?endpoint=" + UrlEscape(e->endpoint()) +
                "&create_table=true&transactions=false'}\n";
       },
       AwsEnv},
      {"redis", EmulatorKind::kRedis, false, true,
       [](const Emulator* e) {
         return "  - {name: app, url: 'redis://127.0.0.1:" + std::to_string(e->port()) + "/0'}\n";
       }},
  };
}

void PrintTo(const ProviderSetup& setup, std::ostream* out) { *out << setup.name; }

// What a command printed, exit code first, with what differs by provider
// masked.
struct Answer {
  int exit_code = -1;
  std::string out;
  std::string err;
  bool operator==(const Answer&) const = default;
};

std::string Masked(std::string text) {
  static const std::vector<std::pair<std::regex, std::string>> masks = {
      {std::regex(R"(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?Z?)"), "<time>"},
      {std::regex(R"(etag "[^"]*")"), "etag \"<etag>\""},
      {std::regex(R"(etag: \S+)"), "etag: <etag>"},
      {std::regex(R"re("etag": ?"([^"\\]|\\.)*")re"), "\"etag\":\"<etag>\""},
      {std::regex(R"re("(\w+_ms)": ?\d+)re"), "\"$1\":<ms>"},
      {std::regex(R"re("(created|last_modified|expires)": ?"[^"]*")re"), "\"$1\":\"<time>\""},
  };
  for (const auto& [pattern, replacement] : masks) text = std::regex_replace(text, pattern, replacement);
  return text;
}

class CliOnEveryProviderTest : public ::testing::TestWithParam<ProviderSetup> {
 protected:
  void SetUp() override {
    const ProviderSetup& setup = GetParam();
    if (setup.emulator) {
      testing_util::EmulatorOptions options;
      if (*setup.emulator == EmulatorKind::kS3rver) options.buckets = {"cli"};
      if (*setup.emulator == EmulatorKind::kDynalite) options.extra_args = {"--createTableMs", "0"};
      auto started = Emulator::Start(*setup.emulator, options);
      ASSERT_TRUE(started.ok()) << started.status().message();
      emulator_ = std::move(*started);
    }
    DaemonOptions daemon;
    daemon.extra_bindings = setup.binding(emulator_.get());
    daemon.env = setup.env(emulator_.get());
    auto started = DaemonProcess::Start(daemon);
    ASSERT_TRUE(started.ok()) << started.status().message();
    daemon_ = std::move(*started);
    files_ = daemon_->dir() + "/cli-files";
    std::filesystem::create_directories(files_);
  }

  // `cloudkit --binding app ARGS...`, raw.
  ProcessResult Raw(std::vector<std::string> args) {
    args.insert(args.begin(), {CLOUDKIT_CLI_PATH, "--binding", "app"});
    ProcessOptions options;
    options.env.emplace("CLOUDKIT_ENDPOINT", daemon_->endpoint());
    return RunProcess(args, options);
  }
  Answer Run(std::vector<std::string> args) {
    ProcessResult result = Raw(std::move(args));
    return {result.exit_code, Masked(result.out), Masked(result.err)};
  }

  std::string File(const std::string& name, const std::string& content) {
    const std::string path = files_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  std::unique_ptr<Emulator> emulator_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::string files_;
};

// What each step must print, the same on every provider.
void Expect(const Answer& got, int exit_code, const std::string& out, const std::string& err_starts = "") {
  EXPECT_EQ(got.exit_code, exit_code) << "stdout: " << got.out << "\nstderr: " << got.err;
  EXPECT_EQ(got.out, out) << "stderr: " << got.err;
  if (err_starts.empty()) {
    EXPECT_EQ(got.err, "");
  } else {
    EXPECT_EQ(got.err.rfind(err_starts, 0), 0u) << got.err;
  }
}

TEST_P(CliOnEveryProviderTest, ObjectStorageVerbs) {
  if (!GetParam().storage) {  // the binding says so, whatever the verb
    Expect(Run({"storage", "create-bucket", "docs"}), 21, "",
           "cloudkit: unimplemented: binding 'app' (provider " + GetParam().name + ") does not serve object_storage");
    return;
  }
  const std::string big = MakeBody(6 * 1024 * 1024 + 17, 5);  // several parts or blocks
  Expect(Run({"storage", "create-bucket", "docs"}), 0, "created bucket docs\n");
  Expect(Run({"storage", "create-bucket", "docs"}), 13, "", "cloudkit: already exists: bucket 'docs'");
  Expect(Run({"storage", "put", "docs", "notes/a.txt", File("a.txt", "hello, a\n"), "--content-type", "text/plain",
              "--metadata", "author=ada"}),
         0, "uploaded docs/notes/a.txt: 9 bytes, etag \"<etag>\"\n");
  Expect(Run({"storage", "put", "docs", "big.bin", File("big.bin", big)}), 0,
         "uploaded docs/big.bin: " + std::to_string(big.size()) + " bytes, etag \"<etag>\"\n");
  Expect(Run({"storage", "put", "docs", "notes/deep/c.txt", File("c.txt", "c")}), 0,
         "uploaded docs/notes/deep/c.txt: 1 bytes, etag \"<etag>\"\n");

  Expect(Run({"storage", "list-buckets"}), 0, "<time> docs\n");
  Expect(Run({"storage", "head", "docs", "notes/a.txt"}), 0,
         "bucket: docs\nkey: notes/a.txt\nsize: 9\netag: <etag>\nlast-modified: <time>\ncontent-type: text/plain\n"
         "metadata.author: ada\n");
  Expect(Run({"storage", "get", "docs", "notes/a.txt", "-"}), 0, "hello, a\n");
  Expect(Run({"storage", "get", "docs", "notes/a.txt", "-", "--range", "0-4"}), 0, "hello");
  const std::string copy = files_ + "/big.copy";
  Expect(Run({"storage", "get", "docs", "big.bin", copy}), 0,
         "downloaded docs/big.bin to " + copy + ": " + std::to_string(big.size()) + " bytes\n");
  EXPECT_TRUE(testing_util::ReadWholeFile(copy) == big) << "the downloaded bytes differ";

  Expect(Run({"storage", "list", "docs"}), 0,
         "<time>    " + std::to_string(big.size()) + " big.bin\n<time>          9 notes/a.txt\n"
         "<time>          1 notes/deep/c.txt\n");
  Expect(Run({"storage", "list", "docs", "--prefix", "notes/", "--delimiter", "/"}), 0,
         "                           PRE notes/deep/\n<time>          9 notes/a.txt\n");
  Expect(Run({"storage", "copy", "docs", "notes/a.txt", "docs", "notes/b.txt"}), 0,
         "copied docs/notes/a.txt to docs/notes/b.txt\n");
  Expect(Run({"storage", "get", "docs", "notes/b.txt", "-"}), 0, "hello, a\n");
  Expect(Run({"storage", "get", "docs", "missing.txt", "-"}), 12, "",
         "cloudkit: not found: object 'missing.txt' in bucket 'docs'");
  Expect(Run({"storage", "delete-bucket", "docs"}), 14, "", "cloudkit: failed precondition: bucket 'docs'");
  Expect(Run({"storage", "delete", "docs", "notes/a.txt", "notes/b.txt", "notes/deep/c.txt", "big.bin"}), 0,
         "deleted docs/notes/a.txt\ndeleted docs/notes/b.txt\ndeleted docs/notes/deep/c.txt\ndeleted docs/big.bin\n");
  Expect(Run({"storage", "list", "docs"}), 0, "");
  Expect(Run({"storage", "delete-bucket", "docs"}), 0, "deleted bucket docs\n");
  Expect(Run({"storage", "list-buckets"}), 0, "");
}

TEST_P(CliOnEveryProviderTest, KeyValueVerbs) {
  if (!GetParam().key_value) {
    Expect(Run({"kv", "get", "users", "alice"}), 21, "",
           "cloudkit: unimplemented: binding 'app' (provider " + GetParam().name + ") does not serve key_value");
    return;
  }
  ProcessResult first = Raw({"kv", "put", "users", "alice", "hello"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string etag = first.out.substr(0, first.out.find('\n'));
  EXPECT_FALSE(etag.empty());
  Expect(Run({"kv", "get", "users", "alice"}), 0, "hello\n");
  Expect(Run({"kv", "put", "users", "alice", "again", "--if-absent"}), 13, "",
         "cloudkit: already exists: item 'alice' in table 'users'");
  ProcessResult second = Raw({"kv", "put", "users", "alice", "v2", "--if-match", etag});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out, first.out) << "every write gets a new ETag";
  Expect(Run({"kv", "put", "users", "alice", "v3", "--if-match", etag}), 14, "",
         "cloudkit: failed precondition: item 'alice' in table 'users'");
  Expect(Run({"kv", "get", "users", "alice"}), 0, "v2\n");
  ASSERT_EQ(Raw({"kv", "put", "users", "bob", "b", "--ttl", "600000"}).exit_code, 0);
  ASSERT_EQ(Raw({"kv", "put", "users", "amy", "a"}).exit_code, 0);
  Expect(Run({"kv", "list", "users"}), 0, "alice\tv2\namy\ta\nbob\tb\n");
  Expect(Run({"kv", "list", "users", "--prefix", "a"}), 0, "alice\tv2\namy\ta\n");
  Expect(Run({"--json", "kv", "get", "users", "bob"}), 0,
         "{\n  \"key\": \"bob\",\n  \"etag\":\"<etag>\",\n  \"expires_at_ms\":<ms>,\n  \"value\": \"b\"\n}\n");
  Expect(Run({"kv", "delete", "users", "alice"}), 0, "deleted users/alice\n");
  Expect(Run({"kv", "delete", "users", "alice"}), 0, "no key alice in table users: nothing deleted\n");
  Expect(Run({"kv", "get", "users", "alice"}), 12, "", "cloudkit: not found: item 'alice' in table 'users'");
  Expect(Run({"kv", "list", "other"}), 0, "");
}

INSTANTIATE_TEST_SUITE_P(Providers, CliOnEveryProviderTest, ::testing::ValuesIn(Providers()),
                         [](const ::testing::TestParamInfo<ProviderSetup>& info) { return info.param.name; });

}  // namespace
}  // namespace cloudkit::integration
