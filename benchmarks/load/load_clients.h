// The load cloudkit-bench puts on a server: raw ZeroMQ DEALER clients that
// send two-frame requests (envelope + body) and match every reply to its
// request by request_id. The same code drives the raw echo baseline and
// cloudkitd, so their figures differ only by what the server does.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"

namespace cloudkit::bench {

// What each request looks like. The body may depend on the request (puts of
// distinct keys); `echo` servers send the frames back instead of answering.
struct RequestShape {
  std::string method;   // e.g. "cloudkit.v1.KeyValue/Get"
  std::string binding;  // empty: "default"
  std::function<std::string(uint64_t client, uint64_t request_id)> body;
  bool echo = false;
};

struct ThroughputFigures {
  double seconds = 0;   // from the first request to the last one counted
  uint64_t completed = 0;
  uint64_t errors = 0;  // non-OK replies or replies matching no request
};

// One request in flight at a time from one client: appends the round trip of
// each of `samples` calls (after `warmup` uncounted ones) to *micros, in µs.
// Returns the number of errors (non-OK replies or replies matching no request).
uint64_t CollectRoundTrips(const std::string& endpoint, const RequestShape& shape, uint64_t samples,
                           uint64_t warmup, std::vector<double>* micros);

// The value below which `fraction` of `samples` lie (sorts them).
double Percentile(std::vector<double>& samples, double fraction);

// `clients` DEALER sockets driven by one thread, each keeping `depth`
// requests in flight, for `duration`.
ThroughputFigures MeasureThroughput(const std::string& endpoint, const RequestShape& shape, int clients,
                                    int depth, std::chrono::duration<double> duration);

// One call, as a closed-loop caller makes it; `CallsPerSecond` counts them.
using Call = std::function<Status()>;

// Calls per second from `threads` callers, each running the call
// make_caller(i) gives it, one at a time, for `seconds`. The first error
// (making a caller, or a call) ends that caller and is the answer.
Result<double> CallsPerSecond(int threads, double seconds, const std::function<Result<Call>(int)>& make_caller);

}  // namespace cloudkit::bench
