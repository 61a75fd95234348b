// Where a binding of the `s3` provider keeps its data, and how requests reach
// it: one S3 bucket per binding (the URL's host, as in s3://my-bucket), with
// an optional key prefix (s3://my-bucket/app1). The API's buckets are the
// first level below that prefix: object "a.txt" of bucket "docs" is key
// "app1/docs/a.txt", and bucket "docs" exists while its marker
// "app1/.cloudkit-buckets/docs" does. So a binding needs rights on one S3
// bucket only, as production roles grant them.
//
// Endpoints: AWS by default (virtual-hosted: https://BUCKET.s3.REGION.amazonaws.com),
// or any S3-compatible service given as `endpoint` (path-style by default:
// http://127.0.0.1:4568/BUCKET).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "providers/aws/sigv4.h"
#include "providers/registry.h"

namespace cloudkit::s3 {

struct S3Location {
  std::string bucket;        // the S3 bucket
  std::string prefix;        // "" or ending in '/'
  std::string region = "us-east-1";
  std::string base_url;      // up to the bucket's root, no trailing '/'
  bool conditional_writes = true;  // the service honours If-Match / If-None-Match on writes
  uint64_t part_size = uint64_t{8} << 20;
  uint32_t parallel_parts = 4;
  aws::Credentials credentials;

  // The S3 key of object `key` in API bucket `bucket`.
  std::string ObjectKey(std::string_view api_bucket, std::string_view key) const;
  // The key prefix of API bucket `bucket` ("app1/docs/").
  std::string BucketPrefix(std::string_view api_bucket) const;
  // The key of API bucket `bucket`'s marker.
  std::string MarkerKey(std::string_view api_bucket) const;
  std::string MarkersPrefix() const;
  // The URL of S3 key `key` (percent-encoded), with `query` ("" or "a=b&c").
  std::string UrlOf(std::string_view key, std::string_view query = {}) const;
};

// From a binding's options and credentials. INVALID_ARGUMENT naming the
// option that is wrong; UNAUTHENTICATED when no credentials were given.
Result<S3Location> S3LocationFromBinding(const BindingConfig& config);

}  // namespace cloudkit::s3
