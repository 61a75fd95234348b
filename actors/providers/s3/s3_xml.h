// The XML documents of the S3 REST API that the s3 provider reads and
// writes, through pugixml: error answers, object listings, multipart upload
// answers and the bodies of DeleteObjects and CompleteMultipartUpload.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace cloudkit::s3 {

struct S3Error {
  std::string code;     // "NoSuchKey"
  std::string message;
};
// An error document; empty fields when the body is not one (a HEAD has no body).
S3Error ParseError(std::string_view body);

struct ListedObject {
  std::string key;
  uint64_t size = 0;
  std::string etag;
  int64_t last_modified_ms = 0;
};
struct ObjectListing {
  std::vector<ListedObject> objects;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string next_continuation_token;
};
// A ListObjectsV2 answer. INTERNAL when it is not one.
Result<ObjectListing> ParseListObjectsV2(std::string_view body);

// InitiateMultipartUploadResult's UploadId.
Result<std::string> ParseUploadId(std::string_view body);

// CompleteMultipartUploadResult's ETag (S3 may answer 200 with an Error
// document instead: that becomes its status, with the error's code).
Result<std::string> ParseCompleteMultipartUpload(std::string_view body, S3Error* error);

// CopyObjectResult: ETag and LastModified.
struct CopyResult {
  std::string etag;
  int64_t last_modified_ms = 0;
};
Result<CopyResult> ParseCopyObjectResult(std::string_view body, S3Error* error);

// A DeleteResult: the keys deleted and those that failed, with S3's error.
struct DeleteOutcome {
  std::vector<std::string> deleted;
  std::vector<std::pair<std::string, S3Error>> errors;
};
Result<DeleteOutcome> ParseDeleteResult(std::string_view body);

// The bodies of requests.
std::string DeleteObjectsBody(const std::vector<std::string>& keys);
std::string CompleteMultipartUploadBody(const std::vector<std::string>& part_etags);  // part n is [n-1]

}  // namespace cloudkit::s3
