#include "providers/azure/blob_upload.h"

#include <cstdio>
#include <utility>
#include <vector>

#include "core/base64.h"
#include "providers/aws/sigv4.h"
#include "providers/azure/blob_properties.h"
#include "providers/azure/blob_xml.h"
#include "providers/remote/http_errors.h"
#include "providers/remote/timestamps.h"
#include "providers/resilience/concurrency_limit.h"

namespace cloudkit::azure {
namespace {

using ports::HttpHeaders;
using remote::HeaderValue;

// A request with a large body: each try gets the binding's transfer timeout
// rather than the attempt timeout. The answer's (small) body is read whole.
Task<Result<remote::HttpAnswer>> SendBody(BlobContext& context, int64_t deadline,
                                          remote::HttpService::MakeRequest request, const std::string& what) {
  Result<ports::HttpResponse> sent =
      co_await context.client.http.Send(deadline, std::move(request), context.Errors(what), true);
  if (!sent.ok()) co_return sent.status();
  remote::HttpAnswer answer{sent->status, std::move(sent->headers), {}};
  Result<std::string> body = co_await remote::ReadWhole(sent->body.get(), 64 * 1024, what);
  if (!body.ok()) co_return body.status();
  answer.body = std::move(*body);
  co_return answer;
}

class BlobUpload : public ObjectUpload {
 public:
  BlobUpload(std::shared_ptr<BlobContext> context, v1::PutObjectRequest req, std::string azure_if_match,
             std::string nonce, int64_t deadline)
      : state_(std::make_shared<State>(std::move(context), std::move(req), std::move(azure_if_match),
                                       std::move(nonce), deadline)) {}

  Task<Status> Append(std::string chunk) override {
    State& s = *state_;
    if (!s.failure.ok()) co_return s.failure;
    s.size += chunk.size();
    s.md5->Update(chunk);
    s.buffer += chunk;
    const uint64_t block_size = s.context->location.block_size;
    while (s.buffer.size() >= block_size) {
      std::string block = s.buffer.substr(0, block_size);
      s.buffer.erase(0, block_size);
      Status sent = co_await SendBlock(std::move(block));
      if (!sent.ok()) co_return sent;
    }
    co_return s.failure;
  }

  Task<Result<v1::PutObjectResponse>> Finish() override {
    State& s = *state_;
    if (!s.failure.ok()) co_return s.failure;
    if (s.finished) co_return Status::FailedPrecondition("upload of " + What() + " already finished");
    s.finished = true;
    const std::string md5 = Md5Base64FromHex(s.md5->FinishHex());
    const std::string content_type =
        s.req.content_type().empty() ? "application/octet-stream" : s.req.content_type();
    HttpHeaders headers;
    if (s.req.if_none_match()) headers.emplace_back("if-none-match", "*");
    if (!s.azure_if_match.empty()) headers.emplace_back("if-match", s.azure_if_match);
    headers.emplace_back("x-ms-blob-content-type", content_type);
    for (const auto& [name, value] : s.req.metadata()) headers.emplace_back(kMetaPrefix + name, value);
    Result<remote::HttpAnswer> written = Status::Internal("not written");
    const std::string url = s.context->location.BlobUrl(s.name);
    if (s.block_ids.empty()) {
      headers.emplace_back("x-ms-blob-type", "BlockBlob");
      headers.emplace_back("content-md5", md5);
      auto request = s.context->client.Request("PUT", url, std::move(headers), std::move(s.buffer));
      const std::string what = What();  // named: a temporary bound to a reference in a co_await trips g++ 12
      written = co_await SendBody(*s.context, s.deadline, std::move(request), what);
    } else {
      if (!s.buffer.empty()) {
        Status sent = co_await SendBlock(std::move(s.buffer));
        if (!sent.ok()) co_return sent;
      }
      // Every block in: take every slot.
      std::vector<std::unique_ptr<resilience::ConcurrencyLimit::Permit>> all;
      for (uint32_t i = 0; i < s.context->location.parallel_blocks; ++i) {
        all.push_back(s.slots.Acquire());
        co_await all.back()->Granted();
      }
      if (!s.failure.ok()) co_return s.failure;
      headers.emplace_back("x-ms-blob-content-md5", md5);
      headers.emplace_back("content-type", "application/xml");
      auto request = s.context->client.Request("PUT", s.context->location.BlobUrl(s.name, "comp=blocklist"),
                                               std::move(headers), BlockListBody(s.block_ids));
      written = co_await s.context->client.http.Fetch(s.deadline, std::move(request), s.context->Errors(What()));
    }
    if (!written.ok()) {
      // If-Match on a blob that is gone: the condition failed, whatever Azure calls it.
      if (written.status().code() == v1::NOT_FOUND && !s.azure_if_match.empty()) {
        co_return Status::FailedPrecondition(What() + " does not exist (if-match " + s.req.if_match() + ")");
      }
      co_return written.status();
    }
    v1::PutObjectResponse response;
    v1::ObjectInfo* info = response.mutable_object();
    info->set_bucket(s.req.bucket());
    info->set_key(s.req.key());
    info->set_size(s.size);
    info->set_etag(ApiEtag(md5, ""));
    info->set_content_type(content_type);
    *info->mutable_metadata() = s.req.metadata();
    info->set_last_modified_ms(remote::ParseHttpDate(HeaderValue(written->headers, "last-modified"))
                                   .value_or(s.context->client.clock->NowMs()));
    co_return response;
  }

