#include "providers/azure/connection_string.h"

namespace cloudkit::azure {
namespace {

bool SameIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

Result<ConnectionString> ParseConnectionString(std::string_view text) {
  ConnectionString parsed;
  size_t part_number = 0;
  while (!text.empty()) {
    const size_t semicolon = text.find(';');
    const std::string_view part = Trim(text.substr(0, semicolon));
    text = semicolon == std::string_view::npos ? std::string_view() : text.substr(semicolon + 1);
    ++part_number;
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return Status::InvalidArgument("the Azure connection string's part " + std::to_string(part_number) +
                                     " is not Key=Value");
    }
    const std::string_view key = Trim(part.substr(0, eq));
    // The value may hold '=' (a base64 key's padding): everything after the first.
    const std::string value(Trim(part.substr(eq + 1)));
    if (SameIgnoringCase(key, "DefaultEndpointsProtocol")) {
      parsed.protocol = value;
    } else if (SameIgnoringCase(key, "AccountName")) {
      parsed.account_name = value;
    } else if (SameIgnoringCase(key, "AccountKey")) {
      parsed.account_key = value;
    } else if (SameIgnoringCase(key, "EndpointSuffix")) {
      parsed.endpoint_suffix = value;
    } else if (SameIgnoringCase(key, "BlobEndpoint")) {
      parsed.blob_endpoint = value;
    } else if (SameIgnoringCase(key, "TableEndpoint")) {
      parsed.table_endpoint = value;
    }
  }
  if (parsed.protocol != "https" && parsed.protocol != "http") {
    return Status::InvalidArgument("the Azure connection string's DefaultEndpointsProtocol must be https or http");
  }
  if (parsed.account_name.empty() || parsed.account_key.empty()) {
    return Status::InvalidArgument("the Azure connection string has no AccountName and AccountKey "
                                   "(SAS-only connection strings are not supported)");
  }
  return parsed;
}

}  // namespace cloudkit::azure
