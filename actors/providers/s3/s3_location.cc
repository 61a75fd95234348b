#include "providers/s3/s3_location.h"

#include "providers/names.h"
#include "providers/remote/remote_options.h"

namespace cloudkit::s3 {
namespace {

constexpr char kMarkers[] = ".cloudkit-buckets/";

bool ValidS3BucketName(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  }
  return name.front() != '-' && name.front() != '.' && name.back() != '-' && name.back() != '.';
}

}  // namespace

std::string S3Location::BucketPrefix(std::string_view api_bucket) const {
  return prefix + std::string(api_bucket) + "/";
}
std::string S3Location::ObjectKey(std::string_view api_bucket, std::string_view key) const {
  return BucketPrefix(api_bucket) + std::string(key);
}
std::string S3Location::MarkersPrefix() const { return prefix + kMarkers; }
std::string S3Location::MarkerKey(std::string_view api_bucket) const { return MarkersPrefix() + std::string(api_bucket); }

std::string S3Location::UrlOf(std::string_view key, std::string_view query) const {
  std::string url = base_url + "/" + aws::UriEncode(key, true);
  if (!query.empty()) url += "?" + std::string(query);
  return url;
}

Result<S3Location> S3LocationFromBinding(const BindingConfig& config) {
  S3Location location;
  location.bucket = remote::StringOption(config, "bucket");
  if (!ValidS3BucketName(location.bucket)) {
    return Status::InvalidArgument("option 'bucket' must name an S3 bucket (3 to 63 of a-z 0-9 . -), not " +
                                   names::Quote(location.bucket));
  }
  location.prefix = remote::StringOption(config, "prefix");
  while (!location.prefix.empty() && location.prefix.front() == '/') location.prefix.erase(0, 1);
  if (!location.prefix.empty() && location.prefix.back() != '/') location.prefix += '/';
  location.region = remote::StringOption(config, "region", "us-east-1");
  const std::string endpoint = remote::StringOption(config, "endpoint");
  std::string path_style = remote::StringOption(config, "path_style", endpoint.empty() ? "false" : "true");
  if (path_style != "true" && path_style != "false") {
    return Status::InvalidArgument("option 'path_style' must be true or false");
  }
  if (endpoint.empty()) {
    location.base_url = path_style == "true"
                            ? "https://s3." + location.region + ".amazonaws.com/" + location.bucket
                            : "https://" + location.bucket + ".s3." + location.region + ".amazonaws.com";
  } else {
    const size_t scheme_end = endpoint.find("://");
    if (scheme_end == std::string::npos || (endpoint.compare(0, scheme_end, "http") != 0 &&
                                            endpoint.compare(0, scheme_end, "https") != 0)) {
      return Status::InvalidArgument("option 'endpoint' must be an http:// or https:// URL");
    }
    std::string root = endpoint;
    while (!root.empty() && root.back() == '/') root.pop_back();
    location.base_url = path_style == "true"
                            ? root + "/" + location.bucket
                            : root.substr(0, scheme_end + 3) + location.bucket + "." + root.substr(scheme_end + 3);
  }
  const std::string conditional = remote::StringOption(config, "conditional_writes", "true");
  if (conditional != "true" && conditional != "false") {
    return Status::InvalidArgument("option 'conditional_writes' must be true or false");
  }
  location.conditional_writes = conditional == "true";
  Result<int64_t> part = remote::IntegerOption(config, "part_size_mb", 8, 5, 5 * 1024);
  if (!part.ok()) return part.status();
  location.part_size = static_cast<uint64_t>(*part) << 20;
  Result<int64_t> parallel = remote::IntegerOption(config, "parallel_parts", 4, 1, 64);
  if (!parallel.ok()) return parallel.status();
  location.parallel_parts = static_cast<uint32_t>(*parallel);

  auto credential = [&](const char* name) {
    auto it = config.credentials.find(name);
    return it == config.credentials.end() ? std::string() : it->second;
  };
  location.credentials = {credential("access_key_id"), credential("secret_access_key"), credential("session_token")};
  if (location.credentials.access_key_id.empty() || location.credentials.secret_access_key.empty()) {
    return Status::Unauthenticated(
        "no AWS credentials: give access_key_id and secret_access_key under the binding's credentials "
        "(or credentials_file), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  }
  return location;
}

}  // namespace cloudkit::s3
