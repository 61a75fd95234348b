// cloudkitd with client keys (CURVE, a ZAP handler, rights per binding),
// against a real daemon process: configured keys are served within their
// rights, any other client gets nothing, Runtime/Status shows a key only its
// bindings, and the CLI and `cloudkit keygen` work end to end.
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "client/curve_keys.h"
#include "integration/daemon_fixture.h"
#include "integration/subprocess.h"
#include "support/child_process.h"

namespace cloudkit::integration {
namespace {

using std::chrono::milliseconds;

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/cloudkit-auth-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
    // The keys, made as a user would make them.
    for (const char* name : {"server", "writer", "reader", "ops", "stranger"}) {
      ProcessResult made = RunProcess({CLOUDKIT_CLI_PATH, "keygen", "--out", Key(name)});
      ASSERT_EQ(made.exit_code, 0) << made.err;
    }
    DaemonOptions options;
    options.extra_config = "auth:\n"
                           "  server_key_file: " + Key("server") + "\n"
                           "  clients:\n"
                           "    - name: writer\n"
                           "      public_key_file: " + Key("writer") + ".pub\n"
                           "      bindings: {default: [read, write], scratch: [read, write, admin]}\n"
                           "    - name: reader\n"
                           "      public_key: '" + PublicKey("reader") + "'\n"
                           "      bindings: {scratch: read}\n"
                           "    - name: ops\n"
                           "      public_key_file: " + Key("ops") + ".pub\n"
                           "      bindings: {'*': [read, write, admin]}\n";
    options.client.key_file = Key("ops");
    options.client.server_key = Key("server") + ".pub";
    auto daemon = DaemonProcess::Start(options);
    ASSERT_TRUE(daemon.ok()) << daemon.status().message();
    daemon_ = std::move(*daemon);
  }
  void TearDown() override {
    if (daemon_ && HasFailure()) std::cerr << "--- cloudkitd log ---\n" << daemon_->Log();
    daemon_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string Key(const std::string& name) const { return dir_ + "/" + name + ".key"; }
  std::string PublicKey(const std::string& name) const {
    Result<std::string> key = ReadPublicKey(Key(name) + ".pub");
    EXPECT_TRUE(key.ok()) << key.status().message();
    return key.ok() ? *key : std::string();
  }

  // A client holding key `name` (none for ""), trusting `server_key`.
  std::unique_ptr<Client> ConnectAs(const std::string& name, std::string server_key = "") {
    ClientOptions options;
    options.timeout = milliseconds(10'000);
    options.connect_timeout = milliseconds(3'000);
    if (!name.empty()) {
      options.key_file = Key(name);
      options.server_key = server_key.empty() ? Key("server") + ".pub" : server_key;
    }
    auto client = Client::Connect(daemon_->endpoint(), options);
    EXPECT_TRUE(client.ok()) << client.status().message();
    return client.ok() ? std::move(*client) : nullptr;
  }

  static Status PutItem(Client& client, const std::string& binding) {
    v1::PutRequest put;
    put.set_table("t");
    put.set_key("k");
    put.set_value("v");
    CallOptions call;
    call.binding = binding;
    return client.kv().Put(put, call).status();
  }
  static Status GetItem(Client& client, const std::string& binding) {
    v1::GetRequest get;
    get.set_table("t");
    get.set_key("k");
    CallOptions call;
    call.binding = binding;
    return client.kv().Get(get, call).status();
  }
  static std::vector<std::string> BindingsShownTo(Client& client) {
    std::vector<std::string> names;
    auto status = client.runtime().GetStatus();
    EXPECT_TRUE(status.ok()) << status.status().message();
    if (status.ok()) {
      for (const auto& binding : status->bindings()) names.push_back(binding.name());
    }
    return names;
  }

  ProcessResult Cli(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), {CLOUDKIT_CLI_PATH, "--endpoint", daemon_->endpoint(), "--timeout", "5000"});
    ProcessOptions options;
    options.env = std::move(env);
    options.unset_env = {"CLOUDKIT_KEY", "CLOUDKIT_SERVER_KEY", "CLOUDKIT_ENDPOINT"};
    return RunProcess(args, options);
  }

  std::string dir_;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(AuthTest, KeygenWritesAKeyPairOnlyItsOwnerReadsAndAPublicKeyAndNeverOverwrites) {
  struct stat info {};
  ASSERT_EQ(stat(Key("reader").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((Key("reader") + ".pub").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0644u);
  const std::string secret_file = testing_util::ReadWholeFile(Key("reader"));
  EXPECT_TRUE(Contains(secret_file, "secret-key = \"")) << secret_file;
  EXPECT_FALSE(Contains(testing_util::ReadWholeFile(Key("reader") + ".pub"), "secret-key"));

  ProcessResult again = RunProcess({CLOUDKIT_CLI_PATH, "keygen", "--out", Key("reader")});
  EXPECT_EQ(again.exit_code, 1) << again.err;
  EXPECT_TRUE(Contains(again.err, "never overwritten")) << again.err;
  EXPECT_EQ(testing_util::ReadWholeFile(Key("reader")), secret_file);

  ProcessResult json = RunProcess({CLOUDKIT_CLI_PATH, "--json", "keygen", "--out", dir_ + "/new.key"});
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_TRUE(Contains(json.out, "\"public_key\": \"" + *ReadPublicKey(dir_ + "/new.key.pub") + "\"")) << json.out;
}

TEST_F(AuthTest, TheServerKeyFileIsTheDaemonsAndSecretKeysNeverReachTheLog) {
  struct stat info {};
  ASSERT_EQ(stat(Key("server").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  const std::string log = daemon_->Log();
  EXPECT_TRUE(Contains(log, "CURVE on: 3 client key(s) accepted; server public key " + PublicKey("server"))) << log;
  for (const char* name : {"server", "writer", "reader", "ops", "stranger"}) {
    Result<CurveKeyPair> pair = ReadKeyPairFile(Key(name));
    ASSERT_TRUE(pair.ok());
    EXPECT_FALSE(Contains(log, pair->secret_key)) << name << "'s secret key is in the log";
  }
}

TEST_F(AuthTest, AClientWithoutAConfiguredKeyGetsNothing) {
  const auto started = std::chrono::steady_clock::now();
  // An unknown key: the ZAP handler refuses it; the refusal names its public key.
  auto stranger = ConnectAs("stranger");
  ASSERT_NE(stranger, nullptr);
  Result<v1::StatusResponse> refused = stranger->runtime().GetStatus();
  EXPECT_EQ(refused.status().code(), v1::UNAUTHENTICATED) << refused.status().message();
  EXPECT_TRUE(Contains(refused.status().message(), "refused this client's key")) << refused.status().message();
  EXPECT_EQ(PutItem(*stranger, "scratch").code(), v1::UNAUTHENTICATED);
  EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(8'000)) << "within the connect timeouts";

  // No key at all.
  auto anonymous = ConnectAs("");
  ASSERT_NE(anonymous, nullptr);
  Status plain = anonymous->runtime().GetStatus().status();
  EXPECT_EQ(plain.code(), v1::UNAUTHENTICATED) << plain.message();
  EXPECT_TRUE(Contains(plain.message(), "CURVE")) << plain.message();

  // A configured key, but trusting the wrong server key: the handshake fails.
  auto misled = ConnectAs("ops", PublicKey("stranger"));
  ASSERT_NE(misled, nullptr);
  Status wrong_server = misled->runtime().GetStatus().status();
  EXPECT_EQ(wrong_server.code(), v1::UNAUTHENTICATED) << wrong_server.message();

  // Nothing they sent was served; the daemon logged the stranger with its public key only.
  EXPECT_EQ(GetItem(*ConnectAs("ops"), "scratch").code(), v1::NOT_FOUND);
  for (int i = 0; i < 50 && !Contains(daemon_->Log(), "unknown client key"); ++i) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  const std::string log = daemon_->Log();
  EXPECT_TRUE(Contains(log, "refused a connection from 127.0.0.1: unknown client key " + PublicKey("stranger")))
      << log;
}

TEST_F(AuthTest, EachKeyDoesWhatItsRightsOnTheBindingAllowAndNoMore) {
  auto reader = ConnectAs("reader");
  auto writer = ConnectAs("writer");
  auto ops = ConnectAs("ops");
  ASSERT_TRUE(reader && writer && ops);

  ASSERT_TRUE(PutItem(*writer, "scratch").ok());
  EXPECT_TRUE(GetItem(*reader, "scratch").ok());
  Status denied = PutItem(*reader, "scratch");
  EXPECT_EQ(denied.code(), v1::PERMISSION_DENIED);
  EXPECT_EQ(denied.message().rfind("permission denied: key 'reader' may not write binding 'scratch'", 0), 0u)
      << denied.message();

  // A binding the key has no right on, or one that does not exist: the same answer.
  Status unseen = GetItem(*reader, "default");
  EXPECT_EQ(unseen.code(), v1::PERMISSION_DENIED);
  EXPECT_EQ(unseen.message(), "permission denied: key 'reader' may not use binding 'default'");
  EXPECT_EQ(GetItem(*reader, "nope").message(), "permission denied: key 'reader' may not use binding 'nope'");
  EXPECT_EQ(GetItem(*ops, "nope").code(), v1::NOT_FOUND) << "a key for every binding learns what exists";

  // Creating containers is admin; a streamed Subscribe reads and acks.
  v1::CreateBucketRequest create;
  create.set_bucket("docs");
  CallOptions on_default;
  on_default.binding = "default";
  Status no_admin = writer->storage().CreateBucket(create, on_default).status();
  EXPECT_EQ(no_admin.code(), v1::PERMISSION_DENIED);
  EXPECT_TRUE(Contains(no_admin.message(), "key 'writer' may not admin binding 'default'")) << no_admin.message();
  EXPECT_TRUE(ops->storage().CreateBucket(create, on_default).ok());
  CallOptions on_scratch;
  on_scratch.binding = "scratch";
  auto stream = reader->pubsub().Subscribe("anything", 8, on_scratch);
  ASSERT_FALSE(stream.ok());
  EXPECT_EQ(stream.status().code(), v1::PERMISSION_DENIED);
  EXPECT_TRUE(Contains(stream.status().message(), "may not write binding 'scratch'")) << stream.status().message();

  // Status shows each key the bindings it may use.
  EXPECT_EQ(BindingsShownTo(*reader), std::vector<std::string>{"scratch"});
  EXPECT_EQ(BindingsShownTo(*writer), (std::vector<std::string>{"default", "scratch"}));
  EXPECT_EQ(BindingsShownTo(*ops), (std::vector<std::string>{"default", "scratch"}));
}

TEST_F(AuthTest, TheCliUsesAKeyFileFromFlagsOrTheEnvironment) {
  const std::vector<std::string> as_writer = {"--key", Key("writer"), "--server-key", Key("server") + ".pub"};
  auto with = [](std::vector<std::string> head, std::vector<std::string> tail) {
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
  };
  ProcessResult put = Cli(with(as_writer, {"--binding", "scratch", "kv", "put", "t", "k", "hello"}));
  EXPECT_EQ(put.exit_code, 0) << put.err;
  // The server key also as Z85 text, and both from the environment.
  ProcessResult get = Cli({"--binding", "scratch", "kv", "get", "t", "k"},
                          {{"CLOUDKIT_KEY", Key("reader")}, {"CLOUDKIT_SERVER_KEY", PublicKey("server")}});
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out, "hello\n");
  ProcessResult status = Cli({"--key", Key("reader"), "--server-key", PublicKey("server"), "status"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_TRUE(Contains(status.out, "  scratch")) << status.out;
  EXPECT_FALSE(Contains(status.out, "  default")) << status.out;

  ProcessResult denied = Cli({"--key", Key("reader"), "--server-key", PublicKey("server"), "--binding", "scratch",
                              "kv", "put", "t", "k", "no"});
  EXPECT_EQ(denied.exit_code, 17) << denied.err;
  EXPECT_EQ(denied.err, "cloudkit: permission denied: key 'reader' may not write binding 'scratch' "
                        "(cloudkit.v1.KeyValue/Put needs write)\n");
  ProcessResult anonymous = Cli({"status"});
  EXPECT_EQ(anonymous.exit_code, 16) << anonymous.err;
  EXPECT_TRUE(Contains(anonymous.err, "CURVE key")) << anonymous.err;
  ProcessResult stranger = Cli({"--key", Key("stranger"), "--server-key", PublicKey("server"), "status"});
  EXPECT_EQ(stranger.exit_code, 16) << stranger.err;

  ProcessResult half = Cli({"--key", Key("reader"), "status"});
  EXPECT_EQ(half.exit_code, 2) << half.err;
  ASSERT_EQ(chmod(Key("reader").c_str(), 0644), 0);
  ProcessResult exposed = Cli({"--key", Key("reader"), "--server-key", PublicKey("server"), "status"});
  EXPECT_EQ(exposed.exit_code, 1) << exposed.err;
  EXPECT_TRUE(Contains(exposed.err, "chmod 600")) << exposed.err;
}

// SIGHUP reads the keys again: a withdrawn key loses its connections' next
// requests, its open calls and new handshakes; new rights apply at once; a
// configuration that does not load changes nothing.
TEST_F(AuthTest, SighupReloadsTheKeysEndingWhatAWithdrawnKeyHeld) {
  auto writer = ConnectAs("writer");
  auto reader = ConnectAs("reader");
  ASSERT_NE(writer, nullptr);
  ASSERT_NE(reader, nullptr);
  ASSERT_TRUE(PutItem(*writer, "scratch").ok());
  EXPECT_EQ(PutItem(*reader, "scratch").code(), v1::PERMISSION_DENIED);
  CallOptions on_scratch;
  on_scratch.binding = "scratch";
  v1::CreateQueueRequest create;
  create.set_queue("jobs");
  ASSERT_TRUE(writer->queue().CreateQueue(create, on_scratch).ok());
  v1::ReceiveRequest receive;
  receive.set_queue("jobs");
  receive.set_wait_ms(15'000);
  auto waiting = writer->queue().ReceiveAsync(receive, on_scratch);
  ASSERT_EQ(waiting.wait_for(milliseconds(300)), std::future_status::timeout) << "the long poll waits";

  const std::string config_path = daemon_->dir() + "/cloudkitd.yaml";
  const std::string original = testing_util::ReadWholeFile(config_path);
  const size_t writer_entry = original.find("    - name: writer\n");
  const size_t reader_entry = original.find("    - name: reader\n");
  ASSERT_NE(writer_entry, std::string::npos);
  ASSERT_NE(reader_entry, std::string::npos);
  std::string reloaded = original.substr(0, writer_entry) + original.substr(reader_entry);
  const std::string reader_rights = "bindings: {scratch: read}";
  ASSERT_NE(reloaded.find(reader_rights), std::string::npos);
  reloaded.replace(reloaded.find(reader_rights), reader_rights.size(), "bindings: {scratch: [read, write]}");
  std::ofstream(config_path) << reloaded;
  ASSERT_EQ(kill(daemon_->pid(), SIGHUP), 0);
  const auto deadline = std::chrono::steady_clock::now() + milliseconds(5'000);
  while (!Contains(daemon_->Log(), "client keys reloaded") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_TRUE(Contains(daemon_->Log(), "client keys reloaded: 2 key(s) accepted; 1 open call(s) ended"))
      << daemon_->Log();

  ASSERT_EQ(waiting.wait_for(milliseconds(2'000)), std::future_status::ready) << "its open call ended at once";
  Result<v1::ReceiveResponse> ended = waiting.get();
  EXPECT_EQ(ended.status().code(), v1::UNAUTHENTICATED) << ended.status().message();
  EXPECT_TRUE(Contains(ended.status().message(), "client key 'writer' is no longer accepted"))
      << ended.status().message();
  Status withdrawn = PutItem(*writer, "scratch");
  EXPECT_EQ(withdrawn.code(), v1::UNAUTHENTICATED) << withdrawn.message();
  EXPECT_TRUE(Contains(withdrawn.message(), "no longer accepted")) << withdrawn.message();
  auto writer_again = ConnectAs("writer");
  ASSERT_NE(writer_again, nullptr);
  EXPECT_EQ(PutItem(*writer_again, "scratch").code(), v1::UNAUTHENTICATED) << "its handshakes are refused";
  EXPECT_TRUE(PutItem(*reader, "scratch").ok()) << "the reader's new right applies to its open connection";
  EXPECT_EQ(PutItem(*reader, "default").code(), v1::PERMISSION_DENIED);

  // A configuration that does not load leaves the keys as they are.
  std::ofstream(config_path) << "auth: [this is not a mapping\n";
  ASSERT_EQ(kill(daemon_->pid(), SIGHUP), 0);
  const auto second_deadline = std::chrono::steady_clock::now() + milliseconds(5'000);
  while (!Contains(daemon_->Log(), "client keys unchanged") && std::chrono::steady_clock::now() < second_deadline) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_TRUE(Contains(daemon_->Log(), "client keys unchanged")) << daemon_->Log();
  EXPECT_TRUE(PutItem(*reader, "scratch").ok());
  EXPECT_TRUE(GetItem(*ConnectAs("ops"), "default").code() != v1::UNAUTHENTICATED);
  std::ofstream(config_path) << original;  // for the fixture's own restart, if any
}

}  // namespace
}  // namespace cloudkit::integration
