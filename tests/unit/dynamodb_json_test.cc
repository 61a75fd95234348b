// The `dynamodb` provider's pure parts: how items are laid out as DynamoDB's
// JSON, what DynamoDB's error documents become, the expressions' placeholders,
// list tokens, and the binding's options. (Its behaviour against a server is
// the conformance suite's, on dynalite; what dynalite cannot show is in
// dynamodb_provider_test.cc.)
#include <gtest/gtest.h>

#include "ports/openssl_hash.h"
#include "providers/binding_url.h"
#include "providers/dynamodb/dynamodb_errors.h"
#include "providers/dynamodb/dynamodb_expressions.h"
#include "providers/dynamodb/dynamodb_items.h"
#include "providers/dynamodb/dynamodb_list_token.h"
#include "providers/dynamodb/dynamodb_location.h"

namespace cloudkit::dynamodb {
namespace {

TEST(DynamoItemsTest, AnItemRoundTripsThroughItsAttributes) {
  StoredItem item{"user:1", std::string("\0bytes\xff", 7), "3-a", 1'700'000'001'500};
  const Json attributes = AttributesOf("users", item);
  EXPECT_EQ(attributes["pk"], Json::parse(R"({"S":"users"})"));
  EXPECT_EQ(attributes["sk"], Json::parse(R"({"S":"user:1"})"));
  EXPECT_EQ(attributes["v"], Json::parse(R"({"B":"AGJ5dGVz/w=="})"));
  EXPECT_EQ(attributes["etag"], Json::parse(R"({"S":"3-a"})"));
  EXPECT_EQ(attributes["exp_ms"], Json::parse(R"({"N":"1700000001500"})"));
  EXPECT_EQ(attributes["exp"], Json::parse(R"({"N":"1700000002"})")) << "TTL seconds round up";

  Result<StoredItem> parsed = ParseItem(attributes, "item");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->key, item.key);
  EXPECT_EQ(parsed->value, item.value);
  EXPECT_EQ(parsed->etag, item.etag);
  EXPECT_EQ(parsed->expires_at_ms, item.expires_at_ms);
}

TEST(DynamoItemsTest, ItemsWithoutExpiryHaveNoTtlAttributesAndLiveForever) {
  const Json attributes = AttributesOf("t", StoredItem{"k", "", "1-1", 0});
  EXPECT_FALSE(attributes.contains("exp"));
  EXPECT_FALSE(attributes.contains("exp_ms"));
  Result<StoredItem> parsed = ParseItem(attributes, "item");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->value, "");
  EXPECT_TRUE(parsed->LiveAt(INT64_MAX));
  StoredItem expiring{"k", "", "1-1", 1000};
  EXPECT_TRUE(expiring.LiveAt(999));
  EXPECT_FALSE(expiring.LiveAt(1000)) << "expired at its expiry, as the embedded provider's";
}

TEST(DynamoItemsTest, ItemsOtherApplicationsWroteAreReadWithTheForeignEtag) {
  Result<StoredItem> parsed = ParseItem(Json::parse(R"({"sk":{"S":"k"},"v":{"S":"text"}})"), "item 'k'");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->value, "text");
  EXPECT_EQ(parsed->etag, kForeignEtag);
  Expressions e;
  EXPECT_EQ(HasEtag(e, kForeignEtag, 1234),
            "(attribute_exists(#pk) AND attribute_not_exists(#etag) AND (attribute_not_exists(#exp_ms) OR "
            "#exp_ms > :now))");
}

TEST(DynamoItemsTest, RecordsOfOtherTypesAreInternalErrors) {
  for (const char* text : {R"({"sk":{"S":"k"},"etag":{"N":"1"}})",                        // ETag not a string
                           R"({"sk":{"S":"k"},"etag":{"S":"1"},"v":{"B":"not base64"}})",  //
                           R"({"sk":{"S":"k"},"etag":{"S":"1"},"v":{"N":"1"}})",           //
                           R"({"sk":{"S":"k"},"etag":{"S":"1"},"exp_ms":{"N":"soon"}})",   //
                           R"(["not an object"])"}) {
    Result<StoredItem> parsed = ParseItem(Json::parse(text), "item 'k' in table 't'");
    EXPECT_EQ(parsed.status().code(), v1::INTERNAL) << text;
    EXPECT_NE(parsed.status().message().find("item 'k' in table 't'"), std::string::npos);
  }
  // In a listing, the item another program wrote is named by its key.
  Result<StoredItem> listed =
      ParseItem(Json::parse(R"({"sk":{"S":"ext"},"v":{"N":"42"}})"), "the items of table 't'");
  EXPECT_EQ(listed.status().code(), v1::INTERNAL);
  EXPECT_NE(listed.status().message().find("item 'ext' (the items of table 't')"), std::string::npos)
      << listed.status().message();
}

TEST(DynamoItemsTest, AnswersThatAreNotJsonObjectsAreInternalErrors) {
  EXPECT_TRUE(ParseBody("{}", "x").ok());
  EXPECT_EQ(ParseBody("<html>", "x").status().code(), v1::INTERNAL);
  EXPECT_EQ(ParseBody("[1]", "x").status().code(), v1::INTERNAL);
  EXPECT_EQ(ParseBody("", "x").status().code(), v1::INTERNAL);
}

