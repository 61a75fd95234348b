// What the `azure` provider promises beyond the conformance suite, against
// Azurite (which verifies Shared Key signatures): refused credentials,
// expiry on the real clock (Azure Table has none of its own), the RowKey
// encoding's order, batch limits, conditional multi-block uploads and SAS
// URLs. One Azurite for the suite, stopped with it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "conformance/conformance.h"
#include "ports/curl_http_client.h"
#include "ports/openssl_hash.h"
#include "ports/system_clock.h"
#include "ports/thread_sleep_port.h"
#include "providers/builtin_providers.h"
#include "support/emulator.h"
#include "support/http_request.h"

namespace cloudkit::conformance {
namespace {

using testing_util::Emulator;
using testing_util::EmulatorKind;

class AzureProviderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Result<std::unique_ptr<Emulator>> started = Emulator::Start(EmulatorKind::kAzurite);
    ASSERT_TRUE(started.ok()) << started.status().message();
    azurite_ = std::move(*started).release();
  }
  static void TearDownTestSuite() {
    delete azurite_;
    azurite_ = nullptr;
  }

  AzureProviderTest() { RegisterBuiltinProviders(&registry_); }

  // A binding with a fresh prefix and a fresh table on the suite's Azurite.
  BindingConfig Config() {
    static std::atomic<int> next{0};
    const std::string n = std::to_string(next++);
    BindingConfig config{"azure-test", "azure", {}, {}, {}};
    config.options = {{"container", "provider-test"}, {"prefix", "case" + n}, {"create_container", "true"},
                      {"endpoint", azurite_->blob_endpoint()}, {"table", "provider" + n},
                      {"table_endpoint", azurite_->table_endpoint()}, {"create_table", "true"},
                      {"block_size_mb", "1"}};
    config.credentials = {{"account_name", azurite_->credentials().account_name},
                          {"account_key", azurite_->credentials().account_key}};
    return config;
  }
  BindingInstance Open(const BindingConfig& config) {
    HostPorts ports{&clock_, &hash_, nullptr, ""};
    ports.http = &http_;
    ports.sleep = &sleep_;
    Result<BindingInstance> opened = registry_.Create(config, ports);
    EXPECT_TRUE(opened.ok()) << opened.status().message();
    return opened.ok() ? std::move(*opened) : BindingInstance();
  }
  static KeyValueProvider& Kv(BindingInstance& b) { return *b.Get<KeyValueProvider>(kKeyValueService); }
  static ObjectStorageProvider& Storage(BindingInstance& b) {
    return *b.Get<ObjectStorageProvider>(kObjectStorageService);
  }

  Result<v1::PutResponse> Put(KeyValueProvider& kv, const std::string& key, const std::string& value,
                              uint64_t ttl_ms = 0, bool if_absent = false) {
    v1::PutRequest req;
    req.set_table("users");
    req.set_key(key);
    req.set_value(value);
    req.set_ttl_ms(ttl_ms);
    req.set_if_absent(if_absent);
    return Sync(kv.Put(req));
  }
  Result<v1::GetResponse> Get(KeyValueProvider& kv, const std::string& key) {
    v1::GetRequest req;
    req.set_table("users");
    req.set_key(key);
    return Sync(kv.Get(req));
  }
  std::vector<std::string> ListKeys(KeyValueProvider& kv, const std::string& prefix) {
    v1::ListRequest req;
    req.set_table("users");
    req.set_prefix(prefix);
    auto listed = Sync(kv.List(req));
    EXPECT_TRUE(listed.ok()) << listed.status().message();
    std::vector<std::string> keys;
    if (listed.ok()) {
      for (const auto& item : listed->items()) keys.push_back(item.key());
    }
    return keys;
  }
  Result<v1::PutObjectResponse> PutObject(ObjectStorageProvider& storage, const std::string& key,
                                          const std::string& content, bool if_none_match = false) {
    v1::PutObjectRequest req;
    req.set_bucket("docs");
    req.set_key(key);
    req.set_if_none_match(if_none_match);
    auto upload = Sync(storage.BeginPut(req));
    if (!upload.ok()) return upload.status();
    CK_RETURN_IF_ERROR(Sync((*upload)->Append(content)));
    return Sync((*upload)->Finish());
  }

  static Emulator* azurite_;
  testing_util::TestTurn turn_;
  ProviderRegistry registry_;
  SystemClock clock_;
  OpenSslHashPort hash_;
  ThreadSleepPort sleep_;
  CurlHttpClient http_;
};
Emulator* AzureProviderTest::azurite_ = nullptr;

