#include "providers/azure/azure_location.h"

#include <optional>

#include "core/base64.h"
#include "providers/aws/sigv4.h"
#include "providers/azure/connection_string.h"
#include "providers/names.h"
#include "providers/remote/remote_options.h"

namespace cloudkit::azure {
namespace {

constexpr char kMarkers[] = ".cloudkit-buckets/";

// Azure's rule: 3 to 63 of a-z 0-9 -, starting with a letter or digit, no "--".
bool ValidContainerName(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return name.front() != '-' && name.back() != '-' && name.find("--") == std::string_view::npos;
}

// Azure's rule: 3 to 63 of A-Z a-z 0-9, starting with a letter; not "tables".
bool ValidTableName(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  const bool letter = (name.front() >= 'a' && name.front() <= 'z') || (name.front() >= 'A' && name.front() <= 'Z');
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return letter && lower != "tables";
}

std::string Credential(const BindingConfig& config, const char* name) {
  auto it = config.credentials.find(name);
  return it == config.credentials.end() ? std::string() : it->second;
}

Status CheckEndpoint(const std::string& url, const char* option) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos ||
      (url.compare(0, scheme_end, "http") != 0 && url.compare(0, scheme_end, "https") != 0) ||
      scheme_end + 3 >= url.size() || url.find('?') != std::string::npos) {
    return Status::InvalidArgument(std::string("option '") + option +
                                   "' must be an http:// or https:// URL without a query");
  }
  return Status::Ok();
}

std::string WithoutTrailingSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// The account, its key and its endpoints, from the credentials: account_name
// and account_key when both are given, else the connection string.
struct Account {
  SharedKey key;
  std::string blob_endpoint;
  std::string table_endpoint;
};

Result<Account> AccountFromBinding(const BindingConfig& config) {
  std::string name = Credential(config, "account_name");
  std::string key_text = Credential(config, "account_key");
  std::string sas_token = Credential(config, "sas_token");
  while (!sas_token.empty() && sas_token.front() == '?') sas_token.erase(0, 1);
  std::optional<ConnectionString> connection;
  if (!sas_token.empty() && key_text.empty()) {
    // A SAS token signs nothing: it is the credential, for the services and
    // rights it grants. The endpoints come from the options or the account.
    if (name.empty() && (remote::StringOption(config, "endpoint").empty() ||
                         remote::StringOption(config, "table_endpoint").empty())) {
      return Status::InvalidArgument("with a SAS token, give account_name (or both endpoint and table_endpoint)");
    }
    Account account;
    account.key = {name, "", sas_token};
    account.blob_endpoint = remote::StringOption(config, "endpoint");
    if (account.blob_endpoint.empty()) account.blob_endpoint = "https://" + name + ".blob.core.windows.net";
    account.table_endpoint = remote::StringOption(config, "table_endpoint");
    if (account.table_endpoint.empty()) account.table_endpoint = "https://" + name + ".table.core.windows.net";
    CK_RETURN_IF_ERROR(CheckEndpoint(account.blob_endpoint, "endpoint"));
    CK_RETURN_IF_ERROR(CheckEndpoint(account.table_endpoint, "table_endpoint"));
    account.blob_endpoint = WithoutTrailingSlash(account.blob_endpoint);
    account.table_endpoint = WithoutTrailingSlash(account.table_endpoint);
    return account;
  }
  if (name.empty() || key_text.empty()) {
    const std::string text = Credential(config, "connection_string");
    if (text.empty()) {
      return Status::Unauthenticated(
          "no Azure Storage credentials: give account_name and account_key, or connection_string, under the "
          "binding's credentials, or set AZURE_STORAGE_CONNECTION_STRING");
    }
    Result<ConnectionString> parsed = ParseConnectionString(text);
    if (!parsed.ok()) return parsed.status();
    connection = std::move(*parsed);
    name = connection->account_name;
    key_text = connection->account_key;
  }
  std::optional<std::string> key = Base64Decode(key_text);
  if (!key || key->empty()) {
    return Status::InvalidArgument("the Azure Storage account key is not base64 (as the portal shows it)");
  }
  Account account;
  account.key = {name, std::move(*key), ""};
  const std::string protocol = connection ? connection->protocol : "https";
  const std::string suffix = connection ? connection->endpoint_suffix : "core.windows.net";
  account.blob_endpoint = remote::StringOption(config, "endpoint", connection ? connection->blob_endpoint : "");
  if (account.blob_endpoint.empty()) account.blob_endpoint = protocol + "://" + name + ".blob." + suffix;
  account.table_endpoint =
      remote::StringOption(config, "table_endpoint", connection ? connection->table_endpoint : "");
  if (account.table_endpoint.empty()) account.table_endpoint = protocol + "://" + name + ".table." + suffix;
  CK_RETURN_IF_ERROR(CheckEndpoint(account.blob_endpoint, "endpoint"));
  CK_RETURN_IF_ERROR(CheckEndpoint(account.table_endpoint, "table_endpoint"));
  account.blob_endpoint = WithoutTrailingSlash(account.blob_endpoint);
  account.table_endpoint = WithoutTrailingSlash(account.table_endpoint);
  return account;
}

