// The `dynamodb` provider through a real cloudkitd against a real dynalite:
// items cloudkitd writes, the official SDKs (AWS's for JavaScript and boto3)
// read in the provider's documented layout (docs/providers.md: pk, sk, v as
// binary, etag, exp_ms), and items those SDKs write in that layout cloudkitd
// reads, lists and conditionally overwrites; a stopped emulator gives
// UNAVAILABLE within the call's deadline, opens the breaker, and everything
// recovers once it is back; a hung one costs no more than the deadline.
//
// No wrong-credentials case: dynalite checks no signature (any key is
// accepted), so refused credentials are tested against a scripted DynamoDB
// instead (unit_tests, DynamoProviderTest).
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "integration/daemon_fixture.h"
#include "providers/aws/sigv4.h"
#include "integration/subprocess.h"
#include "integration/test_helpers.h"
#include "support/emulator.h"

namespace cloudkit::integration {
namespace {

using std::chrono::milliseconds;
using testing_util::Emulator;
using testing_util::EmulatorKind;

constexpr char kDynamoTable[] = "cloudkit-items";

// A URL's query values percent-encoded (the SigV4 encoder: every byte but the unreserved ones).

// Bytes no text encoding would carry unharmed: NUL, 0xFF, a lone UTF-8 lead.
std::string BinaryValue(size_t n, unsigned seed) {
  std::string value = std::string("\0\xff\xc3", 3) + MakeBody(n, seed);
  return value;
}

class DynamoDbCrossCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing_util::EmulatorOptions options;
    options.extra_args = {"--createTableMs", "0"};  // the table is ACTIVE at once
    auto dynalite = Emulator::Start(EmulatorKind::kDynalite, options);
    ASSERT_TRUE(dynalite.ok()) << dynalite.status().message();
    dynalite_ = std::move(*dynalite);

    DaemonOptions daemon;
    // dynalite has no TransactWriteItems; create_table makes the table with
    // the provider's keys on first use.
    daemon.extra_bindings = std::string("  - {name: items, url: 'dynamodb://") + kDynamoTable +
                            "?endpoint=" + UrlEscape(dynalite_->endpoint()) +
                            "&create_table=true&transactions=false"
                            "&breaker_failures=3&breaker_open_ms=1000&max_attempts=3'}\n";
    daemon.env = {{"AWS_ACCESS_KEY_ID", dynalite_->credentials().access_key_id},
                  {"AWS_SECRET_ACCESS_KEY", dynalite_->credentials().secret_access_key}};
    auto started = DaemonProcess::Start(daemon);
    ASSERT_TRUE(started.ok()) << started.status().message();
    daemon_ = std::move(*started);
    auto client = Client::Connect(daemon_->endpoint());
    ASSERT_TRUE(client.ok()) << client.status().message();
    client_ = std::move(*client);
  }