TEST_F(AzureProviderTest, AWrongAccountKeyIsUnauthenticated) {
  BindingConfig config = Config();
  // A well-formed key that is not the account's.
  config.credentials["account_key"] = "d3Jvbmcga2V5IGZvciB0aGUgYWNjb3VudA==";
  BindingInstance binding = Open(config);
  v1::CreateBucketRequest create;
  create.set_bucket("docs");
  auto created = Sync(Storage(binding).CreateBucket(create));
  CK_EXPECT_CODE(created, v1::UNAUTHENTICATED);
  EXPECT_NE(created.status().message().find("refused the binding's credentials"), std::string::npos)
      << created.status().message();
  EXPECT_NE(created.status().message().find("check the account name and key"), std::string::npos);
  v1::BucketExistsRequest exists;  // a HEAD: the refusal has no body
  exists.set_bucket("docs");
  CK_EXPECT_CODE(Sync(Storage(binding).BucketExists(exists)), v1::UNAUTHENTICATED);
  auto put = Put(Kv(binding), "k", "v");
  CK_EXPECT_CODE(put, v1::UNAUTHENTICATED);
  EXPECT_EQ(put.status().message().find(config.credentials["account_key"]), std::string::npos);
}

TEST_F(AzureProviderTest, AMissingContainerOrTableIsNamed) {
  BindingConfig config = Config();
  config.options["create_container"] = "false";
  config.options["create_table"] = "false";
  config.options["container"] = "never-created";
  BindingInstance binding = Open(config);
  v1::CreateBucketRequest create;
  create.set_bucket("docs");
  auto created = Sync(Storage(binding).CreateBucket(create));
  CK_EXPECT_CODE(created, v1::FAILED_PRECONDITION);
  EXPECT_NE(created.status().message().find("container 'never-created' does not exist"), std::string::npos)
      << created.status().message();
  auto put = Put(Kv(binding), "k", "v");
  CK_EXPECT_CODE(put, v1::FAILED_PRECONDITION);
  EXPECT_NE(put.status().message().find("table '" + config.options["table"] + "' does not exist"), std::string::npos)
      << put.status().message();
}

TEST_F(AzureProviderTest, ItemsExpireOnTheRealClockAndTheSweepRemovesThem) {
  BindingInstance binding = Open(Config());
  KeyValueProvider& kv = Kv(binding);
  auto put = Put(kv, "session", "token", 1500);
  CK_ASSERT_OK(put);
  EXPECT_NEAR(static_cast<double>(put->expires_at_ms()), static_cast<double>(clock_.NowMs() + 1500), 1000.0);
  EXPECT_EQ(kv.TakeNewExpiry(), put->expires_at_ms());
  CK_ASSERT_OK(Put(kv, "forever", "x"));
  CK_EXPECT_OK(Get(kv, "session"));
  EXPECT_EQ(ListKeys(kv, ""), (std::vector<std::string>{"forever", "session"}));
  auto early = Sync(kv.SweepExpired(100));
  CK_ASSERT_OK(early);
  EXPECT_EQ(early->removed, 0u);
  EXPECT_TRUE(early->pass_complete);
  EXPECT_EQ(early->next_expiry_ms, put->expires_at_ms());

  std::this_thread::sleep_for(std::chrono::milliseconds(1600));
  CK_EXPECT_CODE(Get(kv, "session"), v1::NOT_FOUND);
  EXPECT_EQ(ListKeys(kv, ""), (std::vector<std::string>{"forever"}));
  // Absent for if_absent too: it replaces the expired entity.
  CK_ASSERT_OK(Put(kv, "again", "x", 1));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CK_EXPECT_OK(Put(kv, "again", "new", 0, true));
  EXPECT_EQ(Get(kv, "again")->item().value(), "new");

  auto due = Sync(kv.SweepExpired(100));
  CK_ASSERT_OK(due);
  EXPECT_EQ(due->removed, 1u);  // "session"; "again" was rewritten without expiry
  EXPECT_EQ(due->next_expiry_ms, 0);
  EXPECT_EQ(Sync(kv.SweepExpired(100))->removed, 0u);  // gone, not just hidden
}

