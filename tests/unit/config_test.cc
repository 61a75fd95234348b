// cloudkitd's configuration file: the limits it knows are read, a key it
// does not know is an error naming it (a typo must not silently keep a
// default), and values out of range are refused.
#include "daemon/config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "client/endpoint_port.h"
#include "providers/embedded/embedded_providers.h"
#include "unit/temp_dir.h"

namespace cloudkit {
namespace {

Result<DaemonConfig> Load(const std::string& yaml) {
  testing_util::TempDir dir;
  const std::string path = dir / "cloudkitd.yaml";
  std::ofstream(path) << yaml;
  return LoadConfigFile(path);
}

TEST(ConfigTest, ReadsTheLimits) {
  auto config = Load("limits: {disk_workers: 8, client_send_queue: 16, max_in_flight_per_client: 100,\n"
                     "         max_client_backlog_bytes: 1048576, idempotency_window_ms: 60000,\n"
                     "         idempotency_memory_bytes: 65536}\n");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->limits.disk_workers, 8u);
  EXPECT_EQ(config->limits.client_send_queue, 16u);
  EXPECT_EQ(config->limits.max_in_flight_per_client, 100u);
  EXPECT_EQ(config->limits.max_client_backlog_bytes, 1048576u);
  EXPECT_EQ(config->limits.idempotency_window_ms, 60000);
  EXPECT_EQ(config->limits.idempotency_memory_bytes, 65536u);
}

TEST(ConfigTest, TheIdempotencyWindowIsAtMostADay) {
  auto config = Load("limits: {idempotency_window_ms: 86400001}\n");
  ASSERT_TRUE(config.ok()) << config.status().message();
  Status finalized = FinalizeConfig(&*config);
  EXPECT_EQ(finalized.code(), v1::INVALID_ARGUMENT);
  EXPECT_NE(finalized.message().find("idempotency_window_ms"), std::string::npos) << finalized.message();
}

TEST(ConfigTest, AnUnknownLimitIsAnErrorNamingIt) {
  auto config = Load("limits: {max_in_flight: 3}\n");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), v1::INVALID_ARGUMENT);
  EXPECT_NE(config.status().message().find("limits.max_in_flight"), std::string::npos) << config.status().message();
}

TEST(ConfigTest, DiskWorkersMustBeAtLeastOne) {
  auto config = Load("limits: {disk_workers: 0}\n");
  ASSERT_TRUE(config.ok()) << config.status().message();
  Status finalized = FinalizeConfig(&*config);
  EXPECT_EQ(finalized.code(), v1::INVALID_ARGUMENT);
  EXPECT_NE(finalized.message().find("disk_workers"), std::string::npos) << finalized.message();
}

TEST(ConfigTest, InFlightLimitsMustBeAtLeastOne) {
  auto config = Load("limits: {max_in_flight_per_binding: 0}\n");
  ASSERT_TRUE(config.ok()) << config.status().message();
  Status finalized = FinalizeConfig(&*config);
  EXPECT_EQ(finalized.code(), v1::INVALID_ARGUMENT);
  EXPECT_NE(finalized.message().find("max_in_flight_per_binding"), std::string::npos) << finalized.message();
}

TEST(ConfigTest, ListenPortsAreCheckedNotWrapped) {
  for (const char* bad : {"tcp://127.0.0.1:99999", "tcp://127.0.0.1:-1", "tcp://127.0.0.1",
                          "tcp://127.0.0.1:7a", ""}) {
    DaemonConfig config;
    config.listen = {bad};
    Status finalized = FinalizeConfig(&config);
    EXPECT_EQ(finalized.code(), v1::INVALID_ARGUMENT) << "'" << bad << "': " << finalized.message();
  }
  for (const char* good : {"tcp://127.0.0.1:7420", "tcp://127.0.0.1:*", "tcp://127.0.0.1:0", "tcp://[::1]:65535", "ipc:///tmp/ck.sock"}) {
    DaemonConfig config;
    config.listen = {good};
    EXPECT_TRUE(FinalizeConfig(&config).ok()) << good;
  }
  // A client connects to a port, never to "any".
  for (const char* bad : {"tcp://127.0.0.1:99999", "tcp://127.0.0.1:0", "tcp://127.0.0.1:*", "tcp://h:+80"}) {
    EXPECT_EQ(CheckEndpointPort(bad, AnyPort::kRefused).code(), v1::INVALID_ARGUMENT) << bad;
  }
  EXPECT_TRUE(CheckEndpointPort("tcp://[::1]:7420", AnyPort::kRefused).ok());
  EXPECT_TRUE(CheckEndpointPort("ipc:///run/cloudkit.sock", AnyPort::kRefused).ok());
}

