// The http_fanout figure of cloudkit-bench: many HTTP requests in flight at
// once from one actor through the native HTTP port (CurlHttpClient), against
// a loopback server (Node, started here) that answers each after a fixed
// delay. With no thread per request, the whole fan-out should take little
// more than one delay.
#pragma once

#include <string>

#include "core/status.h"

namespace cloudkit::bench {

struct HttpFanoutOptions {
  std::string node = "node";  // the Node.js binary that runs the server (looked up on PATH)
  int requests = 256;         // in flight at once
  int delay_ms = 100;         // the server's answer delay
  int rounds = 5;             // timed rounds, after one untimed warm-up round
};

struct HttpFanoutFigures {
  double median_ms = 0;  // of the timed rounds (connections kept from the warm-up)
  double best_ms = 0;
  double worst_ms = 0;
  double cold_ms = 0;    // the warm-up round: every connection new, the server's JIT cold
};

// Starts the server, runs the rounds, stops the server. Fails when a request
// fails or the server does not start.
Result<HttpFanoutFigures> MeasureHttpFanout(const HttpFanoutOptions& options);

}  // namespace cloudkit::bench