TEST_F(AzureProviderTest, KeysWithAnyCharacterListInByteOrder) {
  BindingInstance binding = Open(Config());
  KeyValueProvider& kv = Kv(binding);
  const std::vector<std::string> keys = {"a", "a b", "a#b", "a'b", "a.b", "a/b", "a/c", "a0", "a?b",
                                         "a\\b", "a~b", "a\xc3\xa9", "b"};  // in byte order
  for (auto it = keys.rbegin(); it != keys.rend(); ++it) CK_ASSERT_OK(Put(kv, *it, "v:" + *it));
  EXPECT_EQ(ListKeys(kv, ""), keys);
  EXPECT_EQ(ListKeys(kv, "a/"), (std::vector<std::string>{"a/b", "a/c"}));
  EXPECT_EQ(ListKeys(kv, "a\xc3"), (std::vector<std::string>{"a\xc3\xa9"}));
  for (const std::string& key : keys) EXPECT_EQ(Get(kv, key)->item().value(), "v:" + key);
  // Too long as a RowKey: refused, naming the limit.
  auto long_key = Put(kv, std::string(300, '/'), "v");
  CK_EXPECT_CODE(long_key, v1::INVALID_ARGUMENT);
  EXPECT_NE(long_key.status().message().find("512"), std::string::npos) << long_key.status().message();
}

TEST_F(AzureProviderTest, LargeValuesSpanSeveralProperties) {
  BindingInstance binding = Open(Config());
  KeyValueProvider& kv = Kv(binding);
  std::string value(200 * 1024, '\0');
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>(i * 7);
  CK_ASSERT_OK(Put(kv, "big", value));
  EXPECT_TRUE(Get(kv, "big")->item().value() == value);
  CK_EXPECT_CODE(Put(kv, "too-big", std::string(2 << 20, 'x')), v1::INVALID_ARGUMENT);
}

TEST_F(AzureProviderTest, PagesOfBigItemsEndOnTheirByteBoundAndGoOnAfterIt) {
  BindingInstance binding = Open(Config());
  KeyValueProvider& kv = Kv(binding);
  // Azurite refuses entities whose JSON passes 1 MB: 600 KiB values (800 KB in base64).
  const std::string value(600 * 1024, 'v');
  std::vector<std::string> written;
  for (int i = 0; i < 6; ++i) {
    written.push_back("paged/" + std::to_string(i));
    CK_ASSERT_OK(Put(kv, written.back(), value));
  }
  v1::ListRequest req;
  req.set_table("users");
  req.set_prefix("paged/");
  std::vector<std::string> listed_keys;
  int pages = 0;
  do {
    auto listed = Sync(kv.List(req));
    CK_ASSERT_OK(listed);
    ++pages;
    size_t bytes = 0;
    for (const auto& item : listed->items()) {
      listed_keys.push_back(item.key());
      bytes += item.value().size();
      EXPECT_EQ(item.value().size(), value.size()) << item.key();
    }
    EXPECT_LE(bytes, 4u * value.size()) << "page " << pages << " holds " << listed->items_size() << " items";
    req.set_continuation_token(listed->next_continuation_token());
  } while (!req.continuation_token().empty() && pages < 10);
  EXPECT_EQ(listed_keys, written) << "every item once, in order";
  EXPECT_EQ(pages, 2) << "4 items reach the 2 MiB bound; the other 2 end the listing";
}

TEST_F(AzureProviderTest, BatchPutsAreOneTransactionOfAtMostAHundredKeys) {
  BindingInstance binding = Open(Config());
  KeyValueProvider& kv = Kv(binding);
  v1::BatchPutRequest req;
  req.set_table("users");
  for (int i = 0; i < 100; ++i) {
    auto* entry = req.add_entries();
    entry->set_key("k" + std::to_string(i));
    entry->set_value("v" + std::to_string(i));
  }
  auto* again = req.add_entries();  // a key given twice: its last entry wins
  again->set_key("k0");
  again->set_value("last");
  auto written = Sync(kv.BatchPut(req));
  CK_ASSERT_OK(written);
  ASSERT_EQ(written->etags_size(), 101);
  EXPECT_EQ(Get(kv, "k0")->item().value(), "last");
  EXPECT_EQ(Get(kv, "k0")->item().etag(), written->etags(100));
  EXPECT_EQ(Get(kv, "k99")->item().etag(), written->etags(99));

  auto* extra = req.add_entries();
  extra->set_key("k100");
  auto too_many = Sync(kv.BatchPut(req));
  CK_EXPECT_CODE(too_many, v1::UNIMPLEMENTED);
  CK_EXPECT_CODE(Get(kv, "k100"), v1::NOT_FOUND);
  EXPECT_FALSE(kv.Unsupported().empty());
}

