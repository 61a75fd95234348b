// Where a binding of the `dynamodb` provider keeps its items, and how requests
// reach it: ONE DynamoDB table per binding (the URL's host, as in
// dynamodb://my-table?region=eu-west-1), whatever number of API tables the
// clients use, so a binding needs rights on one table only. The layout of
// items in that table is dynamodb_items.h's.
//
// Endpoints: AWS's (https://dynamodb.REGION.amazonaws.com) by default, or any
// DynamoDB-compatible service given as `endpoint` (dynalite, DynamoDB Local).
#pragma once

#include <string>

#include "core/status.h"
#include "providers/aws/sigv4.h"
#include "providers/registry.h"

namespace cloudkit::dynamodb {

struct DynamoLocation {
  std::string table;          // the DynamoDB table
  std::string region = "us-east-1";
  std::string url;            // the service's root, "https://dynamodb.us-east-1.amazonaws.com/"
  bool create_table = false;  // create the table (and turn its TTL on) when it is missing
  bool transactions = true;   // the service has TransactWriteItems (atomic BatchPut)
  aws::Credentials credentials;

  // For messages: "DynamoDB table 'my-table'".
  std::string Describe() const;
};

// From a binding's options and credentials. INVALID_ARGUMENT naming the
// option that is wrong; UNAUTHENTICATED when no credentials were given.
Result<DynamoLocation> DynamoLocationFromBinding(const BindingConfig& config);

}  // namespace cloudkit::dynamodb
