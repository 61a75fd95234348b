// The `azure` provider through a real cloudkitd against a real Azurite, one
// binding serving both services: objects cloudkitd writes, the official Azure
// SDK for JavaScript (@azure/storage-blob) reads at the provider's blob names
// (content, content type, Content-MD5, metadata), and blobs it uploads
// cloudkitd reads; items cloudkitd writes, @azure/data-tables reads as
// entities (PartitionKey = the API table, RowKey = the key's encoding, value
// and expiry properties), and entities it writes cloudkitd reads and lists.
// A wrong account key gives UNAUTHENTICATED and reaches no log; a stopped
// Azurite gives UNAVAILABLE within the call's deadline, opens the breaker, and
// everything recovers once it is back.
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

constexpr char kContainer[] = "shared";
constexpr char kTable[] = "cloudkit";
// Base64 of a key Azurite does not know; it must never reach a log.
constexpr char kWrongKey[] = "bm90LXRoZS1hY2NvdW50LWtleS1hdC1hbGwtcmVhbGx5";

// A URL's query values percent-encoded (the SigV4 encoder: every byte but the unreserved ones).

// Bytes no text encoding would carry unharmed: NUL, 0xFF, a lone UTF-8 lead.
std::string BinaryValue(size_t n, unsigned seed) { return std::string("\0\xff\xc3", 3) + MakeBody(n, seed); }

