#include "providers/azure/shared_key.h"

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "core/base64.h"
#include "core/hex.h"
#include "providers/aws/sigv4.h"
#include "providers/remote/timestamps.h"

namespace cloudkit::azure {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// %XX to bytes, and '+' to a space, as servers read query values.
std::string QueryDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexDigit(text[i + 1]) >= 0 && HexDigit(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexDigit(text[i + 1]) * 16 + HexDigit(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i] == '+' ? ' ' : text[i]);
    }
  }
  return out;
}

// A header's value as it is signed: the last one given under that name
// (requests here carry each at most once), trimmed as the server reads it.
std::string Header(const ports::HttpRequest& request, std::string_view name) {
  std::string value;
  for (const auto& [key, v] : request.headers) {
    if (Lower(key) == name) value = std::string(Trim(v));
  }
  return value;
}

struct UrlParts {
  std::string path;   // as sent: percent-encoded
  std::string query;  // after '?', raw
};

UrlParts SplitUrl(std::string_view url) {
  UrlParts parts;
  const size_t scheme_end = url.find("://");
  const size_t path_at = scheme_end == std::string_view::npos ? std::string_view::npos : url.find('/', scheme_end + 3);
  std::string_view rest = path_at == std::string_view::npos ? std::string_view("/") : url.substr(path_at);
  if (const size_t q = rest.find('?'); q != std::string_view::npos) {
    parts.query = std::string(rest.substr(q + 1));
    rest = rest.substr(0, q);
  }
  parts.path = std::string(rest);
  return parts;
}

// Query parameters by lower-case name, values decoded, in name order.
std::map<std::string, std::vector<std::string>> QueryParameters(std::string_view query) {
  std::map<std::string, std::vector<std::string>> params;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (param.empty()) continue;
    const size_t eq = param.find('=');
    params[Lower(QueryDecode(param.substr(0, eq)))].push_back(
        eq == std::string_view::npos ? std::string() : QueryDecode(param.substr(eq + 1)));
  }
  return params;
}

// The request's Content-Length as the service reads it; since version
// 2015-02-21 a zero length is signed as the empty string.
std::string ContentLength(const ports::HttpRequest& request) {
  if (!request.body.empty()) return std::to_string(request.body.size());
  if (request.body_source && request.content_length > 0) return std::to_string(request.content_length);
  return "";
}

std::string Sign(std::string_view string_to_sign, const SharedKey& key, ports::HashPort& hash) {
  return Base64Encode(hash.HmacSha256(key.key, string_to_sign));
}

}  // namespace

std::string BlobStringToSign(const ports::HttpRequest& request, std::string_view account) {
  std::string out = request.method + "\n";
  out += Header(request, "content-encoding") + "\n";
  out += Header(request, "content-language") + "\n";
  out += ContentLength(request) + "\n";
  for (const char* name : {"content-md5", "content-type", "date", "if-modified-since", "if-match", "if-none-match",
                           "if-unmodified-since", "range"}) {
    out += Header(request, name) + "\n";
  }
  // Every x-ms- header, by name.
  std::map<std::string, std::string> ms_headers;
  for (const auto& [name, value] : request.headers) {
    std::string lower = Lower(name);
    if (lower.compare(0, 5, "x-ms-") == 0) ms_headers[lower] = std::string(Trim(value));
  }
  for (const auto& [name, value] : ms_headers) out += name + ":" + value + "\n";
  const UrlParts url = SplitUrl(request.url);
  out += "/" + std::string(account) + url.path;
  for (auto& [name, values] : QueryParameters(url.query)) {
    std::sort(values.begin(), values.end());
    std::string joined;
    for (const std::string& value : values) joined += (joined.empty() ? "" : ",") + value;
    out += "\n" + name + ":" + joined;
  }
  return out;
}

std::string TableStringToSign(const ports::HttpRequest& request, std::string_view account) {
  std::string out = request.method + "\n";
  out += Header(request, "content-md5") + "\n";
  out += Header(request, "content-type") + "\n";
  // The Date line holds x-ms-date when the request has no Date.
  std::string date = Header(request, "date");
  out += (date.empty() ? Header(request, "x-ms-date") : date) + "\n";
  const UrlParts url = SplitUrl(request.url);
  out += "/" + std::string(account) + url.path;
  auto params = QueryParameters(url.query);
  if (auto comp = params.find("comp"); comp != params.end() && !comp->second.empty()) {
    out += "?comp=" + comp->second.front();
  }
  return out;
}

Status SignRequest(ports::HttpRequest* request, const SharedKey& key, SignedService service, int64_t now_ms,
                   ports::HashPort& hash) {
  const size_t scheme_end = request->url.find("://");
  if (scheme_end == std::string::npos || scheme_end + 3 >= request->url.size() ||
      request->url[scheme_end + 3] == '/') {
    return Status::InvalidArgument("URL without a scheme and host");
  }
  request->headers.emplace_back("x-ms-date", remote::FormatHttpDate(now_ms));
  request->headers.emplace_back("x-ms-version",
                                service == SignedService::kBlob ? kBlobApiVersion : kTableApiVersion);
  if (key.key.empty()) {
    if (key.sas_token.empty()) return Status::Unauthenticated("no Azure Storage key or SAS token");
    request->url += (request->url.find('?') == std::string::npos ? "?" : "&") + key.sas_token;
    return Status::Ok();
  }
  const std::string string_to_sign = service == SignedService::kBlob ? BlobStringToSign(*request, key.account)
                                                                      : TableStringToSign(*request, key.account);
  request->headers.emplace_back("authorization", "SharedKey " + key.account + ":" + Sign(string_to_sign, key, hash));
  return Status::Ok();
}

std::string BlobSasStringToSign(const BlobSas& sas, std::string_view account) {
  // Version 2020-12-06 and later: permissions, start, expiry, resource,
  // identifier, IP, protocol, version, resource kind, snapshot time,
  // encryption scope, then the five response-header overrides.
  std::string out;
  out += sas.permissions + "\n";
  out += (sas.start_ms != 0 ? remote::FormatIso8601(sas.start_ms) : "") + "\n";
  out += remote::FormatIso8601(sas.expiry_ms) + "\n";
  out += "/blob/" + std::string(account) + "/" + sas.container + "/" + sas.blob + "\n";
  out += "\n";                      // signed identifier
  out += "\n";                      // signed IP
  out += "https,http\n";            // signed protocol
  out += std::string(kBlobApiVersion) + "\n";
  out += "b\n";                     // signed resource: a blob
  out += "\n";                      // snapshot time
  out += "\n";                      // encryption scope
  out += "\n\n\n\n";                // rscc, rscd, rsce, rscl
  return out;                       // rsct (empty) ends it
}

std::string BlobSasQuery(const BlobSas& sas, const SharedKey& key, ports::HashPort& hash) {
  const std::string signature = Sign(BlobSasStringToSign(sas, key.account), key, hash);
  std::string query = "sv=" + std::string(kBlobApiVersion) + "&spr=" + aws::UriEncode("https,http", false);
  if (sas.start_ms != 0) query += "&st=" + aws::UriEncode(remote::FormatIso8601(sas.start_ms), false);
  query += "&se=" + aws::UriEncode(remote::FormatIso8601(sas.expiry_ms), false);
  query += "&sr=b&sp=" + aws::UriEncode(sas.permissions, false);
  query += "&sig=" + aws::UriEncode(signature, false);
  return query;
}

}  // namespace cloudkit::azure
