#include "services/object_storage_actor.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "core/call_deadline.h"
#include "services/call_frames.h"

namespace cloudkit {
namespace {

using Keys = std::vector<KeyLocks::Key>;

KeyLocks::Key Bucket(const std::string& bucket, bool exclusive) { return {"b" + bucket, exclusive}; }
KeyLocks::Key Object(const std::string& bucket, const std::string& key, bool exclusive) {
  return {"o" + bucket + '\0' + key, exclusive};
}

template <typename Req>
Keys NoKeys(const Req&) { return {}; }
template <typename Req>
Keys HoldsBucket(const Req& req) { return {Bucket(req.bucket(), true)}; }
template <typename Req>
Keys SharesBucket(const Req& req) { return {Bucket(req.bucket(), false)}; }
template <typename Req>
Keys ReadsObject(const Req& req) { return {Bucket(req.bucket(), false), Object(req.bucket(), req.key(), false)}; }
template <typename Req>
Keys WritesObject(const Req& req) { return {Bucket(req.bucket(), false), Object(req.bucket(), req.key(), true)}; }
Keys DeleteObjectsKeys(const v1::DeleteObjectsRequest& req) {
  Keys keys{Bucket(req.bucket(), false)};
  for (const std::string& key : req.keys()) keys.push_back(Object(req.bucket(), key, true));
  return keys;
}
Keys CopyObjectKeys(const v1::CopyObjectRequest& req) {
  return {Bucket(req.source_bucket(), false), Object(req.source_bucket(), req.source_key(), false),
          Bucket(req.bucket(), false), Object(req.bucket(), req.key(), true)};
}

}  // namespace

ObjectStorageActor::ObjectStorageActor(ObjectStorageProvider* provider, ports::Clock* clock, Outbox* outbox,
                                       ports::Timers* timers)
    : OperationActor(clock, outbox), provider_(provider), timers_(timers) {
  provider_->ServedAfresh();
  if (timers_ && provider_->sweep_interval_ms() > 0) timers_->Arm(kSweepTimer, 0);
}

void ObjectStorageActor::OnTimer(uint32_t token) {
  if (token == kSweepTimer) Spawn(SweepPass());
}

Task<void> ObjectStorageActor::SweepPass() {
  co_await provider_->Sweep();
  timers_->Arm(kSweepTimer, provider_->sweep_interval_ms());
}

template <typename Req, typename Resp, Task<Result<Resp>> (ObjectStorageProvider::*Method)(const Req&),
          std::vector<KeyLocks::Key> (*KeysOf)(const Req&)>
Task<void> ObjectStorageActor::Unary(Call& call, Inbound& in) {
  return RunUnary<Req>(call, in, KeysOf, [this](const Req& req) { return (provider_->*Method)(req); });
}

const std::vector<ObjectStorageActor::Method>& ObjectStorageActor::Methods() {
  using P = ObjectStorageProvider;
  using A = ObjectStorageActor;
  static const std::vector<Method> methods = {
      {"CreateBucket", false, &A::Unary<v1::CreateBucketRequest, v1::CreateBucketResponse, &P::CreateBucket,
                                        &HoldsBucket<v1::CreateBucketRequest>>},
      {"DeleteBucket", false, &A::Unary<v1::DeleteBucketRequest, v1::DeleteBucketResponse, &P::DeleteBucket,
                                        &HoldsBucket<v1::DeleteBucketRequest>>},
      {"ListBuckets", false, &A::Unary<v1::ListBucketsRequest, v1::ListBucketsResponse, &P::ListBuckets, &NoKeys<v1::ListBucketsRequest>>},
      {"BucketExists", false, &A::Unary<v1::BucketExistsRequest, v1::BucketExistsResponse, &P::BucketExists,
                                        &SharesBucket<v1::BucketExistsRequest>>},
      {"PutObject", true, &A::PutObject},
      {"GetObject", true, &A::GetObject},
      {"HeadObject", false, &A::Unary<v1::HeadObjectRequest, v1::HeadObjectResponse, &P::HeadObject,
                                      &ReadsObject<v1::HeadObjectRequest>>},
      {"DeleteObject", false, &A::Unary<v1::DeleteObjectRequest, v1::DeleteObjectResponse, &P::DeleteObject,
                                        &WritesObject<v1::DeleteObjectRequest>>},
      {"DeleteObjects", false, &A::Unary<v1::DeleteObjectsRequest, v1::DeleteObjectsResponse, &P::DeleteObjects,
                                         &DeleteObjectsKeys>},
      {"CopyObject", false,
       &A::Unary<v1::CopyObjectRequest, v1::CopyObjectResponse, &P::CopyObject, &CopyObjectKeys>},
      {"ListObjects", false, &A::Unary<v1::ListObjectsRequest, v1::ListObjectsResponse, &P::ListObjects,
                                       &SharesBucket<v1::ListObjectsRequest>>},
      {"PresignObject", false, &A::Unary<v1::PresignObjectRequest, v1::PresignObjectResponse, &P::PresignObject,
                                         &NoKeys<v1::PresignObjectRequest>>},
  };
  return methods;
}

ServiceDescriptor ObjectStorageActor::Descriptor() {
  ServiceDescriptor service;
  service.name = "object_storage";
  service.proto_service = "cloudkit.v1.ObjectStorage";
  for (const Method& method : Methods()) service.methods.push_back({method.name, method.streams});
  service.runs_inline_over_memory = false;  // CopyObject copies a whole object in one turn over memory
  service.make_actor = [](ServiceProvider& provider, const ActorContext& context) -> std::unique_ptr<Actor> {
    auto* storage = dynamic_cast<ObjectStorageProvider*>(&provider);
    if (!storage) return nullptr;
    return std::make_unique<ObjectStorageActor>(storage, context.clock, context.outbox, context.timers);
  };
  return service;
}

Task<void> ObjectStorageActor::Start(Call& call, Inbound& in) {
  return Dispatch(this, Methods(), kServicePrefix, call, in);
}

Task<void> ObjectStorageActor::PutObject(Call& call, Inbound& in) {
  v1::PutObjectRequest req;
  Status decoded = frames::Decode(in, &req);
  if (!decoded.ok()) co_return Fail(call, decoded);
  if (req.data().size() > frames::kMaxChunkBytes) {
    co_return Fail(call, Status::InvalidArgument("inline data of " + std::to_string(req.data().size()) +
                                                 " bytes exceeds the 1 MiB chunk limit; stream it"));
  }
  if (!req.more_data()) call.EndInput();  // the body came whole
  // The upload holds its object until it is published or abandoned, so that
  // calls the client sent after it see its outcome.
  auto ticket = OrderFor(in, WritesObject(req));
  co_await ticket->Granted();
  Result<std::unique_ptr<ObjectUpload>> upload = co_await WithCallDeadline(in.deadline_ms, provider_->BeginPut(req));
  if (!upload.ok()) co_return Fail(call, upload.status());
  Status appended = co_await (*upload)->Append(std::move(*req.mutable_data()));
  if (!appended.ok()) co_return Fail(call, appended);
  if (req.more_data()) {
    GrantData(call, kUploadWindow);
    while (true) {
      std::optional<Inbound> frame = co_await call.Next();
      if (!frame) co_return;  // cancelled: dropping the upload discards its content
      if (frame->kind != v1::DATA) continue;
      if (frame->body.size() > frames::kMaxChunkBytes) {
        co_return Fail(call, Status::InvalidArgument("DATA frame of " + std::to_string(frame->body.size()) +
                                                     " bytes exceeds the 1 MiB chunk limit"));
      }
      appended = co_await (*upload)->Append(std::move(frame->body));
      if (!appended.ok()) co_return Fail(call, appended);
      if (frame->end_of_stream) break;
      GrantData(call, 1);
    }
  }
  // Cancelled meanwhile: dropping the upload discards it.
  if (call.cancelled()) co_return;
  Result<v1::PutObjectResponse> finished = co_await (*upload)->Finish();
  Reply(call, finished);
}

Task<void> ObjectStorageActor::GetObject(Call& call, Inbound& in) {
  v1::GetObjectRequest req;
  Status decoded = frames::Decode(in, &req);
  if (!decoded.ok()) co_return Fail(call, decoded);
  auto ticket = OrderFor(in, ReadsObject(req));
  co_await ticket->Granted();
  v1::GetObjectResponse head;
  Result<std::unique_ptr<ObjectDownload>> body = co_await WithCallDeadline(in.deadline_ms, provider_->BeginGet(req, &head));
  if (!body.ok()) co_return Fail(call, body.status());
  ObjectDownload& download = **body;

  Result<std::string> first = co_await download.Next(frames::kChunkBytes);
  ticket.reset();  // the body is read from content no later call can change
  if (!first.ok()) co_return Fail(call, first.status());
  uint64_t remaining = head.content_length() - std::min<uint64_t>(head.content_length(), first->size());
  head.set_data(std::move(*first));
  head.set_more_data(remaining > 0);
  Send(call, frames::Response(call.id(), head.SerializeAsString(), remaining == 0));
  uint32_t credits = std::min(in.credits, kDownloadWindow);
  while (remaining > 0) {
    while (credits == 0) {
      std::optional<Inbound> frame = co_await call.Next();
      if (!frame) co_return;  // cancelled
      if (frame->kind == v1::CREDIT) credits = std::min(credits + frame->credits, kDownloadWindow);
    }
    Result<std::string> chunk = co_await download.Next(frames::kChunkBytes);
    if (call.cancelled()) co_return;
    if (!chunk.ok() || chunk->empty()) {
      Outbound out = frames::Data(call.id(), {}, /*end_of_stream=*/true);
      out.status = chunk.ok() ? Status::Internal("object body ended " + std::to_string(remaining) + " bytes early")
                              : chunk.status();
      co_return Send(call, std::move(out));
    }
    remaining -= std::min<uint64_t>(remaining, chunk->size());
    credits--;
    Send(call, frames::Data(call.id(), std::move(*chunk), remaining == 0));
  }
}

}  // namespace cloudkit
