// What the azure provider reads from and writes to Azure Storage
// (actors/providers/azure): connection strings, error answers, blob
// listings, entities and entity group transactions, from documents shaped as
// Azure's REST reference shows them.
#include <gtest/gtest.h>

#include "providers/azure/azure_errors.h"
#include "providers/azure/azure_location.h"
#include "providers/azure/blob_properties.h"
#include "providers/azure/blob_xml.h"
#include "providers/azure/connection_string.h"
#include "providers/azure/table_batch.h"
#include "providers/azure/table_entities.h"

namespace cloudkit::azure {
namespace {

constexpr char kKey[] = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

TEST(AzureDocumentsTest, ConnectionStringsGiveAccountKeyAndEndpoints) {
  auto parsed = ParseConnectionString(std::string("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
                                                  "AccountKey=") + kKey +
                                      ";BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
                                      "QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;"
                                      "TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->protocol, "http");
  EXPECT_EQ(parsed->account_name, "devstoreaccount1");
  EXPECT_EQ(parsed->account_key, kKey);  // '=' padding kept
  EXPECT_EQ(parsed->blob_endpoint, "http://127.0.0.1:10000/devstoreaccount1");
  EXPECT_EQ(parsed->table_endpoint, "http://127.0.0.1:10002/devstoreaccount1");

  auto missing = ParseConnectionString("AccountName=a;SharedAccessSignature=sv=secret");
  EXPECT_EQ(missing.status().code(), v1::INVALID_ARGUMENT);
  auto garbled = ParseConnectionString("AccountName=a;AccountKey=secretkey;oops");
  EXPECT_EQ(garbled.status().code(), v1::INVALID_ARGUMENT);
  EXPECT_EQ(garbled.status().message().find("secret"), std::string::npos) << garbled.status().message();
}

TEST(AzureDocumentsTest, LocationsComeFromOptionsAndCredentials) {
  BindingConfig config{"b", "azure", {}, {{"container", "docs"}, {"prefix", "/app1"}}, {}};
  config.credentials = {{"account_name", "acct"}, {"account_key", kKey}};
  auto blob = BlobLocationFromBinding(config);
  ASSERT_TRUE(blob.ok()) << blob.status().message();
  EXPECT_EQ(blob->endpoint, "https://acct.blob.core.windows.net");
  EXPECT_EQ(blob->BlobUrl(blob->BlobName("photos", "a b/ü.jpg")),
            "https://acct.blob.core.windows.net/docs/app1/photos/a%20b/%C3%BC.jpg");
  EXPECT_EQ(blob->MarkerName("photos"), "app1/.cloudkit-buckets/photos");

  config.options["container"] = "Bad_Name";
  EXPECT_EQ(BlobLocationFromBinding(config).status().code(), v1::INVALID_ARGUMENT);
  config.options = {{"table", "items"}};
  config.credentials = {{"account_name", "acct"}, {"account_key", "not base64!"}};
  auto bad_key = TableLocationFromBinding(config);
  EXPECT_EQ(bad_key.status().code(), v1::INVALID_ARGUMENT);
  EXPECT_EQ(bad_key.status().message().find("not base64!"), std::string::npos);
  config.credentials.clear();
  EXPECT_EQ(TableLocationFromBinding(config).status().code(), v1::UNAUTHENTICATED);
  config.credentials = {{"connection_string", std::string("AccountName=acct;AccountKey=") + kKey +
                                                  ";EndpointSuffix=core.chinacloudapi.cn"}};
  auto table = TableLocationFromBinding(config);
  ASSERT_TRUE(table.ok()) << table.status().message();
  EXPECT_EQ(table->TableUrl("()"), "https://acct.table.core.chinacloudapi.cn/items()");
}

TEST(AzureDocumentsTest, ErrorsAreMappedByTheirCodes) {
  const std::string blob_missing =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>BlobNotFound</Code>"
      "<Message>The specified blob does not exist.\nRequestId:1\nTime:2026</Message></Error>";
  EXPECT_EQ(ParseAzureError({}, blob_missing).message, "The specified blob does not exist.");
  EXPECT_EQ(MapAzureError(404, {}, blob_missing, "object 'a'", "home").message(), "not found: object 'a'");
  EXPECT_EQ(MapAzureError(404, {{"x-ms-error-code", "ContainerNotFound"}}, "", "object 'a'", "the container 'c'").code(),
            v1::FAILED_PRECONDITION);
  const std::string exists =
      R"({"odata.error":{"code":"EntityAlreadyExists","message":{"lang":"en-US","value":"The specified entity already exists.\nRequestId:2"}}})";
  EXPECT_EQ(MapAzureError(409, {}, exists, "item 'k'", "home").code(), v1::ALREADY_EXISTS);
  EXPECT_EQ(MapAzureError(412, {}, "", "item 'k'", "home").code(), v1::FAILED_PRECONDITION);
  Status busy = MapAzureError(503, {{"x-ms-error-code", "ServerBusy"}}, "", "item 'k'", "home");
  EXPECT_EQ(busy.code(), v1::UNAVAILABLE);
  EXPECT_TRUE(busy.retryable());
  EXPECT_EQ(MapAzureError(403, {{"x-ms-error-code", "AuthenticationFailed"}}, "", "x", "home").code(),
            v1::UNAUTHENTICATED);
  EXPECT_EQ(MapAzureError(403, {{"x-ms-error-code", "AuthorizationPermissionMismatch"}}, "", "x", "home").code(),
            v1::PERMISSION_DENIED);
}

TEST(AzureDocumentsTest, BlobListingsGiveBlobsPrefixesAndTheNextMarker) {
  const std::string body =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
      "<EnumerationResults ServiceEndpoint=\"https://acct.blob.core.windows.net/\" ContainerName=\"docs\">"
      "<Prefix>p/</Prefix><MaxResults>2</MaxResults><Delimiter>/</Delimiter><Blobs>"
      "<Blob><Name>p/a.txt</Name><Properties><Last-Modified>Wed, 02 Dec 2026 02:53:21 GMT</Last-Modified>"
      "<Etag>0x8D4BCC2E4835CD0</Etag><Content-Length>11</Content-Length><Content-Type>text/plain</Content-Type>"
      "<Content-MD5>XrY7u+Ae7tCTyyK7j1rNww==</Content-MD5></Properties></Blob>"
      "<BlobPrefix><Name>p/dir/</Name></BlobPrefix>"
      "<Blob><Name Encoded=\"true\">p/%01bell</Name><Properties><Content-Length>0</Content-Length></Properties></Blob>"
      "</Blobs><NextMarker>2!token</NextMarker></EnumerationResults>";
  auto listing = ParseBlobListing(body);
  ASSERT_TRUE(listing.ok()) << listing.status().message();
  ASSERT_EQ(listing->blobs.size(), 2u);
  EXPECT_EQ(listing->blobs[0].name, "p/a.txt");
  EXPECT_EQ(listing->blobs[0].size, 11u);
  EXPECT_EQ(listing->blobs[0].content_md5, "XrY7u+Ae7tCTyyK7j1rNww==");
  EXPECT_EQ(listing->blobs[0].last_modified_ms, 1796180001000);
  EXPECT_EQ(listing->blobs[1].name, "p/\x01" "bell");
  EXPECT_EQ(listing->prefixes, std::vector<std::string>{"p/dir/"});
  EXPECT_EQ(listing->next_marker, "2!token");
  EXPECT_EQ(BlockListBody({"QQ==", "Qg=="}),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><Latest>QQ==</Latest><Latest>Qg==</Latest></BlockList>");
}

// Listings give Azure's ETag bare, HEADs quoted: the API shows one ETag for one blob either way.
TEST(AzureDocumentsTest, ABlobHasOneApiEtagWhereverItIsRead) {
  EXPECT_EQ(ApiEtag("", "\"0x8D9A1B2C3D4E5F6\""), "\"0x8D9A1B2C3D4E5F6\"");
  EXPECT_EQ(ApiEtag("", "0x8D9A1B2C3D4E5F6"), "\"0x8D9A1B2C3D4E5F6\"");
  EXPECT_EQ(ApiEtag("", ""), "");
  // With a Content-MD5 (every blob this provider writes), the quoted hex MD5.
  EXPECT_EQ(ApiEtag("XUFAKrxLKna5cZ2REBfFkg==", "0x8D9A1B2C3D4E5F6"), "\"5d41402abc4b2a76b9719d911017c592\"");
  EXPECT_TRUE(EtagMatches("0x8D9A1B2C3D4E5F6", ApiEtag("", "0x8D9A1B2C3D4E5F6")));
}

TEST(AzureDocumentsTest, EntitiesSplitValuesIntoPiecesAndReadBack) {
  const std::string value(kValuePieceBytes + 10, 'v');
  const std::string json = EntityJson("users", "ada", value, 42);
  auto entity = ParseEntity(json);
  ASSERT_TRUE(entity.ok()) << entity.status().message();
  EXPECT_EQ(entity->value, value);
  EXPECT_EQ(entity->expires_at_ms, 42);
  EXPECT_NE(json.find("\"v1@odata.type\":\"Edm.Binary\""), std::string::npos);
  auto listed = ParseEntities(R"({"value":[{"odata.etag":"W/\"datetime'x'\"","PartitionKey":"t","RowKey":"r",)"
                              R"("v0@odata.type":"Edm.Binary","v0":"","e@odata.type":"Edm.Int64","e":"0"}]})");
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].etag, "W/\"datetime'x'\"");
  EXPECT_EQ((*listed)[0].value, "");
  EXPECT_EQ(ParseEntities("[]").status().code(), v1::INTERNAL);
}

TEST(AzureDocumentsTest, BatchesAreMultipartBothWays) {
  const std::string body = BatchBody("id1", {{"https://a.table.core.windows.net/t(PartitionKey='p',RowKey='r')", "{}"}});
  EXPECT_EQ(BatchContentType("id1"), "multipart/mixed; boundary=batch_id1");
  EXPECT_EQ(body.rfind("--batch_id1\r\nContent-Type: multipart/mixed; boundary=changeset_id1\r\n\r\n--changeset_id1\r\n", 0),
            0u);
  EXPECT_NE(body.find("PUT https://a.table.core.windows.net/t(PartitionKey='p',RowKey='r') HTTP/1.1\r\n"),
            std::string::npos);
  EXPECT_NE(body.find("--changeset_id1--\r\n--batch_id1--\r\n"), std::string::npos);

  const std::string ok =
      "--batchresponse_1\r\nContent-Type: multipart/mixed; boundary=changesetresponse_2\r\n\r\n"
      "--changesetresponse_2\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
      "HTTP/1.1 204 No Content\r\nX-Content-Type-Options: nosniff\r\nETag: W/\"datetime'1'\"\r\n\r\n\r\n"
      "--changesetresponse_2\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
      "HTTP/1.1 204 No Content\r\nETag: W/\"datetime'2'\"\r\n\r\n\r\n"
      "--changesetresponse_2--\r\n--batchresponse_1--\r\n";
  auto answers = ParseBatchAnswers(ok);
  ASSERT_TRUE(answers.ok());
  ASSERT_EQ(answers->size(), 2u);
  EXPECT_EQ((*answers)[0].status, 204);
  EXPECT_EQ((*answers)[1].etag, "W/\"datetime'2'\"");

  const std::string failed =
      "--batchresponse_1\r\nContent-Type: multipart/mixed; boundary=changesetresponse_2\r\n\r\n"
      "--changesetresponse_2\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
      "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n"
      R"({"odata.error":{"code":"InvalidInput","message":{"lang":"en-US","value":"0:Bad value."}}})"
      "\r\n--changesetresponse_2--\r\n--batchresponse_1--\r\n";
  answers = ParseBatchAnswers(failed);
  ASSERT_TRUE(answers.ok());
  ASSERT_EQ(answers->size(), 1u);
  EXPECT_EQ((*answers)[0].status, 400);
  EXPECT_EQ(ParseAzureError({}, (*answers)[0].body).code, "InvalidInput");
}

}  // namespace
}  // namespace cloudkit::azure