// Azure reads a backslash in a blob name as '/': such a key would be another
// object's, so it is refused rather than let one put overwrite the other.
TEST_F(AzureProviderTest, KeysWithABackslashAreRefused) {
  BindingInstance binding = Open(Config());
  ObjectStorageProvider& storage = Storage(binding);
  v1::CreateBucketRequest create;
  create.set_bucket("docs");
  CK_ASSERT_OK(Sync(storage.CreateBucket(create)));
  CK_ASSERT_OK(PutObject(storage, "bs/x/y", "slash"));
  auto refused = PutObject(storage, "bs/x\\y", "backslash");
  CK_EXPECT_CODE(refused, v1::INVALID_ARGUMENT);
  EXPECT_NE(refused.status().message().find("Azure Blob reads as '/'"), std::string::npos)
      << refused.status().message();
  v1::HeadObjectRequest head;
  head.set_bucket("docs");
  head.set_key("bs/x/y");
  auto kept = Sync(storage.HeadObject(head));
  CK_ASSERT_OK(kept);
  EXPECT_EQ(kept->object().size(), 5u);
}

TEST_F(AzureProviderTest, MultiBlockUploadsKeepTheirConditions) {
  BindingInstance binding = Open(Config());
  ObjectStorageProvider& storage = Storage(binding);
  v1::CreateBucketRequest create;
  create.set_bucket("docs");
  CK_ASSERT_OK(Sync(storage.CreateBucket(create)));
  const std::string big(3 * 1024 * 1024 + 5, 'b');  // four blocks of 1 MiB
  v1::PutObjectRequest req;
  req.set_bucket("docs");
  req.set_key("race");
  req.set_if_none_match(true);
  auto slow = Sync(storage.BeginPut(req));
  CK_ASSERT_OK(slow);
  CK_ASSERT_OK(Sync((*slow)->Append(big)));
  CK_ASSERT_OK(PutObject(storage, "race", "fast writer"));
  auto late = Sync((*slow)->Finish());  // Put Block List with If-None-Match: *
  CK_EXPECT_CODE(late, v1::FAILED_PRECONDITION);
  EXPECT_NE(late.status().message().find("(Azure "), std::string::npos) << late.status().message();

  auto first = PutObject(storage, "fresh", big, true);
  CK_ASSERT_OK(first);
  v1::HeadObjectRequest head;
  head.set_bucket("docs");
  head.set_key("fresh");
  EXPECT_EQ(Sync(storage.HeadObject(head))->object().etag(), first->object().etag());
  CK_EXPECT_CODE(PutObject(storage, "fresh", big, true), v1::FAILED_PRECONDITION);
}

TEST_F(AzureProviderTest, PresignedUrlsReadAndWriteOneBlob) {
  BindingInstance binding = Open(Config());
  ObjectStorageProvider& storage = Storage(binding);
  v1::CreateBucketRequest create;
  create.set_bucket("docs");
  CK_ASSERT_OK(Sync(storage.CreateBucket(create)));
  CK_ASSERT_OK(PutObject(storage, "a b.txt", "hello"));
  v1::PresignObjectRequest presign;
  presign.set_bucket("docs");
  presign.set_key("a b.txt");
  auto get_url = Sync(storage.PresignObject(presign));
  CK_ASSERT_OK(get_url);
  auto got = testing_util::SendHttpRequest(get_url->url());
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->status, 200) << got->body;
  EXPECT_EQ(got->body, "hello");

  presign.set_key("uploaded");
  presign.set_method("PUT");
  auto put_url = Sync(storage.PresignObject(presign));
  CK_ASSERT_OK(put_url);
  testing_util::HttpRequestOptions upload;
  upload.method = "PUT";
  upload.headers = {"x-ms-blob-type: BlockBlob"};
  upload.body = "from a browser";
  auto put = testing_util::SendHttpRequest(put_url->url(), upload);
  ASSERT_TRUE(put.ok()) << put.status().message();
  EXPECT_EQ(put->status, 201) << put->body;
  v1::GetObjectRequest read;
  read.set_bucket("docs");
  read.set_key("uploaded");
  v1::GetObjectResponse head;
  auto download = Sync(storage.BeginGet(read, &head));
  CK_ASSERT_OK(download);
  EXPECT_EQ(*Sync((*download)->Next(1024)), "from a browser");

  // A URL for reading does not write.
  auto refused = testing_util::SendHttpRequest(get_url->url(), upload);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 403);
}

}  // namespace
}  // namespace cloudkit::conformance
