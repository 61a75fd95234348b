// Secrets through a real cloudkitd, driven by the `cloudkit secrets` CLI: on
// the `local` binding (default) values are sealed at rest with the key file
// the daemon made in its data dir, so no file there holds a value; they read
// back after a restart and after kill -9 of an acknowledged put; another key
// is refused by the secret's name; a key in CLOUDKIT_SECRETS_KEY wins over the
// file; and no value ever reaches the daemon's debug log or `status`.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "integration/daemon_fixture.h"
#include "integration/subprocess.h"

namespace cloudkit::integration {
namespace {

using nlohmann::json;

// Values no other bytes in the data dir could hold by chance.
const std::string kValue = "plain-secret-value-7f3a9c";
const std::string kSecondValue = "second-secret-value-c1d2e3";

class SecretsTest : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }
  void TearDown() override {
    if (daemon_ && HasFailure()) std::cerr << "--- cloudkitd log ---\n" << daemon_->Log();
  }
  void Start(DaemonOptions options) {
    Result<std::unique_ptr<DaemonProcess>> daemon = DaemonProcess::Start(std::move(options));
    ASSERT_TRUE(daemon.ok()) << daemon.status().message();
    daemon_ = std::move(*daemon);
  }

  // `cloudkit ARGS...` against the test's daemon.
  ProcessResult Cli(std::vector<std::string> args, ProcessOptions options = {}) {
    args.insert(args.begin(), CLOUDKIT_CLI_PATH);
    options.env.emplace("CLOUDKIT_ENDPOINT", daemon_->endpoint());
    return RunProcess(args, options);
  }
  std::string Ok(std::vector<std::string> args, ProcessOptions options = {}) {
    ProcessResult result = Cli(std::move(args), std::move(options));
    EXPECT_EQ(result.exit_code, 0) << "stderr: " << result.err << "\nstdout: " << result.out;
    return result.out;
  }
  json Json(std::vector<std::string> args) {
    args.insert(args.begin(), "--json");
    return json::parse(Ok(std::move(args)), nullptr, /*allow_exceptions=*/false);
  }

  std::string DataDir() const { return daemon_->dir() + "/data"; }
  std::string KeyFile() const { return DataDir() + "/default/secrets.key"; }
  // Every file under the data dir whose bytes contain `needle`.
  std::vector<std::string> FilesHolding(const std::string& needle) const {
    std::vector<std::string> holding;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(DataDir())) {
      if (!entry.is_regular_file()) continue;
      if (testing_util::ReadWholeFile(entry.path()).find(needle) != std::string::npos) {
        holding.push_back(entry.path());
      }
    }
    return holding;
  }
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(SecretsTest, PutGetVersionsListAndDeleteThroughTheCli) {
  EXPECT_EQ(Ok({"secrets", "put", "db/password", kValue}), "db/password version 1\n");
  ProcessOptions from_stdin;
  from_stdin.stdin_data = kSecondValue;
  EXPECT_EQ(Ok({"secrets", "put", "db/password", "-"}, from_stdin), "db/password version 2\n");
  // More than a secret holds, on stdin: refused before sending (exit 1), nothing stored.
  ProcessOptions too_large;
  too_large.stdin_data = std::string((64 << 10) + 1, 's');
  ProcessResult refused = Cli({"secrets", "put", "big/one", "-"}, too_large);
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_NE(refused.err.find("over 64.0 KiB"), std::string::npos) << refused.err;
  too_large.stdin_data.pop_back();
  EXPECT_EQ(Ok({"secrets", "put", "big/one", "-"}, too_large), "big/one version 1\n");
  EXPECT_EQ(Ok({"secrets", "get", "db/password"}), kSecondValue + "\n");
  EXPECT_EQ(Ok({"secrets", "get", "db/password", "--version", "1"}), kValue + "\n");

  json got = Json({"secrets", "get", "db/password", "--version", "1"});
  EXPECT_EQ(got["name"], "db/password");
  EXPECT_EQ(got["version"], 1);
  EXPECT_EQ(got["value"], kValue);
  json versions = Json({"secrets", "versions", "db/password"});
  ASSERT_EQ(versions["versions"].size(), 2u) << versions.dump();
  EXPECT_EQ(versions["versions"][0]["version"], 1);
  EXPECT_EQ(versions["versions"][1]["version"], 2);
  EXPECT_TRUE(versions["versions"][0].contains("created_at"));
  EXPECT_EQ(versions.dump().find(kValue), std::string::npos) << "versions show no values";

  Ok({"secrets", "put", "api/token", "t"});
  const std::string listed = Ok({"secrets", "list"});
  EXPECT_EQ(listed.rfind("api/token\t1\t", 0), 0u) << listed;
  EXPECT_NE(listed.find("\ndb/password\t2\t"), std::string::npos) << listed;
  EXPECT_EQ(listed.find(kSecondValue), std::string::npos) << listed;
  json only_db = Json({"secrets", "list", "--prefix", "db/"});
  ASSERT_EQ(only_db["secrets"].size(), 1u) << only_db.dump();
  EXPECT_EQ(only_db["secrets"][0]["latest_version"], 2);

  EXPECT_EQ(Ok({"secrets", "delete", "db/password"}), "deleted secret db/password (2 versions)\n");
  ProcessResult missing = Cli({"secrets", "get", "db/password"});
  EXPECT_EQ(missing.exit_code, 10 + v1::NOT_FOUND);
  EXPECT_EQ(missing.err, "cloudkit: not found: secret 'db/password'\n");
  EXPECT_EQ(Cli({"secrets", "delete", "db/password"}).exit_code, 10 + v1::NOT_FOUND);
  ProcessResult bad = Cli({"secrets", "put", "/etc/passwd", kValue});
  EXPECT_EQ(bad.exit_code, 10 + v1::INVALID_ARGUMENT);
  EXPECT_EQ(bad.err.find(kValue), std::string::npos) << bad.err;
  EXPECT_EQ(Cli({"secrets", "get"}).exit_code, 2) << "a name is required";
}