 private:
  struct State {
    State(std::shared_ptr<BlobContext> ctx, v1::PutObjectRequest request, std::string if_match, std::string id,
          int64_t call_deadline)
        : context(std::move(ctx)),
          req(std::move(request)),
          name(context->location.BlobName(req.bucket(), req.key())),
          azure_if_match(std::move(if_match)),
          nonce(std::move(id)),
          deadline(call_deadline),
          md5(context->client.hash->NewMd5()),
          slots(context->location.parallel_blocks) {}
    std::shared_ptr<BlobContext> context;
    v1::PutObjectRequest req;
    std::string name;  // the blob's
    std::string azure_if_match;
    std::string nonce;
    int64_t deadline;
    std::unique_ptr<ports::Hasher> md5;  // of the whole content
    std::string buffer;                  // what is not yet part of a block
    uint64_t size = 0;
    std::vector<std::string> block_ids;
    resilience::ConcurrencyLimit slots;
    Status failure;
    bool finished = false;
  };

  std::string What() const { return DescribeObject(state_->req.bucket(), state_->req.key()); }

  // Sends `block` once a slot is free (the client's next chunk waits meanwhile).
  Task<Status> SendBlock(std::string block) {
    State& s = *state_;
    constexpr size_t kMaxBlocks = 50'000;  // Azure's limit per blob
    if (s.block_ids.size() == kMaxBlocks) {
      co_return s.failure = Status::InvalidArgument(What() + " needs more than 50000 blocks: raise block_size_mb");
    }
    auto slot = s.slots.Acquire();
    co_await slot->Granted();
    if (!s.failure.ok()) co_return s.failure;
    // Ids of one length (Azure's rule): the nonce and an 8-digit number.
    char number[16];
    std::snprintf(number, sizeof number, "%08zu", s.block_ids.size());
    s.block_ids.push_back(Base64Encode(s.nonce + number));
    Detach(PutBlock(state_, s.block_ids.back(), std::move(block), std::move(slot)));
    co_return Status::Ok();
  }

  static Task<void> PutBlock(std::shared_ptr<State> state, std::string id, std::string block,
                             std::unique_ptr<resilience::ConcurrencyLimit::Permit> slot) {
    State& s = *state;
    const std::string what = "a block of " + DescribeObject(s.req.bucket(), s.req.key());
    auto md5 = s.context->client.hash->NewMd5();
    md5->Update(block);
    HttpHeaders headers;
    headers.emplace_back("content-md5", Md5Base64FromHex(md5->FinishHex()));
    const std::string query = "comp=block&blockid=" + aws::UriEncode(id, false);
    auto request = s.context->client.Request("PUT", s.context->location.BlobUrl(s.name, query), std::move(headers),
                                             std::move(block));
    Result<remote::HttpAnswer> sent = co_await SendBody(*s.context, s.deadline, std::move(request), what);
    if (!sent.ok() && s.failure.ok()) s.failure = sent.status();
    slot.reset();
  }

  std::shared_ptr<State> state_;
};

}  // namespace

std::unique_ptr<ObjectUpload> NewBlobUpload(std::shared_ptr<BlobContext> context, v1::PutObjectRequest req,
                                            std::string azure_if_match, std::string upload_nonce, int64_t deadline) {
  return std::make_unique<BlobUpload>(std::move(context), std::move(req), std::move(azure_if_match),
                                      std::move(upload_nonce), deadline);
}

}  // namespace cloudkit::azure
