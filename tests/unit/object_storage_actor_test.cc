// The ObjectStorage actor's streaming and flow control, driven frame by frame
// with a recording outbox (no host, no threads), over the memory provider.
#include <gtest/gtest.h>

#include <deque>

#include "ports/openssl_hash.h"
#include "providers/builtin_providers.h"
#include "services/object_storage_actor.h"
#include "support/manual_host.h"

namespace cloudkit {
namespace {

constexpr char kPut[] = "cloudkit.v1.ObjectStorage/PutObject";
constexpr char kGet[] = "cloudkit.v1.ObjectStorage/GetObject";

struct RecordingOutbox : Outbox {
  void Send(Outbound&& frame) override { frames.push_back(std::move(frame)); }
  Outbound Pop() {
    EXPECT_FALSE(frames.empty());
    if (frames.empty()) return Outbound{0, v1::RESPONSE, Status::Internal("no frame was sent")};
    Outbound f = std::move(frames.front());
    frames.pop_front();
    return f;
  }
  std::deque<Outbound> frames;
};

class ObjectStorageActorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegisterBuiltinProviders(&registry_);
    HostPorts ports{&clock_, &hash_, nullptr, ""};
    auto binding = registry_.Create(BindingConfig{"t", "memory", {}, {}}, ports);
    ASSERT_TRUE(binding.ok()) << binding.status().message();
    binding_ = std::move(*binding);
    actor_ = std::make_unique<ObjectStorageActor>(binding_.Get<ObjectStorageProvider>(kObjectStorageService), &clock_, &outbox_);
    v1::CreateBucketRequest create;
    create.set_bucket("docs");
    Send(Request(1, "cloudkit.v1.ObjectStorage/CreateBucket", create));
    ASSERT_TRUE(outbox_.Pop().status.ok());
  }

  static Inbound Request(uint64_t call_id, const std::string& method,
                         const google::protobuf::MessageLite& body, uint32_t credits = 0) {
    Inbound in;
    in.call_id = call_id;
    in.kind = v1::REQUEST;
    in.method = method;
    in.body = body.SerializeAsString();
    in.credits = credits;
    return in;
  }
  static Inbound Stream(uint64_t call_id, v1::FrameKind kind, std::string body = {},
                        uint32_t credits = 0, bool end = false) {
    Inbound in;
    in.call_id = call_id;
    in.kind = kind;
    in.body = std::move(body);
    in.credits = credits;
    in.end_of_stream = end;
    return in;
  }
  void Send(Inbound in) { actor_->Receive(std::move(in)); }

  ports::ManualClock clock_;
  OpenSslHashPort hash_;
  ProviderRegistry registry_;
  BindingInstance binding_;
  RecordingOutbox outbox_;
  std::unique_ptr<ObjectStorageActor> actor_;
};

std::string Pattern(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + i % 251);
  return s;
}

TEST_F(ObjectStorageActorTest, StreamedUploadIsGrantedAWindowAndRefilledPerChunk) {
  v1::PutObjectRequest put;
  put.set_bucket("docs");
  put.set_key("big");
  put.set_data("head-");
  put.set_more_data(true);
  Send(Request(7, kPut, put));
  Outbound credit = outbox_.Pop();
  EXPECT_EQ(credit.kind, v1::CREDIT);
  EXPECT_EQ(credit.credits, ObjectStorageActor::kUploadWindow);
  EXPECT_FALSE(credit.ends_call);

  Send(Stream(7, v1::DATA, "middle-"));
  Outbound refill = outbox_.Pop();
  EXPECT_EQ(refill.kind, v1::CREDIT);
  EXPECT_EQ(refill.credits, 1u);
  // Nothing is visible before the end of the stream.
  v1::HeadObjectRequest head;
  head.set_bucket("docs");
  head.set_key("big");
  // (Asked by another client: the uploader's own head would wait for its put.)
  Inbound other = Request(8, "cloudkit.v1.ObjectStorage/HeadObject", head);
  other.client = 2;
  Send(std::move(other));
  EXPECT_EQ(outbox_.Pop().status.code(), v1::NOT_FOUND);

  Send(Stream(7, v1::DATA, "tail", 0, /*end=*/true));
  Outbound done = outbox_.Pop();
  ASSERT_EQ(done.kind, v1::RESPONSE);
  ASSERT_TRUE(done.status.ok()) << done.status.message();
  EXPECT_TRUE(done.ends_call);
  v1::PutObjectResponse response;
  ASSERT_TRUE(response.ParseFromString(done.body));
  EXPECT_EQ(response.object().size(), std::string("head-middle-tail").size());
  EXPECT_EQ(actor_->open_calls(), 0u);
}

