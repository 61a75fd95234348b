#include "providers/aws/sigv4.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <utility>
#include <vector>

#include "core/hex.h"

namespace cloudkit::aws {
namespace {

constexpr char kAlgorithm[] = "AWS4-HMAC-SHA256";

// %XX sequences to bytes; anything else (a lone '%' included) as it is.
std::string PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int high = HexDigit(text[i + 1]), low = HexDigit(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// RFC 3986 dot-segment removal, and empty segments dropped ("//a//" -> "/a/").
std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> kept;
  std::vector<std::string_view> segments = Split(path, '/');
  for (std::string_view segment : segments) {
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (!kept.empty()) kept.pop_back();
      continue;
    }
    kept.push_back(segment);
  }
  std::string out = "/";
  for (size_t i = 0; i < kept.size(); ++i) {
    if (i) out += '/';
    out += kept[i];
  }
  const std::string_view last = segments.back();
  if (!kept.empty() && (last.empty() || last == "." || last == "..")) out += '/';
  return out;
}

std::string CanonicalUri(std::string_view path, const SigV4Scope& scope) {
  std::string source = scope.s3_paths ? std::string(path) : NormalizePath(path);
  if (source.empty() || source.front() != '/') source.insert(0, "/");
  std::string out;
  bool first = true;
  for (std::string_view segment : Split(source, '/')) {  // the first is the empty one before the leading '/'
    if (!first) out += '/';
    first = false;
    std::string encoded = UriEncode(PercentDecode(segment), false);
    out += scope.s3_paths ? encoded : UriEncode(encoded, false);
  }
  return out;
}

std::string CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  if (!query.empty()) {
    for (std::string_view param : Split(query, '&')) {
      if (param.empty()) continue;
      size_t eq = param.find('=');
      std::string_view name = param.substr(0, eq);
      std::string_view value = eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1);
      params.emplace_back(UriEncode(PercentDecode(name), false), UriEncode(PercentDecode(value), false));
    }
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += name + '=' + value;
  }
  return out;
}

// Trimmed, with runs of spaces made one.
std::string CanonicalValue(std::string_view value) {
  std::string out;
  bool space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Header names in order, each with its values joined by ',' in the order given.
std::map<std::string, std::string> CanonicalHeaders(const ports::HttpHeaders& headers) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : headers) {
    auto [it, fresh] = out.try_emplace(Lower(name), CanonicalValue(value));
    if (!fresh) it->second += ',' + CanonicalValue(value);
  }
  return out;
}

std::string SignedHeaderList(const std::map<std::string, std::string>& headers) {
  std::string out;
  for (const auto& [name, value] : headers) {
    if (!out.empty()) out += ';';
    out += name;
  }
  return out;
}

const std::string* FindHeader(const ports::HttpHeaders& headers, std::string_view lower_name) {
  for (const auto& [name, value] : headers) {
    if (Lower(name) == lower_name) return &value;
  }
  return nullptr;
}

}  // namespace

std::string UriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string AmzDate(int64_t unix_ms) {
  // Days since the epoch to a civil date (proleptic Gregorian), as in
  // Howard Hinnant's date algorithms.
  int64_t seconds = unix_ms / 1000 - (unix_ms % 1000 < 0 ? 1 : 0);
  int64_t days = seconds / 86400 - (seconds % 86400 < 0 ? 1 : 0);
  int64_t day_seconds = seconds - days * 86400;
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char out[96];  // room for any int64 fields, though real dates need 17
  std::snprintf(out, sizeof out, "%04lld%02lld%02lldT%02lld%02lld%02lldZ", static_cast<long long>(year),
                static_cast<long long>(month), static_cast<long long>(day),
                static_cast<long long>(day_seconds / 3600), static_cast<long long>(day_seconds / 60 % 60),
                static_cast<long long>(day_seconds % 60));
  return out;
}

std::string CanonicalRequest(const SignedParts& parts, const SigV4Scope& scope) {
  const std::map<std::string, std::string> headers = CanonicalHeaders(parts.headers);
  std::string out = parts.method + '\n' + CanonicalUri(parts.path, scope) + '\n' + CanonicalQuery(parts.query) + '\n';
  for (const auto& [name, value] : headers) out += name + ':' + value + '\n';
  out += '\n' + SignedHeaderList(headers) + '\n' + parts.payload_sha256_hex;
  return out;
}

std::string StringToSign(std::string_view amz_date, const SigV4Scope& scope, std::string_view canonical_request,
                         ports::HashPort& hash) {
  std::unique_ptr<ports::Hasher> sha = hash.NewSha256();
  sha->Update(canonical_request);
  const std::string date(amz_date.substr(0, 8));
  return std::string(kAlgorithm) + '\n' + std::string(amz_date) + '\n' + date + '/' + scope.region + '/' +
         scope.service + "/aws4_request\n" + sha->FinishHex();
}