TEST_F(SecretsTest, NoFileInTheDataDirHoldsAValueAndTheKeyFileIsOwnerOnly) {
  Ok({"secrets", "put", "db/password", kValue});
  Ok({"secrets", "put", "db/password", kSecondValue});
  // The control: the same bytes as a key-value item, which is not sealed, are found.
  Ok({"kv", "put", "plain", "item", kSecondValue});
  // While the daemon runs (SQLite's write-ahead log holds the latest writes) and after it stopped.
  for (int running = 1; running >= 0; --running) {
    if (!running) ASSERT_EQ(daemon_->Stop(), 0);
    EXPECT_EQ(FilesHolding(kValue), std::vector<std::string>{}) << "plaintext at rest";
    const std::vector<std::string> holding = FilesHolding(kSecondValue);
    EXPECT_FALSE(holding.empty()) << "the search missed the key-value item";
    for (const std::string& path : holding) {
      EXPECT_NE(path.find("/default/kv/"), std::string::npos) << "plaintext secret at rest in " << path;
    }
  }
  struct stat info {};
  ASSERT_EQ(::stat(KeyFile().c_str(), &info), 0) << KeyFile();
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  const std::string key = testing_util::ReadWholeFile(KeyFile());

  // A restart reads them back with the same key file, untouched.
  ASSERT_TRUE(daemon_->Restart().ok());
  EXPECT_EQ(Ok({"secrets", "get", "db/password"}), kSecondValue + "\n");
  EXPECT_EQ(Ok({"secrets", "get", "db/password", "--version", "1"}), kValue + "\n");
  EXPECT_EQ(testing_util::ReadWholeFile(KeyFile()), key);
}

TEST_F(SecretsTest, AnotherKeyIsAClearErrorNamingTheSecret) {
  Ok({"secrets", "put", "db/password", kValue});
  ASSERT_EQ(daemon_->Stop(), 0);
  {
    std::ofstream(KeyFile(), std::ios::trunc) << Base64Encode(std::string(32, 'x')) << "\n";
  }
  ASSERT_TRUE(daemon_->Restart().ok());
  ProcessResult got = Cli({"secrets", "get", "db/password"});
  EXPECT_EQ(got.exit_code, 10 + v1::FAILED_PRECONDITION) << got.out << got.err;
  EXPECT_NE(got.err.find("secret 'db/password'"), std::string::npos) << got.err;
  EXPECT_NE(got.err.find("another key"), std::string::npos) << got.err;
  EXPECT_EQ(got.out, "") << "nothing but the error";
  EXPECT_EQ(got.err.find(kValue), std::string::npos) << got.err;
  ProcessResult put = Cli({"secrets", "put", "db/password", kSecondValue});
  EXPECT_EQ(put.exit_code, 10 + v1::FAILED_PRECONDITION) << "a put under another key would mix keys";
  // Names stay listable, and deletable, without the key.
  EXPECT_NE(Ok({"secrets", "list"}).find("db/password\t1\t"), std::string::npos);
}

