// Streamed ObjectStorage calls: PutObject and GetObject with the protocol's
// credit flow control (docs/protocol.md, "Streams and flow control").
//
// Upload: the first chunk rides in the REQUEST; every further DATA frame waits
// for a credit from the daemon, so at most the daemon's window of chunks is
// ever queued. Download: the REQUEST grants a window of DATA frames, and one
// more credit goes back each time the sink has consumed a chunk, so at most a
// window of chunks waits in memory. Both run on the calling thread; the I/O
// thread only moves frames.
#include <optional>

#include "client/byte_streams.h"
#include "client/caller.h"
#include "client/object_storage_client.h"

namespace cloudkit {
namespace {

using client_internal::ReplyFrame;
using client_internal::StreamCall;

constexpr char kPutObject[] = "cloudkit.v1.ObjectStorage/PutObject";
constexpr char kGetObject[] = "cloudkit.v1.ObjectStorage/GetObject";

// Reads from `source` until `chunk` holds `size` bytes or the body ends.
// Returns true when the body ended (the chunk may then be short or empty).
Result<bool> FillChunk(const ByteSource& source, size_t size, std::string* chunk) {
  chunk->resize(size);
  size_t filled = 0;
  while (filled < size) {
    Result<size_t> n = source(chunk->data() + filled, size - filled);
    if (!n.ok()) return n.status();
    if (*n == 0) {
      chunk->resize(filled);
      return true;
    }
    filled += *n;
  }
  return false;
}

class Progress {
 public:
  Progress(const ProgressCallback& callback, std::optional<uint64_t> total) : callback_(callback), total_(total) {}
  void set_total(uint64_t total) { total_ = total; }
  uint64_t done() const { return done_; }
  void Add(uint64_t bytes) {
    done_ += bytes;
    if (callback_) callback_(done_, total_);
  }

