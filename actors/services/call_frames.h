// Helpers the service actors share to decode request bodies and build the
// frames they send back (responses, errors, credits, data chunks).
#pragma once

#include <string>

#include "core/actor.h"
#include "core/protobuf_log.h"
#include "core/status.h"
#include "ports/clock.h"

namespace cloudkit::frames {

// Largest chunk an actor sends or accepts in one DATA frame.
inline constexpr size_t kMaxChunkBytes = 1 << 20;
// Chunk size the actors use for downloads.
inline constexpr size_t kChunkBytes = 256 << 10;

Outbound Error(uint64_t call_id, Status status);
Outbound Response(uint64_t call_id, std::string body, bool ends_call = true);
Outbound Credit(uint64_t call_id, uint32_t credits);
Outbound Data(uint64_t call_id, std::string chunk, bool end_of_stream);

// INVALID_ARGUMENT naming the method when the body does not parse as Req.
template <typename Req>
Status Decode(const Inbound& in, Req* req) {
  ClearProtobufComplaint();
  if (req->ParseFromString(in.body)) return Status::Ok();
  return NotAValid("request body of " + in.method, req->GetTypeName());
}

// The most a reply may hold: below what clients accept (16 MiB), far below
// protobuf's 2 GiB. Listings page by bytes to stay under it.
inline constexpr size_t kMaxReplyBytes = 8u << 20;
// RESOURCE_EXHAUSTED (not retryable: the same request gets the same answer).
Status ReplyTooLarge(size_t bytes);

// The RESPONSE for a unary call's outcome; never a truncated or empty one
// for a result too large to send.
template <typename Resp>
Outbound Reply(uint64_t call_id, const Result<Resp>& result) {
  if (!result.ok()) return Error(call_id, result.status());
  const size_t bytes = result->ByteSizeLong();
  if (bytes > kMaxReplyBytes) return Error(call_id, ReplyTooLarge(bytes));
  std::string body(bytes, '\0');
  result->SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(body.data()));
  return Response(call_id, std::move(body));
}

// The envelope a host sends with `frame` to the client that asked under
// `request_id` (Clears `env` first, so a host may reuse one). The status is
// written only when not OK: an absent status reads as OK.
void ToResponseEnvelope(const Outbound& frame, uint64_t request_id, v1::ResponseEnvelope* env);

// DEADLINE_EXCEEDED when the request's deadline passed while it waited.
Status CheckDeadline(const Inbound& in, ports::Clock& clock);

}  // namespace cloudkit::frames
