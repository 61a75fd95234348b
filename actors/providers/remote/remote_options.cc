#include "providers/remote/remote_options.h"

#include <charconv>

#include "providers/names.h"

namespace cloudkit::remote {

std::vector<OptionDoc> RemoteOptionDocs() {
  const RemoteOptions d;
  return {
      {"max_attempts", "tries of a request that failed for a retryable reason, the first included",
       std::to_string(d.backoff.max_attempts)},
      {"backoff_base_ms", "backoff before the first retry is at most this (full jitter, doubling)",
       std::to_string(d.backoff.base_ms)},
      {"backoff_cap_ms", "the longest backoff between two tries", std::to_string(d.backoff.cap_ms)},
      {"breaker_failures", "failures in a row that open the circuit breaker",
       std::to_string(d.breaker.failure_threshold)},
      {"breaker_open_ms", "how long an open breaker fails calls at once before a trial",
       std::to_string(d.breaker.open_ms)},
      {"max_concurrency", "requests to the service at once; more wait in order", std::to_string(d.max_concurrency)},
      {"attempt_timeout_ms", "timeout of one try of a request", std::to_string(d.attempt_timeout_ms)},
      {"call_timeout_ms", "time for a whole call, tries and backoff included, when the client set no deadline",
       std::to_string(d.call_timeout_ms)},
      {"transfer_timeout_ms", "timeout of one streamed body (a large object's download or upload part)",
       std::to_string(d.transfer_timeout_ms)},
  };
}

std::string StringOption(const BindingConfig& config, const char* name, std::string fallback) {
  auto it = config.options.find(name);
  return it == config.options.end() ? fallback : it->second;
}

Result<int64_t> IntegerOption(const BindingConfig& config, const char* name, int64_t fallback, int64_t min,
                              int64_t max) {
  auto it = config.options.find(name);
  if (it == config.options.end()) return fallback;
  const std::string& text = it->second;
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return Status::InvalidArgument("option " + names::Quote(name) + " must be an integer from " +
                                   std::to_string(min) + " to " + std::to_string(max) + ", not " +
                                   names::Quote(text));
  }
  return value;
}

Result<RemoteOptions> ParseRemoteOptions(const BindingConfig& config) {
  RemoteOptions o;
  constexpr int64_t kDay = 86'400'000;
  Result<int64_t> v = IntegerOption(config, "max_attempts", o.backoff.max_attempts, 1, 100);
  if (!v.ok()) return v.status();
  o.backoff.max_attempts = static_cast<uint32_t>(*v);
  if (!(v = IntegerOption(config, "backoff_base_ms", o.backoff.base_ms, 1, kDay)).ok()) return v.status();
  o.backoff.base_ms = *v;
  if (!(v = IntegerOption(config, "backoff_cap_ms", o.backoff.cap_ms, 1, kDay)).ok()) return v.status();
  o.backoff.cap_ms = *v;
  if (!(v = IntegerOption(config, "breaker_failures", o.breaker.failure_threshold, 1, 1'000'000)).ok()) {
    return v.status();
  }
  o.breaker.failure_threshold = static_cast<uint32_t>(*v);
  if (!(v = IntegerOption(config, "breaker_open_ms", o.breaker.open_ms, 1, kDay)).ok()) return v.status();
  o.breaker.open_ms = *v;
  if (!(v = IntegerOption(config, "max_concurrency", o.max_concurrency, 1, 100'000)).ok()) return v.status();
  o.max_concurrency = static_cast<size_t>(*v);
  if (!(v = IntegerOption(config, "attempt_timeout_ms", o.attempt_timeout_ms, 1, kDay)).ok()) return v.status();
  o.attempt_timeout_ms = *v;
  if (!(v = IntegerOption(config, "call_timeout_ms", o.call_timeout_ms, 1, kDay)).ok()) return v.status();
  o.call_timeout_ms = *v;
  if (!(v = IntegerOption(config, "transfer_timeout_ms", o.transfer_timeout_ms, 1, 7 * kDay)).ok()) {
    return v.status();
  }
  o.transfer_timeout_ms = *v;
  return o;
}

}  // namespace cloudkit::remote