 private:
  const ProgressCallback& callback_;
  std::optional<uint64_t> total_;
  uint64_t done_ = 0;
};

// Takes a frame the daemon sent during an upload: CREDIT adds to `credits`.
// Returns the status that ends the upload early: the daemon's error, or a
// RESPONSE before the last chunk (which the protocol does not allow).
Status TakeUploadFrame(const ReplyFrame& frame, uint32_t* credits) {
  if (!frame.status.ok()) return frame.status;
  if (frame.kind == v1::CREDIT) *credits += frame.credits;
  if (frame.kind == v1::RESPONSE) {
    return Status::Internal("cloudkitd answered PutObject before the upload ended");
  }
  return Status::Ok();
}

template <typename Resp>
Result<Resp> ParseResponse(const ReplyFrame& frame, const std::string& endpoint, const char* method) {
  Resp response;
  if (!response.ParseFromString(frame.body)) {
    return Status::Internal("the reply of cloudkitd at " + endpoint + " to " + method + " is not a valid " +
                            response.GetTypeName());
  }
  return response;
}

// Sends the rest of an upload whose first chunk went in the REQUEST, then
// waits for the RESPONSE.
Result<v1::PutObjectResponse> StreamRest(StreamCall& call, const ByteSource& source, size_t chunk_bytes,
                                         Progress& progress, const std::string& endpoint) {
  uint32_t credits = 0;
  bool ended = false;
  std::string chunk;
  while (!ended) {
    Result<bool> filled = FillChunk(source, chunk_bytes, &chunk);
    if (!filled.ok()) {
      call.Cancel();
      return filled.status();
    }
    ended = *filled;
    // What already arrived first, so an early error stops the upload at once.
    while (std::optional<ReplyFrame> frame = call.Poll()) {
      CK_RETURN_IF_ERROR(TakeUploadFrame(*frame, &credits));
    }
    while (credits == 0) CK_RETURN_IF_ERROR(TakeUploadFrame(call.Next(), &credits));
    const size_t size = chunk.size();
    call.SendData(std::move(chunk), /*end_of_stream=*/ended);
    chunk = std::string();
    credits--;
    progress.Add(size);
  }
  while (true) {
    ReplyFrame frame = call.Next();
    if (!frame.status.ok()) return frame.status;
    if (frame.kind != v1::RESPONSE) continue;  // credits beyond what the upload needed
    call.Finish();
    return ParseResponse<v1::PutObjectResponse>(frame, endpoint, kPutObject);
  }
}

}  // namespace

ObjectStorageClient::PutObjectResult ObjectStorageClient::PutObject(const v1::PutObjectRequest& request,
                                                                    const ByteSource& source,
                                                                    const TransferOptions& options) {
  const size_t chunk_bytes = caller_.options().chunk_bytes;
  v1::PutObjectRequest head = request;
  Result<bool> first_is_all = FillChunk(source, chunk_bytes, head.mutable_data());
  if (!first_is_all.ok()) return first_is_all.status();
  head.set_more_data(!*first_is_all);
  const size_t first_size = head.data().size();
  Progress progress(options.progress, options.size_hint);

  if (*first_is_all) {  // small: inline in one REQUEST
    PutObjectResult result = caller_.Call<v1::PutObjectResponse>(kPutObject, head, options.call);
    if (result.ok()) progress.Add(first_size);
    return result;
  }
  std::unique_ptr<StreamCall> call = caller_.Stream(kPutObject, head, options.call, /*credits=*/0);
  head.Clear();  // the first chunk is on its way: do not hold it twice
  progress.Add(first_size);
  return StreamRest(*call, source, chunk_bytes, progress, caller_.endpoint());
}

ObjectStorageClient::PutObjectResult ObjectStorageClient::PutObject(const v1::PutObjectRequest& request,
                                                                    const TransferOptions& options) {
  if (request.data().size() <= caller_.options().chunk_bytes) {
    v1::PutObjectRequest inline_request = request;
    inline_request.set_more_data(false);
    PutObjectResult result = caller_.Call<v1::PutObjectResponse>(kPutObject, inline_request, options.call);
    if (result.ok() && options.progress) options.progress(request.data().size(), request.data().size());
    return result;
  }
  TransferOptions with_size = options;
  if (!with_size.size_hint) with_size.size_hint = request.data().size();
  return PutObject(request, SourceFromString(request.data()), with_size);
}

ObjectStorageClient::PutObjectResult ObjectStorageClient::PutObject(const v1::PutObjectRequest& request,
                                                                    std::istream& in, const TransferOptions& options) {
  return PutObject(request, SourceFromStream(in), options);
}

ObjectStorageClient::PutObjectResult ObjectStorageClient::PutObjectFromFd(const v1::PutObjectRequest& request, int fd,
                                                                          const TransferOptions& options) {
  return PutObject(request, SourceFromFd(fd), options);
}

std::future<ObjectStorageClient::PutObjectResult> ObjectStorageClient::PutObjectAsync(
    const v1::PutObjectRequest& request, const TransferOptions& options) {
  if (request.data().size() <= caller_.options().chunk_bytes && !options.progress) {
    v1::PutObjectRequest inline_request = request;
    inline_request.set_more_data(false);
    return caller_.Unary<v1::PutObjectResponse>(kPutObject, inline_request, options.call);
  }
  return std::async(std::launch::async, [this, request, options] { return PutObject(request, options); });
}

std::future<ObjectStorageClient::PutObjectResult> ObjectStorageClient::PutObjectAsync(
    const v1::PutObjectRequest& request, ByteSource source, const TransferOptions& options) {
  return std::async(std::launch::async, [this, request, source = std::move(source), options] {
    return PutObject(request, source, options);
  });
}

ObjectStorageClient::GetObjectResult ObjectStorageClient::GetObject(const v1::GetObjectRequest& request,
                                                                    const ByteSink& sink,
                                                                    const TransferOptions& options) {
  const uint32_t window = std::max<uint32_t>(1, caller_.options().download_window);
  std::unique_ptr<StreamCall> call = caller_.Stream(kGetObject, request, options.call, window);

  ReplyFrame first = call->Next();
  if (!first.status.ok()) return first.status;
  if (first.kind != v1::RESPONSE) {
    return Status::Internal("cloudkitd sent a frame of kind " + std::to_string(first.kind) +
                            " before the GetObject response");
  }
  Result<v1::GetObjectResponse> head = ParseResponse<v1::GetObjectResponse>(first, caller_.endpoint(), kGetObject);
  if (!head.ok()) return head.status();
  Progress progress(options.progress, head->content_length());

  std::string data = std::move(*head->mutable_data());
  head->clear_data();
  CK_RETURN_IF_ERROR(sink(data));  // on error the StreamCall's destructor cancels the call
  progress.Add(data.size());
  data = std::string();

  bool more = head->more_data();
  while (more) {
    ReplyFrame frame = call->Next();
    if (!frame.status.ok()) return frame.status;  // a failed DATA frame, or the deadline
    if (frame.kind != v1::DATA) continue;
    CK_RETURN_IF_ERROR(sink(frame.body));
    progress.Add(frame.body.size());
    more = !frame.end_of_stream;
    // The chunk is consumed: let the daemon send one more.
    if (more) call->GrantCredits(1);
  }
  call->Finish();
  if (progress.done() != head->content_length()) {
    return Status::Internal("GetObject of '" + request.key() + "' ended after " + std::to_string(progress.done()) +
                            " of " + std::to_string(head->content_length()) + " bytes");
  }
  return head;
}

ObjectStorageClient::GetObjectResult ObjectStorageClient::GetObject(const v1::GetObjectRequest& request,
                                                                    const TransferOptions& options) {
  std::string body;
  GetObjectResult result = GetObject(request, SinkToString(&body), options);
  if (result.ok()) result->set_data(std::move(body));
  return result;
}

ObjectStorageClient::GetObjectResult ObjectStorageClient::GetObject(const v1::GetObjectRequest& request,
                                                                    std::ostream& out, const TransferOptions& options) {
  return GetObject(request, SinkToStream(out), options);
}

ObjectStorageClient::GetObjectResult ObjectStorageClient::GetObjectToFd(const v1::GetObjectRequest& request, int fd,
                                                                        const TransferOptions& options) {
  return GetObject(request, SinkToFd(fd), options);
}

std::future<ObjectStorageClient::GetObjectResult> ObjectStorageClient::GetObjectAsync(
    const v1::GetObjectRequest& request, const TransferOptions& options) {
  return std::async(std::launch::async, [this, request, options] { return GetObject(request, options); });
}

std::future<ObjectStorageClient::GetObjectResult> ObjectStorageClient::GetObjectAsync(
    const v1::GetObjectRequest& request, ByteSink sink, const TransferOptions& options) {
  return std::async(std::launch::async, [this, request, sink = std::move(sink), options] {
    return GetObject(request, sink, options);
  });
}

}  // namespace cloudkit
