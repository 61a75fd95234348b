// The wire protocol as docs/protocol.md states it, spoken over a raw ZeroMQ
// DEALER (no client library): malformed input costs one error reply and the
// daemon keeps serving; streams follow the credit rules; CANCEL gets no reply.
#include <zmq.hpp>

#include "cloudkit/v1/envelope.pb.h"
#include "cloudkit/v1/key_value.pb.h"
#include "cloudkit/v1/object_storage.pb.h"
#include "integration/daemon_fixture.h"
#include "integration/test_helpers.h"

namespace cloudkit::integration {
namespace {

class ProtocolTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    if (HasFatalFailure()) return;
    socket_ = zmq::socket_t(context_, zmq::socket_type::dealer);
    socket_.set(zmq::sockopt::linger, 0);
    socket_.connect(daemon_->endpoint());
  }
  void TearDown() override {
    socket_.close();
    DaemonTest::TearDown();
  }

  void Send(const std::vector<std::string>& frames) {
    for (size_t i = 0; i < frames.size(); ++i) {
      socket_.send(zmq::buffer(frames[i]), i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
  }
  void Request(uint64_t id, const std::string& method, const std::string& body, uint32_t credits = 0) {
    v1::RequestEnvelope envelope;
    envelope.set_request_id(id);
    envelope.set_kind(v1::REQUEST);
    envelope.set_method(method);
    envelope.set_credits(credits);
    Send({envelope.SerializeAsString(), body});
  }
  void Frame(uint64_t id, v1::FrameKind kind, const std::string& body = {}, uint32_t credits = 0, bool end = false) {
    v1::RequestEnvelope envelope;
    envelope.set_request_id(id);
    envelope.set_kind(kind);
    envelope.set_credits(credits);
    envelope.set_end_of_stream(end);
    Send({envelope.SerializeAsString(), body});
  }
  // The next message: exactly two frames, the first a ResponseEnvelope.
  bool Receive(v1::ResponseEnvelope* envelope, std::string* body, int timeout_ms = 5000) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) == 0) return false;
    std::vector<zmq::message_t> frames;
    zmq::message_t frame;
    do {
      (void)socket_.recv(frame);
      frames.push_back(std::move(frame));
    } while (frames.back().more());
    EXPECT_EQ(frames.size(), 2u);
    EXPECT_TRUE(envelope->ParseFromArray(frames[0].data(), static_cast<int>(frames[0].size())));
    *body = frames.size() > 1 ? frames[1].to_string() : "";
    return true;
  }
  v1::ResponseEnvelope ReceiveEnvelope() {
    v1::ResponseEnvelope envelope;
    std::string body;
    EXPECT_TRUE(Receive(&envelope, &body)) << "no reply";
    return envelope;
  }

  zmq::context_t context_;
  zmq::socket_t socket_;
};

TEST_F(ProtocolTest, MalformedInputGetsOneErrorEachAndServingGoesOn) {
  Send({"not a protobuf \xff\xff\xff", ""});
  v1::ResponseEnvelope reply = ReceiveEnvelope();
  EXPECT_EQ(reply.request_id(), 0u);
  EXPECT_EQ(reply.kind(), v1::RESPONSE);
  EXPECT_EQ(reply.status().code(), v1::INVALID_ARGUMENT);

  Send({"only one frame"});
  EXPECT_EQ(ReceiveEnvelope().status().code(), v1::INVALID_ARGUMENT);

  Request(7, "cloudkit.v1.Nothing/Here", "");
  reply = ReceiveEnvelope();
  EXPECT_EQ(reply.request_id(), 7u);
  EXPECT_EQ(reply.status().code(), v1::UNIMPLEMENTED);

  Request(8, "cloudkit.v1.KeyValue/Get", "\xff\xff\xff garbage");
  reply = ReceiveEnvelope();
  EXPECT_EQ(reply.request_id(), 8u);
  EXPECT_EQ(reply.status().code(), v1::INVALID_ARGUMENT);

  v1::RequestEnvelope unknown_binding;
  unknown_binding.set_request_id(9);
  unknown_binding.set_kind(v1::REQUEST);
  unknown_binding.set_method("cloudkit.v1.KeyValue/Get");
  unknown_binding.set_binding("nope");
  Send({unknown_binding.SerializeAsString(), ""});
  reply = ReceiveEnvelope();
  EXPECT_EQ(reply.request_id(), 9u);
  EXPECT_EQ(reply.status().code(), v1::NOT_FOUND);

  Request(10, "cloudkit.v1.Runtime/Status", "");
  reply = ReceiveEnvelope();
  EXPECT_EQ(reply.request_id(), 10u);
  EXPECT_EQ(reply.status().code(), v1::OK);
}

