// The body of a remote object's GET, cut to what GetObject promises: exactly
// the bytes asked for. HTTP lets a server ignore a Range header and answer
// the whole object (200), and a faulty server or proxy may answer another
// range than the one asked for. The first is cut to the range here, the
// second refused: a client must never take other bytes for the ones it
// asked for.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "core/task.h"
#include "ports/http.h"
#include "services/object_storage_provider.h"

namespace cloudkit::remote {

// The bytes a GET asked for: all of them, or `length` bytes (0: up to the
// end) from `start`.
struct RequestedRange {
  bool ranged = false;
  uint64_t start = 0;
  uint64_t length = 0;
};

// The range `req` asks for, and its Range header value ("bytes=S-E").
RequestedRange RangeOf(const v1::GetObjectRequest& req);
std::string RangeHeader(const RequestedRange& range);

// What to take of an answer's body: skip `skip` bytes, then deliver
// `length`; `range_start` is where the delivered bytes sit in the object,
// `object_size` the object's whole size (0 when the answer does not say).
struct BodySlice {
  uint64_t range_start = 0;
  uint64_t skip = 0;
  uint64_t length = 0;
  uint64_t object_size = 0;
};

// INVALID_ARGUMENT: `start` is beyond the `size` bytes of `what`.
Status RangeBeyond(uint64_t start, uint64_t size, const std::string& what);

// After a service refused a range (416), given the object's size from a
// HEAD: an empty slice when the range starts at the end (the API answers it
// empty), RangeBeyond past it, else the service's `refusal` itself.
Result<BodySlice> SliceOfRefusedRange(uint64_t start, uint64_t size, const Status& refusal, const std::string& what);

// The slice of a successful GET's answer (`http_status`, its headers) that
// holds `asked`. A partial answer without Content-Range (a browser hides it
// unless CORS exposes it) is taken as the range asked for, of an object of
// unknown size (0). INVALID_ARGUMENT when the range starts beyond the object,
// INTERNAL when the server answered other bytes than those asked for
// (naming `what`, e.g. "object 'a' in bucket 'b'").
Result<BodySlice> SliceOfAnswer(int http_status, const ports::HttpHeaders& headers, const RequestedRange& asked,
                                const std::string& what);

// A download reading `body` (null: an empty one) and delivering `slice` of it.
// A body that ends before the slice does is an error (UNAVAILABLE,
// retryable): the connection was lost mid-object.
std::unique_ptr<ObjectDownload> NewSlicedDownload(std::unique_ptr<ports::HttpBodyReader> body, BodySlice slice,
                                                  std::string what);

}  // namespace cloudkit::remote
