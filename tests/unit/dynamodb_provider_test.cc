// The `dynamodb` provider against a scripted DynamoDB: what dynalite cannot
// show. The requests' shape (JSON 1.0 protocol, Signature V4), the failed
// condition's item that AWS returns with ReturnValuesOnConditionCheckFailure,
// a conditional write whose lost answer had landed, BatchPut as one
// transaction, BatchGet's unprocessed keys, retries by error type, and
// creating the table on a service without TTL.
#include <gtest/gtest.h>

#include <deque>
#include <vector>

#include "ports/openssl_hash.h"
#include "providers/dynamodb/dynamodb_key_value.h"
#include "providers/remote/http_errors.h"
#include "providers/remote/remote_options.h"
#include "support/run_task.h"

namespace cloudkit::dynamodb {
namespace {

using testing_util::RunTask;

class StringBody : public ports::HttpBodyReader {
 public:
  explicit StringBody(std::string body) : body_(std::move(body)) {}
  Async<Result<std::string>> Read(size_t max_bytes) override {
    std::string piece = body_.substr(0, max_bytes);
    body_.erase(0, piece.size());
    return Async<Result<std::string>>::Ready(std::move(piece));
  }

 private:
  std::string body_;
};

// Answers each request with the next scripted answer, and keeps what was sent.
class ScriptedDynamo : public ports::HttpClient {
 public:
  struct Sent {
    std::string method;
    std::string url;
    ports::HttpHeaders headers;
    std::string operation;  // from X-Amz-Target
    Json body;
  };
  void Answer(std::string operation, int status, std::string body) {
    script_.push_back({std::move(operation), status, std::move(body)});
  }
  Async<Result<ports::HttpResponse>> Send(ports::HttpRequest request) override {
    std::string target(remote::HeaderValue(request.headers, "x-amz-target"));
    const std::string prefix = "DynamoDB_20120810.";
    EXPECT_EQ(target.compare(0, prefix.size(), prefix), 0) << target;
    sent.push_back({request.method, request.url, request.headers, target.substr(prefix.size()),
                    Json::parse(request.body, nullptr, false)});
    if (script_.empty()) {
      ADD_FAILURE() << "unscripted request " << target;
      return Async<Result<ports::HttpResponse>>::Ready(Status::Internal("unscripted"));
    }
    Scripted next = std::move(script_.front());
    script_.pop_front();
    EXPECT_EQ(sent.back().operation, next.operation);
    ports::HttpResponse response;
    response.status = next.status;
    response.headers = {{"content-type", "application/x-amz-json-1.0"}};
    response.body = std::make_unique<StringBody>(std::move(next.body));
    return Async<Result<ports::HttpResponse>>::Ready(std::move(response));
  }
  bool done() const { return script_.empty(); }
  std::vector<Sent> sent;

 private:
  struct Scripted {
    std::string operation;
    int status;
    std::string body;
  };
  std::deque<Scripted> script_;
};

class NoWaitSleep : public ports::SleepPort {
 public:
  Async<bool> Sleep(int64_t ms) override {
    ++sleeps;
    return Async<bool>::Ready(true);
  }
  int sleeps = 0;
};

std::string Error(const std::string& type, const std::string& extra = "") {
  return R"({"__type":"com.amazonaws.dynamodb.v20120810#)" + type + R"(","message":"refused")" + extra + "}";
}
std::string ItemJson(const std::string& key, const std::string& value, const std::string& etag) {
  return Dump(AttributesOf("users", StoredItem{key, value, etag, 0}));
}
constexpr char kGeneration7[] = R"({"Attributes":{"n":{"N":"7"}}})";

class DynamoProviderTest : public ::testing::Test {
 protected:
  std::unique_ptr<DynamoKeyValue> Open(std::map<std::string, std::string> options = {}) {
    BindingConfig config{"kv", "dynamodb", {}, std::move(options), {}};
    config.options["table"] = "main";
    config.options["backoff_base_ms"] = "1";
    config.credentials = {{"access_key_id", "AKID"}, {"secret_access_key", "secret"}};
    Result<DynamoLocation> location = DynamoLocationFromBinding(config);
    Result<remote::RemoteOptions> remote_options = remote::ParseRemoteOptions(config);
    EXPECT_TRUE(location.ok() && remote_options.ok());
    HostPorts ports{&clock_, &hash_, nullptr, ""};
    ports.http = &http_;
    ports.sleep = &sleep_;
    return std::make_unique<DynamoKeyValue>("kv", std::move(*location), *remote_options, ports);
  }

