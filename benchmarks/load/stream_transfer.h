// The streaming figures of cloudkit-bench: a plain file copy on the disk the
// daemon uses (the baseline) against a PutObject from a file plus a GetObject
// into a file through a `local` binding. Both sides fsync what they write, so
// the daemon's put+get moves the bytes exactly twice as often as one copy.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace cloudkit::bench {

struct StreamFigures {
  double copy_seconds = 0;     // one file copy (read + write + fsync)
  double put_seconds = 0;      // PutObject until acknowledged durable
  double get_seconds = 0;      // GetObject into a file, fsynced
  // Bytes per second of one copy, and of the daemon per direction (2 × size
  // over put + get), so the two compare directly.
  double copy_bytes_per_second = 0;
  double daemon_bytes_per_second = 0;
};

// Writes a `size`-byte source file in `work_dir`, copies it, then streams it
// through `endpoint` (binding `binding`) and back, and checks the bytes.
Result<StreamFigures> MeasureStreaming(const std::string& endpoint, const std::string& binding,
                                       const std::string& work_dir, uint64_t size);

}  // namespace cloudkit::bench