int64_t NowMs() {
  return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class AzureCrossCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto azurite = Emulator::Start(EmulatorKind::kAzurite);
    ASSERT_TRUE(azurite.ok()) << azurite.status().message();
    azurite_ = std::move(*azurite);

    // `az` takes its account from the connection string in the environment;
    // `wrong` names the account with a key Azurite refuses (given in the
    // configuration, it wins over the environment's).
    const std::string location = std::string("azblob://") + kContainer + "/app1?table=" + kTable;
    const std::string resilience = "&breaker_failures=3&breaker_open_ms=1000&max_attempts=3";
    DaemonOptions daemon;
    daemon.extra_bindings =
        "  - {name: az, url: '" + location + "&create_container=true&create_table=true&block_size_mb=1" +
        resilience + "'}\n" +
        "  - name: wrong\n"
        "    url: '" + location + "&endpoint=" + UrlEscape(azurite_->blob_endpoint()) +
        "&table_endpoint=" + UrlEscape(azurite_->table_endpoint()) + resilience + "'\n" +
        "    credentials: {account_name: " + azurite_->credentials().account_name + ", account_key: '" + kWrongKey +
        "'}\n";
    daemon.env = {{"AZURE_STORAGE_CONNECTION_STRING", azurite_->connection_string()}};
    auto started = DaemonProcess::Start(daemon);
    ASSERT_TRUE(started.ok()) << started.status().message();
    daemon_ = std::move(*started);
    auto client = Client::Connect(daemon_->endpoint());
    ASSERT_TRUE(client.ok()) << client.status().message();
    client_ = std::move(*client);
    auto created = client_->storage().CreateBucket(CreateBucketRequest("docs"), On("az"));
    ASSERT_TRUE(created.ok()) << created.status().message();
  }

  static CallOptions On(const std::string& binding, milliseconds timeout = milliseconds(20'000)) {
    CallOptions options;
    options.binding = binding;
    options.timeout = timeout;
    return options;
  }

  Result<v1::PutObjectResponse> PutObject(const std::string& key, const std::string& content) {
    v1::PutObjectRequest put = PutRequest("docs", key, content);
    put.set_content_type("text/plain");
    (*put.mutable_metadata())["owner"] = "ada";
    TransferOptions options;
    options.call = On("az");
    return client_->storage().PutObject(put, options);
  }

  Result<std::string> GetObject(const std::string& key, milliseconds timeout = milliseconds(20'000)) {
    TransferOptions options;
    options.call = On("az", timeout);
    auto got = client_->storage().GetObject(GetRequest("docs", key), options);
    if (!got.ok()) return got.status();
    return got->data();
  }

  Result<v1::PutResponse> PutItem(const std::string& key, const std::string& value, uint64_t ttl_ms = 0) {
    v1::PutRequest put = KvPut("users", key, value);
    put.set_ttl_ms(ttl_ms);
    return client_->kv().Put(put, On("az"));
  }

  Result<v1::GetResponse> GetItem(const std::string& key, milliseconds timeout = milliseconds(20'000)) {
    return client_->kv().Get(KvGet("users", key), On("az", timeout));
  }

  // Runs azure-cross-check.mjs (the official Azure SDKs); its JSON answer.
  nlohmann::json Sdk(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {testing_util::NodeExecutable(),
                                     testing_util::EmulatorsPackageDir() + "/azure-cross-check.mjs"};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions options;
    options.env = {{"AZURE_STORAGE_CONNECTION_STRING", azurite_->connection_string()}};
    ProcessResult result = RunProcess(argv, options);
    EXPECT_EQ(result.exit_code, 0) << "azure sdk: " << result.err;
    if (result.exit_code != 0) return nlohmann::json::object();
    return nlohmann::json::parse(result.out);
  }

  std::string File(const std::string& name, const std::string& content) {
    const std::string path = daemon_->dir() + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  // The hex digest of `content` by coreutils' `tool` (sha256sum, md5sum).
  std::string Digest(const char* tool, const std::string& content) {
    ProcessResult result = RunProcess({std::string("/usr/bin/") + tool, File("digest-input", content)});
    return result.out.substr(0, result.out.find(' '));
  }

  static std::string Decoded(const nlohmann::json& answer) {
    return Base64Decode(answer.value("value", "")).value_or("<not base64>");
  }

  std::unique_ptr<Emulator> azurite_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<Client> client_;
};

TEST_F(AzureCrossCheckTest, ObjectsCloudKitWritesTheBlobSdkReads) {
  auto small = PutObject("a.txt", "hello from cloudkit");
  ASSERT_TRUE(small.ok()) << small.status().message();
  const std::string big = MakeBody(3 * 1024 * 1024 + 5, 7);  // four blocks of the binding's 1 MiB
  auto large = PutObject("big.bin", big);
  ASSERT_TRUE(large.ok()) << large.status().message();

  nlohmann::json got = Sdk({"blob-get", kContainer, "app1/docs/a.txt"});
  EXPECT_EQ(got.value("sha256", ""), Digest("sha256sum", "hello from cloudkit"));
  EXPECT_EQ(got.value("contentType", ""), "text/plain");
  EXPECT_EQ(got["metadata"].value("owner", ""), "ada");
  EXPECT_EQ(got.value("contentMd5", ""), Digest("md5sum", "hello from cloudkit"));
  EXPECT_EQ("\"" + got.value("contentMd5", "") + "\"", small->object().etag()) << "the API's ETag is the MD5";

  got = Sdk({"blob-get", kContainer, "app1/docs/big.bin"});
  EXPECT_EQ(got.value("size", 0u), big.size());
  EXPECT_EQ(got.value("sha256", ""), Digest("sha256sum", big));
  EXPECT_EQ(got.value("contentMd5", ""), Digest("md5sum", big)) << "a block list's blob keeps the whole MD5";
  EXPECT_EQ(got.value("contentType", ""), "text/plain");

  // The API's buckets are the first level below the prefix, each with a marker.
  nlohmann::json listed = Sdk({"blob-list", kContainer, "app1/"});
  EXPECT_EQ(listed["names"], (nlohmann::json{"app1/.cloudkit-buckets/docs", "app1/docs/a.txt", "app1/docs/big.bin"}));
}

TEST_F(AzureCrossCheckTest, BlobsTheSdkUploadsCloudKitReads) {
  Sdk({"blob-put", kContainer, "app1/docs/from-sdk.txt", File("small", "written by the SDK"), "text/markdown",
       "team=web"});
  const std::string big = MakeBody(2 * 1024 * 1024 + 3, 8);  // uploaded as blocks, without an MD5
  Sdk({"blob-put", kContainer, "app1/docs/from-sdk.bin", File("big", big), "application/octet-stream"});

  auto headed = client_->storage().HeadObject(HeadRequest("docs", "from-sdk.txt"), On("az"));
  ASSERT_TRUE(headed.ok()) << headed.status().message();
  EXPECT_EQ(headed->object().content_type(), "text/markdown");
  EXPECT_EQ(headed->object().size(), 18u);
  EXPECT_EQ(headed->object().metadata().at("team"), "web");
  EXPECT_EQ(headed->object().etag(), "\"" + Digest("md5sum", "written by the SDK") + "\"");
  auto got = GetObject("from-sdk.txt");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(*got, "written by the SDK");

  got = GetObject("from-sdk.bin");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_TRUE(*got == big) << "the large blob's bytes differ";
  headed = client_->storage().HeadObject(HeadRequest("docs", "from-sdk.bin"), On("az"));
  ASSERT_TRUE(headed.ok()) << headed.status().message();
  EXPECT_FALSE(headed->object().etag().empty()) << "a blob without an MD5 shows Azure's ETag";

  v1::ListObjectsRequest list;
  list.set_bucket("docs");
  auto listed = client_->storage().ListObjects(list, On("az"));
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  ASSERT_EQ(listed->objects_size(), 2);
  EXPECT_EQ(listed->objects(0).key(), "from-sdk.bin");
  EXPECT_EQ(listed->objects(1).key(), "from-sdk.txt");
}

TEST_F(AzureCrossCheckTest, ItemsCloudKitWritesTheTableSdkReads) {
  const std::string small = BinaryValue(20, 1);
  const std::string large = BinaryValue(200 * 1024, 2);  // four properties of 64 KiB at most
  auto alice = PutItem("alice", small);
  ASSERT_TRUE(alice.ok()) << alice.status().message();
  auto doc = PutItem("docs/a.txt", large);
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  auto brief = PutItem("é", "soon gone", 3'600'000);
  ASSERT_TRUE(brief.ok()) << brief.status().message();

  nlohmann::json got = Sdk({"entity-get", kTable, "users", "alice"});
  EXPECT_TRUE(got.value("found", false));
  EXPECT_EQ(Decoded(got), small);
  EXPECT_EQ(got.value("expiresAtMs", int64_t{-1}), 0);
  EXPECT_EQ(got.value("etag", ""), alice->etag()) << "the item's ETag is the entity's";
  EXPECT_EQ(got["types"], (nlohmann::json{{"v0", "Binary"}, {"e", "Int64"}}));

  // "/" and "." are coded as ".1" and ".0" (RowKeys forbid "/"), keeping the keys' order.
  got = Sdk({"entity-get", kTable, "users", "docs.1a.0txt"});
  EXPECT_TRUE(Decoded(got) == large) << "the large value's bytes differ";
  EXPECT_EQ(got["types"].value("v3", ""), "Binary");
  EXPECT_EQ(got.value("etag", ""), doc->etag());

  // Non-ASCII bytes are "~" and two hex digits.
  got = Sdk({"entity-get", kTable, "users", "~C3~A9"});
  EXPECT_EQ(Decoded(got), "soon gone");
  EXPECT_EQ(got.value("expiresAtMs", int64_t{0}), brief->expires_at_ms());

  nlohmann::json listed = Sdk({"entity-list", kTable, "users"});
  EXPECT_EQ(listed["rowKeys"], (nlohmann::json{"alice", "docs.1a.0txt", "~C3~A9"}));
  EXPECT_EQ(Sdk({"entity-list", kTable, "other"})["rowKeys"], nlohmann::json::array());
}

TEST_F(AzureCrossCheckTest, ItemsTheTableSdkWritesCloudKitReads) {
  ASSERT_TRUE(PutItem("first", "made the table").ok());  // create_table: the table exists from here
  const std::string small = BinaryValue(1000, 3);
  const std::string large = BinaryValue(150 * 1024, 4);
  nlohmann::json small_put = Sdk({"entity-put", kTable, "users", "from-sdk.1small", File("small", small)});
  Sdk({"entity-put", kTable, "users", "from-sdk.1large", File("large", large)});
  // Expired an hour ago: absent, though Azure Table keeps it until the sweep.
  Sdk({"entity-put", kTable, "users", "from-sdk.1old", File("old", "old"), std::to_string(NowMs() - 3'600'000)});
  // No expiry property at all, as a writer that knows nothing of expiry leaves it.
  Sdk({"entity-put", kTable, "users", "from-sdk.1plain", File("plain", "plain"), "-"});

  auto got = GetItem("from-sdk/small");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_TRUE(got->item().value() == small) << "the value's bytes differ";
  EXPECT_EQ(got->item().etag(), small_put.value("etag", ""));
  EXPECT_EQ(got->item().expires_at_ms(), 0);
  got = GetItem("from-sdk/large");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_TRUE(got->item().value() == large) << "the large value's bytes differ";
  EXPECT_CK_CODE(GetItem("from-sdk/old"), v1::NOT_FOUND);
  got = GetItem("from-sdk/plain");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->item().value(), "plain");

  // Listed as Get sees them: in key order, without the expired one.
  v1::ListRequest list;
  list.set_table("users");
  list.set_prefix("from-sdk/");
  auto listed = client_->kv().List(list, On("az"));
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  std::vector<std::string> keys;
  for (const v1::Item& item : listed->items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"from-sdk/large", "from-sdk/plain", "from-sdk/small"}));
  if (listed->items_size() == 3) EXPECT_TRUE(listed->items(2).value() == small);

  // The SDK's ETag is the item's ETag: conditions hold on it.
  v1::PutRequest current = KvPut("users", "from-sdk/small", "replaced");
  current.set_if_match(small_put.value("etag", ""));
  auto replaced = client_->kv().Put(current, On("az"));
  ASSERT_TRUE(replaced.ok()) << replaced.status().message();
  current.set_value("lost");
  EXPECT_CK_CODE(client_->kv().Put(current, On("az")), v1::FAILED_PRECONDITION);
  nlohmann::json seen = Sdk({"entity-get", kTable, "users", "from-sdk.1small"});
  EXPECT_EQ(Decoded(seen), "replaced");
  EXPECT_EQ(seen.value("etag", ""), replaced->etag());
}

