// The browser hash port (wasm/browser_ports, src/hash_port.js): SHA-256 and
// HMAC-SHA256 give the published vectors, and AWS Signature V4 signs in the
// browser exactly as natively (the "get-vanilla" case of AWS's test suite).
#include <gtest/gtest.h>

#include "browser_ports.h"
#include "core/hex.h"
#include "providers/aws/sigv4.h"

namespace cloudkit::web {
namespace {

TEST(JsHashPortTest, Sha256AndHmacSha256MatchThePublishedVectors) {
  JsHashPort port;
  auto sha = port.NewSha256();
  sha->Update("a");
  sha->Update("bc");
  EXPECT_EQ(sha->FinishHex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ToHex(port.HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  auto md5 = port.NewMd5();
  md5->Update("abc");
  EXPECT_EQ(md5->FinishHex(), "900150983cd24fb0d6963f7d28e17f72");
}

TEST(JsHashPortTest, SignsAwsRequestsAsTheNativeHostDoes) {
  JsHashPort port;
  aws::SignedParts parts;
  parts.method = "GET";
  parts.path = "/";
  parts.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  parts.payload_sha256_hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  auto authorization = aws::Authorization(parts, {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""},
                                          {"us-east-1", "service", false}, port);
  ASSERT_TRUE(authorization.ok()) << authorization.status().message();
  EXPECT_EQ(*authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

}  // namespace
}  // namespace cloudkit::web
