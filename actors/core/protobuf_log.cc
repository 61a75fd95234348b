#include "core/protobuf_log.h"

#include <atomic>

#include <google/protobuf/stubs/logging.h>

namespace cloudkit {
namespace {

std::atomic<ProtobufLogSink> g_sink{nullptr};
thread_local bool t_invalid_utf8 = false;

void Route(google::protobuf::LogLevel level, const char* /*file*/, int /*line*/, const std::string& message) {
  // The only complaint a parse makes; others (serializing, sizes) are the caller's own doing.
  const bool bad_input =
      message.find("invalid UTF-8") != std::string::npos && message.find("when parsing") != std::string::npos;
  if (bad_input) t_invalid_utf8 = true;
  if (ProtobufLogSink sink = g_sink.load(std::memory_order_acquire)) {
    const ProtobufLine kind = bad_input                                  ? ProtobufLine::kBadInput
                              : level == google::protobuf::LOGLEVEL_INFO ? ProtobufLine::kInfo
                                                                         : ProtobufLine::kError;
    const size_t end = message.find_last_not_of(" \n");
    sink(kind, message.substr(0, end == std::string::npos ? 0 : end + 1));
  }
}

}  // namespace

void RouteProtobufLog(ProtobufLogSink sink) {
  g_sink.store(sink, std::memory_order_release);
  google::protobuf::SetLogHandler(&Route);
}

void ClearProtobufComplaint() { t_invalid_utf8 = false; }

std::string ProtobufComplaint() { return t_invalid_utf8 ? "a string field is not valid UTF-8" : ""; }

Status NotAValid(const std::string& what, const std::string& type_name) {
  std::string message = what + " is not a valid " + type_name;
  if (std::string why = ProtobufComplaint(); !why.empty()) message += ": " + why;
  return Status::InvalidArgument(std::move(message));
}

}  // namespace cloudkit
