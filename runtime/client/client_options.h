// Options and callback types of the cloudkitd client library: how a Client
// connects (ClientOptions), what one call may override (CallOptions), and how
// object bodies flow in and out of streamed transfers (ByteSource, ByteSink,
// ProgressCallback, TransferOptions).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace cloudkit {

// Where cloudkitd listens unless told otherwise (docs/daemon.md).
inline constexpr char kDefaultEndpoint[] = "tcp://127.0.0.1:7420";

struct ClientOptions {
  // Binding every call goes to unless its CallOptions name another.
  std::string binding = "default";
  // Deadline of a call, sent to the daemon as timeout_ms. For streamed calls
  // it bounds idleness (time between frames), not the whole transfer.
  std::chrono::milliseconds timeout{30'000};
  // A call fails UNAVAILABLE when no connection to the daemon exists this long
  // after it was made (the daemon is not running, or the endpoint is wrong),
  // rather than waiting for its whole deadline.
  std::chrono::milliseconds connect_timeout{3'000};
  // Size of the DATA frames an upload sends, and the largest object that goes
  // inline in one REQUEST. The daemon accepts at most 1 MiB per frame.
  size_t chunk_bytes = 256 << 10;
  // DATA frames a download lets the daemon send ahead of consumption.
  uint32_t download_window = 8;
  // ZMQ_MAXMSGSIZE for replies. Larger than the daemon's 8 MiB inbound limit
  // because a reply (e.g. a page of 1000 listed objects) is not bounded by the
  // request body limit; a reply beyond it resets the connection.
  int64_t max_message_bytes = 16 << 20;
  // CURVE (docs/protocol.md, "Authentication"): a daemon configured with
  // client keys serves only clients holding one. `key_file` is this client's
  // key pair (`cloudkit keygen`; mode 0600), `server_key` the daemon's public
  // key, as 40 characters of Z85 or a key file holding it. Both or neither.
  std::string key_file;
  std::string server_key;
  // Times a unary call is sent in all (CallOptions::attempts): 1 = no retries.
  uint32_t attempts = 1;
};

// Per-call overrides of ClientOptions.
struct CallOptions {
  std::optional<std::string> binding;
  std::optional<std::chrono::milliseconds> timeout;
  // Names the request for retries (docs/protocol.md, "Idempotency keys"): the
  // daemon answers a call with a key and request it has seen within its window
  // with the first call's answer, so a write sent again is applied once.
  // At most 256 bytes.
  std::optional<std::string> idempotency_key;
  // Times a unary call is sent in all. A call that ends DEADLINE_EXCEEDED or
  // with a retryable status is sent again, at once, under the same
  // idempotency key (one is drawn when none is set), until one answer is
  // final or the attempts are spent.
  std::optional<uint32_t> attempts;
};

// Fills `buffer` with up to `capacity` bytes of an upload and returns how many
// it wrote; 0 means the end of the body. A non-OK status aborts the upload
// (the client cancels the call and returns that status).
using ByteSource = std::function<Result<size_t>(char* buffer, size_t capacity)>;

// Consumes the next chunk of a download, in order. A non-OK status aborts the
// download (the client cancels the call and returns that status).
using ByteSink = std::function<Status(std::string_view chunk)>;

// Called on the transferring thread after every chunk: bytes moved so far and
// the total when known (downloads always know it; uploads when given a size).
using ProgressCallback = std::function<void(uint64_t bytes_done, std::optional<uint64_t> total_bytes)>;

struct TransferOptions {
  CallOptions call;
  ProgressCallback progress;
  // Uploads: the body's size when known, only for progress reports.
  std::optional<uint64_t> size_hint;
};

}  // namespace cloudkit