TEST(DynamoExpressionsTest, RequestsCarryExactlyThePlaceholdersTheirExpressionsUse) {
  Expressions e;
  const std::string condition = HasEtag(e, "1-2", 1234);
  EXPECT_EQ(condition, "(#etag = :etag AND (attribute_not_exists(#exp_ms) OR #exp_ms > :now))");
  Json request = Json::object();
  e.AddTo(&request);
  EXPECT_EQ(request["ExpressionAttributeNames"], Json::parse(R"({"#etag":"etag","#exp_ms":"exp_ms"})"));
  EXPECT_EQ(request["ExpressionAttributeValues"], Json::parse(R"({":etag":{"S":"1-2"},":now":{"N":"1234"}})"));

  Expressions keys;
  EXPECT_EQ(InTableWithPrefix(keys, "users", ""), "#pk = :table");
  Json query = Json::object();
  keys.AddTo(&query);
  EXPECT_EQ(query["ExpressionAttributeNames"].size(), 1u) << "no #sk without a prefix";
  Expressions prefixed;
  EXPECT_EQ(InTableWithPrefix(prefixed, "users", "a"), "#pk = :table AND begins_with(#sk, :prefix)");

  Expressions none;
  Json plain = Json::object();
  none.AddTo(&plain);
  EXPECT_TRUE(plain.empty()) << "DynamoDB refuses empty placeholder maps";
  Expressions absent;
  EXPECT_EQ(AbsentOrExpired(absent, 5), "(attribute_not_exists(#pk) OR #exp_ms <= :now)");
}

Status Map(int http, const std::string& body) {
  return MapDynamoError(http, {}, body, "item 'k' in table 'users'", "DynamoDB table 'main'");
}
std::string Type(const std::string& name) {
  return R"({"__type":"com.amazonaws.dynamodb.v20120810#)" + name + R"(","message":"said why"})";
}

TEST(DynamoErrorsTest, ErrorTypesBecomeTheirStatuses) {
  struct Case {
    std::string type;
    StatusCode code;
    bool retryable;
  };
  const Case cases[] = {
      {"ConditionalCheckFailedException", v1::FAILED_PRECONDITION, false},
      {"ResourceNotFoundException", v1::FAILED_PRECONDITION, false},
      {"ProvisionedThroughputExceededException", v1::RESOURCE_EXHAUSTED, true},
      {"RequestLimitExceeded", v1::RESOURCE_EXHAUSTED, true},
      {"ThrottlingException", v1::UNAVAILABLE, true},
      {"UnrecognizedClientException", v1::UNAUTHENTICATED, false},
      {"InvalidSignatureException", v1::UNAUTHENTICATED, false},
      {"MissingAuthenticationTokenException", v1::UNAUTHENTICATED, false},
      {"AccessDeniedException", v1::PERMISSION_DENIED, false},
      {"ValidationException", v1::INVALID_ARGUMENT, false},
      {"SerializationException", v1::INVALID_ARGUMENT, false},
      {"TransactionConflictException", v1::ABORTED, true},
      {"UnknownOperationException", v1::UNIMPLEMENTED, false},
  };
  for (const Case& c : cases) {
    const Status status = Map(400, Type(c.type));
    EXPECT_EQ(Status::CodeName(status.code()), Status::CodeName(c.code)) << c.type << ": " << status.message();
    EXPECT_EQ(status.retryable(), c.retryable) << c.type;
    EXPECT_NE(status.message().find("item 'k' in table 'users'"), std::string::npos) << status.message();
    EXPECT_NE(status.message().find(c.type), std::string::npos) << status.message();
  }
  // The coral service's own prefix (dynalite and AWS's front end use it).
  EXPECT_EQ(Map(400, R"({"__type":"com.amazon.coral.service#UnrecognizedClientException"})").code(),
            v1::UNAUTHENTICATED);
}

TEST(DynamoErrorsTest, AMissingTableNamesTheBindingsTable) {
  const Status status = Map(400, Type("ResourceNotFoundException"));
  EXPECT_NE(status.message().find("DynamoDB table 'main' does not exist"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("create_table"), std::string::npos) << status.message();
}

TEST(DynamoErrorsTest, ServerErrorsAreRetryableAndUnknownOnesFallBackOnTheHttpStatus) {
  EXPECT_EQ(Map(500, Type("InternalServerError")).code(), v1::UNAVAILABLE);
  EXPECT_TRUE(Map(500, Type("InternalServerError")).retryable());
  EXPECT_EQ(Map(503, "").code(), v1::UNAVAILABLE);
  EXPECT_TRUE(Map(503, "<html>busy</html>").retryable());
  EXPECT_EQ(Map(403, "").code(), v1::PERMISSION_DENIED);
  EXPECT_EQ(Map(400, Type("SomethingNewException")).code(), v1::INVALID_ARGUMENT);
}

TEST(DynamoErrorsTest, ACancelledTransactionTakesItsWorstReason) {
  auto cancelled = [](const std::string& reasons) {
    return Map(400, R"({"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException",)"
                    R"("Message":"Transaction cancelled","CancellationReasons":)" + reasons + "}");
  };
  EXPECT_EQ(cancelled(R"([{"Code":"None"},{"Code":"TransactionConflict"}])").code(), v1::ABORTED);
  EXPECT_TRUE(cancelled(R"([{"Code":"TransactionConflict"}])").retryable());
  EXPECT_EQ(cancelled(R"([{"Code":"None"},{"Code":"ValidationError"}])").code(), v1::INVALID_ARGUMENT);
  EXPECT_EQ(cancelled(R"([{"Code":"ThrottlingError"}])").code(), v1::RESOURCE_EXHAUSTED);
  EXPECT_EQ(cancelled(R"([{"Code":"ConditionalCheckFailed"}])").code(), v1::FAILED_PRECONDITION);
  const DynamoError parsed = ParseDynamoError(
      R"({"__type":"x#TransactionCanceledException","CancellationReasons":[{"Code":"None"},{}]})");
  EXPECT_EQ(parsed.type, "TransactionCanceledException");
  EXPECT_EQ(parsed.cancellation_reasons, (std::vector<std::string>{"None", ""}));
}

TEST(DynamoListTokenTest, TokensAreRefusedByEveryOtherListing) {
  OpenSslHashPort hash;
  const std::string tag = ListingTag(hash, "main", "users", "user:");
  const std::string token = EncodeListToken(tag, "user:104");
  EXPECT_EQ(DecodeListToken(token, tag), "user:104");
  EXPECT_EQ(DecodeListToken(token, ListingTag(hash, "main", "users", "user:1")), std::nullopt);
  EXPECT_EQ(DecodeListToken(token, ListingTag(hash, "main", "groups", "user:")), std::nullopt);
  EXPECT_EQ(DecodeListToken(token, ListingTag(hash, "other", "users", "user:")), std::nullopt);
  EXPECT_EQ(DecodeListToken("zz", tag), std::nullopt);
  EXPECT_EQ(DecodeListToken("", tag), std::nullopt);
}

BindingConfig Binding(std::map<std::string, std::string> options) {
  BindingConfig config{"kv", "dynamodb", {}, std::move(options), {}};
  config.credentials = {{"access_key_id", "AKID"}, {"secret_access_key", "secret"}};
  return config;
}

TEST(DynamoLocationTest, TheTableRegionAndEndpointComeFromTheBinding) {
  Result<DynamoLocation> aws = DynamoLocationFromBinding(Binding({{"table", "app-items"}, {"region", "eu-west-1"}}));
  ASSERT_TRUE(aws.ok()) << aws.status().message();
  EXPECT_EQ(aws->url, "https://dynamodb.eu-west-1.amazonaws.com/");
  EXPECT_FALSE(aws->create_table);
  EXPECT_TRUE(aws->transactions);
  Result<DynamoLocation> local = DynamoLocationFromBinding(Binding(
      {{"table", "t01"}, {"endpoint", "http://127.0.0.1:4567//"}, {"create_table", "true"}, {"transactions", "false"}}));
  ASSERT_TRUE(local.ok()) << local.status().message();
  EXPECT_EQ(local->url, "http://127.0.0.1:4567/");
  EXPECT_TRUE(local->create_table);
  EXPECT_FALSE(local->transactions);
  EXPECT_EQ(local->Describe(), "DynamoDB table 't01'");
}

TEST(DynamoLocationTest, BadOptionsAndMissingCredentialsAreRefused) {
  EXPECT_EQ(DynamoLocationFromBinding(Binding({})).status().code(), v1::INVALID_ARGUMENT);
  EXPECT_EQ(DynamoLocationFromBinding(Binding({{"table", "ab"}})).status().code(), v1::INVALID_ARGUMENT);
  EXPECT_EQ(DynamoLocationFromBinding(Binding({{"table", "a b c"}})).status().code(), v1::INVALID_ARGUMENT);
  EXPECT_EQ(DynamoLocationFromBinding(Binding({{"table", "abc"}, {"endpoint", "ftp://x"}})).status().code(),
            v1::INVALID_ARGUMENT);
  EXPECT_EQ(DynamoLocationFromBinding(Binding({{"table", "abc"}, {"create_table", "yes"}})).status().code(),
            v1::INVALID_ARGUMENT);
  BindingConfig anonymous = Binding({{"table", "abc"}});
  anonymous.credentials.clear();
  EXPECT_EQ(DynamoLocationFromBinding(anonymous).status().code(), v1::UNAUTHENTICATED);
}

TEST(DynamoLocationTest, ABindingUrlNamesTheTable) {
  Result<BindingConfig> config = ParseBindingUrl("kv", "dynamodb://app-items?region=eu-west-1&create_table=true");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->provider, "dynamodb");
  EXPECT_EQ(config->options.at("table"), "app-items");
  EXPECT_EQ(config->options.at("region"), "eu-west-1");
  EXPECT_EQ(config->options.at("create_table"), "true");
}

}  // namespace
}  // namespace cloudkit::dynamodb