  testing_util::TestTurn turn_;
  ports::ManualClock clock_;
  OpenSslHashPort hash_;
  ScriptedDynamo http_;
  NoWaitSleep sleep_;
};

TEST_F(DynamoProviderTest, EachCallIsASignedJsonRequestToItsOperation) {
  auto kv = Open();
  http_.Answer("GetItem", 200, R"({"Item":)" + ItemJson("k", "value", "1-1") + "}");
  v1::GetRequest get;
  get.set_table("users");
  get.set_key("k");
  auto got = RunTask(kv->Get(get));
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->item().value(), "value");
  EXPECT_EQ(got->item().etag(), "1-1");

  ASSERT_EQ(http_.sent.size(), 1u);
  const auto& sent = http_.sent[0];
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.url, "https://dynamodb.us-east-1.amazonaws.com/");
  EXPECT_EQ(remote::HeaderValue(sent.headers, "content-type"), "application/x-amz-json-1.0");
  const std::string authorization(remote::HeaderValue(sent.headers, "authorization"));
  EXPECT_NE(authorization.find("Credential=AKID/"), std::string::npos) << authorization;
  EXPECT_NE(authorization.find("/us-east-1/dynamodb/aws4_request"), std::string::npos) << authorization;
  EXPECT_NE(authorization.find("x-amz-target"), std::string::npos) << "the target is signed: " << authorization;
  EXPECT_TRUE(remote::HeaderValue(sent.headers, "x-amz-content-sha256").empty()) << "S3's header only";
  EXPECT_EQ(sent.body["TableName"], "main");
  EXPECT_EQ(sent.body["Key"], Json::parse(R"({"pk":{"S":"users"},"sk":{"S":"k"}})"));
  EXPECT_EQ(sent.body["ConsistentRead"], true);
}

TEST_F(DynamoProviderTest, AFailedConditionIsJudgedOnTheItemDynamoDbReturnsWithIt) {
  auto kv = Open();
  http_.Answer("UpdateItem", 200, kGeneration7);
  http_.Answer("PutItem", 400,
               Error("ConditionalCheckFailedException", R"(,"Item":)" + ItemJson("k", "theirs", "5-5")));
  v1::PutRequest put;
  put.set_table("users");
  put.set_key("k");
  put.set_value("mine");
  put.set_if_match("1-1");
  auto written = RunTask(kv->Put(put));
  EXPECT_EQ(written.status().code(), v1::FAILED_PRECONDITION);
  EXPECT_EQ(written.status().message(), "failed precondition: item 'k' in table 'users' has ETag 5-5, not 1-1");
  ASSERT_EQ(http_.sent.size(), 2u) << "no read after the refusal: it carried the item";
  const Json& body = http_.sent[1].body;
  EXPECT_EQ(body["Item"]["etag"], Json::parse(R"({"S":"7-1"})")) << "generation 7, first write";
  EXPECT_EQ(body["ConditionExpression"], "(#etag = :etag AND (attribute_not_exists(#exp_ms) OR #exp_ms > :now))");
  EXPECT_EQ(body["ReturnValuesOnConditionCheckFailure"], "ALL_OLD");
  EXPECT_EQ(body["ExpressionAttributeValues"][":etag"], Json::parse(R"({"S":"1-1"})"));
}

TEST_F(DynamoProviderTest, AConditionalPutWhoseLostAnswerHadLandedSucceeds) {
  auto kv = Open();
  http_.Answer("UpdateItem", 200, kGeneration7);
  http_.Answer("PutItem", 500, Error("InternalServerError"));
  // The first try was written after all: the retry finds the ETag it writes.
  http_.Answer("PutItem", 400, Error("ConditionalCheckFailedException", R"(,"Item":)" + ItemJson("k", "v", "7-1")));
  v1::PutRequest put;
  put.set_table("users");
  put.set_key("k");
  put.set_value("v");
  put.set_if_absent(true);
  auto written = RunTask(kv->Put(put));
  ASSERT_TRUE(written.ok()) << written.status().message();
  EXPECT_EQ(written->etag(), "7-1");
  ASSERT_EQ(http_.sent.size(), 3u);
  EXPECT_EQ(http_.sent[1].body, http_.sent[2].body) << "a retry sends the same item";
  EXPECT_EQ(sleep_.sleeps, 1);
}

