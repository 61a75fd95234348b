#include "providers/azure/azure_provider.h"

#include <algorithm>
#include <cstdlib>

#include "providers/azure/azure_location.h"
#include "providers/azure/blob_storage.h"
#include "providers/azure/table_key_value.h"
#include "providers/names.h"
#include "providers/remote/remote_options.h"

namespace cloudkit::azure {
namespace {

bool Lists(const BindingConfig& config, const char* service) {
  return std::find(config.services.begin(), config.services.end(), service) != config.services.end();
}

// A binding serves what it names: object storage with a container, key-value
// with a table (its `services`, when given, must have what they need).
Result<BindingInstance> CreateAzure(const BindingConfig& config, const HostPorts& ports) {
  if (ports.http == nullptr || ports.sleep == nullptr) {
    return Status::FailedPrecondition("provider 'azure' needs an HTTP client, which this host lacks");
  }
  const bool objects = config.services.empty() ? NamesContainer(config) : Lists(config, kObjectStorageService);
  const bool items = config.services.empty() ? NamesTable(config) : Lists(config, kKeyValueService);
  if (!objects && !items) {
    return Status::InvalidArgument("provider 'azure' needs option 'container' (object storage on Azure Blob) "
                                   "or 'table' (key-value on Azure Table), or both");
  }
  // Services listed (as the browser lists each of its actors') need their option.
  if (objects && !NamesContainer(config)) {
    return Status::InvalidArgument("provider 'azure' serves object_storage with option 'container' (an Azure blob "
                                   "container): name one, or leave object_storage out of the binding's services");
  }
  if (items && !NamesTable(config)) {
    return Status::InvalidArgument("provider 'azure' serves key_value with option 'table' (an Azure table): name "
                                   "one, or leave key_value out of the binding's services");
  }
  Result<remote::RemoteOptions> options = remote::ParseRemoteOptions(config);
  if (!options.ok()) return options.status();
  BindingInstance instance;
  instance.blocking_io = true;
  if (objects) {
    Result<BlobLocation> location = BlobLocationFromBinding(config);
    if (!location.ok()) return location.status();
    instance.providers[kObjectStorageService] =
        std::make_unique<AzureBlobStorage>(config.name, std::move(*location), *options, ports);
  }
  if (items) {
    Result<TableLocation> location = TableLocationFromBinding(config);
    if (!location.ok()) return location.status();
    instance.providers[kKeyValueService] =
        std::make_unique<AzureTableKeyValue>(config.name, std::move(*location), *options, ports);
  }
  return instance;
}

}  // namespace

void RegisterAzureProvider(ProviderRegistry* registry) {
  std::vector<OptionDoc> options = {
      {"container", "the blob container holding this binding's buckets (the URL's host)", ""},
      {"prefix", "blob name prefix inside it for this binding (the URL's path)", ""},
      {"endpoint",
       "the blob service's URL instead of Azure's, account included for an emulator, e.g. "
       "http://127.0.0.1:10000/devstoreaccount1",
       "https://ACCOUNT.blob.core.windows.net, or the connection string's"},
      {"create_container", "create the container when it is missing (tests, development)", "false"},
      {"block_size_mb", "size of each block of an upload (1 to 4000); smaller objects go in one Put Blob", "8"},
      {"parallel_blocks", "blocks of one upload sent at once", "4"},
      {"table", "the Azure table holding this binding's key-value tables (one partition each)", ""},
      {"table_endpoint", "the table service's URL instead of Azure's, account included for an emulator",
       "https://ACCOUNT.table.core.windows.net, or the connection string's"},
      {"create_table", "create the table when it is missing (tests, development)", "false"},
  };
  for (OptionDoc& doc : remote::RemoteOptionDocs()) options.push_back(std::move(doc));
  ProviderFactory factory{
      "azure",
      "Azure Storage: Blob for object storage (one container per binding), Table for key-value (one table)",
      {kObjectStorageService, kKeyValueService},
      std::move(options),
      &CreateAzure,
      // Only the connection string comes from the environment: a key given in
      // the configuration then always wins over one the environment holds.
      {{"account_name", "the storage account's name"},
       {"account_key", "the storage account's key (base64, as the portal shows it)"},
       {"sas_token",
        "a SAS token (account or container SAS: sv=...&sig=...) used instead of the key; presigned URLs then "
        "need the key"},
       {"connection_string",
        "a connection string (AccountName, AccountKey, endpoints); account_name and account_key win over it",
        "AZURE_STORAGE_CONNECTION_STRING"}},
  };
  if (!registry->Register(std::move(factory)).ok()) std::abort();
}

}  // namespace cloudkit::azure
