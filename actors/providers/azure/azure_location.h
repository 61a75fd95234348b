// Where a binding of the `azure` provider keeps its data, and how requests
// reach it.
//
// Object storage: one blob container per binding (the URL's host, as in
// azblob://my-container), with an optional name prefix (azblob://my-container/app1).
// The API's buckets are the first level below that prefix: object "a.txt" of
// bucket "docs" is blob "app1/docs/a.txt", and bucket "docs" exists while its
// marker blob "app1/.cloudkit-buckets/docs" does. So a binding needs rights on
// one container only, as production roles grant them.
//
// Key-value: one Azure table per binding (option `table`); the API's tables
// are its partitions (providers/azure/table_keys.h).
//
// Endpoints: Azure's by default (https://ACCOUNT.blob.core.windows.net and
// .table.), or those of a connection string, or `endpoint` and
// `table_endpoint`, which for an emulator name the account in the path
// (http://127.0.0.1:10000/devstoreaccount1).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "providers/azure/shared_key.h"
#include "providers/registry.h"

namespace cloudkit::azure {

struct BlobLocation {
  std::string container;
  std::string prefix;    // "" or ending in '/'
  std::string endpoint;  // the blob service, account included for emulators; no trailing '/'
  SharedKey key;
  bool create_container = false;  // create the container when it is missing (tests, development)
  uint64_t block_size = uint64_t{8} << 20;
  uint32_t parallel_blocks = 4;

  // The name of object `key` in API bucket `bucket` ("app1/docs/a.txt").
  std::string BlobName(std::string_view api_bucket, std::string_view key) const;
  // The name prefix of API bucket `bucket` ("app1/docs/").
  std::string BucketPrefix(std::string_view api_bucket) const;
  // The name of API bucket `bucket`'s marker, and the prefix of all markers.
  std::string MarkerName(std::string_view api_bucket) const;
  std::string MarkersPrefix() const;
  // The URL of blob `name` (percent-encoded), with `query` ("" or "a=b&c=d").
  std::string BlobUrl(std::string_view name, std::string_view query = {}) const;
  // The container's URL with `query` ("restype=container&comp=list...").
  std::string ContainerUrl(std::string_view query) const;
};

struct TableLocation {
  std::string table;     // the Azure table
  std::string endpoint;  // the table service, account included for emulators; no trailing '/'
  SharedKey key;
  bool create_table = false;  // create the table when it is missing (tests, development)

  // The table's URL followed by `suffix` ("()", "(PartitionKey='a',RowKey='b')")
  // and `query`.
  std::string TableUrl(std::string_view suffix, std::string_view query = {}) const;
  // The service's URL of `resource` ("Tables", "$batch").
  std::string ServiceUrl(std::string_view resource) const;
};

// Whether the binding's options name a container, and a table.
bool NamesContainer(const BindingConfig& config);
bool NamesTable(const BindingConfig& config);

// From a binding's options and credentials (account_name and account_key, or
// connection_string). INVALID_ARGUMENT naming the option that is wrong;
// UNAUTHENTICATED when no credentials were given.
Result<BlobLocation> BlobLocationFromBinding(const BindingConfig& config);
Result<TableLocation> TableLocationFromBinding(const BindingConfig& config);

}  // namespace cloudkit::azure
