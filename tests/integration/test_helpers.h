// Small helpers the integration tests share: request builders for the calls
// tests make over and over, deterministic test bodies, and gtest matchers for
// Result / Status.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "client/client.h"
#include "providers/aws/sigv4.h"

namespace cloudkit::integration {

// `text` escaped for a binding URL's query (an endpoint given as an option).
inline std::string UrlEscape(const std::string& text) { return aws::UriEncode(text, false); }

// A deterministic, incompressible-looking body of `size` bytes.
inline std::string MakeBody(size_t size, uint32_t seed = 1) {
  std::string body(size, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    body[i] = static_cast<char>(x);
  }
  return body;
}

// A body of `size` zero bytes, produced as fast as it is read.
inline ByteSource Zeros(uint64_t size) {
  auto produced = std::make_shared<uint64_t>(0);
  return [produced, size](char* buffer, size_t capacity) -> Result<size_t> {
    size_t n = static_cast<size_t>(std::min<uint64_t>(capacity, size - *produced));
    std::memset(buffer, 0, n);
    *produced += n;
    return n;
  };
}

inline v1::CreateBucketRequest CreateBucketRequest(const std::string& bucket) {
  v1::CreateBucketRequest request;
  request.set_bucket(bucket);
  return request;
}

inline v1::PutObjectRequest PutRequest(const std::string& bucket, const std::string& key, std::string data = {}) {
  v1::PutObjectRequest request;
  request.set_bucket(bucket);
  request.set_key(key);
  request.set_data(std::move(data));
  return request;
}

inline v1::GetObjectRequest GetRequest(const std::string& bucket, const std::string& key) {
  v1::GetObjectRequest request;
  request.set_bucket(bucket);
  request.set_key(key);
  return request;
}

inline v1::HeadObjectRequest HeadRequest(const std::string& bucket, const std::string& key) {
  v1::HeadObjectRequest request;
  request.set_bucket(bucket);
  request.set_key(key);
  return request;
}

inline v1::PutRequest KvPut(const std::string& table, const std::string& key, const std::string& value) {
  v1::PutRequest request;
  request.set_table(table);
  request.set_key(key);
  request.set_value(value);
  return request;
}

inline v1::GetRequest KvGet(const std::string& table, const std::string& key) {
  v1::GetRequest request;
  request.set_table(table);
  request.set_key(key);
  return request;
}

inline std::string CodeName(const Status& status) { return Status::CodeName(status.code()); }

}  // namespace cloudkit::integration

// Asserts a Result / Status is OK, printing its message otherwise.
#define ASSERT_CK_OK(expr)                                                          \
  do {                                                                              \
    const auto& ck_result_ = (expr);                                                \
    ASSERT_TRUE(ck_result_.ok()) << #expr << ": " << ::cloudkit::integration::StatusOf(ck_result_).message(); \
  } while (0)
#define EXPECT_CK_CODE(expr, expected_code)                                              \
  do {                                                                                   \
    const auto& ck_result_ = (expr);                                                     \
    EXPECT_EQ(::cloudkit::integration::CodeName(::cloudkit::integration::StatusOf(ck_result_)), \
              ::cloudkit::Status::CodeName(expected_code))                               \
        << #expr << ": " << ::cloudkit::integration::StatusOf(ck_result_).message();     \
  } while (0)

namespace cloudkit::integration {
inline const Status& StatusOf(const Status& status) { return status; }
template <typename T>
const Status& StatusOf(const Result<T>& result) {
  return result.status();
}
}  // namespace cloudkit::integration
