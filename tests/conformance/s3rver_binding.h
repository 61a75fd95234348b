// The `s3` binding the conformance suite opens on s3rver, natively
// (cloud_targets.cc) and in the browser (web-worker/tests/conformance_targets.cc)
// alike, and the cases s3rver's known defects keep it from running
// (tests/emulators/README.md).
#pragma once

#include <string>

#include "providers/registry.h"

namespace cloudkit::conformance {

// The S3 bucket the suite's s3rver serves (created at its start).
inline constexpr char kS3rverBucket[] = "conformance";

// A binding on s3rver at `endpoint` whose data lives under `prefix`, a
// fresh one per case so that cases never see each other's data.
inline BindingConfig S3rverBinding(const std::string& endpoint, const std::string& prefix) {
  BindingConfig config{"conformance", "s3", {}, {}, {}};
  config.options = {{"bucket", kS3rverBucket},
                    {"prefix", prefix},
                    {"endpoint", endpoint},
                    {"conditional_writes", "false"},  // s3rver ignores If-Match/If-None-Match on writes
                    {"part_size_mb", "5"}};
  config.credentials = {{"access_key_id", "S3RVER"}, {"secret_access_key", "S3RVER"}};  // its only key
  return config;
}

// Why s3rver cannot run a case relying on `feature`, or empty.
inline std::string S3rverCannot(const std::string& feature) {
  if (feature == "key order") {
    return "s3rver 3.7 lists keys in directory order, not byte order, and pages over such keys lose some";
  }
  if (feature == "if-match on reads") return "s3rver ignores If-Match on GET and x-amz-copy-source-if-match";
  if (feature == "ranges of an empty object") {
    return "s3rver answers a range of an empty object with a body that announces 1 byte and sends none";
  }
  if (feature == "1024-byte keys") return "s3rver stores each key as a file name, at most 255 bytes, and dies on longer ones";
  return {};
}

}  // namespace cloudkit::conformance