TEST_F(DynamoProviderTest, WithoutTheItemInTheRefusalTheItemIsReadToTellWhy) {
  auto kv = Open();
  v1::DeleteRequest del;
  del.set_table("users");
  del.set_key("k");
  del.set_if_match("1-1");
  // dynalite, or AWS when the item is absent, returns no Item.
  http_.Answer("DeleteItem", 400, Error("ConditionalCheckFailedException"));
  http_.Answer("GetItem", 200, "{}");
  auto absent = RunTask(kv->Delete(del));
  EXPECT_EQ(absent.status().code(), v1::NOT_FOUND);
  EXPECT_EQ(absent.status().message(), "not found: item 'k' in table 'users'");

  http_.Answer("DeleteItem", 400, Error("ConditionalCheckFailedException"));
  http_.Answer("GetItem", 200, R"({"Item":)" + ItemJson("k", "v", "5-5") + "}");
  EXPECT_EQ(RunTask(kv->Delete(del)).status().code(), v1::FAILED_PRECONDITION);
  ASSERT_EQ(http_.sent.size(), 4u);
  EXPECT_EQ(http_.sent[0].body["ReturnValues"], "ALL_OLD");
  EXPECT_EQ(http_.sent[1].body["ConsistentRead"], true);
}

TEST_F(DynamoProviderTest, BatchPutIsOneTransactionWithTheLastEntryOfEachKey) {
  auto kv = Open();
  http_.Answer("UpdateItem", 200, R"({"Attributes":{"n":{"N":"2"}}})");
  http_.Answer("TransactWriteItems", 200, "{}");
  v1::BatchPutRequest batch;
  batch.set_table("users");
  for (const char* key : {"a", "b", "a"}) {
    auto* entry = batch.add_entries();
    entry->set_key(key);
    entry->set_value(std::string("v") + std::to_string(batch.entries_size()));
  }
  batch.mutable_entries(1)->set_ttl_ms(1500);
  auto written = RunTask(kv->BatchPut(batch));
  ASSERT_TRUE(written.ok()) << written.status().message();
  ASSERT_EQ(written->etags_size(), 3);
  EXPECT_EQ(written->etags(0), "2-1");
  EXPECT_EQ(written->etags(2), "2-3");
  ASSERT_EQ(http_.sent.size(), 2u);
  const Json& body = http_.sent[1].body;
  ASSERT_EQ(body["TransactItems"].size(), 2u);
  EXPECT_EQ(body["ClientRequestToken"], "2-1");
  const Json& b = body["TransactItems"][0]["Put"];
  EXPECT_EQ(b["TableName"], "main");
  EXPECT_EQ(b["Item"]["sk"], Json::parse(R"({"S":"b"})"));
  EXPECT_EQ(b["Item"]["exp_ms"]["N"], std::to_string(clock_.NowMs() + 1500));
  const Json& a = body["TransactItems"][1]["Put"]["Item"];
  EXPECT_EQ(a["sk"], Json::parse(R"({"S":"a"})"));
  EXPECT_EQ(a["etag"], Json::parse(R"({"S":"2-3"})")) << "the last entry for 'a' wins";
  EXPECT_TRUE(kv->Unsupported().empty());
}

TEST_F(DynamoProviderTest, BatchPutWithoutTransactionsIsUnimplementedAndSaysSo) {
  auto kv = Open({{"transactions", "false"}});
  v1::BatchPutRequest batch;
  batch.set_table("users");
  batch.add_entries()->set_key("a");
  auto written = RunTask(kv->BatchPut(batch));
  EXPECT_EQ(written.status().code(), v1::UNIMPLEMENTED);
  EXPECT_TRUE(http_.sent.empty()) << "never written one entry at a time";
  ASSERT_EQ(kv->Unsupported().size(), 1u);
  EXPECT_NE(kv->Unsupported()[0].find("atomic BatchPut"), std::string::npos);
}