namespace {

// The hex signature of `to_sign` with the key derived for `date` and `scope`.
std::string Signature(const Credentials& credentials, const SigV4Scope& scope, const std::string& date,
                      const std::string& to_sign, ports::HashPort& hash) {
  std::string key = hash.HmacSha256("AWS4" + credentials.secret_access_key, date);
  key = hash.HmacSha256(key, scope.region);
  key = hash.HmacSha256(key, scope.service);
  key = hash.HmacSha256(key, "aws4_request");
  return ToHex(hash.HmacSha256(key, to_sign));
}

bool IsAmzDate(std::string_view date) { return date.size() == 16 && date[8] == 'T' && date.back() == 'Z'; }

}  // namespace

Result<std::string> Authorization(const SignedParts& parts, const Credentials& credentials, const SigV4Scope& scope,
                                  ports::HashPort& hash) {
  const std::string* amz_date = FindHeader(parts.headers, "x-amz-date");
  if (amz_date == nullptr || !IsAmzDate(*amz_date)) {
    return Status::InvalidArgument("request to sign has no X-Amz-Date of the form 20150830T123600Z");
  }
  const std::string date = amz_date->substr(0, 8);
  const std::string to_sign = StringToSign(*amz_date, scope, CanonicalRequest(parts, scope), hash);
  const std::string signature = Signature(credentials, scope, date, to_sign, hash);
  return std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + '/' + date + '/' + scope.region +
         '/' + scope.service + "/aws4_request, SignedHeaders=" + SignedHeaderList(CanonicalHeaders(parts.headers)) +
         ", Signature=" + signature;
}

Result<std::string> PresignUrl(std::string_view method, std::string_view url, const Credentials& credentials,
                               const SigV4Scope& scope, std::string_view amz_date, uint32_t expires_seconds,
                               ports::HashPort& hash) {
  if (!IsAmzDate(amz_date)) return Status::InvalidArgument("presign time is not of the form 20150830T123600Z");
  if (expires_seconds < 1 || expires_seconds > 7 * 24 * 3600) {
    return Status::InvalidArgument("a presigned URL must expire in 1 second to 7 days, not " +
                                   std::to_string(expires_seconds) + " s");
  }
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) {
    return Status::InvalidArgument("cannot presign '" + std::string(url.substr(0, url.find('?'))) + "': no scheme");
  }
  const size_t host_start = scheme_end + 3;
  const size_t path_start = std::min(url.find('/', host_start), url.find('?', host_start));
  const std::string_view host = url.substr(host_start, path_start == std::string_view::npos ? std::string_view::npos
                                                                                            : path_start - host_start);
  if (host.empty()) return Status::InvalidArgument("cannot presign a URL without a host");
  std::string_view rest = path_start == std::string_view::npos ? std::string_view() : url.substr(path_start);
  const size_t query_start = rest.find('?');
  std::string_view path = rest.substr(0, query_start);
  std::string query = query_start == std::string_view::npos ? std::string() : std::string(rest.substr(query_start + 1));

  const std::string date(amz_date.substr(0, 8));
  const std::string credential =
      credentials.access_key_id + '/' + date + '/' + scope.region + '/' + scope.service + "/aws4_request";
  std::string signed_query = query.empty() ? "" : query + '&';
  signed_query += "X-Amz-Algorithm=" + std::string(kAlgorithm) + "&X-Amz-Credential=" + UriEncode(credential, false) +
                  "&X-Amz-Date=" + std::string(amz_date) + "&X-Amz-Expires=" + std::to_string(expires_seconds) +
                  "&X-Amz-SignedHeaders=host";
  if (!credentials.session_token.empty()) {
    signed_query += "&X-Amz-Security-Token=" + UriEncode(credentials.session_token, false);
  }
  SignedParts parts;
  parts.method = std::string(method);
  parts.path = path.empty() ? "/" : std::string(path);
  parts.query = signed_query;
  parts.headers = {{"host", std::string(host)}};
  parts.payload_sha256_hex = "UNSIGNED-PAYLOAD";
  const std::string canonical = CanonicalRequest(parts, scope);
  const std::string signature =
      Signature(credentials, scope, date, StringToSign(amz_date, scope, canonical, hash), hash);
  // The query as signed (sorted, encoded), then the signature.
  return std::string(url.substr(0, host_start)) + std::string(host) + CanonicalUri(parts.path, scope) + '?' +
         CanonicalQuery(signed_query) + "&X-Amz-Signature=" + signature;
}

}  // namespace cloudkit::aws
