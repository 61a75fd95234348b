// What the azure ObjectStorage provider and its uploads share: where the
// binding's blobs live, the signed client, and how a refusal about a thing
// becomes a status.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "ports/sleep.h"
#include "providers/azure/azure_client.h"
#include "providers/azure/azure_errors.h"
#include "providers/azure/azure_location.h"
#include "providers/names.h"

namespace cloudkit::azure {

struct BlobContext {
  BlobContext(BlobLocation where, AzureClient azure, ports::SleepPort* sleep)
      : location(std::move(where)), client(std::move(azure)), sleep(sleep) {}

  // The status for a refusal of a request about `what`.
  remote::HttpService::MapError Errors(std::string what) const {
    return [what = std::move(what), home = "the binding's container " + names::Quote(location.container)](
               int status, const ports::HttpHeaders& headers, std::string_view body) {
      return MapAzureError(status, headers, body, what, home);
    };
  }

  BlobLocation location;
  AzureClient client;
  ports::SleepPort* sleep;  // between polls of a pending copy
};

inline std::string DescribeObject(const std::string& bucket, const std::string& key) {
  return "object " + names::Quote(key) + " in bucket " + names::Quote(bucket);
}
inline std::string DescribeBucket(const std::string& bucket) { return "bucket " + names::Quote(bucket); }

}  // namespace cloudkit::azure