TEST_F(DynamoProviderTest, BatchGetAsksAgainForUnprocessedKeysAndKeepsRequestOrder) {
  auto kv = Open();
  const Json c_key = KeyOf("users", "c");
  http_.Answer("BatchGetItem", 200,
               R"({"Responses":{"main":[)" + ItemJson("a", "1", "1-1") + R"(]},"UnprocessedKeys":{"main":{"Keys":[)" +
                   Dump(c_key) + "]}}}");
  http_.Answer("BatchGetItem", 200, R"({"Responses":{"main":[)" + ItemJson("c", "3", "1-3") + R"(]}})");
  v1::BatchGetRequest batch;
  batch.set_table("users");
  for (const char* key : {"c", "b", "a", "c"}) batch.add_keys(key);
  auto got = RunTask(kv->BatchGet(batch));
  ASSERT_TRUE(got.ok()) << got.status().message();
  ASSERT_EQ(got->items_size(), 3);
  EXPECT_EQ(got->items(0).key(), "c");
  EXPECT_EQ(got->items(1).key(), "a");
  EXPECT_EQ(got->items(2).key(), "c");
  ASSERT_EQ(got->missing_size(), 1);
  EXPECT_EQ(got->missing(0), "b");
  ASSERT_EQ(http_.sent.size(), 2u);
  EXPECT_EQ(http_.sent[0].body["RequestItems"]["main"]["Keys"].size(), 3u) << "each key once";
  EXPECT_EQ(http_.sent[1].body["RequestItems"]["main"]["Keys"], Json::array({c_key}));
  EXPECT_EQ(sleep_.sleeps, 1);
}

TEST_F(DynamoProviderTest, RefusedCredentialsAreNotRetriedAndThrottlingIs) {
  auto kv = Open();
  v1::GetRequest get;
  get.set_table("users");
  get.set_key("k");
  http_.Answer("GetItem", 400, Error("UnrecognizedClientException"));
  EXPECT_EQ(RunTask(kv->Get(get)).status().code(), v1::UNAUTHENTICATED);
  EXPECT_EQ(http_.sent.size(), 1u);

  http_.Answer("GetItem", 400, Error("ProvisionedThroughputExceededException"));
  http_.Answer("GetItem", 200, "{}");
  auto got = RunTask(kv->Get(get));
  EXPECT_EQ(got.status().code(), v1::NOT_FOUND);
  EXPECT_EQ(got.status().message(), "not found: item 'k' in table 'users'");
  EXPECT_EQ(http_.sent.size(), 3u);
  EXPECT_TRUE(http_.done());
}

TEST_F(DynamoProviderTest, CreatingTheTableWaitsTillActiveAndToleratesAServiceWithoutTtl) {
  auto kv = Open({{"create_table", "true"}});
  http_.Answer("CreateTable", 200, R"({"TableDescription":{"TableStatus":"CREATING"}})");
  http_.Answer("DescribeTable", 200, R"({"Table":{"TableStatus":"CREATING"}})");
  http_.Answer("DescribeTable", 200, R"({"Table":{"TableStatus":"ACTIVE"}})");
  http_.Answer("UpdateTimeToLive", 400, R"({"__type":"com.amazon.coral.service#UnknownOperationException"})");
  http_.Answer("GetItem", 200, "{}");
  v1::ExistsRequest exists;
  exists.set_table("users");
  exists.set_key("k");
  auto first = RunTask(kv->Exists(exists));
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_FALSE(first->exists());
  const Json& create = http_.sent[0].body;
  EXPECT_EQ(create["TableName"], "main");
  EXPECT_EQ(create["BillingMode"], "PAY_PER_REQUEST");
  EXPECT_EQ(create["KeySchema"], Json::parse(R"([{"AttributeName":"pk","KeyType":"HASH"},
                                                  {"AttributeName":"sk","KeyType":"RANGE"}])"));
  EXPECT_EQ(http_.sent[3].body["TimeToLiveSpecification"], Json::parse(R"({"Enabled":true,"AttributeName":"exp"})"));
  EXPECT_EQ(http_.sent[4].body["ProjectionExpression"], "#sk, #etag, #exp_ms") << "Exists reads no value";

  http_.Answer("GetItem", 200, "{}");
  (void)RunTask(kv->Exists(exists));
  EXPECT_EQ(http_.sent.size(), 6u) << "the table is made once";

  // A table that exists already is fine too.
  auto again = Open({{"create_table", "true"}});
  http_.Answer("CreateTable", 400, R"({"__type":"com.amazonaws.dynamodb.v20120810#ResourceInUseException"})");
  http_.Answer("DescribeTable", 200, R"({"Table":{"TableStatus":"ACTIVE"}})");
  http_.Answer("UpdateTimeToLive", 400, Error("ValidationException"));  // "TimeToLive is already enabled"
  http_.Answer("GetItem", 200, "{}");
  EXPECT_TRUE(RunTask(again->Exists(exists)).ok());
  EXPECT_TRUE(http_.done());
}

}  // namespace
}  // namespace cloudkit::dynamodb
