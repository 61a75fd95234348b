#include "providers/remote/ranged_download.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
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

// "bytes FIRST-LAST/SIZE" (RFC 9110 14.4) as the bytes it holds: `count`
// from `first`. SIZE may be "*" (unknown).
struct ContentRange {
  uint64_t first = 0;
  uint64_t count = 0;
  std::optional<uint64_t> size;
  uint64_t last() const { return first + count - 1; }  // for messages; count > 0
};

std::optional<ContentRange> ParseContentRange(std::string_view text) {
  constexpr std::string_view kUnit = "bytes ";
  if (text.substr(0, kUnit.size()) != kUnit) return std::nullopt;
  text.remove_prefix(kUnit.size());
  const size_t dash = text.find('-');
  const size_t slash = text.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) return std::nullopt;
  std::optional<uint64_t> first = ParseUnsigned(text.substr(0, dash));
  const std::string_view last_text = text.substr(dash + 1, slash - dash - 1);
  const std::string_view size_text = text.substr(slash + 1);
  std::optional<uint64_t> size;
  if (size_text != "*") {
    size = ParseUnsigned(size_text);
    if (!size) return std::nullopt;
  }
  if (!first) return std::nullopt;
  // Azurite answers a range starting at the end with "S-(S-1)/S", of an empty
  // blob with "0--1/0": no bytes, at the end.
  if (last_text == "-1") {
    if (*first != 0 || size != std::optional<uint64_t>(0)) return std::nullopt;
    return ContentRange{0, 0, size};
  }
  std::optional<uint64_t> last = ParseUnsigned(last_text);
  if (!last || *last == UINT64_MAX || *last + 1 < *first) return std::nullopt;
  ContentRange range{*first, *last + 1 - *first, size};
  if (range.size && *range.size < *first + range.count) return std::nullopt;
  if (range.count == 0 && range.size != std::optional<uint64_t>(*first)) return std::nullopt;
  return range;
}

bool HasHeader(const ports::HttpHeaders& headers, std::string_view name) {
  for (const auto& [header, value] : headers) {
    if (header == name) return true;
  }
  return false;
}

// The last byte of `length` (> 0) from `start`, unless that is beyond what a
// uint64 holds (then the range is "to the end").
std::optional<uint64_t> LastByte(uint64_t start, uint64_t length) {
  if (length == 0 || length - 1 > UINT64_MAX - start) return std::nullopt;
  return start + length - 1;
}

std::string Bytes(uint64_t first, uint64_t length) {
  std::optional<uint64_t> last = LastByte(first, length);
  if (!last) return "bytes from " + std::to_string(first);
  return "bytes " + std::to_string(first) + "-" + std::to_string(*last);
}

std::string Answered(const ContentRange& range) {
  if (range.count == 0) return "no bytes at " + std::to_string(range.first);
  return "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last());
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
  if (std::optional<uint64_t> last = LastByte(range.start, range.length)) header += std::to_string(*last);
  return header;
}

Status RangeBeyond(uint64_t start, uint64_t size, const std::string& what) {
  return Status::InvalidArgument("range start " + std::to_string(start) + " is beyond the " + std::to_string(size) +
                                 " bytes of " + what);
}

Result<BodySlice> SliceOfRefusedRange(uint64_t start, uint64_t size, const Status& refusal, const std::string& what) {
  if (start > size) return RangeBeyond(start, size, what);
  if (start < size) return refusal;
  return BodySlice{start, 0, 0, size};
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
    const uint64_t answered = range->count;
    // What the object holds of the range asked for (all that was answered, when its size is not given).
    uint64_t expected = answered;
    if (range->size && asked.start <= *range->size) {
      expected = *range->size - asked.start;
      if (asked.length > 0) expected = std::min(expected, asked.length);
    } else if (asked.length > 0) {
      expected = std::min(expected, asked.length);
    }
    if (!asked.ranged || range->first != asked.start || answered < expected ||
        (body_length && *body_length != answered)) {
      return Status::Internal("the service answered " + Answered(*range) + " of " + what + " when asked for " +
                              (asked.ranged ? Bytes(asked.start, asked.length) : std::string("all of it")));
    }
    slice.range_start = range->first;
    slice.length = expected;
    slice.object_size = range->size.value_or(0);  // 0: unknown
    return slice;
  }
  // The whole object: a plain GET, or a ranged one whose Range the server ignored.
  if (!body_length) {
    const std::string_view encoding = HeaderValue(headers, "content-encoding");
    if (!encoding.empty() && encoding != "identity") {
      // A browser decodes such a body and hides its decoded length.
      return Status::Internal("the service answered " + what + " encoded (" + names::Quote(OneLine(encoding, 40)) +
                              ") without the length of its decoded bytes: read it through cloudkitd");
    }
    return Status::Internal("the service answered " + what + " without a content-length");
  }
  slice.object_size = *body_length;
  if (!asked.ranged) {
    slice.length = *body_length;
    return slice;
  }
  if (asked.start > *body_length) return RangeBeyond(asked.start, *body_length, what);
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
