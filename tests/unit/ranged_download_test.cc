// How a remote object's GET answer becomes the range GetObject promises:
// servers that honour Range, servers that ignore it (HTTP allows that: the
// whole object comes back with 200) and answers with other bytes than those
// asked for, which must never reach the client as if they were.
#include <gtest/gtest.h>

#include "providers/remote/ranged_download.h"
#include "support/run_task.h"

namespace cloudkit::remote {
namespace {

using testing_util::RunTask;

const std::string kWhat = "object 'a' in bucket 'b'";

class StringBody : public ports::HttpBodyReader {
 public:
  explicit StringBody(std::string body) : body_(std::move(body)) {}
  Async<Result<std::string>> Read(size_t max_bytes) override {
    std::string piece = body_.substr(0, std::min(max_bytes, size_t{3}));  // small pieces: skips span several
    body_.erase(0, piece.size());
    return Async<Result<std::string>>::Ready(std::move(piece));
  }

 private:
  std::string body_;
};

RequestedRange Range(uint64_t start, uint64_t length) { return {true, start, length}; }

std::string ReadAll(ObjectDownload& download, Status* failure = nullptr) {
  std::string all;
  for (;;) {
    Result<std::string> piece = RunTask(download.Next(4));
    if (!piece.ok()) {
      if (failure) *failure = piece.status();
      return all;
    }
    if (piece->empty()) return all;
    all += *piece;
  }
}

std::string Delivered(int status, const ports::HttpHeaders& headers, const std::string& body,
                      const RequestedRange& asked, BodySlice* slice_out = nullptr) {
  Result<BodySlice> slice = SliceOfAnswer(status, headers, asked, kWhat);
  EXPECT_TRUE(slice.ok()) << slice.status().message();
  if (!slice.ok()) return "<refused>";
  if (slice_out) *slice_out = *slice;
  auto download = NewSlicedDownload(std::make_unique<StringBody>(body), *slice, kWhat);
  return ReadAll(*download);
}

TEST(RangedDownloadTest, RangeHeaders) {
  EXPECT_EQ(RangeHeader(Range(0, 0)), "bytes=0-");
  EXPECT_EQ(RangeHeader(Range(5, 1)), "bytes=5-5");
  EXPECT_EQ(RangeHeader(Range(2, 10)), "bytes=2-11");
  // A length past what a uint64 holds is "to the end", never a wrapped end before the start.
  EXPECT_EQ(RangeHeader(Range(2, UINT64_MAX)), "bytes=2-");
  EXPECT_EQ(RangeHeader(Range(UINT64_MAX, 1)), "bytes=18446744073709551615-18446744073709551615");
}

TEST(RangedDownloadTest, AWholeObjectIsDeliveredWhole) {
  BodySlice slice;
  EXPECT_EQ(Delivered(200, {{"content-length", "10"}}, "0123456789", {}, &slice), "0123456789");
  EXPECT_EQ(slice.range_start, 0u);
  EXPECT_EQ(slice.length, 10u);
  EXPECT_EQ(slice.object_size, 10u);
}

TEST(RangedDownloadTest, AnHonouredRangeIsDeliveredAsAnswered) {
  BodySlice slice;
  EXPECT_EQ(Delivered(206, {{"content-range", "bytes 2-4/10"}, {"content-length", "3"}}, "234", Range(2, 3), &slice),
            "234");
  EXPECT_EQ(slice.range_start, 2u);
  EXPECT_EQ(slice.length, 3u);
  EXPECT_EQ(slice.object_size, 10u);
  // To the end, and a length beyond the end: what the object has.
  EXPECT_EQ(Delivered(206, {{"content-range", "bytes 7-9/10"}}, "789", Range(7, 0)), "789");
  EXPECT_EQ(Delivered(206, {{"content-range", "bytes 7-9/10"}}, "789", Range(7, 100), &slice), "789");
  EXPECT_EQ(slice.length, 3u);
  // An empty range at the end, as Azurite answers a range starting there.
  EXPECT_EQ(Delivered(206, {{"content-range", "bytes 10-9/10"}, {"content-length", "0"}}, "", Range(10, 0), &slice),
            "");
  EXPECT_EQ(slice.range_start, 10u);
  EXPECT_EQ(slice.length, 0u);
  // And of an empty blob: "bytes 0--1/0".
  EXPECT_EQ(Delivered(206, {{"content-range", "bytes 0--1/0"}, {"content-length", "0"}}, "", Range(0, 0), &slice), "");
  EXPECT_EQ(slice.length, 0u);
  EXPECT_EQ(slice.object_size, 0u);
  // A size the service does not know ("*"): shown as 0, unknown.
  EXPECT_EQ(Delivered(206, {{"content-range", "bytes 2-4/*"}}, "234", Range(2, 3), &slice), "234");
  EXPECT_EQ(slice.object_size, 0u);
}

// In a browser, a bucket whose CORS rules do not expose Content-Range.
TEST(RangedDownloadTest, AHiddenContentRangeIsTakenAsAsked) {
  BodySlice slice;
  EXPECT_EQ(Delivered(206, {{"content-length", "3"}}, "234", Range(2, 3), &slice), "234");
  EXPECT_EQ(slice.range_start, 2u);
  EXPECT_EQ(slice.length, 3u);
  EXPECT_EQ(slice.object_size, 0u);
  EXPECT_FALSE(SliceOfAnswer(206, {}, Range(2, 0), kWhat).ok());  // nor a length: nothing to go by
}

TEST(RangedDownloadTest, AnIgnoredRangeIsCutFromTheWholeObject) {
  const ports::HttpHeaders whole = {{"content-length", "10"}};
  BodySlice slice;
  EXPECT_EQ(Delivered(200, whole, "0123456789", Range(2, 3), &slice), "234");
  EXPECT_EQ(slice.range_start, 2u);
  EXPECT_EQ(slice.length, 3u);
  EXPECT_EQ(slice.object_size, 10u);
  EXPECT_EQ(Delivered(200, whole, "0123456789", Range(6, 0)), "6789");
  EXPECT_EQ(Delivered(200, whole, "0123456789", Range(8, 50)), "89");
  EXPECT_EQ(Delivered(200, whole, "0123456789", Range(10, 0), &slice), "");
  EXPECT_EQ(slice.length, 0u);

  Result<BodySlice> beyond = SliceOfAnswer(200, whole, Range(11, 0), kWhat);
  ASSERT_FALSE(beyond.ok());
  EXPECT_EQ(beyond.status().code(), v1::INVALID_ARGUMENT);
  EXPECT_EQ(beyond.status().message(), "invalid argument: range start 11 is beyond the 10 bytes of " + kWhat);
}

TEST(RangedDownloadTest, OtherBytesThanThoseAskedForAreRefused) {
  struct Case {
    ports::HttpHeaders headers;
    RequestedRange asked;
  };
  const Case cases[] = {
      {{{"content-range", "bytes 0-4/10"}}, Range(2, 3)},                         // another start
      {{{"content-range", "bytes 2-3/10"}}, Range(2, 3)},                         // fewer than there are
      {{{"content-range", "bytes 2-5/10"}}, Range(2, 0)},                         // not up to the end
      {{{"content-range", "bytes 2-4/10"}, {"content-length", "2"}}, Range(2, 3)},  // a body of another length
      {{{"content-range", "bytes 2-4/10"}}, {}},                                  // a range nobody asked for
      {{{"content-range", "bytes 4-3/10"}}, Range(4, 0)},                         // empty, not at the end
      {{{"content-range", "bytes 4-2/10"}}, Range(4, 0)},                         // malformed ones
      {{{"content-range", "bytes 2-4/3"}}, Range(2, 0)},
      {{{"content-range", "items 2-4/10"}}, Range(2, 0)},
      {{{"content-range", "bytes 2-4/1x"}}, Range(2, 0)},
      {{{"content-range", "bytes 0-18446744073709551615/*"}}, Range(0, 0)},  // an end that wraps
      {{{"content-range", "bytes 1--1/0"}}, Range(1, 0)},
      {{{"content-range", "bytes 0--1/5"}}, Range(0, 0)},
  };
  for (const Case& c : cases) {
    Result<BodySlice> slice = SliceOfAnswer(206, c.headers, c.asked, kWhat);
    ASSERT_FALSE(slice.ok()) << (c.headers.empty() ? "" : c.headers[0].second);
    EXPECT_EQ(slice.status().code(), v1::INTERNAL);
    EXPECT_NE(slice.status().message().find(kWhat), std::string::npos) << slice.status().message();
  }
  Result<BodySlice> no_length = SliceOfAnswer(200, {}, {}, kWhat);
  ASSERT_FALSE(no_length.ok());
  EXPECT_EQ(no_length.status().code(), v1::INTERNAL);
}

TEST(RangedDownloadTest, ARangeRefusedByTheServiceIsEmptyOnlyAtTheEnd) {
  const Status refusal = Status::InvalidArgument("the service's own words");
  Result<BodySlice> at_end = SliceOfRefusedRange(10, 10, refusal, kWhat);
  ASSERT_TRUE(at_end.ok());
  EXPECT_EQ(at_end->range_start, 10u);
  EXPECT_EQ(at_end->length, 0u);
  EXPECT_EQ(SliceOfRefusedRange(11, 10, refusal, kWhat).status().message(),
            "invalid argument: range start 11 is beyond the 10 bytes of " + kWhat);
  EXPECT_EQ(SliceOfRefusedRange(2, 10, refusal, kWhat).status().message(), refusal.message());
}

// A browser decodes a body sent with a Content-Encoding, and the fetch port
// drops the Content-Length that counts the encoded bytes.
TEST(RangedDownloadTest, AnEncodedBodyWithoutItsLengthIsRefusedNotCut) {
  Result<BodySlice> slice = SliceOfAnswer(200, {{"content-encoding", "gzip"}}, {}, kWhat);
  ASSERT_FALSE(slice.ok());
  EXPECT_EQ(slice.status().code(), v1::INTERNAL);
  EXPECT_NE(slice.status().message().find("'gzip'"), std::string::npos) << slice.status().message();
}

TEST(RangedDownloadTest, ABodyEndingBeforeItsSliceIsAnError) {
  Result<BodySlice> slice = SliceOfAnswer(200, {{"content-length", "10"}}, Range(4, 0), kWhat);
  ASSERT_TRUE(slice.ok());
  auto download = NewSlicedDownload(std::make_unique<StringBody>("012345"), *slice, kWhat);
  Status failure;
  EXPECT_EQ(ReadAll(*download, &failure), "45");
  EXPECT_EQ(failure.code(), v1::UNAVAILABLE);
  EXPECT_TRUE(failure.retryable());
  EXPECT_EQ(failure.message(), "unavailable: the connection ended 4 bytes before the end of " + kWhat);
}

TEST(RangedDownloadTest, AnEmptyDownloadNeedsNoBody) {
  auto download = NewSlicedDownload(nullptr, {5, 0, 0, 5}, kWhat);
  EXPECT_EQ(ReadAll(*download), "");
}

}  // namespace
}  // namespace cloudkit::remote
