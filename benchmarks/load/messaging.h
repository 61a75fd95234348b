// Queues and pub/sub through cloudkitd beside Redis streams at the matching
// durability: redis-server without persistence against the `memory`
// binding, with `appendonly yes` and `appendfsync always` against `local`.
// Queue: send -> receive -> ack cycles per second from many clients, one
// cycle at a time each (Redis: XADD, XREADGROUP, XACK from hiredis). Pub/sub:
// publish-to-delivery latency with 1 and with N subscriptions, one message at
// a time (Redis: XADD read by a blocked XREADGROUP in N consumer groups).
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace cloudkit::bench {

struct MessagingOptions {
  std::string cloudkitd;
  std::string work_dir;
  int queue_clients = 16;
  double queue_seconds = 3;      // per side and durability
  uint64_t latency_samples = 400;  // publishes per subscription count and side
  int many_subscriptions = 10;
};

// Both sides of one comparison.
struct Versus {
  double cloudkit = 0;
  double redis = 0;
};

struct Durability {
  Versus queue_cycles_per_s;
  Versus publish_p50_us[2];  // [0]: 1 subscription, [1]: many_subscriptions
  Versus publish_p99_us[2];
};

struct MessagingFigures {
  Durability memory;  // cloudkitd `memory` vs redis-server without persistence
  Durability local;   // cloudkitd `local` vs redis-server appendfsync always
  // What the transport alone allows: raw ZeroMQ round trips per second from
  // as many clients, one at a time each (a DEALER each, one shared context,
  // against a one-thread ROUTER echo), divided by a cycle's three calls.
  double transport_ceiling_cycles_per_s = 0;
};

Result<MessagingFigures> MeasureMessaging(const MessagingOptions& options);

}  // namespace cloudkit::bench