TEST_F(AzureCrossCheckTest, AWrongAccountKeyIsUnauthenticated) {
  v1::ListObjectsRequest list;
  list.set_bucket("docs");
  auto listed = client_->storage().ListObjects(list, On("wrong"));
  EXPECT_EQ(listed.status().code(), v1::UNAUTHENTICATED) << listed.status().message();
  EXPECT_NE(listed.status().message().find("account name and key"), std::string::npos) << listed.status().message();
  auto got = client_->kv().Get(KvGet("users", "alice"), On("wrong"));
  EXPECT_EQ(got.status().code(), v1::UNAUTHENTICATED) << got.status().message();
  EXPECT_NE(got.status().message().find("account name and key"), std::string::npos) << got.status().message();
  const std::string log = daemon_->Log();
  EXPECT_EQ(log.find(kWrongKey), std::string::npos) << "the wrong key reached the log";
  EXPECT_EQ(log.find(azurite_->credentials().account_key), std::string::npos) << "the account key reached the log";
}

// A binding given a SAS token instead of the key (what a web page or a
// restricted service gets): its requests carry the token; what the token
// does not allow is refused by Azure; presigned URLs need the key.
TEST_F(AzureCrossCheckTest, ABindingWithASasTokenServesWhatTheTokenAllows) {
  const std::string full = Sdk({"account-sas", "rwdlacu"}).value("token", "");
  const std::string read_only = Sdk({"account-sas", "rl"}).value("token", "");
  ASSERT_FALSE(full.empty());
  ASSERT_FALSE(read_only.empty());
  const std::string location = "azblob://" + std::string(kContainer) + "/app1?table=" + kTable +
                               "&create_table=true&endpoint=" + UrlEscape(azurite_->blob_endpoint()) +
                               "&table_endpoint=" + UrlEscape(azurite_->table_endpoint());
  DaemonOptions options;
  options.extra_bindings = "  - name: sas\n    url: '" + location + "'\n    credentials: {sas_token: '" + full +
                           "'}\n  - name: sas_read\n    url: '" + location +
                           "&max_attempts=1'\n    credentials: {sas_token: '?" + read_only + "'}\n";
  auto started = DaemonProcess::Start(options);
  ASSERT_TRUE(started.ok()) << started.status().message();
  auto client = Client::Connect((*started)->endpoint());
  ASSERT_TRUE(client.ok());

  TransferOptions sas;
  sas.call = On("sas");
  ASSERT_CK_OK((*client)->storage().PutObject(PutRequest("docs", "via-sas.txt", "written with a SAS"), sas));
  auto got = (*client)->storage().GetObject(GetRequest("docs", "via-sas.txt"), sas);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->data(), "written with a SAS");
  ASSERT_CK_OK((*client)->kv().Put(KvPut("users", "sas-user", "v"), On("sas")));
  auto item = (*client)->kv().Get(KvGet("users", "sas-user"), On("sas"));
  ASSERT_TRUE(item.ok()) << item.status().message();
  EXPECT_EQ(item->item().value(), "v");
  // The same data, through the account key's binding.
  EXPECT_EQ(*GetObject("via-sas.txt"), "written with a SAS");

  v1::PresignObjectRequest presign;
  presign.set_bucket("docs");
  presign.set_key("via-sas.txt");
  auto url = (*client)->storage().PresignObject(presign, On("sas"));
  EXPECT_EQ(url.status().code(), v1::FAILED_PRECONDITION) << url.status().message();

  TransferOptions reader;
  reader.call = On("sas_read");
  auto read = (*client)->storage().GetObject(GetRequest("docs", "via-sas.txt"), reader);
  ASSERT_TRUE(read.ok()) << read.status().message();
  auto refused = (*client)->storage().PutObject(PutRequest("docs", "nope.txt", "x"), reader);
  EXPECT_EQ(refused.status().code(), v1::PERMISSION_DENIED) << refused.status().message();
  const std::string log = (*started)->Log();
  EXPECT_EQ(log.find(full.substr(full.find("sig="))), std::string::npos) << "the token reached the log";
}