  static CallOptions On(milliseconds timeout = milliseconds(20'000)) {
    CallOptions options;
    options.binding = "items";
    options.timeout = timeout;
    return options;
  }

  Result<v1::PutResponse> Put(const std::string& key, const std::string& value, uint64_t ttl_ms = 0) {
    v1::PutRequest put = KvPut("users", key, value);
    put.set_ttl_ms(ttl_ms);
    return client_->kv().Put(put, On());
  }

  Result<v1::GetResponse> Get(const std::string& key, milliseconds timeout = milliseconds(20'000)) {
    return client_->kv().Get(KvGet("users", key), On(timeout));
  }

  // Runs an official SDK's cross-check script; its JSON answer.
  nlohmann::json Sdk(const std::vector<std::string>& args, bool python) {
    std::vector<std::string> argv;
    if (python) {
      argv = {"/usr/bin/python3", testing_util::EmulatorsPackageDir() + "/dynamodb_cross_check.py"};
    } else {
      argv = {testing_util::NodeExecutable(), testing_util::EmulatorsPackageDir() + "/dynamodb-cross-check.mjs"};
    }
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions options;
    options.env = {{"EMULATOR_ENDPOINT", dynalite_->endpoint()},
                   {"AWS_ACCESS_KEY_ID", dynalite_->credentials().access_key_id},
                   {"AWS_SECRET_ACCESS_KEY", dynalite_->credentials().secret_access_key}};
    ProcessResult result = RunProcess(argv, options);
    EXPECT_EQ(result.exit_code, 0) << (python ? "boto3: " : "aws-sdk: ") << result.err;
    if (result.exit_code != 0) return nlohmann::json::object();
    return nlohmann::json::parse(result.out);
  }

  // Writes `value` to a file of the daemon's directory for a script to send.
  std::string ValueFile(const std::string& name, const std::string& value) {
    const std::string path = daemon_->dir() + "/" + name;
    std::ofstream(path, std::ios::binary) << value;
    return path;
  }

  static std::string Decoded(const nlohmann::json& answer) {
    return Base64Decode(answer.value("value", "")).value_or("<not base64>");
  }

  std::unique_ptr<Emulator> dynalite_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<Client> client_;
};

TEST_F(DynamoDbCrossCheckTest, WhatCloudKitWritesTheOfficialSdksRead) {
  const std::string small = BinaryValue(20, 1);
  const std::string large = BinaryValue(300 * 1024, 2);  // most of a 400 KB item
  auto alice = Put("alice", small);
  ASSERT_TRUE(alice.ok()) << alice.status().message();
  auto doc = Put("docs/é.txt", large);
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  auto brief = Put("brief", "soon gone", 3'600'000);
  ASSERT_TRUE(brief.ok()) << brief.status().message();
  ASSERT_CK_OK(Put("docs/a.txt", "a"));

  for (bool python : {false, true}) {
    SCOPED_TRACE(python ? "boto3" : "aws-sdk");
    nlohmann::json got = Sdk({"get", kDynamoTable, "users", "alice"}, python);
    EXPECT_TRUE(got.value("found", false));
    EXPECT_EQ(Decoded(got), small);
    EXPECT_EQ(got.value("etag", ""), alice->etag());
    EXPECT_EQ(got.value("expiresAtMs", -1), 0);
    EXPECT_EQ(got["attributes"], (nlohmann::json{{"pk", "S"}, {"sk", "S"}, {"v", "B"}, {"etag", "S"}}));

    got = Sdk({"get", kDynamoTable, "users", "docs/é.txt"}, python);
    EXPECT_EQ(got.value("size", 0u), large.size());
    EXPECT_TRUE(Decoded(got) == large) << "the large value's bytes differ";
    EXPECT_EQ(got.value("etag", ""), doc->etag());

    got = Sdk({"get", kDynamoTable, "users", "brief"}, python);
    EXPECT_EQ(Decoded(got), "soon gone");
    EXPECT_EQ(got.value("expiresAtMs", int64_t{0}), brief->expires_at_ms());
    EXPECT_EQ(got["attributes"].value("exp", ""), "N") << "the attribute DynamoDB's TTL deletes by";

    // The API's tables are partitions, its keys sort keys in byte order.
    nlohmann::json listed = Sdk({"query", kDynamoTable, "users", "docs/"}, python);
    EXPECT_EQ(listed["keys"], (nlohmann::json{"docs/a.txt", "docs/é.txt"}));
    listed = Sdk({"query", kDynamoTable, "other", ""}, python);
    EXPECT_EQ(listed["keys"], nlohmann::json::array());
  }
}

TEST_F(DynamoDbCrossCheckTest, WhatTheOfficialSdksWriteCloudKitReads) {
  ASSERT_CK_OK(Put("first", "made the table"));  // create_table: the table exists from here
  const std::string from_node = BinaryValue(1000, 3);
  const std::string from_python = BinaryValue(1000, 4);
  Sdk({"put", kDynamoTable, "users", "from-node", ValueFile("node", from_node), "sdk-node-1"}, false);
  Sdk({"put", kDynamoTable, "users", "from-python", ValueFile("python", from_python), "sdk-python-1"}, true);
  // Expired an hour ago: absent at once, whatever DynamoDB's TTL does.
  const int64_t an_hour_ago =
      std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count() -
      3'600'000;
  Sdk({"put", kDynamoTable, "users", "from-expired", ValueFile("expired", "old"), "sdk-old-1",
       std::to_string(an_hour_ago)},
      false);

  for (const auto& [key, value, etag] : {std::tuple{"from-node", from_node, "sdk-node-1"},
                                         std::tuple{"from-python", from_python, "sdk-python-1"}}) {
    auto got = Get(key);
    ASSERT_TRUE(got.ok()) << key << ": " << got.status().message();
    EXPECT_TRUE(got->item().value() == value) << key << ": the value's bytes differ";
    EXPECT_EQ(got->item().etag(), etag);
    EXPECT_EQ(got->item().expires_at_ms(), 0);
  }
  EXPECT_CK_CODE(Get("from-expired"), v1::NOT_FOUND);

  v1::ListRequest list;
  list.set_table("users");
  list.set_prefix("from-");
  auto listed = client_->kv().List(list, On());
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  ASSERT_EQ(listed->items_size(), 2);
  EXPECT_EQ(listed->items(0).key(), "from-node");
  EXPECT_TRUE(listed->items(0).value() == from_node);
  EXPECT_EQ(listed->items(1).key(), "from-python");
  EXPECT_EQ(listed->items(1).etag(), "sdk-python-1");

  // The SDK's ETag is the item's ETag: conditions hold on it.
  v1::PutRequest stale = KvPut("users", "from-node", "lost");
  stale.set_if_match("sdk-node-0");
  EXPECT_CK_CODE(client_->kv().Put(stale, On()), v1::FAILED_PRECONDITION);
  v1::PutRequest current = KvPut("users", "from-node", "replaced");
  current.set_if_match("sdk-node-1");
  auto replaced = client_->kv().Put(current, On());
  ASSERT_TRUE(replaced.ok()) << replaced.status().message();
  nlohmann::json seen = Sdk({"get", kDynamoTable, "users", "from-node"}, true);
  EXPECT_EQ(Decoded(seen), "replaced");
  EXPECT_EQ(seen.value("etag", ""), replaced->etag());
}

// Items another application wrote, without the provider's ETag and with a
// string value, are read, listed, and replaced on the ETag "0".
TEST_F(DynamoDbCrossCheckTest, ItemsOfOtherApplicationsAreReadListedAndReplaced) {
  auto made = Put("mine", "made the table");
  ASSERT_TRUE(made.ok()) << made.status().message() << "\ncloudkitd's log:\n" << daemon_->Log();
  Sdk({"put-text", kDynamoTable, "users", "theirs", "written elsewhere"}, false);

  auto got = Get("theirs");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->item().value(), "written elsewhere");
  EXPECT_EQ(got->item().etag(), "0");

  v1::ListRequest list;
  list.set_table("users");
  auto listed = client_->kv().List(list, On());
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  ASSERT_EQ(listed->items_size(), 2);
  EXPECT_EQ(listed->items(1).key(), "theirs");
  EXPECT_EQ(listed->items(1).etag(), "0");

  v1::PutRequest claim = KvPut("users", "theirs", "now ours");
  claim.set_if_match("0");
  auto claimed = client_->kv().Put(claim, On());
  ASSERT_TRUE(claimed.ok()) << claimed.status().message();
  EXPECT_NE(claimed->etag(), "0");
  // It has the provider's ETag now: "0" no longer matches.
  EXPECT_CK_CODE(client_->kv().Put(claim, On()), v1::FAILED_PRECONDITION);
  v1::PutRequest on_mine = KvPut("users", "mine", "x");
  on_mine.set_if_match("0");
  EXPECT_CK_CODE(client_->kv().Put(on_mine, On()), v1::FAILED_PRECONDITION);
  v1::DeleteRequest drop;
  drop.set_table("users");
  drop.set_key("theirs");
  drop.set_if_match(claimed->etag());
  EXPECT_TRUE(client_->kv().Delete(drop, On()).ok());
}

TEST_F(DynamoDbCrossCheckTest, AStoppedServiceIsUnavailableThenRecovers) {
  ASSERT_CK_OK(Put("k", "v"));
  dynalite_->Stop();
  const auto started = std::chrono::steady_clock::now();
  auto down = Get("k", milliseconds(3'000));
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(down.status().code(), v1::UNAVAILABLE) << down.status().message();
  EXPECT_LT(took, milliseconds(3'000)) << "retries stay within the call's deadline";
  // Three failures in a row open the breaker: calls fail at once, saying so.
  for (int i = 0; i < 3; ++i) (void)Get("k", milliseconds(3'000));
  auto paused = Get("k", milliseconds(3'000));
  EXPECT_EQ(paused.status().code(), v1::UNAVAILABLE);
  EXPECT_NE(paused.status().message().find("paused"), std::string::npos) << paused.status().message();

  ASSERT_TRUE(dynalite_->Restart().ok());
  Result<v1::GetResponse> back = Status::Unavailable("not tried");
  for (int i = 0; i < 50 && !back.ok(); ++i) {
    back = Get("k");
    if (!back.ok()) std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->item().value(), "v");
}

TEST_F(DynamoDbCrossCheckTest, AHungServiceCostsNoMoreThanTheDeadline) {
  ASSERT_CK_OK(Put("k", "v"));
  dynalite_->Pause();
  const auto started = std::chrono::steady_clock::now();
  auto hung = Get("k", milliseconds(2'000));
  const auto took = std::chrono::steady_clock::now() - started;
  dynalite_->Resume();
  EXPECT_TRUE(hung.status().code() == v1::DEADLINE_EXCEEDED || hung.status().code() == v1::UNAVAILABLE)
      << CodeName(hung.status()) << ": " << hung.status().message();
  EXPECT_LT(took, milliseconds(6'000)) << "a hung service held the call past its deadline";
  Result<v1::GetResponse> back = Status::Unavailable("not tried");
  for (int i = 0; i < 50 && !back.ok(); ++i) {
    back = Get("k");
    if (!back.ok()) std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->item().value(), "v");
}

}  // namespace
}  // namespace cloudkit::integration
