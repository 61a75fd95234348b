#include "providers/dynamodb/dynamodb_location.h"

#include "providers/names.h"
#include "providers/remote/remote_options.h"

namespace cloudkit::dynamodb {
namespace {

// DynamoDB's rule for table names: 3 to 255 of [A-Za-z0-9_.-].
bool ValidTableName(std::string_view name) {
  if (name.size() < 3 || name.size() > 255) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
          c == '.')) {
      return false;
    }
  }
  return true;
}

Result<bool> BoolOption(const BindingConfig& config, const char* name, bool fallback) {
  const std::string text = remote::StringOption(config, name, fallback ? "true" : "false");
  if (text != "true" && text != "false") {
    return Status::InvalidArgument("option " + names::Quote(name) + " must be true or false, not " + names::Quote(text));
  }
  return text == "true";
}

}  // namespace

std::string DynamoLocation::Describe() const { return "DynamoDB table " + names::Quote(table); }

Result<DynamoLocation> DynamoLocationFromBinding(const BindingConfig& config) {
  DynamoLocation location;
  location.table = remote::StringOption(config, "table");
  if (!ValidTableName(location.table)) {
    return Status::InvalidArgument("option 'table' must name a DynamoDB table (3 to 255 of A-Z a-z 0-9 _ . -), not " +
                                   names::Quote(location.table));
  }
  location.region = remote::StringOption(config, "region", "us-east-1");
  const std::string endpoint = remote::StringOption(config, "endpoint");
  if (endpoint.empty()) {
    location.url = "https://dynamodb." + location.region + ".amazonaws.com/";
  } else {
    const size_t scheme_end = endpoint.find("://");
    if (scheme_end == std::string::npos || (endpoint.compare(0, scheme_end, "http") != 0 &&
                                            endpoint.compare(0, scheme_end, "https") != 0)) {
      return Status::InvalidArgument("option 'endpoint' must be an http:// or https:// URL");
    }
    location.url = endpoint;
    while (!location.url.empty() && location.url.back() == '/') location.url.pop_back();
    location.url += '/';
  }
  Result<bool> create = BoolOption(config, "create_table", false);
  if (!create.ok()) return create.status();
  location.create_table = *create;
  Result<bool> transactions = BoolOption(config, "transactions", true);
  if (!transactions.ok()) return transactions.status();
  location.transactions = *transactions;

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

}  // namespace cloudkit::dynamodb