TEST_F(ProtocolTest, UploadNeverNeedsMoreDataFramesThanCredited) {
  ASSERT_CK_OK(client_->storage().CreateBucket(CreateBucketRequest("docs")));
  v1::PutObjectRequest put = PutRequest("docs", "streamed", std::string(256 << 10, 'a'));
  put.set_more_data(true);
  Request(1, "cloudkit.v1.ObjectStorage/PutObject", put.SerializeAsString());
  v1::ResponseEnvelope credit = ReceiveEnvelope();
  ASSERT_EQ(credit.kind(), v1::CREDIT);
  ASSERT_GE(credit.credits(), 1u);
  uint32_t credits = credit.credits();
  constexpr int kFrames = 20;
  for (int i = 0; i < kFrames; ++i) {
    while (credits == 0) {
      v1::ResponseEnvelope more = ReceiveEnvelope();
      ASSERT_EQ(more.kind(), v1::CREDIT);
      credits += more.credits();
    }
    Frame(1, v1::DATA, std::string(256 << 10, 'b'), 0, i + 1 == kFrames);
    --credits;
  }
  v1::ResponseEnvelope reply;
  std::string body;
  do {
    ASSERT_TRUE(Receive(&reply, &body));
  } while (reply.kind() == v1::CREDIT);
  ASSERT_EQ(reply.kind(), v1::RESPONSE);
  ASSERT_EQ(reply.status().code(), v1::OK) << reply.status().message();
  v1::PutObjectResponse response;
  ASSERT_TRUE(response.ParseFromString(body));
  EXPECT_EQ(response.object().size(), (kFrames + 1) * (256u << 10));
}

TEST_F(ProtocolTest, DownloadSendsNoMoreThanTheCreditsGranted) {
  ASSERT_CK_OK(client_->storage().CreateBucket(CreateBucketRequest("docs")));
  const std::string object = MakeBody(3 << 20);
  ASSERT_CK_OK(client_->storage().PutObject(PutRequest("docs", "big", object)));
  Request(1, "cloudkit.v1.ObjectStorage/GetObject", GetRequest("docs", "big").SerializeAsString(), /*credits=*/2);
  v1::ResponseEnvelope reply;
  std::string body;
  ASSERT_TRUE(Receive(&reply, &body));
  ASSERT_EQ(reply.kind(), v1::RESPONSE);
  v1::GetObjectResponse head;
  ASSERT_TRUE(head.ParseFromString(body));
  ASSERT_TRUE(head.more_data());
  std::string received = head.data();
  // Two DATA frames, then silence until more credit.
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(Receive(&reply, &body));
    ASSERT_EQ(reply.kind(), v1::DATA);
    received += body;
  }
  EXPECT_FALSE(Receive(&reply, &body, 300)) << "a DATA frame beyond the credits granted";
  while (true) {
    Frame(1, v1::CREDIT, "", 1);
    ASSERT_TRUE(Receive(&reply, &body));
    ASSERT_EQ(reply.kind(), v1::DATA);
    ASSERT_EQ(reply.status().code(), v1::OK);
    received += body;
    if (reply.end_of_stream()) break;
  }
  EXPECT_EQ(received.size(), object.size());
  EXPECT_TRUE(received == object);
}

TEST_F(ProtocolTest, CancelledUploadGetsNoReplyAndLeavesNothing) {
  ASSERT_CK_OK(client_->storage().CreateBucket(CreateBucketRequest("docs")));
  v1::PutObjectRequest put = PutRequest("docs", "cancelled", "first chunk");
  put.set_more_data(true);
  Request(1, "cloudkit.v1.ObjectStorage/PutObject", put.SerializeAsString());
  ASSERT_EQ(ReceiveEnvelope().kind(), v1::CREDIT);
  Frame(1, v1::DATA, "second chunk");
  Frame(1, v1::CANCEL);
  v1::ResponseEnvelope reply;
  std::string body;
  while (Receive(&reply, &body, 500)) EXPECT_EQ(reply.kind(), v1::CREDIT) << "only frames already in flight";
  EXPECT_CK_CODE(client_->storage().HeadObject(HeadRequest("docs", "cancelled")), v1::NOT_FOUND);
}

}  // namespace
}  // namespace cloudkit::integration
