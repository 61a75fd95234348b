// The pieces the providers of remote services share, and the s3 provider's
// own: base64 and HTTP dates, the mapping from a service's refusal to a
// protocol status, where an s3 binding's requests go, S3's XML documents, and
// how the registry resolves credentials (config first, then the environment;
// unknown names refused).
#include <gtest/gtest.h>

#include "core/base64.h"
#include "providers/registry.h"
#include "providers/remote/http_errors.h"
#include "providers/remote/timestamps.h"
#include "providers/s3/s3_location.h"
#include "providers/s3/s3_object_storage.h"
#include "providers/s3/s3_xml.h"

namespace cloudkit {
namespace {

TEST(Base64Test, RoundTripsAndRefusesWhatIsNotBase64) {
  for (std::string bytes : {std::string(""), std::string("f"), std::string("fo"), std::string("foo"),
                            std::string("\0\xff\x10zz", 5)}) {
    auto decoded = Base64Decode(Base64Encode(bytes));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, bytes);
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_FALSE(Base64Decode("Zm9").has_value());
  EXPECT_FALSE(Base64Decode("Zm=v").has_value());
  EXPECT_FALSE(Base64Decode("Z!9v").has_value());
}

TEST(TimestampsTest, ReadsAndWritesWhatServicesSend) {
  EXPECT_EQ(remote::ParseHttpDate("Wed, 02 Dec 2026 02:53:21 GMT"), 1796180001000);
  EXPECT_EQ(remote::ParseIso8601("2026-12-02T02:53:21.250Z"), 1796180001250);
  EXPECT_EQ(remote::ParseIso8601("2026-12-02T02:53:21Z"), 1796180001000);
  EXPECT_EQ(remote::FormatHttpDate(1796180001999), "Wed, 02 Dec 2026 02:53:21 GMT");
  EXPECT_EQ(remote::FormatHttpDate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_FALSE(remote::ParseHttpDate("Wed, 02 Foo 2026 02:53:21 GMT").has_value());
  EXPECT_FALSE(remote::ParseIso8601("2026-12-02 02:53:21Z").has_value());
}

TEST(HttpErrorsTest, StatusesFollowTheHttpStatusAndNameTheResource) {
  auto status = [](int http) { return remote::StatusForHttpError({http, "Code", "why", 0}, "object 'a'"); };
  EXPECT_EQ(status(404).code(), v1::NOT_FOUND);
  EXPECT_EQ(status(409).code(), v1::ABORTED);
  EXPECT_EQ(status(412).code(), v1::FAILED_PRECONDITION);
  EXPECT_EQ(status(401).code(), v1::UNAUTHENTICATED);
  EXPECT_EQ(status(403).code(), v1::PERMISSION_DENIED);
  EXPECT_EQ(status(429).code(), v1::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(status(429).retryable());
  EXPECT_EQ(status(503).code(), v1::UNAVAILABLE);
  EXPECT_TRUE(status(503).retryable());
  EXPECT_EQ(status(400).code(), v1::INVALID_ARGUMENT);
  EXPECT_FALSE(status(400).retryable());
  EXPECT_NE(status(404).message().find("object 'a'"), std::string::npos);
  EXPECT_EQ(remote::RetryAfterMs({{"retry-after", "3"}}), 3000u);
  EXPECT_EQ(remote::RetryAfterMs({{"retry-after", "soon"}}), 0u);
  EXPECT_EQ(remote::OneLine("a\nb", 10), "a b");
  EXPECT_EQ(remote::OneLine("a\xc2\x9b" "2Jb\xff", 10), "a\\xc2\\x9b2Jb\\xff");  // no terminal escape gets through
}

std::string S3ErrorBody(const std::string& code) {
  return "<?xml version=\"1.0\"?><Error><Code>" + code + "</Code><Message>m</Message></Error>";
}

TEST(S3ErrorsTest, S3CodesBecomeTheRightStatuses) {
  const std::string what = "object 'a.txt' in bucket 'docs'";
  EXPECT_EQ(s3::MapS3Error(404, {}, S3ErrorBody("NoSuchKey"), what).message(), "not found: " + what);
  EXPECT_EQ(s3::MapS3Error(404, {}, "", what).code(), v1::NOT_FOUND);  // a HEAD has no body
  EXPECT_EQ(s3::MapS3Error(404, {}, S3ErrorBody("NoSuchBucket"), what).code(), v1::FAILED_PRECONDITION);
  EXPECT_EQ(s3::MapS3Error(412, {}, S3ErrorBody("PreconditionFailed"), what).code(), v1::FAILED_PRECONDITION);
  EXPECT_EQ(s3::MapS3Error(304, {}, "", what).code(), v1::FAILED_PRECONDITION);
  EXPECT_EQ(s3::MapS3Error(403, {}, S3ErrorBody("SignatureDoesNotMatch"), what).code(), v1::UNAUTHENTICATED);
  EXPECT_EQ(s3::MapS3Error(403, {}, S3ErrorBody("InvalidAccessKeyId"), what).code(), v1::UNAUTHENTICATED);
  EXPECT_EQ(s3::MapS3Error(403, {}, S3ErrorBody("AccessDenied"), what).code(), v1::PERMISSION_DENIED);
  // A HEAD's 403 cannot say whether the credentials were refused: the message says both.
  Status head_refused = s3::MapS3Error(403, {}, "", what);
  EXPECT_EQ(head_refused.code(), v1::PERMISSION_DENIED);
  EXPECT_NE(head_refused.message().find("credentials are wrong"), std::string::npos) << head_refused.message();
  Status slow = s3::MapS3Error(503, {{"retry-after", "2"}}, S3ErrorBody("SlowDown"), what);
  EXPECT_EQ(slow.code(), v1::UNAVAILABLE);
  EXPECT_TRUE(slow.retryable());
  EXPECT_EQ(slow.retry_after_ms(), 2000u);
  EXPECT_EQ(s3::MapS3Error(409, {}, S3ErrorBody("OperationAborted"), what).code(), v1::ABORTED);
  EXPECT_EQ(s3::MapS3Error(400, {}, S3ErrorBody("EntityTooLarge"), what).code(), v1::INVALID_ARGUMENT);
}

BindingConfig S3Binding(std::map<std::string, std::string> options) {
  BindingConfig config{"files", "s3", {}, std::move(options), {}};
  config.credentials = {{"access_key_id", "AKID"}, {"secret_access_key", "secret"}};
  return config;
}

TEST(S3LocationTest, AwsIsVirtualHostedAndEndpointsArePathStyle) {
  auto aws = s3::S3LocationFromBinding(S3Binding({{"bucket", "my-bucket"}, {"region", "eu-west-1"}, {"prefix", "/app1"}}));
  ASSERT_TRUE(aws.ok()) << aws.status().message();
  EXPECT_EQ(aws->UrlOf(aws->ObjectKey("docs", "a b/c.txt")),
            "https://my-bucket.s3.eu-west-1.amazonaws.com/app1/docs/a%20b/c.txt");
  EXPECT_EQ(aws->MarkerKey("docs"), "app1/.cloudkit-buckets/docs");
  auto local = s3::S3LocationFromBinding(S3Binding({{"bucket", "b12"}, {"endpoint", "http://127.0.0.1:4568/"}}));
  ASSERT_TRUE(local.ok()) << local.status().message();
  EXPECT_EQ(local->UrlOf("docs/k", "list-type=2"), "http://127.0.0.1:4568/b12/docs/k?list-type=2");
  auto hosted = s3::S3LocationFromBinding(
      S3Binding({{"bucket", "b12"}, {"endpoint", "https://storage.example"}, {"path_style", "false"}}));
  ASSERT_TRUE(hosted.ok());
  EXPECT_EQ(hosted->UrlOf("k"), "https://b12.storage.example/k");
}

TEST(S3LocationTest, BadOptionsAndMissingCredentialsAreRefused) {
  EXPECT_EQ(s3::S3LocationFromBinding(S3Binding({{"bucket", "Bad_Bucket"}})).status().code(), v1::INVALID_ARGUMENT);
  EXPECT_EQ(s3::S3LocationFromBinding(S3Binding({{"bucket", "b12"}, {"endpoint", "ftp://x"}})).status().code(),
            v1::INVALID_ARGUMENT);
  EXPECT_EQ(s3::S3LocationFromBinding(S3Binding({{"bucket", "b12"}, {"part_size_mb", "4"}})).status().code(),
            v1::INVALID_ARGUMENT);
  BindingConfig anonymous = S3Binding({{"bucket", "b12"}});
  anonymous.credentials.clear();
  Status refused = s3::S3LocationFromBinding(anonymous).status();
  EXPECT_EQ(refused.code(), v1::UNAUTHENTICATED);
  EXPECT_NE(refused.message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
}

TEST(S3XmlTest, ReadsListingsAndWritesRequestBodies) {
  auto listing = s3::ParseListObjectsV2(
      "<?xml version=\"1.0\"?><ListBucketResult><IsTruncated>true</IsTruncated>"
      "<Contents><Key>p/a</Key><Size>3</Size><ETag>\"e\"</ETag><LastModified>2026-12-02T02:53:21.000Z</LastModified></Contents>"
      "<CommonPrefixes><Prefix>p/d/</Prefix></CommonPrefixes>"
      "<NextContinuationToken>tok</NextContinuationToken></ListBucketResult>");
  ASSERT_TRUE(listing.ok()) << listing.status().message();
  ASSERT_EQ(listing->objects.size(), 1u);
  EXPECT_EQ(listing->objects[0].key, "p/a");
  EXPECT_EQ(listing->objects[0].size, 3u);
  EXPECT_EQ(listing->objects[0].last_modified_ms, 1796180001000);
  EXPECT_EQ(listing->common_prefixes, std::vector<std::string>{"p/d/"});
  EXPECT_TRUE(listing->truncated);
  EXPECT_EQ(listing->next_continuation_token, "tok");
  EXPECT_EQ(s3::ParseListObjectsV2("<html>").status().code(), v1::INTERNAL);
  const std::string body = s3::DeleteObjectsBody({"a&b", "<c>"});
  EXPECT_NE(body.find("<Key>a&amp;b</Key>"), std::string::npos) << body;
  EXPECT_NE(body.find("<Key>&lt;c&gt;</Key>"), std::string::npos) << body;
  EXPECT_NE(s3::CompleteMultipartUploadBody({"\"e1\"", "\"e2\""}).find("<PartNumber>2</PartNumber>"), std::string::npos);
}

TEST(RegistryCredentialsTest, TheEnvironmentFillsWhatTheConfigLeavesOutAndUnknownNamesAreRefused) {
  ProviderRegistry registry;
  BindingConfig seen;
  ProviderFactory probe{"probe", "records what it is given", {kKeyValueService},
                        {{"region", "", "", "PROBE_REGION"}},
                        [&seen](const BindingConfig& config, const HostPorts&) -> Result<BindingInstance> {
                          seen = config;
                          return BindingInstance();
                        },
                        {{"key", "", "PROBE_KEY"}, {"token", "", "PROBE_TOKEN"}}};
  ASSERT_TRUE(registry.Register(std::move(probe)).ok());
  HostPorts ports;
  ports.environment = [](const std::string& name) -> std::optional<std::string> {
    if (name == "PROBE_REGION") return "from-env";
    if (name == "PROBE_KEY") return "key-from-env";
    if (name == "PROBE_TOKEN") return "token-from-env";
    return std::nullopt;
  };
  BindingConfig config{"b", "probe", {}, {}, {{"key", "key-from-config"}}};
  ASSERT_TRUE(registry.Create(config, ports).ok());
  EXPECT_EQ(seen.credentials.at("key"), "key-from-config");
  EXPECT_EQ(seen.credentials.at("token"), "token-from-env");
  EXPECT_EQ(seen.options.at("region"), "from-env");

  config.credentials = {{"password", "hush"}};
  Status refused = registry.Create(config, ports).status();
  EXPECT_EQ(refused.code(), v1::INVALID_ARGUMENT);
  EXPECT_NE(refused.message().find("'password'"), std::string::npos) << refused.message();
  EXPECT_EQ(refused.message().find("hush"), std::string::npos) << "a secret in a message";
}

}  // namespace
}  // namespace cloudkit
