#include "services/call_frames.h"

namespace cloudkit::frames {

Outbound Error(uint64_t call_id, Status status) {
  Outbound out;
  out.call_id = call_id;
  out.kind = v1::RESPONSE;
  out.status = std::move(status);
  return out;
}

Outbound Response(uint64_t call_id, std::string body, bool ends_call) {
  Outbound out;
  out.call_id = call_id;
  out.kind = v1::RESPONSE;
  out.body = std::move(body);
  out.ends_call = ends_call;
  return out;
}

Status ReplyTooLarge(size_t bytes) {
  return Status(v1::RESOURCE_EXHAUSTED,
                "resource exhausted: the reply would hold " + std::to_string(bytes) + " bytes, over the " +
                    std::to_string(kMaxReplyBytes >> 20) + " MiB a reply may hold: ask for fewer keys or a smaller page",
                false);
}

Outbound Credit(uint64_t call_id, uint32_t credits) {
  Outbound out;
  out.call_id = call_id;
  out.kind = v1::CREDIT;
  out.credits = credits;
  out.ends_call = false;
  return out;
}

void ToResponseEnvelope(const Outbound& frame, uint64_t request_id, v1::ResponseEnvelope* env) {
  env->Clear();
  env->set_request_id(request_id);
  env->set_kind(frame.kind);
  if (!frame.status.ok()) frame.status.ToProto(env->mutable_status());
  env->set_credits(frame.credits);
  env->set_end_of_stream(frame.end_of_stream);
}

Outbound Data(uint64_t call_id, std::string chunk, bool end_of_stream) {
  Outbound out;
  out.call_id = call_id;
  out.kind = v1::DATA;
  out.body = std::move(chunk);
  out.end_of_stream = end_of_stream;
  out.ends_call = end_of_stream;
  return out;
}

Status CheckDeadline(const Inbound& in, ports::Clock& clock) {
  if (in.deadline_ms == 0) return Status::Ok();
  int64_t late = clock.NowMs() - in.deadline_ms;
  if (late < 0) return Status::Ok();
  return Status::DeadlineExceeded(in.method + " waited in the queue " + std::to_string(late) +
                                  " ms past its deadline");
}

}  // namespace cloudkit::frames
