#include "providers/azure/blob_properties.h"

#include <charconv>

#include "core/base64.h"
#include "core/hex.h"
#include "providers/names.h"
#include "providers/remote/http_errors.h"
#include "providers/remote/timestamps.h"

namespace cloudkit::azure {
namespace {

std::string_view Unquote(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return etag;
}

uint64_t ToUnsigned(std::string_view text) {
  uint64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

bool IsCSharpIdentifier(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

}  // namespace

std::string ApiEtag(std::string_view content_md5_base64, std::string_view azure_etag) {
  if (std::optional<std::string> md5 = Base64Decode(content_md5_base64); md5 && md5->size() == 16) {
    return "\"" + ToHex(*md5) + "\"";
  }
  // Quoted like the MD5 ones, whether it came quoted (a header) or not (a listing's <Etag>).
  if (azure_etag.empty()) return std::string();
  return "\"" + std::string(Unquote(azure_etag)) + "\"";
}

std::string Md5Base64FromHex(std::string_view hex) {
  std::string raw;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) raw += static_cast<char>(HexDigit(hex[i]) * 16 + HexDigit(hex[i + 1]));
  return Base64Encode(raw);
}

bool EtagMatches(std::string_view condition, std::string_view etag) {
  return condition == "*" || Unquote(condition) == Unquote(etag);
}

Status CheckMetadata(const google::protobuf::Map<std::string, std::string>& metadata) {
  for (const auto& [name, value] : metadata) {
    if (!IsCSharpIdentifier(name)) {
      return Status::InvalidArgument("metadata name " + names::Quote(name) +
                                     ": Azure takes names that are C# identifiers (letters, digits, _)");
    }
    for (char c : value) {
      if (c < 0x20 || c > 0x7e) {
        return Status::InvalidArgument("metadata " + names::Quote(name) + ": Azure takes values of printable ASCII");
      }
    }
  }
  return Status::Ok();
}

v1::ObjectInfo InfoFromHeaders(const std::string& bucket, const std::string& key, const ports::HttpHeaders& headers) {
  v1::ObjectInfo info;
  info.set_bucket(bucket);
  info.set_key(key);
  info.set_size(ToUnsigned(remote::HeaderValue(headers, "content-length")));
  // A ranged GET names the whole blob's MD5 in x-ms-blob-content-md5.
  std::string_view md5 = remote::HeaderValue(headers, "x-ms-blob-content-md5");
  if (md5.empty()) md5 = remote::HeaderValue(headers, "content-md5");
  info.set_etag(ApiEtag(md5, remote::HeaderValue(headers, "etag")));
  info.set_last_modified_ms(remote::ParseHttpDate(remote::HeaderValue(headers, "last-modified")).value_or(0));
  info.set_content_type(std::string(remote::HeaderValue(headers, "content-type")));
  constexpr size_t kPrefix = sizeof(kMetaPrefix) - 1;
  for (const auto& [name, value] : headers) {
    if (name.size() > kPrefix && name.compare(0, kPrefix, kMetaPrefix) == 0) {
      (*info.mutable_metadata())[name.substr(kPrefix)] = value;
    }
  }
  return info;
}

}  // namespace cloudkit::azure
