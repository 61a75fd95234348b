// Authentication as configured: the `auth` section of cloudkitd's config
// (keys, names, bindings and rights, unknown keys refused), the rights each
// method needs (every method of every service has its entry), the messages of
// a refusal, which endpoints count as reachable only from this machine, and
// the key files `cloudkit keygen` writes.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <fstream>

#include <zmq.h>

#include "client/curve_keys.h"
#include "daemon/access_policy.h"
#include "daemon/config.h"
#include "daemon/listen_safety.h"
#include "daemon/rights.h"
#include "services/service_descriptor.h"
#include "unit/temp_dir.h"

namespace cloudkit {
namespace {

std::string NewPublicKey() {
  Result<CurveKeyPair> pair = GenerateCurveKeyPair();
  EXPECT_TRUE(pair.ok()) << pair.status().message();
  return pair.ok() ? pair->public_key : std::string();
}

// Loaded and finalized, as cloudkitd does.
Result<DaemonConfig> Load(const std::string& yaml) {
  testing_util::TempDir dir;
  const std::string path = dir / "cloudkitd.yaml";
  std::ofstream(path) << yaml;
  Result<DaemonConfig> config = LoadConfigFile(path);
  if (!config.ok()) return config;
  CK_RETURN_IF_ERROR(FinalizeConfig(&*config));
  return config;
}

std::string Bindings() {
  return "bindings:\n  - {name: docs, provider: memory}\n  - {name: cache, provider: memory}\n";
}

TEST(AuthConfigTest, ReadsKeysNamesAndRights) {
  const std::string app = NewPublicKey(), ops = NewPublicKey();
  auto config = Load("auth:\n  server_key_file: /tmp/server.key\n  clients:\n"
                     "    - {name: app, public_key: '" + app + "', bindings: {docs: [read, write], cache: read}}\n"
                     "    - {name: ops, public_key: '" + ops + "', bindings: {'*': [read, write, admin]}}\n" +
                     Bindings());
  ASSERT_TRUE(config.ok()) << config.status().message();
  ASSERT_TRUE(config->auth.enabled());
  ASSERT_EQ(config->auth.clients.size(), 2u);
  EXPECT_EQ(config->auth.clients[0].name, "app");
  EXPECT_EQ(config->auth.clients[0].public_key, app);
  EXPECT_EQ(config->auth.clients[0].bindings.at("docs"), kRead | kWrite);
  EXPECT_EQ(config->auth.clients[0].bindings.at("cache"), kRead);
  EXPECT_EQ(config->auth.clients[1].bindings.at("*"), kAllRights);
}

TEST(AuthConfigTest, MistakesAreErrorsNamingThem) {
  const std::string key = NewPublicKey();
  const std::string head = "auth:\n  server_key_file: /tmp/server.key\n  clients:\n";
  struct Case {
    std::string yaml;
    std::string names;
  } cases[] = {
      {"auth: {server_key: x}\n", "unknown key 'server_key' in auth"},
      {head + "    - {name: app, public_key: '" + key + "', bindings: {docs: [read]}, rights: [read]}\n",
       "unknown key 'rights' in client key 'app'"},
      {head + "    - {name: app, public_key: '" + key + "', bindings: {docs: [reed]}}\n", "unknown right 'reed'"},
      {head + "    - {name: app, public_key: 'not-a-key', bindings: {docs: [read]}}\n", "40 characters of Z85"},
      {head + "    - {name: app, bindings: {docs: [read]}}\n", "needs one of 'public_key'"},
      {head + "    - {name: app, public_key: '" + key + "'}\n", "needs 'bindings'"},
      {head + "    - {name: app, public_key: '" + key + "', bindings: {nope: [read]}}\n",
       "names binding 'nope', which is not configured"},
      {head + "    - {name: app, public_key: '" + key + "', bindings: {docs: [read]}}\n" +
           "    - {name: app, public_key: '" + NewPublicKey() + "', bindings: {docs: [read]}}\n",
       "client key 'app' is defined twice"},
      {head + "    - {name: a, public_key: '" + key + "', bindings: {docs: [read]}}\n" +
           "    - {name: b, public_key: '" + key + "', bindings: {docs: [read]}}\n",
       "has the public key of another"},
      {"auth: {server_key_file: /tmp/server.key}\n", "auth.clients is empty"},
      {"auth:\n  clients:\n    - {name: a, public_key: '" + key + "', bindings: {docs: [read]}}\n",
       "auth.clients needs auth.server_key_file"},
  };
  for (const Case& c : cases) {
    auto config = Load(c.yaml + Bindings());
    ASSERT_FALSE(config.ok()) << c.yaml;
    EXPECT_EQ(config.status().code(), v1::INVALID_ARGUMENT);
    EXPECT_NE(config.status().message().find(c.names), std::string::npos)
        << c.yaml << " gave: " << config.status().message();
  }
}

TEST(AuthConfigTest, APublicKeyCanComeFromItsFile) {
  testing_util::TempDir dir;
  Result<CurveKeyPair> pair = GenerateCurveKeyPair();
  ASSERT_TRUE(pair.ok());
  ASSERT_TRUE(WriteKeyPairFiles(dir / "app.key", *pair).ok());
  auto config = Load("auth:\n  server_key_file: /tmp/server.key\n  clients:\n"
                     "    - {name: app, public_key_file: '" + (dir / "app.key.pub") + "', bindings: {docs: read}}\n" +
                     Bindings());
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->auth.clients[0].public_key, pair->public_key);
}

TEST(RightsTest, EveryMethodOfEveryServiceHasItsRights) {
  ServiceRegistry services;
  RegisterBuiltinServices(&services);
  size_t methods = 0;
  for (const ServiceDescriptor& service : services.all()) {
    for (const MethodDescriptor& method : service.methods) {
      const std::string name = service.proto_service + "/" + method.name;
      std::optional<Rights> rights = RightsNeededBy(name);
      ASSERT_TRUE(rights.has_value()) << name << " needs an entry in daemon/rights.cc and docs/daemon.md";
      EXPECT_NE(*rights, 0) << name;
      ++methods;
    }
  }
  EXPECT_GT(methods, 40u);
}

TEST(RightsTest, ReadsWritesAndAdministrationAreApart) {
  EXPECT_EQ(RightsNeededBy("cloudkit.v1.KeyValue/Get"), Rights{kRead});
  EXPECT_EQ(RightsNeededBy("cloudkit.v1.KeyValue/Put"), Rights{kWrite});
  EXPECT_EQ(RightsNeededBy("cloudkit.v1.ObjectStorage/GetObject"), Rights{kRead});
  EXPECT_EQ(RightsNeededBy("cloudkit.v1.ObjectStorage/CreateBucket"), Rights{kAdmin});
  EXPECT_EQ(RightsNeededBy("cloudkit.v1.Queue/Receive"), Rights{kRead});
  EXPECT_EQ(RightsNeededBy("cloudkit.v1.Queue/Ack"), Rights{kWrite});
  EXPECT_EQ(RightsNeededBy("cloudkit.v1.Queue/Purge"), Rights{kAdmin});
  EXPECT_EQ(RightsNeededBy("cloudkit.v1.PubSub/Subscribe"), Rights{kRead | kWrite});
  EXPECT_EQ(RightsNeededBy("cloudkit.v1.KeyValue/Nope"), std::nullopt);
}

TEST(AccessPolicyTest, AKeyMayDoWhatItsRightsSayAndTheRefusalNamesKeyRightAndBinding) {
  AuthConfig auth;
  auth.server_key_file = "/tmp/server.key";
  const std::string reader_key = NewPublicKey(), ops_key = NewPublicKey();
  auth.clients.push_back({"reader", reader_key, {{"docs", kRead}}});
  auth.clients.push_back({"ops", ops_key, {{"*", kRead}, {"docs", kWrite | kAdmin}}});
  AccessPolicy policy(auth);

  const ClientAccess* reader = policy.ByName("reader");
  ASSERT_NE(reader, nullptr);
  EXPECT_TRUE(AccessPolicy::Authorize(*reader, "docs", kRead, "cloudkit.v1.KeyValue/Get").ok());
  Status denied = AccessPolicy::Authorize(*reader, "docs", kWrite, "cloudkit.v1.KeyValue/Put");
  EXPECT_EQ(denied.code(), v1::PERMISSION_DENIED);
  EXPECT_EQ(denied.message().rfind("permission denied: key 'reader' may not write binding 'docs'", 0), 0u)
      << denied.message();
  Status elsewhere = AccessPolicy::Authorize(*reader, "cache", kRead, "cloudkit.v1.KeyValue/Get");
  EXPECT_EQ(elsewhere.code(), v1::PERMISSION_DENIED);
  EXPECT_EQ(elsewhere.message(), "permission denied: key 'reader' may not use binding 'cache'");

  const ClientAccess* ops = policy.ByName("ops");
  ASSERT_NE(ops, nullptr);
  EXPECT_EQ(ops->On("docs"), kAllRights);
  EXPECT_EQ(ops->On("cache"), kRead);
  EXPECT_EQ(policy.ByName("nobody"), nullptr);

  uint8_t binary[32];
  ASSERT_NE(zmq_z85_decode(binary, reader_key.c_str()), nullptr);
  EXPECT_EQ(policy.ByPublicKey(std::string_view(reinterpret_cast<char*>(binary), 32)), reader);
  ASSERT_NE(zmq_z85_decode(binary, NewPublicKey().c_str()), nullptr);
  EXPECT_EQ(policy.ByPublicKey(std::string_view(reinterpret_cast<char*>(binary), 32)), nullptr);
}

TEST(ListenSafetyTest, OnlyLoopbackTcpIpcAndInprocStayOnThisMachine) {
  for (const char* local : {"tcp://127.0.0.1:7420", "tcp://127.1.2.3:1", "tcp://localhost:7420", "tcp://[::1]:7420",
                            "ipc:///tmp/cloudkit.sock", "inproc://x"}) {
    EXPECT_TRUE(IsLocalOnlyEndpoint(local)) << local;
  }
  for (const char* reachable : {"tcp://0.0.0.0:7420", "tcp://*:7420", "tcp://[::]:7420", "tcp://eth0:7420",
                                "tcp://192.168.1.5:7420", "tcp://example.com:7420", "tcp://lo:7420",
                                "ws://127.0.0.1:7420", "tipc://{5560,0,0}"}) {
    EXPECT_FALSE(IsLocalOnlyEndpoint(reachable)) << reachable;
  }
  EXPECT_EQ(ReachableFromOutside({"tcp://127.0.0.1:1", "tcp://*:2"}), std::vector<std::string>{"tcp://*:2"});
}

TEST(CurveKeyFileTest, KeygenFilesAreOwnerOnlyAndPublicAndReadBack) {
  testing_util::TempDir dir;
  const std::string path = dir / "client.key";
  Result<CurveKeyPair> pair = GenerateCurveKeyPair();
  ASSERT_TRUE(pair.ok());
  ASSERT_TRUE(WriteKeyPairFiles(path, *pair).ok());
  struct stat info {};
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((path + ".pub").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0644u);

  Result<CurveKeyPair> read = ReadKeyPairFile(path);
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_EQ(read->public_key, pair->public_key);
  EXPECT_EQ(read->secret_key, pair->secret_key);
  EXPECT_EQ(*ReadPublicKey(path + ".pub"), pair->public_key);
  EXPECT_EQ(*ReadPublicKey(pair->public_key), pair->public_key);

  // Never overwritten; a public file is no key pair; a secret others may read is refused.
  EXPECT_EQ(WriteKeyPairFiles(path, *pair).code(), v1::ALREADY_EXISTS);
  EXPECT_EQ(ReadKeyPairFile(path + ".pub").status().code(), v1::FAILED_PRECONDITION);
  ASSERT_EQ(chmod(path.c_str(), 0640), 0);
  Result<CurveKeyPair> exposed = ReadKeyPairFile(path);
  EXPECT_EQ(exposed.status().code(), v1::FAILED_PRECONDITION);
  EXPECT_NE(exposed.status().message().find("chmod 600"), std::string::npos) << exposed.status().message();
  EXPECT_EQ(exposed.status().message().find(pair->secret_key), std::string::npos);
  EXPECT_EQ(ReadKeyPairFile(dir / "missing.key").status().code(), v1::NOT_FOUND);
}

TEST(CurveKeyFileTest, ReadsTheCertificatesOfPyzmqAndCzmq) {
  testing_util::TempDir dir;
  Result<CurveKeyPair> pair = GenerateCurveKeyPair();
  ASSERT_TRUE(pair.ok());
  // As zmq.auth.create_certificates writes name.key_secret.
  const std::string path = dir / "client.key_secret";
  std::ofstream(path) << "#   ****  Generated on 2024-01-01 by pyzmq  ****\n"
                         "#   ZeroMQ CURVE **Secret** Certificate\n\nmetadata\ncurve\n"
                         "    public-key = \"" << pair->public_key << "\"\n"
                         "    secret-key = \"" << pair->secret_key << "\"\n";
  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  Result<CurveKeyPair> read = ReadKeyPairFile(path);
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_EQ(read->secret_key, pair->secret_key);
  EXPECT_EQ(read->public_key, pair->public_key);
}

}  // namespace
}  // namespace cloudkit
