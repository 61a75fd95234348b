#include "providers/binding_url.h"

#include <utility>

#include "core/hex.h"

namespace cloudkit {
namespace {

Result<std::string> Decode(std::string_view text, std::string_view shown_url) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    int high = i + 2 < text.size() ? HexDigit(text[i + 1]) : -1;
    int low = i + 2 < text.size() ? HexDigit(text[i + 2]) : -1;
    if (high < 0 || low < 0) return Status::InvalidArgument("binding URL '" + std::string(shown_url) + "': bad %-escape");
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

// What each scheme means: its provider, and the option its host (or path) names.
struct Scheme {
  std::string_view scheme;
  std::string_view provider;
  std::string_view host_option;  // empty: the scheme takes no host
  std::string_view path_option;  // empty: the scheme takes no path
};
constexpr Scheme kSchemes[] = {
    {"mem", "memory", "", ""},
    {"file", "local", "", "path"},
    {"s3", "s3", "bucket", "prefix"},
    {"azblob", "azure", "container", "prefix"},
    {"dynamodb", "dynamodb", "table", ""},
    {"redis", "redis", "address", "db"},
};

// The URL as it may be shown in a message: no query, no user or password.
std::string Redacted(std::string_view url) {
  std::string shown(url.substr(0, url.find('?')));
  const size_t scheme_end = shown.find("://");
  const size_t authority = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const size_t at = shown.rfind('@', shown.find('/', authority));
  if (at != std::string::npos && at >= authority) shown.replace(authority, at - authority, "...");
  return shown;
}

}  // namespace

Result<BindingConfig> ParseBindingUrl(std::string name, std::string_view url) {
  const size_t query_at = url.find('?');
  const std::string shown = Redacted(url);  // secrets given by mistake are not echoed
  auto invalid = [&](const std::string& why) {
    return Status::InvalidArgument("binding '" + name + "': URL '" + std::string(shown) + "': " + why);
  };
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return invalid("no scheme (as in mem:// or file:///path)");
  const std::string_view scheme = url.substr(0, scheme_end);
  const Scheme* known = nullptr;
  for (const Scheme& candidate : kSchemes) {
    if (candidate.scheme == scheme) known = &candidate;
  }
  if (known == nullptr) {
    std::string schemes;
    for (const Scheme& candidate : kSchemes) schemes += (schemes.empty() ? "" : ", ") + std::string(candidate.scheme);
    return invalid("unknown scheme '" + std::string(scheme) + "' (known: " + schemes + ")");
  }
  std::string_view rest = url.substr(scheme_end + 3, query_at == std::string_view::npos
                                                          ? std::string_view::npos
                                                          : query_at - (scheme_end + 3));
  const size_t path_at = rest.find('/');
  const std::string_view host = rest.substr(0, path_at);
  const std::string_view path = path_at == std::string_view::npos ? std::string_view() : rest.substr(path_at);
  if (host.find('@') != std::string_view::npos) {
    return invalid("credentials never go in a binding URL; give them in the configuration or the environment");
  }

  BindingConfig config;
  config.name = std::move(name);
  config.provider = std::string(known->provider);
  if (!host.empty()) {
    if (known->host_option.empty()) return invalid(std::string(scheme) + ":// takes no host");
    Result<std::string> decoded = Decode(host, shown);
    if (!decoded.ok()) return decoded.status();
    config.options[std::string(known->host_option)] = std::move(*decoded);
  } else if (!known->host_option.empty()) {
    return invalid(std::string(scheme) + ":// needs a " + std::string(known->host_option));
  }
  // For file:// the path is absolute ("/var/lib/docs"); elsewhere the leading
  // '/' only separates it from the host ("redis://h:6379/0" -> db "0").
  std::string_view path_value = known->scheme == "file" ? path : (path.empty() ? path : path.substr(1));
  if (!path_value.empty()) {
    if (known->path_option.empty()) return invalid(std::string(scheme) + ":// takes no path");
    Result<std::string> decoded = Decode(path_value, shown);
    if (!decoded.ok()) return decoded.status();
    config.options[std::string(known->path_option)] = std::move(*decoded);
  }
  if (query_at != std::string_view::npos) {
    std::string_view query = url.substr(query_at + 1);
    while (!query.empty()) {
      const size_t amp = query.find('&');
      const std::string_view param = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      if (param.empty()) continue;
      const size_t eq = param.find('=');
      Result<std::string> key = Decode(param.substr(0, eq), shown);
      if (!key.ok()) return key.status();
      Result<std::string> value = Decode(eq == std::string_view::npos ? "" : param.substr(eq + 1), shown);
      if (!value.ok()) return value.status();
      if (*key == "services") {
        std::string_view list = *value;
        while (!list.empty()) {
          const size_t comma = list.find(',');
          if (comma != 0) config.services.emplace_back(list.substr(0, comma));
          list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        }
        continue;
      }
      if (config.options.count(*key)) return invalid("option '" + *key + "' given twice");
      config.options[*key] = std::move(*value);
    }
  }
  return config;
}

}  // namespace cloudkit