TEST(ConfigTest, ABindingCanBeAUrl) {
  auto config = Load("bindings:\n"
                     "  - {name: scratch, url: 'mem://?services=key_value'}\n"
                     "  - {name: docs, url: 'file:///srv/docs', services: [object_storage]}\n");
  ASSERT_TRUE(config.ok()) << config.status().message();
  ASSERT_EQ(config->bindings.size(), 2u);
  EXPECT_EQ(config->bindings[0].provider, "memory");
  EXPECT_EQ(config->bindings[0].services, std::vector<std::string>{"key_value"});
  EXPECT_EQ(config->bindings[1].provider, "local");
  EXPECT_EQ(config->bindings[1].options.at("path"), "/srv/docs");
  EXPECT_EQ(config->bindings[1].services, std::vector<std::string>{"object_storage"});
}

TEST(ConfigTest, AUrlAndAProviderTogetherAreAnError) {
  auto config = Load("bindings: [{name: b, url: 'mem://', provider: local}]\n");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("both 'url' and 'provider'"), std::string::npos) << config.status().message();
}

TEST(ConfigTest, CredentialsComeInlineOrFromAFileAndNeverInMessages) {
  testing_util::TempDir dir;
  const std::string secrets = dir / "aws.yaml";
  std::ofstream(secrets) << "access_key_id: AKIDFROMFILE\nsecret_access_key: from-file-secret\n";
  const std::string path = dir / "cloudkitd.yaml";
  std::ofstream(path) << "bindings:\n"
                         "  - name: files\n"
                         "    url: s3://b\n"
                         "    credentials: {access_key_id: AKIDINLINE}\n"
                         "    credentials_file: " << secrets << "\n";
  auto config = LoadConfigFile(path);
  ASSERT_TRUE(config.ok()) << config.status().message();
  const BindingConfig& binding = config->bindings.at(0);
  EXPECT_EQ(binding.credentials.at("access_key_id"), "AKIDINLINE");  // inline wins
  EXPECT_EQ(binding.credentials.at("secret_access_key"), "from-file-secret");
  EXPECT_TRUE(binding.options.count("access_key_id") == 0) << "credentials stay out of the options";

  std::ofstream(secrets) << "secret_access_key: [not, a, scalar]\n";
  auto bad = LoadConfigFile(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().find("not, a"), std::string::npos) << bad.status().message();
  std::ofstream(secrets) << "{unclosed: hush-hush\n";
  bad = LoadConfigFile(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().find("hush"), std::string::npos) << bad.status().message();
}

TEST(ConfigTest, AMissingCredentialsFileIsAnErrorNamingIt) {
  auto config = Load("bindings:\n  - {name: files, url: 's3://b', credentials_file: /nonexistent/aws.yaml}\n");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("/nonexistent/aws.yaml"), std::string::npos) << config.status().message();
}

// A service manager starts the daemon in /: files the config names are found
// from the config file's directory, not from wherever the daemon runs.
TEST(ConfigTest, RelativeFilesAreReadFromTheConfigFilesDirectory) {
  testing_util::TempDir dir;
  std::filesystem::create_directories(dir / "etc");
  const std::string etc = std::filesystem::canonical(dir / "etc").string();
  std::ofstream(etc + "/aws.yaml") << "access_key_id: AKIDFROMFILE\nsecret_access_key: s\n";
  std::ofstream(etc + "/cloudkitd.yaml") << "data_dir: ../data\n"
                                            "bindings:\n"
                                            "  - {name: docs, provider: local, options: {path: docs-data}}\n"
                                            "  - {name: other, provider: local, options: {path: /abs/other}}\n"
                                            "  - {name: plain, provider: local}\n"
                                            "  - {name: files, url: 's3://b', credentials_file: aws.yaml}\n";
  // Read from elsewhere, through a relative name of the file.
  const std::filesystem::path cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  auto config = LoadConfigFile("etc/cloudkitd.yaml");
  std::filesystem::current_path(cwd);
  ASSERT_TRUE(config.ok()) << config.status().message();
  const std::string root = std::filesystem::canonical(dir.path()).string();
  EXPECT_EQ(config->data_dir, root + "/data");
  EXPECT_EQ(embedded::LocalBindingPath(config->bindings.at(0), config->data_dir), etc + "/docs-data");
  EXPECT_EQ(embedded::LocalBindingPath(config->bindings.at(1), config->data_dir), "/abs/other");
  EXPECT_EQ(embedded::LocalBindingPath(config->bindings.at(2), config->data_dir), root + "/data/plain");
  EXPECT_EQ(config->bindings.at(3).credentials.at("access_key_id"), "AKIDFROMFILE");
}

}  // namespace
}  // namespace cloudkit
