// Azure Storage connection strings, as the portal and Azurite give them:
// "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=...;
// EndpointSuffix=core.windows.net" or, for an emulator,
// "...;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;TableEndpoint=...".
// A connection string holds the account key: it is a secret, and no message
// here quotes it.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace cloudkit::azure {

struct ConnectionString {
  std::string protocol = "https";  // DefaultEndpointsProtocol
  std::string account_name;
  std::string account_key;         // base64, as given
  std::string endpoint_suffix = "core.windows.net";
  std::string blob_endpoint;       // empty: https://ACCOUNT.blob.SUFFIX
  std::string table_endpoint;      // empty: https://ACCOUNT.table.SUFFIX
};

// INVALID_ARGUMENT (naming the part, never its value) for a string that is
// not "Key=Value" pairs separated by ';', or one without AccountName and
// AccountKey. Keys are matched without regard to case; unknown ones (a
// QueueEndpoint, SharedAccessSignature...) are ignored.
Result<ConnectionString> ParseConnectionString(std::string_view text);

}  // namespace cloudkit::azure
