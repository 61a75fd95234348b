// Status and Result: the one error type of the actor core. A Status carries a
// protocol status code (cloudkit.v1.StatusCode), a one-line message naming the
// thing that failed, and whether retrying may help. Every failure that reaches a
// user is one of these.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "cloudkit/v1/status.pb.h"

namespace cloudkit {

using StatusCode = v1::StatusCode;

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message, bool retryable = false,
         uint32_t retry_after_ms = 0)
      : code_(code), message_(std::move(message)), retryable_(retryable),
        retry_after_ms_(retry_after_ms) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {v1::INVALID_ARGUMENT, "invalid argument: " + m}; }
  static Status NotFound(std::string m) { return {v1::NOT_FOUND, "not found: " + m}; }
  static Status AlreadyExists(std::string m) { return {v1::ALREADY_EXISTS, "already exists: " + m}; }
  static Status FailedPrecondition(std::string m) { return {v1::FAILED_PRECONDITION, "failed precondition: " + m}; }
  static Status Aborted(std::string m) { return {v1::ABORTED, "aborted: " + m, true}; }
  static Status ResourceExhausted(std::string m) { return {v1::RESOURCE_EXHAUSTED, "resource exhausted: " + m, true}; }
  // A limit the request itself breaks (too big, beyond its credit): sent again, it fails again.
  static Status OverLimit(std::string m) { return {v1::RESOURCE_EXHAUSTED, "resource exhausted: " + m, false}; }
  static Status Unavailable(std::string m, uint32_t retry_after_ms = 0) {
    return {v1::UNAVAILABLE, "unavailable: " + m, true, retry_after_ms};
  }
  static Status DeadlineExceeded(std::string m) { return {v1::DEADLINE_EXCEEDED, "deadline exceeded: " + m, true}; }
  static Status Unauthenticated(std::string m) { return {v1::UNAUTHENTICATED, "unauthenticated: " + m}; }
  static Status PermissionDenied(std::string m) { return {v1::PERMISSION_DENIED, "permission denied: " + m}; }
  static Status Unimplemented(std::string m) { return {v1::UNIMPLEMENTED, "unimplemented: " + m}; }
  static Status Internal(std::string m) { return {v1::INTERNAL, "internal: " + m}; }

  bool ok() const { return code_ == v1::OK; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  bool retryable() const { return retryable_; }
  uint32_t retry_after_ms() const { return retry_after_ms_; }

  void ToProto(v1::Status* out) const;
  static Status FromProto(const v1::Status& in);

  // "NOT_FOUND" etc.: the enum name, for logs and --json output.
  static std::string CodeName(StatusCode code);

 private:
  StatusCode code_ = v1::OK;
  std::string message_;
  bool retryable_ = false;
  uint32_t retry_after_ms_ = 0;
};

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T& operator*() { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace cloudkit

// Returns from the enclosing function when `expr` (a Status) is not OK.
#define CK_RETURN_IF_ERROR(expr)          \
  do {                                    \
    ::cloudkit::Status ck_status_ = (expr); \
    if (!ck_status_.ok()) return ck_status_; \
  } while (0)

// The same, in a coroutine (core/task.h).
#define CK_CO_RETURN_IF_ERROR(expr)          \
  do {                                       \
    ::cloudkit::Status ck_status_ = (expr);  \
    if (!ck_status_.ok()) co_return ck_status_; \
  } while (0)
