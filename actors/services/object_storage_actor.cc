#include "services/object_storage_actor.h"

#include <algorithm>
#include <exception>
#include <string_view>
#include <unordered_map>

#include "services/call_frames.h"

namespace cloudkit {
namespace {

using UnaryHandler = Outbound (*)(ObjectStorageProvider&, const Inbound&);

template <typename Req, typename Resp, Result<Resp> (ObjectStorageProvider::*Method)(const Req&)>
Outbound Unary(ObjectStorageProvider& provider, const Inbound& in) {
  Req req;
  Status decoded = frames::Decode(in, &req);
  if (!decoded.ok()) return frames::Error(in.call_id, decoded);
  return frames::Reply(in.call_id, (provider.*Method)(req));
}

const std::unordered_map<std::string_view, UnaryHandler>& UnaryHandlers() {
  using P = ObjectStorageProvider;
  static const std::unordered_map<std::string_view, UnaryHandler> handlers = {
      {"CreateBucket", &Unary<v1::CreateBucketRequest, v1::CreateBucketResponse, &P::CreateBucket>},
      {"DeleteBucket", &Unary<v1::DeleteBucketRequest, v1::DeleteBucketResponse, &P::DeleteBucket>},
      {"ListBuckets", &Unary<v1::ListBucketsRequest, v1::ListBucketsResponse, &P::ListBuckets>},
      {"BucketExists", &Unary<v1::BucketExistsRequest, v1::BucketExistsResponse, &P::BucketExists>},
      {"HeadObject", &Unary<v1::HeadObjectRequest, v1::HeadObjectResponse, &P::HeadObject>},
      {"DeleteObject", &Unary<v1::DeleteObjectRequest, v1::DeleteObjectResponse, &P::DeleteObject>},
      {"DeleteObjects", &Unary<v1::DeleteObjectsRequest, v1::DeleteObjectsResponse, &P::DeleteObjects>},
      {"CopyObject", &Unary<v1::CopyObjectRequest, v1::CopyObjectResponse, &P::CopyObject>},
      {"ListObjects", &Unary<v1::ListObjectsRequest, v1::ListObjectsResponse, &P::ListObjects>},
  };
  return handlers;
}

}  // namespace

void ObjectStorageActor::Receive(Inbound&& in) {
  try {
    switch (in.kind) {
      case v1::REQUEST: return HandleRequest(in);
      case v1::DATA: return OnUploadData(in);
      case v1::CREDIT: return OnDownloadCredit(in);
      case v1::CANCEL:
        // Dropping the upload discards its content; nothing became visible.
        uploads_.erase(in.call_id);
        downloads_.erase(in.call_id);
        return;
      default: return;
    }
  } catch (const std::exception& e) {
    // A provider bug must cost one call, never the daemon.
    uploads_.erase(in.call_id);
    downloads_.erase(in.call_id);
    outbox_->Send(frames::Error(in.call_id, Status::Internal(in.method + ": " + e.what())));
  }
}

void ObjectStorageActor::HandleRequest(Inbound& in) {
  Status on_time = frames::CheckDeadline(in, *clock_);
  if (!on_time.ok()) return outbox_->Send(frames::Error(in.call_id, on_time));

  std::string_view method(in.method);
  std::string_view prefix(kServicePrefix);
  if (!method.starts_with(prefix)) {
    return outbox_->Send(frames::Error(in.call_id, Status::Unimplemented("method " + in.method)));
  }
  std::string_view rpc = method.substr(prefix.size());
  if (rpc == "PutObject") return StartPut(in);
  if (rpc == "GetObject") return StartGet(in);
  HandleUnary(in, rpc);
}

void ObjectStorageActor::HandleUnary(Inbound& in, std::string_view rpc) {
  auto handler = UnaryHandlers().find(rpc);
  if (handler == UnaryHandlers().end()) {
    return outbox_->Send(frames::Error(in.call_id, Status::Unimplemented("method " + in.method)));
  }
  outbox_->Send(handler->second(*provider_, in));
}

void ObjectStorageActor::StartPut(Inbound& in) {
  v1::PutObjectRequest req;
  Status decoded = frames::Decode(in, &req);
  if (!decoded.ok()) return outbox_->Send(frames::Error(in.call_id, decoded));
  if (req.data().size() > frames::kMaxChunkBytes) {
    return outbox_->Send(frames::Error(
        in.call_id, Status::InvalidArgument("inline data of " + std::to_string(req.data().size()) +
                                            " bytes exceeds the 1 MiB chunk limit; stream it")));
  }
  Result<std::unique_ptr<ObjectUpload>> upload = provider_->BeginPut(req);
  if (!upload.ok()) return outbox_->Send(frames::Error(in.call_id, upload.status()));
  Status appended = (*upload)->Append(req.data());
  if (!appended.ok()) return outbox_->Send(frames::Error(in.call_id, appended));
  uploads_[in.call_id] = std::move(*upload);
  if (!req.more_data()) return FinishUpload(in.call_id);
  outbox_->Send(frames::Credit(in.call_id, kUploadWindow));
}

void ObjectStorageActor::OnUploadData(Inbound& in) {
  auto it = uploads_.find(in.call_id);
  if (it == uploads_.end()) return;  // already failed or cancelled: late frames are expected
  Status appended = in.body.size() > frames::kMaxChunkBytes
                        ? Status::InvalidArgument("DATA frame of " + std::to_string(in.body.size()) +
                                                  " bytes exceeds the 1 MiB chunk limit")
                        : it->second->Append(in.body);
  if (!appended.ok()) {
    uploads_.erase(it);
    return outbox_->Send(frames::Error(in.call_id, appended));
  }
  if (in.end_of_stream) return FinishUpload(in.call_id);
  outbox_->Send(frames::Credit(in.call_id, 1));
}

void ObjectStorageActor::FinishUpload(uint64_t call_id) {
  auto node = uploads_.extract(call_id);
  outbox_->Send(frames::Reply(call_id, node.mapped()->Finish()));
}

void ObjectStorageActor::StartGet(Inbound& in) {
  v1::GetObjectRequest req;
  Status decoded = frames::Decode(in, &req);
  if (!decoded.ok()) return outbox_->Send(frames::Error(in.call_id, decoded));
  v1::GetObjectResponse head;
  Result<std::unique_ptr<ObjectDownload>> body = provider_->BeginGet(req, &head);
  if (!body.ok()) return outbox_->Send(frames::Error(in.call_id, body.status()));

  Result<std::string> first = (*body)->Next(frames::kChunkBytes);
  if (!first.ok()) return outbox_->Send(frames::Error(in.call_id, first.status()));
  uint64_t remaining = head.content_length() - std::min<uint64_t>(head.content_length(), first->size());
  head.set_data(std::move(*first));
  head.set_more_data(remaining > 0);
  outbox_->Send(frames::Response(in.call_id, head.SerializeAsString(), remaining == 0));
  if (remaining == 0) return;

  Download& download = downloads_[in.call_id];
  download.body = std::move(*body);
  download.remaining = remaining;
  download.credits = in.credits;
  PumpDownload(in.call_id, download);
}

void ObjectStorageActor::OnDownloadCredit(Inbound& in) {
  auto it = downloads_.find(in.call_id);
  if (it == downloads_.end()) return;
  it->second.credits += in.credits;
  PumpDownload(in.call_id, it->second);
}

void ObjectStorageActor::PumpDownload(uint64_t call_id, Download& download) {
  while (download.credits > 0) {
    Result<std::string> chunk = download.body->Next(frames::kChunkBytes);
    if (!chunk.ok() || chunk->empty()) {
      Status failure = chunk.ok() ? Status::Internal("object body ended " + std::to_string(download.remaining) +
                                                     " bytes early")
                                  : chunk.status();
      Outbound out = frames::Data(call_id, {}, /*end_of_stream=*/true);
      out.status = failure;
      downloads_.erase(call_id);
      return outbox_->Send(std::move(out));
    }
    download.remaining -= std::min<uint64_t>(download.remaining, chunk->size());
    download.credits--;
    bool last = download.remaining == 0;
    outbox_->Send(frames::Data(call_id, std::move(*chunk), last));
    if (last) {
      downloads_.erase(call_id);
      return;
    }
  }
}

}  // namespace cloudkit
