// SendHttpRequest: one blocking HTTP request from a test (libcurl's easy
// interface), for probing and poking the servers a test starts — emulators,
// proxies — without going through the code under test.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace cloudkit::testing_util {

struct HttpRequestOptions {
  std::string method = "GET";
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // sent when not empty (or when the method is PUT/POST)
  std::chrono::milliseconds timeout{10'000};
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names in lower case; the last value of a repeated header
  std::string body;

  std::string Header(const std::string& lower_case_name) const;
};

// Fails (Unavailable) only when no HTTP response came back: connection
// refused, reset, timed out. Any status, 4xx and 5xx included, is a response.
Result<HttpResponse> SendHttpRequest(const std::string& url, const HttpRequestOptions& options = {});

}  // namespace cloudkit::testing_util
