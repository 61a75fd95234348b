#include "core/status.h"

namespace cloudkit {

void Status::ToProto(v1::Status* out) const {
  out->set_code(code_);
  out->set_message(message_);
  out->set_retryable(retryable_);
  out->set_retry_after_ms(retry_after_ms_);
}

Status Status::FromProto(const v1::Status& in) {
  return Status(in.code(), in.message(), in.retryable(), in.retry_after_ms());
}

std::string Status::CodeName(StatusCode code) {
  // protobuf-lite keeps enum names, so the generated helper works in the browser too.
  const std::string& name = v1::StatusCode_Name(code);
  return name.empty() ? "UNKNOWN_" + std::to_string(static_cast<int>(code)) : name;
}

}  // namespace cloudkit
