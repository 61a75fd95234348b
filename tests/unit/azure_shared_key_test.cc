// Azure Storage Shared Key (actors/providers/azure/shared_key): the strings
// each service signs, built by the rules of Microsoft's "Authorize with
// Shared Key" (its canonicalized-resource examples included), and the
// signatures, checked against HMAC-SHA256 computed independently (Python's
// hmac module) with Azurite's documented key. Azurite itself verifies every
// signature of the provider in the cloud conformance suite.
#include "providers/azure/shared_key.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/base64.h"
#include "ports/openssl_hash.h"
#include "providers/aws/sigv4.h"
#include "providers/remote/http_errors.h"

namespace cloudkit::azure {
namespace {

constexpr char kAzuriteKey[] =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
constexpr int64_t kWhen = 1796180001000;  // Wed, 02 Dec 2026 02:53:21 GMT

ports::HttpRequest Request(std::string method, std::string url, ports::HttpHeaders headers = {}) {
  ports::HttpRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  request.headers = std::move(headers);
  return request;
}

// The canonicalized resource: what follows the last header line.
std::string ResourceOf(const ports::HttpRequest& request, const std::string& account) {
  std::string signed_text = BlobStringToSign(request, account);
  // 12 standard lines, no x-ms- headers here.
  size_t at = 0;
  for (int i = 0; i < 12; ++i) at = signed_text.find('\n', at) + 1;
  return signed_text.substr(at);
}

TEST(AzureSharedKeyTest, CanonicalizedResourcesOfTheDocumentedExamples) {
  EXPECT_EQ(ResourceOf(Request("GET", "http://myaccount.blob.core.windows.net/mycontainer?restype=container&comp=metadata"),
                       "myaccount"),
            "/myaccount/mycontainer\ncomp:metadata\nrestype:container");
  EXPECT_EQ(ResourceOf(Request("GET", "http://myaccount.blob.core.windows.net/mycontainer?restype=container&comp=list"
                                      "&include=snapshots&include=metadata&include=uncommittedblobs"),
                       "myaccount"),
            "/myaccount/mycontainer\ncomp:list\ninclude:metadata,snapshots,uncommittedblobs\nrestype:container");
  EXPECT_EQ(ResourceOf(Request("GET", "https://myaccount-secondary.blob.core.windows.net/mycontainer/myblob"), "myaccount"),
            "/myaccount/mycontainer/myblob");
  // An emulator's account in the path is part of the path (Azurite signs it so).
  EXPECT_EQ(ResourceOf(Request("GET", "http://127.0.0.1:10000/devstoreaccount1/c?Comp=list&prefix=a%2Fb+c"),
                       "devstoreaccount1"),
            "/devstoreaccount1/devstoreaccount1/c\ncomp:list\nprefix:a/b c");
}

TEST(AzureSharedKeyTest, BlobStringToSignTakesTheStandardAndMsHeaders) {
  ports::HttpRequest request =
      Request("PUT", "http://127.0.0.1:10000/devstoreaccount1/docs/a%20b.txt?comp=block&timeout=30",
              {{"Content-Type", "text/plain"},
               {"x-ms-version", "2021-12-02"},
               {"X-MS-Meta-Owner", " ada "},  // names lower-cased, values trimmed
               {"x-ms-date", "Wed, 02 Dec 2026 02:53:21 GMT"},
               {"x-ms-blob-type", "BlockBlob"},
               {"if-match", "\"0x1\""}});
  request.body = "hello world";
  EXPECT_EQ(BlobStringToSign(request, "devstoreaccount1"),
            "PUT\n\n\n11\n\ntext/plain\n\n\n\"0x1\"\n\n\n\n"
            "x-ms-blob-type:BlockBlob\nx-ms-date:Wed, 02 Dec 2026 02:53:21 GMT\nx-ms-meta-owner:ada\n"
            "x-ms-version:2021-12-02\n"
            "/devstoreaccount1/devstoreaccount1/docs/a%20b.txt\ncomp:block\ntimeout:30");
  request.body.clear();  // a zero length is signed as the empty string
  EXPECT_EQ(BlobStringToSign(request, "devstoreaccount1").substr(0, 8), "PUT\n\n\n\n\n");  // length, then MD5
}

TEST(AzureSharedKeyTest, TableStringToSignIsTheShortForm) {
  ports::HttpRequest request = Request("GET", "https://myaccount.table.core.windows.net/mytable()?$filter=x&comp=acl",
                                       {{"x-ms-date", "Wed, 02 Dec 2026 02:53:21 GMT"},
                                        {"content-type", "application/json"},
                                        {"accept", "application/json;odata=minimalmetadata"}});
  EXPECT_EQ(TableStringToSign(request, "myaccount"),
            "GET\n\napplication/json\nWed, 02 Dec 2026 02:53:21 GMT\n/myaccount/mytable()?comp=acl");
}

TEST(AzureSharedKeyTest, SignaturesAreHmacSha256UnderTheDecodedKey) {
  OpenSslHashPort hash;
  const SharedKey key{"devstoreaccount1", *Base64Decode(kAzuriteKey)};
  ports::HttpRequest blob =
      Request("PUT", "http://127.0.0.1:10000/devstoreaccount1/docs/a%20b.txt?comp=block&timeout=30",
              {{"content-type", "text/plain"}, {"x-ms-meta-owner", "ada"}, {"x-ms-blob-type", "BlockBlob"},
               {"if-match", "\"0x1\""}});
  blob.body = "hello world";
  ASSERT_TRUE(SignRequest(&blob, key, SignedService::kBlob, kWhen, hash).ok());
  EXPECT_EQ(remote::HeaderValue(blob.headers, "x-ms-date"), "Wed, 02 Dec 2026 02:53:21 GMT");
  EXPECT_EQ(remote::HeaderValue(blob.headers, "x-ms-version"), kBlobApiVersion);
  EXPECT_EQ(remote::HeaderValue(blob.headers, "authorization"),
            "SharedKey devstoreaccount1:Zba5nWS2cz08L1ryqAA3lCnhSjYo+rreyIZdhGt0h74=");

  ports::HttpRequest table =
      Request("GET", "http://127.0.0.1:10002/devstoreaccount1/mytable(PartitionKey='p',RowKey='r')");
  ASSERT_TRUE(SignRequest(&table, key, SignedService::kTable, kWhen, hash).ok());
  EXPECT_EQ(remote::HeaderValue(table.headers, "x-ms-version"), kTableApiVersion);
  EXPECT_EQ(remote::HeaderValue(table.headers, "authorization"),
            "SharedKey devstoreaccount1:YPmNgTQDIbsRCgobDYbqma9A37/gDEgVx0hhWYJxHN8=");

  ports::HttpRequest no_host = Request("GET", "/just/a/path");
  EXPECT_EQ(SignRequest(&no_host, key, SignedService::kBlob, kWhen, hash).code(), v1::INVALID_ARGUMENT);
}

TEST(AzureSharedKeyTest, BlobSasSignsSixteenFieldsAndNamesThemInTheQuery) {
  BlobSas sas{"docs", "dir/a b.txt", "r", 0, kWhen};
  const std::string signed_text = BlobSasStringToSign(sas, "devstoreaccount1");
  EXPECT_EQ(signed_text,
            "r\n\n2026-12-02T02:53:21Z\n/blob/devstoreaccount1/docs/dir/a b.txt\n\n\nhttps,http\n2021-12-02\nb\n\n\n"
            "\n\n\n\n");
  EXPECT_EQ(std::count(signed_text.begin(), signed_text.end(), '\n'), 15);
  OpenSslHashPort hash;
  const SharedKey key{"devstoreaccount1", *Base64Decode(kAzuriteKey)};
  const std::string query = BlobSasQuery(sas, key, hash);
  const std::string signature = Base64Encode(hash.HmacSha256(key.key, signed_text));
  EXPECT_EQ(query, "sv=2021-12-02&spr=https%2Chttp&se=2026-12-02T02%3A53%3A21Z&sr=b&sp=r&sig=" +
                       aws::UriEncode(signature, false));
}

}  // namespace
}  // namespace cloudkit::azure