TEST_F(SecretsTest, AnAcknowledgedPutSurvivesKill9) {
  Ok({"secrets", "put", "db/password", kValue});
  Ok({"secrets", "put", "db/password", kSecondValue});
  daemon_->Kill();
  ASSERT_TRUE(daemon_->Restart().ok());
  EXPECT_EQ(Ok({"secrets", "get", "db/password"}), kSecondValue + "\n");
  json versions = Json({"secrets", "versions", "db/password"});
  EXPECT_EQ(versions["versions"].size(), 2u) << versions.dump();
}

TEST_F(SecretsTest, ValuesNeverReachTheDebugLogOrStatus) {
  Ok({"secrets", "put", "db/password", kValue});
  Ok({"secrets", "get", "db/password"});
  Ok({"--binding", "scratch", "secrets", "put", "db/password", kSecondValue});
  Ok({"--binding", "scratch", "secrets", "get", "db/password"});
  EXPECT_NE(Cli({"secrets", "get", "db/password", "--version", "9"}).exit_code, 0);
  EXPECT_NE(Cli({"secrets", "put", "db/password", kValue + std::string(70 << 10, 'v')}).exit_code, 0);
  const std::string status = Ok({"--json", "status"});
  EXPECT_NE(status.find("secrets"), std::string::npos) << "the bindings list the service: " << status;
  ASSERT_EQ(daemon_->Stop(), 0);
  const std::string log = daemon_->Log();
  // The fixture runs the daemon with --log-level debug; this is its log.
  EXPECT_NE(log.find("binding 'default': provider local"), std::string::npos) << log;
  for (const std::string& value : {kValue, kSecondValue}) {
    EXPECT_EQ(log.find(value), std::string::npos) << log;
    EXPECT_EQ(status.find(value), std::string::npos) << status;
  }
}

TEST(SecretsKeyTest, AKeyInTheEnvironmentWinsOverTheKeyFile) {
  DaemonOptions options;
  options.env["CLOUDKIT_SECRETS_KEY"] = Base64Encode(std::string(32, 'e'));
  Result<std::unique_ptr<DaemonProcess>> daemon = DaemonProcess::Start(options);
  ASSERT_TRUE(daemon.ok()) << daemon.status().message();
  ProcessOptions cli;
  cli.env["CLOUDKIT_ENDPOINT"] = (*daemon)->endpoint();
  ProcessResult put = RunProcess({CLOUDKIT_CLI_PATH, "secrets", "put", "db/password", kValue}, cli);
  EXPECT_EQ(put.exit_code, 0) << put.err;
  EXPECT_FALSE(std::filesystem::exists((*daemon)->dir() + "/data/default/secrets.key"))
      << "no key file is made when the environment gives the key";
  ASSERT_TRUE((*daemon)->Restart().ok());
  ProcessResult got = RunProcess({CLOUDKIT_CLI_PATH, "secrets", "get", "db/password"}, cli);
  EXPECT_EQ(got.out, kValue + "\n") << got.err;
}

TEST(SecretsKeyTest, AMalformedKeyInTheEnvironmentStopsTheDaemonAtStartWithoutShowingIt) {
  DaemonOptions options;
  options.env["CLOUDKIT_SECRETS_KEY"] = "too-short-key";
  Result<std::unique_ptr<DaemonProcess>> daemon = DaemonProcess::Start(options);
  ASSERT_FALSE(daemon.ok());
  EXPECT_NE(daemon.status().message().find("CLOUDKIT_SECRETS_KEY"), std::string::npos) << daemon.status().message();
  EXPECT_NE(daemon.status().message().find("not base64 of 32 bytes"), std::string::npos) << daemon.status().message();
  EXPECT_EQ(daemon.status().message().find("too-short-key"), std::string::npos) << daemon.status().message();
}

}  // namespace
}  // namespace cloudkit::integration