TEST_F(ObjectStorageActorTest, DownloadSendsNoMoreChunksThanGranted) {
  const std::string content = Pattern(5 * (256 << 10) + 100, 'a');  // 6 chunks
  v1::PutObjectRequest put;
  put.set_bucket("docs");
  put.set_key("k");
  put.set_more_data(true);
  Send(Request(1, kPut, put));
  outbox_.Pop();
  for (size_t off = 0; off < content.size(); off += 100'000) {
    bool end = off + 100'000 >= content.size();
    Send(Stream(1, v1::DATA, content.substr(off, 100'000), 0, end));
    Outbound f = outbox_.Pop();
    if (end) ASSERT_TRUE(f.status.ok()) << f.status.message();
  }

  v1::GetObjectRequest get;
  get.set_bucket("docs");
  get.set_key("k");
  Send(Request(2, kGet, get, /*credits=*/2));
  Outbound first = outbox_.Pop();
  ASSERT_TRUE(first.status.ok());
  EXPECT_FALSE(first.ends_call);
  v1::GetObjectResponse head;
  ASSERT_TRUE(head.ParseFromString(first.body));
  EXPECT_TRUE(head.more_data());
  EXPECT_EQ(head.content_length(), content.size());
  std::string received = head.data();
  ASSERT_EQ(outbox_.frames.size(), 2u);  // exactly the two granted chunks
  while (!outbox_.frames.empty()) received += outbox_.Pop().body;

  Send(Stream(2, v1::CREDIT, {}, /*credits=*/100));
  bool ended = false;
  while (!outbox_.frames.empty()) {
    Outbound f = outbox_.Pop();
    EXPECT_EQ(f.kind, v1::DATA);
    received += f.body;
    ended = f.end_of_stream;
  }
  EXPECT_TRUE(ended);
  EXPECT_EQ(received, content);
  EXPECT_EQ(actor_->open_calls(), 0u);
}

TEST_F(ObjectStorageActorTest, CancelledUploadLeavesNothingBehind) {
  v1::PutObjectRequest put;
  put.set_bucket("docs");
  put.set_key("gone");
  put.set_data("partial");
  put.set_more_data(true);
  Send(Request(3, kPut, put));
  outbox_.Pop();
  Send(Stream(3, v1::CANCEL));
  EXPECT_EQ(actor_->open_calls(), 0u);
  Send(Stream(3, v1::DATA, "late", 0, true));  // late frames are ignored
  EXPECT_TRUE(outbox_.frames.empty());
  v1::GetObjectRequest get;
  get.set_bucket("docs");
  get.set_key("gone");
  Send(Request(4, kGet, get, 8));
  EXPECT_EQ(outbox_.Pop().status.code(), v1::NOT_FOUND);
}

TEST_F(ObjectStorageActorTest, BadRequestsGetTypedErrors) {
  Inbound garbage;
  garbage.call_id = 5;
  garbage.method = kPut;
  garbage.body = "\xff\xff\xff\xff";
  Send(std::move(garbage));
  Outbound bad = outbox_.Pop();
  EXPECT_EQ(bad.status.code(), v1::INVALID_ARGUMENT);
  EXPECT_NE(bad.status.message().find("PutObject"), std::string::npos);

  Send(Request(6, "cloudkit.v1.ObjectStorage/Frobnicate", v1::ListBucketsRequest()));
  EXPECT_EQ(outbox_.Pop().status.code(), v1::UNIMPLEMENTED);

  v1::PutObjectRequest huge;
  huge.set_bucket("docs");
  huge.set_key("x");
  huge.set_data(std::string((1 << 20) + 1, 'x'));
  Send(Request(7, kPut, huge));
  EXPECT_EQ(outbox_.Pop().status.code(), v1::INVALID_ARGUMENT);
}

TEST_F(ObjectStorageActorTest, ExpiredRequestIsNotExecuted) {
  v1::CreateBucketRequest create;
  create.set_bucket("late");
  Inbound in = Request(9, "cloudkit.v1.ObjectStorage/CreateBucket", create);
  in.deadline_ms = clock_.NowMs() - 1;
  Send(std::move(in));
  EXPECT_EQ(outbox_.Pop().status.code(), v1::DEADLINE_EXCEEDED);
  v1::BucketExistsRequest exists;
  exists.set_bucket("late");
  Send(Request(10, "cloudkit.v1.ObjectStorage/BucketExists", exists));
  v1::BucketExistsResponse r;
  ASSERT_TRUE(r.ParseFromString(outbox_.Pop().body));
  EXPECT_FALSE(r.exists());
}

// What crashes leave behind (embedded_object_sweep) is swept when the actor
// starts and then every sweep_interval_ms: each pass arms the next, and
// nothing comes between.
TEST_F(ObjectStorageActorTest, SweepsAtStartAndThenEveryInterval) {
  auto* provider = binding_.Get<ObjectStorageProvider>(kObjectStorageService);
  ASSERT_GT(provider->sweep_interval_ms(), 0);
  testing_util::ManualTimers timers(&clock_);
  ObjectStorageActor actor(provider, &clock_, &outbox_, &timers);
  ASSERT_EQ(timers.due.size(), 1u) << "one timer: the sweep's";
  EXPECT_EQ(timers.due.begin()->second, clock_.NowMs()) << "the first pass comes at once";
  for (int pass = 1; pass <= 3; ++pass) {
    uint32_t token = 0;
    ASSERT_TRUE(timers.TakeDue(&token)) << "pass " << pass;
    actor.OnTimer(token);
    ASSERT_EQ(timers.due.size(), 1u) << "pass " << pass << " armed no next one";
    EXPECT_EQ(timers.due.begin()->second, clock_.NowMs() + provider->sweep_interval_ms()) << "pass " << pass;
    clock_.Advance(provider->sweep_interval_ms() - 1);
    EXPECT_FALSE(timers.TakeDue(&token)) << "a pass before its interval ended";
    clock_.Advance(1);
  }
  EXPECT_TRUE(outbox_.frames.empty()) << "a pass answers nobody";
}

}  // namespace
}  // namespace cloudkit
