// Gets from remote services through cloudkitd, beside the same gets sent
// straight to the service: S3 objects (s3rver) against a plain libcurl
// client, Redis items against hiredis, and DynamoDB items (dynalite) against
// a plain libcurl POST of the same GetItem. One call at a time (latency) and,
// for S3, many at once (aggregate throughput). What the daemon adds on top of
// the service is the figure; the emulators run on this machine, so both
// sides share its noise.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace cloudkit::bench {

struct CloudGetOptions {
  std::string cloudkitd;
  std::string work_dir;
  uint64_t samples = 400;           // timed gets per size and side
  uint64_t large_samples = 40;      // timed gets of the large object per side
  uint64_t large_bytes = 8 << 20;
  int in_flight = 64;               // gets at once for the aggregate figure
  double throughput_seconds = 3;    // per side
};

struct CloudGetFigures {
  double s3_small_p50_us = 0, s3_small_direct_p50_us = 0;
  double s3_large_p50_ms = 0, s3_large_direct_p50_ms = 0;
  double s3_in_flight_per_s = 0, s3_in_flight_direct_per_s = 0;
  double redis_p50_us = 0, redis_direct_p50_us = 0;
  double dynamodb_p50_us = 0, dynamodb_direct_p50_us = 0;
};

Result<CloudGetFigures> MeasureCloudGets(const CloudGetOptions& options);

}  // namespace cloudkit::bench
