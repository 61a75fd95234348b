#include "providers/remote/ranged_download.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string_view>
#include <utility>

#include "providers/names.h"
#include "providers/remote/http_errors.h"

namespace cloudkit::remote {
namespace {

std::optional<uint64_t> ParseUnsigned(std::string_view text) {
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// "bytes FIRST-LAST/SIZE" (RFC 9110 14.4); SIZE may be "*" (unknown).
struct ContentRange {
  uint64_t first = 0;
  uint64_t last = 0;
  std::optional<uint64_t> size;
};

std::optional<ContentRange> ParseContentRange(std::string_view text) {
  constexpr std::string_view kUnit = "bytes ";
  if (text.substr(0, kUnit.size()) != kUnit) return std::nullopt;
  text.remove_prefix(kUnit.size());
  const size_t dash = text.find('-');
  const size_t slash = text.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) return std::nullopt;
  std::optional<uint64_t> first = ParseUnsigned(text.substr(0, dash));
  std::optional<uint64_t> last = ParseUnsigned(text.substr(dash + 1, slash - dash - 1));
  // "S-(S-1)/S", an empty range at the end, is what Azurite answers for a range starting there.
  if (!first || !last || *last + 1 < *first) return std::nullopt;
  ContentRange range{*first, *last, std::nullopt};
  if (std::string_view size = text.substr(slash + 1); size != "*") {
    range.size = ParseUnsigned(size);
    if (!range.size || *range.size <= *last) return std::nullopt;
  }
  return range;
}

bool HasHeader(const ports::HttpHeaders& headers, std::string_view name) {
  for (const auto& [header, value] : headers) {
    if (header == name) return true;
  }
  return false;
}

std::string Bytes(uint64_t first, uint64_t length) {
  if (length == 0) return "bytes from " + std::to_string(first);
  return "bytes " + std::to_string(first) + "-" + std::to_string(first + length - 1);
}

class SlicedDownload : public ObjectDownload {
 public:
  SlicedDownload(std::unique_ptr<ports::HttpBodyReader> body, BodySlice slice, std::string what)
      : body_(std::move(body)), to_skip_(slice.skip), left_(slice.length), what_(std::move(what)) {}

  Task<Result<std::string>> Next(size_t max_bytes) override {
    if (left_ == 0 || max_bytes == 0) co_return std::string();
    while (body_) {
      const uint64_t want = to_skip_ > 0 ? to_skip_ : left_;
      Result<std::string> piece = co_await body_->Read(static_cast<size_t>(std::min<uint64_t>(want, max_bytes)));
      if (!piece.ok()) co_return piece.status();
      if (piece->empty()) break;
      if (to_skip_ > 0) {
        to_skip_ -= std::min<uint64_t>(to_skip_, piece->size());
        continue;
      }
      if (piece->size() > left_) piece->resize(static_cast<size_t>(left_));
      left_ -= piece->size();
      co_return std::move(*piece);
    }
    co_return Status::Unavailable("the connection ended " + std::to_string(left_) + " bytes before the end of " +
                                  what_);
  }

 private:
  std::unique_ptr<ports::HttpBodyReader> body_;
  uint64_t to_skip_;
  uint64_t left_;
  const std::string what_;
};

}  // namespace

RequestedRange RangeOf(const v1::GetObjectRequest& req) {
  return {req.has_range(), req.range_start(), req.range_length()};
}

std::string RangeHeader(const RequestedRange& range) {
  std::string header = "bytes=" + std::to_string(range.start) + "-";
  if (range.length > 0) header += std::to_string(range.start + range.length - 1);
  return header;
}

Result<BodySlice> SliceOfAnswer(int http_status, const ports::HttpHeaders& headers, const RequestedRange& asked,
                                const std::string& what) {
  const std::string_view length_header = HeaderValue(headers, "content-length");
  const std::optional<uint64_t> body_length = ParseUnsigned(length_header);
  BodySlice slice;
  if (http_status == 206 && asked.ranged && body_length && !HasHeader(headers, "content-range")) {
    // A browser shows a cross-origin answer's Content-Range only when the
    // bucket's CORS rules expose it: the range is taken as asked, the
    // object's size is unknown (0).
    slice.range_start = asked.start;
    slice.length = asked.length > 0 ? std::min(*body_length, asked.length) : *body_length;
    return slice;
  }
  if (http_status == 206) {
    std::optional<ContentRange> range = ParseContentRange(HeaderValue(headers, "content-range"));
    if (!range) {
      return Status::Internal("the service answered a partial " + what + " with content-range " +
                              names::Quote(OneLine(HeaderValue(headers, "content-range"), 80)));
    }
    const uint64_t answered = range->last + 1 - range->first;
    // What the object holds of the range asked for (all of it, when its size is not given).
    uint64_t expected = answered;
    if (range->size) {
      expected = *range->size - asked.start;
      if (asked.length > 0) expected = std::min(expected, asked.length);
    } else if (asked.length > 0) {
      expected = std::min(expected, asked.length);
    }
    if (!asked.ranged || range->first != asked.start || answered < expected ||
        (body_length && *body_length != answered)) {
      return Status::Internal("the service answered bytes " + std::to_string(range->first) + "-" +
                              std::to_string(range->last) + " of " + what + " when asked for " +
                              (asked.ranged ? Bytes(asked.start, asked.length) : std::string("all of it")));
    }
    slice.range_start = range->first;
    slice.length = expected;
    slice.object_size = range->size.value_or(range->last + 1);
    return slice;
  }
  // The whole object: a plain GET, or a ranged one whose Range the server ignored.
  if (!body_length) {
    return Status::Internal("the service answered " + what + " without a content-length");
  }
  slice.object_size = *body_length;
  if (!asked.ranged) {
    slice.length = *body_length;
    return slice;
  }
  if (asked.start > *body_length) {
    return Status::InvalidArgument("range start " + std::to_string(asked.start) + " is beyond the " +
                                   std::to_string(*body_length) + " bytes of " + what);
  }
  slice.range_start = asked.start;
  slice.skip = asked.start;
  slice.length = *body_length - asked.start;
  if (asked.length > 0) slice.length = std::min(slice.length, asked.length);
  return slice;
}

std::unique_ptr<ObjectDownload> NewSlicedDownload(std::unique_ptr<ports::HttpBodyReader> body, BodySlice slice,
                                                  std::string what) {
  return std::make_unique<SlicedDownload>(std::move(body), slice, std::move(what));
}

}  // namespace cloudkit::remote
