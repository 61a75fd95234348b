// DynamoClient: how the `dynamodb` provider calls DynamoDB's operations, in
// its JSON 1.0 protocol: POST / with X-Amz-Target: DynamoDB_20120810.<Op>,
// a JSON body, signed with Signature V4 (service "dynamodb") again for each
// try, through the binding's HttpService (retries, breaker, limits, the
// call's deadline: remote/http_service.h).
//
// REQUIRES: used from the turns of one actor.
#pragma once

#include <string>

#include "core/status.h"
#include "core/task.h"
#include "providers/dynamodb/dynamodb_items.h"
#include "providers/dynamodb/dynamodb_location.h"
#include "providers/registry.h"
#include "providers/remote/http_service.h"

namespace cloudkit::dynamodb {

class DynamoClient {
 public:
  DynamoClient(std::string binding, DynamoLocation location, const remote::RemoteOptions& options,
               const HostPorts& ports);

  // Calls `operation` ("GetItem") with `request`, about `what` (for
  // messages): DynamoDB's answer, or the status for its refusal
  // (dynamodb_errors.h). When `refusal` is given, a refusal's own document
  // is left there (a failed condition's Item, with ReturnValuesOnConditionCheckFailure).
  Task<Result<Json>> Call(int64_t deadline_ms, std::string operation, Json request, std::string what,
                          Json* refusal = nullptr);

  // The deadline of a call starting now (remote::HttpService::CallDeadline).
  int64_t CallDeadline() { return service_.CallDeadline(); }
  const DynamoLocation& location() const { return location_; }

 private:
  DynamoLocation location_;
  remote::HttpService service_;
  ports::Clock* clock_;
  ports::HashPort* hash_;
};

}  // namespace cloudkit::dynamodb
