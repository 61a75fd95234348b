#include "providers/remote/http_errors.h"

#include <charconv>

#include "providers/names.h"

namespace cloudkit::remote {

std::string OneLine(std::string_view text, size_t max) {
  std::string spaced;
  for (char c : text.substr(0, max)) spaced += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  // What is left that a terminal would act on (C1 controls, bytes that are not UTF-8) is escaped.
  std::string out = names::Escaped(spaced);
  if (text.size() > max) out += "...";
  return out;
}

std::string_view HeaderValue(const ports::HttpHeaders& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

uint32_t RetryAfterMs(const ports::HttpHeaders& headers) {
  std::string_view value = HeaderValue(headers, "retry-after");
  uint32_t seconds = 0;
  auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (error != std::errc() || end != value.data() + value.size() || seconds > 3600) return 0;
  return seconds * 1000;
}

Status StatusForHttpError(const ServiceError& error, const std::string& what) {
  std::string detail = what;
  if (!error.code.empty() || !error.message.empty()) {
    detail += " (" + std::to_string(error.http_status);
    if (!error.code.empty()) detail += " " + OneLine(error.code, 80);
    if (!error.message.empty()) detail += ": " + OneLine(error.message);
    detail += ")";
  } else {
    detail += " (HTTP " + std::to_string(error.http_status) + ")";
  }
  switch (error.http_status) {
    case 400: return Status::InvalidArgument(detail);
    case 401: return Status::Unauthenticated(detail);
    case 403: return Status::PermissionDenied(detail);
    case 404: return Status::NotFound(detail);
    case 409: return Status::Aborted(detail);
    case 412: return Status::FailedPrecondition(detail);
    case 416: return Status(v1::INVALID_ARGUMENT, "invalid argument: range not satisfiable: " + detail);
    case 429: return Status(v1::RESOURCE_EXHAUSTED, "resource exhausted: " + detail, true, error.retry_after_ms);
    case 501: return Status::Unimplemented(detail);
    default: break;
  }
  if (error.http_status >= 500) return Status::Unavailable(detail, error.retry_after_ms);
  if (error.http_status >= 400) return Status::InvalidArgument(detail);
  return Status::Internal("unexpected answer for " + detail);
}

}  // namespace cloudkit::remote
