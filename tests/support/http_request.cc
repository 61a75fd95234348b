#include "support/http_request.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace cloudkit::testing_util {
namespace {

size_t AppendBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct HeaderListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

std::string HttpResponse::Header(const std::string& lower_case_name) const {
  auto found = headers.find(lower_case_name);
  return found == headers.end() ? std::string() : found->second;
}

Result<HttpResponse> SendHttpRequest(const std::string& url, const HttpRequestOptions& options) {
  static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!initialised) return Status::Internal("curl_global_init failed");
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return Status::Internal("curl_easy_init failed");

  std::unique_ptr<curl_slist, HeaderListDeleter> header_list;
  auto add_header = [&header_list](const std::string& header) {
    curl_slist* longer = curl_slist_append(header_list.get(), header.c_str());
    if (longer == nullptr) return false;
    (void)header_list.release();  // now part of `longer`
    header_list.reset(longer);
    return true;
  };
  for (const auto& header : options.headers) {
    if (!add_header(header)) return Status::Internal("curl_slist_append failed");
  }
  // No "Expect: 100-continue" round trip: some emulators do not answer it.
  if (!add_header("Expect:")) return Status::Internal("curl_slist_append failed");

  HttpResponse response;
  CURL* handle = curl.get();
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_PROXY, "");  // never through a proxy from the environment
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count()));
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, header_list.get());
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &response.body);
  if (options.method == "HEAD") {
    curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, options.method.c_str());
  }
  if (!options.body.empty() || options.method == "PUT" || options.method == "POST") {
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, options.body.data());
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(options.body.size()));
  }

  CURLcode code = curl_easy_perform(handle);
  if (code != CURLE_OK) {
    return Status::Unavailable(options.method + " " + url + ": " + curl_easy_strerror(code));
  }
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response.status);
  for (curl_header* header = curl_easy_nextheader(handle, CURLH_HEADER, -1, nullptr); header != nullptr;
       header = curl_easy_nextheader(handle, CURLH_HEADER, -1, header)) {
    response.headers[Lower(header->name)] = header->value;
  }
  return response;
}

}  // namespace cloudkit::testing_util