TEST_F(AzureCrossCheckTest, AStoppedServiceIsUnavailableThenRecovers) {
  ASSERT_TRUE(PutObject("k", "object").ok());
  ASSERT_TRUE(PutItem("k", "item").ok());
  azurite_->Stop();
  auto started = std::chrono::steady_clock::now();
  auto object = GetObject("k", milliseconds(3'000));
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(object.status().code(), v1::UNAVAILABLE) << object.status().message();
  EXPECT_LT(took, milliseconds(3'000)) << "retries stay within the call's deadline";
  started = std::chrono::steady_clock::now();
  auto item = GetItem("k", milliseconds(3'000));
  took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(item.status().code(), v1::UNAVAILABLE) << item.status().message();
  EXPECT_LT(took, milliseconds(3'000)) << "retries stay within the call's deadline";
  // Three failures in a row open a service's breaker: calls fail at once, saying so.
  for (int i = 0; i < 3; ++i) (void)GetObject("k", milliseconds(3'000));
  for (int i = 0; i < 3; ++i) (void)GetItem("k", milliseconds(3'000));
  auto paused = GetObject("k", milliseconds(3'000));
  EXPECT_EQ(paused.status().code(), v1::UNAVAILABLE);
  EXPECT_NE(paused.status().message().find("paused"), std::string::npos) << paused.status().message();
  auto paused_item = GetItem("k", milliseconds(3'000));
  EXPECT_EQ(paused_item.status().code(), v1::UNAVAILABLE);
  EXPECT_NE(paused_item.status().message().find("paused"), std::string::npos) << paused_item.status().message();

  ASSERT_TRUE(azurite_->Restart().ok());
  Result<std::string> object_back = Status::Unavailable("not tried");
  for (int i = 0; i < 50 && !object_back.ok(); ++i) {
    object_back = GetObject("k");
    if (!object_back.ok()) std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_TRUE(object_back.ok()) << object_back.status().message();
  EXPECT_EQ(*object_back, "object");
  Result<v1::GetResponse> item_back = Status::Unavailable("not tried");
  for (int i = 0; i < 50 && !item_back.ok(); ++i) {
    item_back = GetItem("k");
    if (!item_back.ok()) std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_TRUE(item_back.ok()) << item_back.status().message();
  EXPECT_EQ(item_back->item().value(), "item");
}

}  // namespace
}  // namespace cloudkit::integration
