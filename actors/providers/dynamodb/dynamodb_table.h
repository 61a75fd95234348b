// Creating a binding's DynamoDB table when it is missing (option
// create_table, for development and tests): the key schema of
// dynamodb_items.h, billed per request, then TTL on `exp` so that DynamoDB
// deletes expired items by itself. Production tables are made by whoever
// provisions the account (and then need TTL turned on `exp` the same way).
#pragma once

#include <cstdint>

#include "core/status.h"
#include "core/task.h"
#include "ports/sleep.h"
#include "providers/dynamodb/dynamodb_client.h"

namespace cloudkit::dynamodb {

// Creates the table unless it exists, waits until it is ACTIVE, and turns
// its TTL on. A service without TTL (dynalite answers UnknownOperation) is
// fine: expired items read as absent whatever the TTL does; they only stay
// stored.
Task<Status> CreateTableIfMissing(DynamoClient& client, ports::SleepPort& sleep, int64_t deadline_ms);

}  // namespace cloudkit::dynamodb
