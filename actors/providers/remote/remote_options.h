// The options every binding of a remote service takes (S3, Azure, DynamoDB,
// Redis): its resilience (providers/resilience) and its timeouts, set per
// binding in the YAML like the provider's own options.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/status.h"
#include "providers/registry.h"
#include "providers/resilience/backoff.h"
#include "providers/resilience/circuit_breaker.h"

namespace cloudkit::remote {

struct RemoteOptions {
  resilience::BackoffPolicy backoff;
  resilience::BreakerPolicy breaker;
  size_t max_concurrency = 256;       // calls to the service at once; more wait their turn
  int64_t attempt_timeout_ms = 10'000;  // one try of a request (not of a streamed body)
  int64_t call_timeout_ms = 60'000;     // the whole call, for clients that set no deadline
  int64_t transfer_timeout_ms = 3'600'000;  // one streamed body (a large object's download or part)
};

// Their documentation, appended to each remote provider's own options.
std::vector<OptionDoc> RemoteOptionDocs();

// Reads them from `config.options` (defaults for those not given).
// INVALID_ARGUMENT naming the option for a value that is not a number in range.
Result<RemoteOptions> ParseRemoteOptions(const BindingConfig& config);

// Reads an integer option in [min, max]; `fallback` when absent.
Result<int64_t> IntegerOption(const BindingConfig& config, const char* name, int64_t fallback, int64_t min,
                              int64_t max);

// The value of option `name`, or `fallback`.
std::string StringOption(const BindingConfig& config, const char* name, std::string fallback = {});

}  // namespace cloudkit::remote