Result<bool> BooleanOption(const BindingConfig& config, const char* name) {
  const std::string value = remote::StringOption(config, name, "false");
  if (value != "true" && value != "false") {
    return Status::InvalidArgument(std::string("option '") + name + "' must be true or false");
  }
  return value == "true";
}

}  // namespace

std::string BlobLocation::BucketPrefix(std::string_view api_bucket) const {
  return prefix + std::string(api_bucket) + "/";
}
std::string BlobLocation::BlobName(std::string_view api_bucket, std::string_view key) const {
  return BucketPrefix(api_bucket) + std::string(key);
}
std::string BlobLocation::MarkersPrefix() const { return prefix + kMarkers; }
std::string BlobLocation::MarkerName(std::string_view api_bucket) const {
  return MarkersPrefix() + std::string(api_bucket);
}

std::string BlobLocation::BlobUrl(std::string_view name, std::string_view query) const {
  std::string url = endpoint + "/" + container + "/" + aws::UriEncode(name, true);
  if (!query.empty()) url += "?" + std::string(query);
  return url;
}

std::string BlobLocation::ContainerUrl(std::string_view query) const {
  return endpoint + "/" + container + "?" + std::string(query);
}

std::string TableLocation::TableUrl(std::string_view suffix, std::string_view query) const {
  std::string url = endpoint + "/" + table + std::string(suffix);
  if (!query.empty()) url += "?" + std::string(query);
  return url;
}

std::string TableLocation::ServiceUrl(std::string_view resource) const {
  return endpoint + "/" + std::string(resource);
}

bool NamesContainer(const BindingConfig& config) { return config.options.count("container") > 0; }
bool NamesTable(const BindingConfig& config) { return config.options.count("table") > 0; }

Result<BlobLocation> BlobLocationFromBinding(const BindingConfig& config) {
  BlobLocation location;
  location.container = remote::StringOption(config, "container");
  if (!ValidContainerName(location.container)) {
    return Status::InvalidArgument(
        "option 'container' must name an Azure blob container (3 to 63 of a-z 0-9 -, no '--'), not " +
        names::Quote(location.container));
  }
  location.prefix = remote::StringOption(config, "prefix");
  while (!location.prefix.empty() && location.prefix.front() == '/') location.prefix.erase(0, 1);
  if (!location.prefix.empty() && location.prefix.back() != '/') location.prefix += '/';
  Result<bool> create = BooleanOption(config, "create_container");
  if (!create.ok()) return create.status();
  location.create_container = *create;
  Result<int64_t> block = remote::IntegerOption(config, "block_size_mb", 8, 1, 4000);
  if (!block.ok()) return block.status();
  location.block_size = static_cast<uint64_t>(*block) << 20;
  Result<int64_t> parallel = remote::IntegerOption(config, "parallel_blocks", 4, 1, 64);
  if (!parallel.ok()) return parallel.status();
  location.parallel_blocks = static_cast<uint32_t>(*parallel);
  Result<Account> account = AccountFromBinding(config);
  if (!account.ok()) return account.status();
  location.endpoint = std::move(account->blob_endpoint);
  location.key = std::move(account->key);
  return location;
}

Result<TableLocation> TableLocationFromBinding(const BindingConfig& config) {
  TableLocation location;
  location.table = remote::StringOption(config, "table");
  if (!ValidTableName(location.table)) {
    return Status::InvalidArgument(
        "option 'table' must name an Azure table (3 to 63 of A-Z a-z 0-9, starting with a letter), not " +
        names::Quote(location.table));
  }
  Result<bool> create = BooleanOption(config, "create_table");
  if (!create.ok()) return create.status();
  location.create_table = *create;
  Result<Account> account = AccountFromBinding(config);
  if (!account.ok()) return account.status();
  location.endpoint = std::move(account->table_endpoint);
  location.key = std::move(account->key);
  return location;
}

}  // namespace cloudkit::azure
