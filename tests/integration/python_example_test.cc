// examples/python/cloudkit_client.py, run with Debian's /usr/bin/python3
// against a real cloudkitd: the protocol page and the .proto files suffice to
// write a client in another language, with CURVE keys too.
#include <filesystem>

#include "client/curve_keys.h"
#include "integration/daemon_fixture.h"
#include "integration/subprocess.h"
#include "support/child_process.h"

namespace cloudkit::integration {
namespace {

using PythonExampleTest = DaemonTest;

ProcessResult RunExample(const std::string& endpoint, std::vector<std::string> args = {}) {
  ProcessOptions options;
  options.unset_env = {"PYTHONPATH", "PYTHONHOME"};  // Debian's python3 with Debian's modules only
  options.time_limit = std::chrono::milliseconds(120'000);
  args.insert(args.begin(),
              {"/usr/bin/python3", CLOUDKIT_SOURCE_DIR "/examples/python/cloudkit_client.py", "--endpoint", endpoint});
  return RunProcess(args, options);
}

void ExpectAllGood(const ProcessResult& result) {
  EXPECT_EQ(result.exit_code, 0) << "stdout:\n" << result.out << "\nstderr:\n" << result.err;
  EXPECT_NE(result.out.find("all good"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("error as expected: NOT_FOUND"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("queue: message "), std::string::npos) << result.out;
}

TEST_F(PythonExampleTest, RunsCleanAgainstTheDaemon) { ExpectAllGood(RunExample(daemon_->endpoint())); }

// With a key pair written by the library (the format `cloudkit keygen` writes),
// which pyzmq reads as is; without it, or with a key the daemon does not
// know, the daemon serves the script nothing, and the script says why (the
// handshake's failure) rather than wait for a reply.
TEST(PythonExampleWithKeysTest, RunsCleanWithAKeyAndGetsNothingWithout) {
  char dir_template[] = "/tmp/cloudkit-pykeys-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  Result<CurveKeyPair> server = GenerateCurveKeyPair(), client = GenerateCurveKeyPair(),
                       stranger = GenerateCurveKeyPair();
  ASSERT_TRUE(server.ok() && client.ok() && stranger.ok());
  ASSERT_TRUE(WriteKeyPairFiles(dir + "/server.key", *server).ok());
  ASSERT_TRUE(WriteKeyPairFiles(dir + "/client.key", *client).ok());
  ASSERT_TRUE(WriteKeyPairFiles(dir + "/stranger.key", *stranger).ok());
  DaemonOptions options;
  options.extra_config = "auth:\n  server_key_file: " + dir + "/server.key\n  clients:\n    - {name: python, "
                         "public_key: '" + client->public_key + "', bindings: {default: [read, write, admin]}}\n";
  options.client.key_file = dir + "/client.key";
  options.client.server_key = server->public_key;
  auto daemon = DaemonProcess::Start(options);
  ASSERT_TRUE(daemon.ok()) << daemon.status().message();

  ExpectAllGood(RunExample((*daemon)->endpoint(), {"--key", dir + "/client.key", "--server-key", dir + "/server.key.pub"}));
  ExpectAllGood(RunExample((*daemon)->endpoint(), {"--key", dir + "/client.key", "--server-key", server->public_key}));
  ProcessResult without = RunExample((*daemon)->endpoint());
  EXPECT_NE(without.exit_code, 0) << without.out;
  EXPECT_EQ(without.out.find("all good"), std::string::npos) << without.out;
  EXPECT_NE(without.err.find("UNAUTHENTICATED: no secure session"), std::string::npos) << without.err;
  ProcessResult refused =
      RunExample((*daemon)->endpoint(), {"--key", dir + "/stranger.key", "--server-key", server->public_key});
  EXPECT_NE(refused.exit_code, 0) << refused.out;
  EXPECT_NE(refused.err.find("UNAUTHENTICATED: cloudkitd at " + (*daemon)->endpoint() + " refused this client's key"),
            std::string::npos)
      << refused.err;
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

}  // namespace
}  // namespace cloudkit::integration
