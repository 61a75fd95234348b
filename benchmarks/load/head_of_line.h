// The head-of-line figure of cloudkit-bench: heads of a small object on a
// `local` binding while the same binding copies a large object, against the
// same heads on the binding when idle (p99 to p99, in one run). A copy runs
// on the disk workers one chunk at a time, so a head should only wait for
// its own turn at SQLite, never for the copy.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace cloudkit::bench {

struct HeadOfLineFigures {
  double idle_p50_us = 0, idle_p99_us = 0;
  double busy_p50_us = 0, busy_p99_us = 0;
  uint64_t busy_samples = 0;  // heads answered while the copy ran
  double copy_seconds = 0;
};

// Puts a `copy_bytes` object into bucket "hol" through `endpoint`, measures
// `samples` heads of a small object idle, then as many as fit (up to
// `samples`) while a second client copies the large object.
Result<HeadOfLineFigures> MeasureHeadOfLine(const std::string& endpoint, uint64_t copy_bytes, uint64_t samples);

}  // namespace cloudkit::bench
