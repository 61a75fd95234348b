// What cloudkitd does with the files it serves from: the data dir is locked
// (a second daemon on it refuses to start), and an ipc:// endpoint never
// replaces a file that is not a socket, never takes over a socket another
// daemon serves, replaces one a dead daemon left, and is created private
// (0600, whatever the umask) or with the configured mode. Without client
// keys, only endpoints this machine alone reaches are served, unless
// --insecure-listen says otherwise.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "client/curve_keys.h"
#include "integration/daemon_fixture.h"
#include "integration/subprocess.h"
#include "integration/test_helpers.h"
#include "support/child_process.h"

namespace cloudkit::integration {
namespace {

using std::chrono::milliseconds;

class DaemonEndpointsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/cloudkit-ep-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
  }
  void TearDown() override {
    for (auto& daemon : running_) daemon->Kill();
    running_.clear();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // cloudkitd that is expected to refuse to start: its exit and output.
  static ProcessResult RunRefused(std::vector<std::string> args) {
    args.insert(args.begin(), CLOUDKITD_PATH);
    ProcessOptions options;
    options.time_limit = milliseconds(15'000);
    return RunProcess(args, options);
  }

  // cloudkitd serving `endpoint` on `data_dir` until the test ends, run
  // under `argv` (e.g. prlimit), with `flags` after its own; serving once
  // `probe` (keys, when the config has them) gets its status on loopback.
  testing_util::ChildProcess* Serve(const std::string& endpoint, const std::string& data_dir,
                                    const std::string& config = "", std::vector<std::string> argv = {},
                                    const std::vector<std::string>& flags = {}, ClientOptions probe = {}) {
    argv.insert(argv.end(), {CLOUDKITD_PATH, "--listen", endpoint, "--data-dir", data_dir});
    if (!config.empty()) argv.insert(argv.end(), {"--config", config});
    argv.insert(argv.end(), flags.begin(), flags.end());
    testing_util::ChildProcessOptions options;
    options.argv = argv;
    options.stdout_path = dir_ + "/serve.log";
    options.stderr_path = options.stdout_path;
    auto started = testing_util::ChildProcess::Start(options);
    EXPECT_TRUE(started.ok()) << started.status().message();
    if (!started.ok()) return nullptr;
    running_.push_back(std::move(*started));
    testing_util::ChildProcess* process = running_.back().get();
    std::string reachable = endpoint;
    if (size_t any = reachable.find("0.0.0.0"); any != std::string::npos) reachable.replace(any, 7, "127.0.0.1");
    probe.timeout = milliseconds(1'000);
    probe.connect_timeout = milliseconds(1'000);
    for (int i = 0; i < 200; ++i) {
      // Made anew each time: a key file the daemon writes may not be there yet.
      auto client = Client::Connect(reachable, probe);
      if (client.ok() && (*client)->runtime().GetStatus().ok()) return process;
      if (process->Exited()) break;
      std::this_thread::sleep_for(milliseconds(50));
    }
    ADD_FAILURE() << "cloudkitd did not serve " << endpoint << ":\n"
                  << testing_util::ReadWholeFile(options.stdout_path);
    return nullptr;
  }

  std::string Log() const { return testing_util::ReadWholeFile(dir_ + "/serve.log"); }
  static bool Contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  }

  static bool Answers(const std::string& endpoint) {
    ClientOptions options;
    options.timeout = milliseconds(2'000);
    auto client = Client::Connect(endpoint, options);
    return client.ok() && (*client)->runtime().GetStatus().ok();
  }

  std::string dir_;
  std::vector<std::unique_ptr<testing_util::ChildProcess>> running_;
};

TEST_F(DaemonEndpointsTest, ASecondDaemonOnTheSameDataDirRefusesToStart) {
  auto first = DaemonProcess::Start();
  ASSERT_TRUE(first.ok()) << first.status().message();
  ProcessResult second = RunRefused({"--listen", UnusedEndpoint(), "--data-dir", (*first)->dir() + "/data"});
  EXPECT_EQ(second.exit_code, 3) << second.err;
  EXPECT_NE(second.err.find("is in use by another cloudkitd (pid " + std::to_string((*first)->pid()) + ")"),
            std::string::npos)
      << second.err;
  EXPECT_TRUE(Answers((*first)->endpoint())) << "the first daemon serves on";
}

// Nor may it reach the first one's files through a binding's path.
TEST_F(DaemonEndpointsTest, ASecondDaemonCannotBindTheDirectoryOfTheFirstsBinding) {
  auto first = DaemonProcess::Start();
  ASSERT_TRUE(first.ok()) << first.status().message();
  const std::string taken = (*first)->dir() + "/data/default";
  ProcessResult second = RunRefused({"--listen", UnusedEndpoint(), "--data-dir", dir_ + "/data", "--bind",
                                     "x=file://" + taken});
  EXPECT_EQ(second.exit_code, 3) << second.err;
  EXPECT_NE(second.err.find("binding 'x': failed precondition: data dir '" + taken + "' is in use by another cloudkitd (pid " +
                            std::to_string((*first)->pid()) + ")"),
            std::string::npos)
      << second.err;
  EXPECT_TRUE(Answers((*first)->endpoint())) << "the first daemon serves on";
}

TEST_F(DaemonEndpointsTest, AFileThatIsNotASocketIsNeverReplaced) {
  const std::string path = dir_ + "/precious.txt";
  std::ofstream(path) << "keep me";
  ProcessResult refused = RunRefused({"--listen", "ipc://" + path, "--data-dir", dir_ + "/data"});
  EXPECT_EQ(refused.exit_code, 3) << refused.err;
  EXPECT_NE(refused.err.find("cannot listen on 'ipc://" + path + "': the path exists and is not a socket"),
            std::string::npos)
      << refused.err;
  EXPECT_EQ(testing_util::ReadWholeFile(path), "keep me");
}

TEST_F(DaemonEndpointsTest, ASocketAnotherDaemonServesIsNotTakenOver) {
  const std::string endpoint = "ipc://" + dir_ + "/cloudkitd.sock";
  ASSERT_NE(Serve(endpoint, dir_ + "/one"), nullptr);
  ProcessResult second = RunRefused({"--listen", endpoint, "--data-dir", dir_ + "/two"});
  EXPECT_EQ(second.exit_code, 3) << second.err;
  EXPECT_NE(second.err.find("another process serves it"), std::string::npos) << second.err;
  EXPECT_TRUE(Answers(endpoint)) << "the first daemon still has its socket";
}

TEST_F(DaemonEndpointsTest, ASocketADeadDaemonLeftIsReplaced) {
  const std::string endpoint = "ipc://" + dir_ + "/cloudkitd.sock";
  testing_util::ChildProcess* first = Serve(endpoint, dir_ + "/data");
  ASSERT_NE(first, nullptr);
  first->Kill();  // SIGKILL: the socket file stays
  struct stat info {};
  ASSERT_EQ(lstat((dir_ + "/cloudkitd.sock").c_str(), &info), 0);
  ASSERT_TRUE(S_ISSOCK(info.st_mode));
  EXPECT_NE(Serve(endpoint, dir_ + "/data"), nullptr) << "the data dir lock went with the dead daemon";
}

TEST_F(DaemonEndpointsTest, TheSocketIsPrivateWhateverTheUmaskOrAsConfigured) {
  const mode_t umask_before = umask(0);  // the daemon inherits it: the most permissive
  const std::string private_endpoint = "ipc://" + dir_ + "/private.sock";
  testing_util::ChildProcess* served = Serve(private_endpoint, dir_ + "/one");
  const std::string config = dir_ + "/shared.yaml";
  std::ofstream(config) << "ipc: {mode: '0660'}\n";
  const std::string shared_endpoint = "ipc://" + dir_ + "/shared.sock";
  testing_util::ChildProcess* shared = Serve(shared_endpoint, dir_ + "/two", config);
  umask(umask_before);
  ASSERT_NE(served, nullptr);
  ASSERT_NE(shared, nullptr);
  struct stat info {};
  ASSERT_EQ(stat((dir_ + "/private.sock").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((dir_ + "/shared.sock").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0660u);

  std::ofstream(dir_ + "/bad.yaml") << "ipc: {mode: '0066'}\n";
  ProcessResult bad = RunRefused({"--config", dir_ + "/bad.yaml", "--data-dir", dir_ + "/three"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("ipc.mode"), std::string::npos) << bad.err;
}

// An empty --data-dir or --config (an unset shell variable) is a usage error,
// not the default data dir in disguise.
TEST_F(DaemonEndpointsTest, EmptyPathsOnTheCommandLineAreRefused) {
  for (const char* flag : {"--data-dir", "--config"}) {
    ProcessResult refused = RunRefused({"--listen", UnusedEndpoint(), flag, ""});
    EXPECT_EQ(refused.exit_code, 2) << flag << ": " << refused.err;
    EXPECT_NE(refused.err.find(flag), std::string::npos) << refused.err;
  }
}

// Started with systemd's soft limit of open files (here 256 of a hard 8192),
// the daemon takes all it may, and serves more clients than the soft limit
// would allow.
TEST_F(DaemonEndpointsTest, TheOpenFilesLimitIsRaisedToTheHardLimit) {
  if (!std::filesystem::exists("/usr/bin/prlimit")) GTEST_SKIP() << "prlimit (util-linux) is not installed";
  const std::string endpoint = UnusedEndpoint();
  testing_util::ChildProcess* daemon =
      Serve(endpoint, dir_ + "/data", "", {"/usr/bin/prlimit", "--nofile=256:8192"});
  ASSERT_NE(daemon, nullptr);
  const std::string limits = testing_util::ReadWholeFile("/proc/" + std::to_string(daemon->pid()) + "/limits");
  EXPECT_NE(limits.find("Max open files            8192                 8192"), std::string::npos) << limits;

  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 400; ++i) {
    ClientOptions options;
    options.timeout = milliseconds(10'000);
    auto client = Client::Connect(endpoint, options);
    ASSERT_TRUE(client.ok());
    clients.push_back(std::move(*client));
  }
  int served = 0;
  for (auto& client : clients) served += client->runtime().GetStatus().ok() ? 1 : 0;
  EXPECT_EQ(served, 400);
}

TEST_F(DaemonEndpointsTest, WithoutKeysAnEndpointOthersReachIsRefused) {
  const int port = testing_util::FreeLoopbackPort();
  for (const std::string& endpoint : {"tcp://0.0.0.0:" + std::to_string(port), "tcp://*:" + std::to_string(port)}) {
    ProcessResult refused = RunRefused({"--listen", endpoint, "--data-dir", dir_ + "/data"});
    EXPECT_EQ(refused.exit_code, 2) << refused.err;
    EXPECT_TRUE(Contains(refused.err, "refusing to listen on '" + endpoint + "' without client keys")) << refused.err;
    EXPECT_TRUE(Contains(refused.err, "--insecure-listen")) << refused.err;
  }
}

TEST_F(DaemonEndpointsTest, InsecureListenServesAndSaysSo) {
  const int port = testing_util::FreeLoopbackPort();
  ASSERT_NE(Serve("tcp://0.0.0.0:" + std::to_string(port), dir_ + "/data", "", {}, {"--insecure-listen"}), nullptr);
  EXPECT_TRUE(Contains(Log(), "listening on tcp://0.0.0.0:" + std::to_string(port) +
                                  " without client keys (--insecure-listen)"))
      << Log();
}

TEST_F(DaemonEndpointsTest, WithKeysAnyEndpointServesAndTheServerKeyIsMadeOnFirstStart) {
  Result<CurveKeyPair> client_key = GenerateCurveKeyPair();
  ASSERT_TRUE(client_key.ok());
  ASSERT_TRUE(WriteKeyPairFiles(dir_ + "/client.key", *client_key).ok());
  std::ofstream(dir_ + "/cloudkitd.yaml") << "auth:\n  server_key_file: " << dir_ << "/keys/server.key\n"
                                          << "  clients:\n    - {name: me, public_key: '" << client_key->public_key
                                          << "', bindings: {'*': [read, write, admin]}}\n";
  std::filesystem::create_directory(dir_ + "/keys");
  const int port = testing_util::FreeLoopbackPort();
  ClientOptions probe;
  probe.key_file = dir_ + "/client.key";
  probe.server_key = dir_ + "/keys/server.key.pub";
  testing_util::ChildProcess* daemon =
      Serve("tcp://0.0.0.0:" + std::to_string(port), dir_ + "/data", dir_ + "/cloudkitd.yaml", {}, {}, probe);
  ASSERT_NE(daemon, nullptr);
  struct stat info {};
  ASSERT_EQ(stat((dir_ + "/keys/server.key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_TRUE(Contains(Log(), "created the server key pair " + dir_ + "/keys/server.key")) << Log();
  EXPECT_FALSE(Contains(Log(), "--insecure-listen")) << Log();

  // A server key file others may read is refused, like ssh's.
  daemon->Kill();
  ASSERT_EQ(chmod((dir_ + "/keys/server.key").c_str(), 0644), 0);
  ProcessResult exposed = RunRefused({"--listen", "tcp://127.0.0.1:" + std::to_string(port), "--data-dir",
                                      dir_ + "/data", "--config", dir_ + "/cloudkitd.yaml"});
  EXPECT_EQ(exposed.exit_code, 2) << exposed.err;
  EXPECT_TRUE(Contains(exposed.err, "chmod 600")) << exposed.err;
}

}  // namespace
}  // namespace cloudkit::integration
