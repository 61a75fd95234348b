// The wire protocol as docs/protocol.md states it, spoken over a raw ZeroMQ
// DEALER (no client library): malformed input costs one error reply and the
// daemon keeps serving; streams follow the credit rules; CANCEL gets no reply.
#include <signal.h>
#include <zmq.hpp>

#include <cstring>
#include <future>
#include <random>
#include <thread>

#include "cloudkit/v1/envelope.pb.h"
#include "cloudkit/v1/key_value.pb.h"
#include "cloudkit/v1/object_storage.pb.h"
#include "cloudkit/v1/queue.pb.h"
#include "integration/daemon_fixture.h"
#include "integration/test_helpers.h"
#include "support/sanitized.h"

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
  // An upload's answer: the next frame that is no CREDIT.
  void ReceiveAnswer(v1::ResponseEnvelope* reply, std::string* body) {
    do {
      ASSERT_TRUE(Receive(reply, body));
    } while (reply->kind() == v1::CREDIT);
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

  Request(11, "cloudkit.v1.Runtime/Status", "\x0a\xff");
  reply = ReceiveEnvelope();
  EXPECT_EQ(reply.request_id(), 11u);
  EXPECT_EQ(reply.status().code(), v1::INVALID_ARGUMENT) << reply.status().message();

  // Id 0 is where errors that belong to no request come: a call there is refused.
  Request(0, "cloudkit.v1.Runtime/Status", "");
  reply = ReceiveEnvelope();
  EXPECT_EQ(reply.request_id(), 0u);
  EXPECT_EQ(reply.status().code(), v1::INVALID_ARGUMENT);
  EXPECT_NE(reply.status().message().find("request id 0 is reserved"), std::string::npos) << reply.status().message();
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
  ASSERT_NO_FATAL_FAILURE(ReceiveAnswer(&reply, &body));
  ASSERT_EQ(reply.kind(), v1::RESPONSE);
  ASSERT_EQ(reply.status().code(), v1::OK) << reply.status().message();
  v1::PutObjectResponse response;
  ASSERT_TRUE(response.ParseFromString(body));
  EXPECT_EQ(response.object().size(), (kFrames + 1) * (256u << 10));
}

// After an upload's end_of_stream the request is whole: DATA frames that still
// come (beyond the credit or not) must not fail a call whose object is being
// published, which would tell the client "failed" for an object that exists.
TEST_F(ProtocolTest, DataAfterTheEndOfAnUploadIsIgnored) {
  ASSERT_CK_OK(client_->storage().CreateBucket(CreateBucketRequest("docs")));
  v1::PutObjectRequest put = PutRequest("docs", "ended", std::string(1000, 'a'));
  put.set_more_data(true);
  Request(1, "cloudkit.v1.ObjectStorage/PutObject", put.SerializeAsString());
  ASSERT_EQ(ReceiveEnvelope().kind(), v1::CREDIT);
  Frame(1, v1::DATA, std::string(24, 'b'), 0, /*end_of_stream=*/true);
  for (int i = 0; i < 20; ++i) Frame(1, v1::DATA, "late", 0, i % 2 == 0);  // beyond any credit
  v1::ResponseEnvelope reply;
  std::string body;
  ASSERT_NO_FATAL_FAILURE(ReceiveAnswer(&reply, &body));
  ASSERT_EQ(reply.kind(), v1::RESPONSE);
  ASSERT_EQ(reply.status().code(), v1::OK) << reply.status().message();
  auto head = client_->storage().HeadObject(HeadRequest("docs", "ended"));
  ASSERT_CK_OK(head);
  EXPECT_EQ(head->object().size(), 1024u);
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

TEST_F(ProtocolTest, TruncatedExtraAndOutOfPlaceFramesAreRefused) {
  v1::RequestEnvelope envelope;
  envelope.set_request_id(21);
  envelope.set_kind(v1::REQUEST);
  envelope.set_method("cloudkit.v1.KeyValue/Get");
  const std::string whole = envelope.SerializeAsString();
  Send({whole.substr(0, whole.size() - 3), ""});  // truncated envelope
  EXPECT_NE(ReceiveEnvelope().status().code(), v1::OK);
  Send({whole, "", "a third frame"});
  EXPECT_EQ(ReceiveEnvelope().status().code(), v1::INVALID_ARGUMENT);
  Send({"", ""});  // an empty envelope: no request id, no method
  EXPECT_EQ(ReceiveEnvelope().status().code(), v1::INVALID_ARGUMENT);

  v1::GetRequest get;
  get.set_table("t");
  get.set_key("k");
  const std::string body = get.SerializeAsString();
  Request(22, "cloudkit.v1.KeyValue/Get", body.substr(0, body.size() - 1));  // truncated body
  v1::ResponseEnvelope reply = ReceiveEnvelope();
  EXPECT_EQ(reply.request_id(), 22u);
  EXPECT_EQ(reply.status().code(), v1::INVALID_ARGUMENT);

  // A message of another type that parses: its fields do not make a valid request.
  v1::ListBucketsResponse wrong_type;
  wrong_type.add_buckets()->set_name("x");
  Request(23, "cloudkit.v1.KeyValue/Get", wrong_type.SerializeAsString());
  reply = ReceiveEnvelope();
  EXPECT_EQ(reply.request_id(), 23u);
  EXPECT_EQ(reply.status().code(), v1::INVALID_ARGUMENT);

  // Stream frames for calls that do not exist, and a RESPONSE sent by a client.
  Frame(24, v1::DATA, "orphan chunk", 0, true);
  Frame(25, v1::CREDIT, "", 4);
  Frame(26, v1::RESPONSE);
  Request(27, "cloudkit.v1.Runtime/Status", "");
  // Whatever the daemon says to the strays, it must still answer 27.
  bool answered = false;
  for (int i = 0; i < 5 && !answered; ++i) {
    v1::ResponseEnvelope next;
    std::string ignored;
    if (!Receive(&next, &ignored)) break;
    if (next.request_id() == 27) {
      answered = true;
      EXPECT_EQ(next.status().code(), v1::OK);
    } else {
      EXPECT_NE(next.status().code(), v1::OK);
    }
  }
  EXPECT_TRUE(answered);
}

// An error about a message comes under the message's own id when it can be
// read, but never under the id of a call in flight, whose client would take
// it for that call's answer.
TEST_F(ProtocolTest, ErrorsAboutAMessageNeverEndAnotherCall) {
  v1::RequestEnvelope lone;
  lone.set_request_id(41);
  lone.set_kind(v1::REQUEST);
  lone.set_method("cloudkit.v1.Runtime/Status");
  Send({lone.SerializeAsString()});  // no body frame
  v1::ResponseEnvelope reply = ReceiveEnvelope();
  EXPECT_EQ(reply.request_id(), 41u);
  EXPECT_EQ(reply.status().code(), v1::INVALID_ARGUMENT);

  ASSERT_CK_OK(client_->storage().CreateBucket(CreateBucketRequest("docs")));
  v1::PutObjectRequest put = PutRequest("docs", "streamed", "first chunk");
  put.set_more_data(true);
  Request(42, "cloudkit.v1.ObjectStorage/PutObject", put.SerializeAsString());
  reply = ReceiveEnvelope();  // its credit: the call is open
  ASSERT_EQ(reply.request_id(), 42u);
  ASSERT_EQ(reply.kind(), v1::CREDIT);
  Request(42, "cloudkit.v1.Runtime/Status", "");  // the id again
  reply = ReceiveEnvelope();
  EXPECT_EQ(reply.request_id(), 0u);
  EXPECT_EQ(reply.status().code(), v1::INVALID_ARGUMENT);
  EXPECT_NE(reply.status().message().find("request id 42 is already in flight"), std::string::npos);
  // The first call goes on: its data completes it, under its id.
  Frame(42, v1::DATA, " and the rest", 0, true);
  bool completed = false;
  for (int i = 0; i < 5 && !completed; ++i) {
    reply = ReceiveEnvelope();
    completed = reply.request_id() == 42 && reply.kind() == v1::RESPONSE;
  }
  ASSERT_TRUE(completed);
  EXPECT_EQ(reply.status().code(), v1::OK) << reply.status().message();
}

// Names a client sends come back bounded and on one line, however long or
// strange they are.
TEST_F(ProtocolTest, NamesAreEchoedBoundedAndEscaped) {
  v1::RequestEnvelope envelope;
  envelope.set_request_id(51);
  envelope.set_kind(v1::REQUEST);
  envelope.set_method("cloudkit.v1.KeyValue/Get");
  envelope.set_binding(std::string(1 << 20, 'b') + "\nforged log line");
  Send({envelope.SerializeAsString(), ""});
  v1::ResponseEnvelope reply = ReceiveEnvelope();
  EXPECT_EQ(reply.status().code(), v1::NOT_FOUND);
  EXPECT_LT(reply.status().message().size(), 400u);
  EXPECT_EQ(reply.status().message().find('\n'), std::string::npos) << reply.status().message();

  envelope.set_request_id(52);
  envelope.set_binding("");
  envelope.set_method("cloudkit.v1.Nothing/" + std::string(100'000, 'm') + "\r\n");
  Send({envelope.SerializeAsString(), ""});
  reply = ReceiveEnvelope();
  EXPECT_EQ(reply.status().code(), v1::UNIMPLEMENTED);
  EXPECT_LT(reply.status().message().size(), 400u);
  EXPECT_EQ(reply.status().message().find_first_of("\r\n"), std::string::npos);
}

// One client sending garbage cannot flood the daemon's log: a line per
// interval, saying how many it left out.
TEST_F(ProtocolTest, MalformedMessagesAreLoggedAtARate) {
  for (int i = 0; i < 2000; ++i) Send({"not an envelope \xff\xff", ""});
  int answered = 0;
  v1::ResponseEnvelope reply;
  std::string body;
  while (answered < 2000 && Receive(&reply, &body, 5000)) ++answered;
  EXPECT_EQ(answered, 2000) << "each malformed message still gets its error";
  const std::string log = daemon_->Log();
  size_t lines = 0;
  for (size_t at = log.find("malformed message"); at != std::string::npos;
       at = log.find("malformed message", at + 1)) {
    ++lines;
  }
  EXPECT_GE(lines, 1u);
  EXPECT_LE(lines, 3u) << log.substr(0, 2000);
}

// A string field that is not UTF-8 makes protobuf complain on every parse:
// the client learns why its message was refused, and the daemon's log gets
// protobuf's line at a rate, not once per message.
TEST_F(ProtocolTest, InvalidUtf8IsNamedInTheErrorAndLoggedAtARate) {
  // Serialized with a placeholder, then made invalid: protobuf would complain while serializing too.
  auto with_invalid_utf8 = [](std::string serialized) {
    const size_t at = serialized.find("@@");
    serialized.replace(at, 2, "\xff\xfe");
    return serialized;
  };
  v1::PutRequest put;
  put.set_table("t");
  put.set_key("@@");
  const std::string body = with_invalid_utf8(put.SerializeAsString());
  // In waves below the daemon's limit of calls in flight per client.
  constexpr int kWaves = 10;
  constexpr int kCallsPerWave = 200;
  int refused = 0;
  v1::ResponseEnvelope reply;
  std::string reply_body;
  for (int wave = 0; wave < kWaves; ++wave) {
    for (int i = 0; i < kCallsPerWave; ++i) Request(1000 + wave * kCallsPerWave + i, "cloudkit.v1.KeyValue/Put", body);
    for (int i = 0; i < kCallsPerWave && Receive(&reply, &reply_body, 5000); ++i) {
      ASSERT_EQ(reply.status().code(), v1::INVALID_ARGUMENT) << reply.status().message();
      EXPECT_EQ(reply.status().message(),
                "invalid argument: request body of cloudkit.v1.KeyValue/Put is not a valid cloudkit.v1.PutRequest: "
                "a string field is not valid UTF-8");
      ++refused;
    }
  }
  EXPECT_EQ(refused, kWaves * kCallsPerWave);

  v1::RequestEnvelope envelope;
  envelope.set_request_id(7);
  envelope.set_kind(v1::REQUEST);
  envelope.set_method("cloudkit.v1.KeyValue/Get@@");
  Send({with_invalid_utf8(envelope.SerializeAsString()), ""});
  ASSERT_TRUE(Receive(&reply, &reply_body));
  EXPECT_EQ(reply.status().message(),
            "invalid argument: the first frame is not a valid cloudkit.v1.RequestEnvelope: a string field is not "
            "valid UTF-8");

  const std::string log = daemon_->Log();
  EXPECT_EQ(log.find("[libprotobuf"), std::string::npos) << "protobuf's own line reached stderr";
  size_t lines = 0;
  for (size_t at = log.find("protobuf: "); at != std::string::npos; at = log.find("protobuf: ", at + 1)) ++lines;
  EXPECT_GE(lines, 1u);
  EXPECT_LE(lines, 3u) << log.substr(0, 2000);
}

// Thousands of random and mutated frames: the daemon answers or ignores each,
// never dies, and serves a well-formed client afterwards.
TEST_F(ProtocolTest, RandomGarbageNeverTakesTheDaemonDown) {
  std::mt19937 random(20261129);
  v1::PutRequest put;
  put.set_table("fuzz");
  put.set_key("k");
  put.set_value("v");
  v1::RequestEnvelope envelope;
  envelope.set_request_id(1);
  envelope.set_kind(v1::REQUEST);
  envelope.set_method("cloudkit.v1.KeyValue/Put");
  const std::string good_envelope = envelope.SerializeAsString();
  const std::string good_body = put.SerializeAsString();
  auto mutate = [&](std::string s) {
    if (s.empty()) s.push_back('\0');
    int flips = 1 + random() % 4;
    for (int i = 0; i < flips; ++i) s[random() % s.size()] = static_cast<char>(random());
    if (random() % 4 == 0) s.resize(random() % s.size());
    return s;
  };
  auto noise = [&](size_t max) {
    std::string s(random() % max, '\0');
    for (char& c : s) c = static_cast<char>(random());
    return s;
  };
  for (int i = 0; i < 3000; ++i) {
    switch (random() % 4) {
      case 0: Send({noise(64), noise(64)}); break;
      case 1: Send({mutate(good_envelope), good_body}); break;
      case 2: Send({good_envelope, mutate(good_body)}); break;
      default: {
        std::vector<std::string> frames(1 + random() % 5);
        for (auto& f : frames) f = noise(32);
        Send(frames);
      }
    }
  }
  // Drain what came back, then check that the daemon still serves.
  v1::ResponseEnvelope reply;
  std::string body;
  while (Receive(&reply, &body, 500)) {
  }
  ASSERT_CK_OK(client_->runtime().GetStatus());
  ASSERT_CK_OK(client_->kv().Put(KvPut("after", "fuzz", "ok")));
  EXPECT_TRUE(::kill(daemon_->pid(), 0) == 0);
}

// The daemon, not the client, ends a stream the client stopped feeding.
TEST_F(ProtocolTest, DaemonEndsAStalledUploadWithDeadlineExceeded) {
  ASSERT_CK_OK(client_->storage().CreateBucket(CreateBucketRequest("docs")));
  v1::PutObjectRequest put = PutRequest("docs", "stalled", "first chunk");
  put.set_more_data(true);
  v1::RequestEnvelope envelope;
  envelope.set_request_id(31);
  envelope.set_kind(v1::REQUEST);
  envelope.set_method("cloudkit.v1.ObjectStorage/PutObject");
  envelope.set_timeout_ms(300);
  Send({envelope.SerializeAsString(), put.SerializeAsString()});
  v1::ResponseEnvelope reply;
  std::string body;
  bool deadline = false;
  while (!deadline && Receive(&reply, &body, 5000)) {
    EXPECT_EQ(reply.request_id(), 31u);
    if (reply.kind() == v1::RESPONSE) {
      EXPECT_EQ(reply.status().code(), v1::DEADLINE_EXCEEDED);
      deadline = true;
    }
  }
  EXPECT_TRUE(deadline) << "no DEADLINE_EXCEEDED from the daemon";
  EXPECT_CK_CODE(client_->storage().HeadObject(HeadRequest("docs", "stalled")), v1::NOT_FOUND);
}

// SIGTERM while an upload streams: the upload completes, new calls are turned
// away as unavailable, and the daemon exits 0 once nothing is in flight.
TEST_F(ProtocolTest, SigtermDrainsCallsInFlightThenExitsZero) {
  ASSERT_CK_OK(client_->storage().CreateBucket(CreateBucketRequest("docs")));
  std::promise<void> started;
  auto started_future = started.get_future();
  int calls = 0;
  ByteSource slow = [&](char* buffer, size_t capacity) -> Result<size_t> {
    if (++calls == 3) started.set_value();  // two chunks read: the call is in the daemon
    if (calls > 8) return size_t{0};
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::memset(buffer, 'z', capacity);
    return capacity;
  };
  auto upload = std::async(std::launch::async, [&] {
    return client_->storage().PutObject(PutRequest("docs", "draining"), slow);
  });
  started_future.wait();
  ASSERT_EQ(::kill(daemon_->pid(), SIGTERM), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::unique_ptr<Client> late = Connect();
  EXPECT_CK_CODE(late->kv().Get(KvGet("t", "k")), v1::UNAVAILABLE);
  auto result = upload.get();
  ASSERT_CK_OK(result);
  EXPECT_EQ(daemon_->Stop(), 0) << daemon_->Log();
  ASSERT_CK_OK(daemon_->Restart());
  auto head = client_->storage().HeadObject(HeadRequest("docs", "draining"));
  ASSERT_CK_OK(head);
  EXPECT_EQ(head->object().size(), result->object().size());
}

// Calls that only wait (long polls) do not hold a stopping daemon for its
// whole drain: they end at once, retryable, and the daemon exits.
TEST_F(ProtocolTest, SigtermEndsLongPollsAtOnce) {
  std::vector<std::future<Result<v1::ReceiveResponse>>> polls;
  std::vector<std::unique_ptr<Client>> pollers;
  for (const char* binding : {"default", "scratch"}) {
    ClientOptions options;
    options.binding = binding;
    pollers.push_back(Connect(options));
    v1::CreateQueueRequest create;
    create.set_queue("jobs");
    ASSERT_CK_OK(pollers.back()->queue().CreateQueue(create));
    polls.push_back(std::async(std::launch::async, [client = pollers.back().get()] {
      v1::ReceiveRequest receive;
      receive.set_queue("jobs");
      receive.set_wait_ms(20'000);
      return client->queue().Receive(receive);
    }));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // both are waiting in the daemon
  ASSERT_EQ(::kill(daemon_->pid(), SIGTERM), 0);
  for (auto& poll : polls) {
    auto ended = poll.get();
    EXPECT_CK_CODE(ended, v1::UNAVAILABLE);
    EXPECT_TRUE(ended.status().retryable());
    EXPECT_NE(ended.status().message().find("cloudkitd is shutting down"), std::string::npos)
        << ended.status().message();
  }
  EXPECT_EQ(daemon_->Stop(), 0) << daemon_->Log();
  EXPECT_NE(daemon_->Log().find("stopped: 0 call(s) abandoned"), std::string::npos) << daemon_->Log();
}

// A slow operation on one binding stalls neither another binding nor the other
// service of the same binding: both answer while a big copy is still running.
TEST_F(ProtocolTest, SlowOperationStallsNoOtherBinding) {
  auto& storage = client_->storage();
  ASSERT_CK_OK(storage.CreateBucket(CreateBucketRequest("docs")));
  constexpr uint64_t kSize = 192ull << 20;
  ASSERT_CK_OK(storage.PutObject(PutRequest("docs", "big"), Zeros(kSize)));
  ClientOptions scratch_options;
  scratch_options.binding = "scratch";
  std::unique_ptr<Client> scratch = Connect(scratch_options);
  std::unique_ptr<Client> copier = Connect();
  auto copy = std::async(std::launch::async, [&] {
    v1::CopyObjectRequest req;
    req.set_source_bucket("docs");
    req.set_source_key("big");
    req.set_bucket("docs");
    req.set_key("big-copy");
    return copier->storage().CopyObject(req);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (int i = 0; i < 20; ++i) {
    ASSERT_CK_OK(scratch->kv().Put(KvPut("t", "k" + std::to_string(i), "v")));
    ASSERT_CK_OK(client_->runtime().GetStatus());
  }
  ASSERT_CK_OK(client_->kv().Put(KvPut("t", "same-binding-other-service", "v")));
  EXPECT_EQ(copy.wait_for(std::chrono::seconds(0)), std::future_status::timeout)
      << "the copy finished before the other calls: make it bigger to test anything";
  ASSERT_CK_OK(copy.get());
}

// Memory stays bounded whatever a client does with the stream rules: each
// abuse gets an error or a bound, and the daemon's peak RSS stays far below
// what it was sent or asked for.
constexpr uint64_t kAbuseRssLimit = 160ull << 20;

TEST_F(ProtocolTest, UploadThatIgnoresCreditIsRefusedWithBoundedMemory) {
  ASSERT_CK_OK(client_->storage().CreateBucket(CreateBucketRequest("docs")));
  v1::PutObjectRequest put = PutRequest("docs", "flood");
  put.set_more_data(true);
  Request(1, "cloudkit.v1.ObjectStorage/PutObject", put.SerializeAsString());
  // 512 MiB of DATA frames without waiting for a single credit.
  const std::string chunk(1 << 20, 'x');
  for (int i = 0; i < 512; ++i) Frame(1, v1::DATA, chunk);
  v1::ResponseEnvelope envelope;
  std::string body;
  bool refused = false;
  while (Receive(&envelope, &body, 5000)) {
    if (envelope.kind() == v1::RESPONSE) {
      EXPECT_EQ(Status::CodeName(envelope.status().code()), "RESOURCE_EXHAUSTED") << envelope.status().message();
      EXPECT_FALSE(envelope.status().retryable()) << "sent again, it breaks the credit again";
      refused = true;
      break;
    }
  }
  EXPECT_TRUE(refused) << "the call was never ended";
  EXPECT_CK_CODE(client_->storage().HeadObject(HeadRequest("docs", "flood")), v1::NOT_FOUND);
  if (testing_util::kRssBoundsHold) EXPECT_LT(daemon_->PeakRssBytes(), kAbuseRssLimit) << "cloudkitd peak RSS (VmHWM)";
}

// A stream frame over the body limit ends its call on both sides; one for
// no call in flight is ignored, as any late stream frame is.
TEST_F(ProtocolTest, AStreamFrameOverTheBodyLimitEndsItsCall) {
  ASSERT_CK_OK(client_->storage().CreateBucket(CreateBucketRequest("docs")));
  const std::string huge(5 << 20, 'x');
  Frame(77, v1::DATA, huge);
  v1::ResponseEnvelope envelope;
  std::string body;
  EXPECT_FALSE(Receive(&envelope, &body, 300)) << "answered a frame of no call";

  v1::PutObjectRequest put = PutRequest("docs", "huge");
  put.set_more_data(true);
  Request(1, "cloudkit.v1.ObjectStorage/PutObject", put.SerializeAsString());
  ASSERT_TRUE(Receive(&envelope, &body));
  ASSERT_EQ(envelope.kind(), v1::CREDIT);
  Frame(1, v1::DATA, huge, 0, true);
  ASSERT_TRUE(Receive(&envelope, &body));
  EXPECT_EQ(envelope.request_id(), 1u);
  EXPECT_EQ(Status::CodeName(envelope.status().code()), "RESOURCE_EXHAUSTED") << envelope.status().message();
  EXPECT_FALSE(envelope.status().retryable());
  EXPECT_FALSE(Receive(&envelope, &body, 300)) << "the call went on in the daemon";
  EXPECT_CK_CODE(client_->storage().HeadObject(HeadRequest("docs", "huge")), v1::NOT_FOUND);
  // The id is free again.
  Request(1, "cloudkit.v1.Runtime/Status", "");
  ASSERT_TRUE(Receive(&envelope, &body));
  EXPECT_EQ(envelope.request_id(), 1u);
  EXPECT_EQ(envelope.status().code(), v1::OK);
}

TEST_F(ProtocolTest, DownloadAskingForAMillionCreditsGetsAWindow) {
  ASSERT_CK_OK(client_->storage().CreateBucket(CreateBucketRequest("docs")));
  constexpr uint64_t kSize = 256ull << 20;
  ASSERT_CK_OK(client_->storage().PutObject(PutRequest("docs", "big"), Zeros(kSize)));
  Request(1, "cloudkit.v1.ObjectStorage/GetObject", GetRequest("docs", "big").SerializeAsString(), 1'000'000);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // nothing read meanwhile
  if (testing_util::kRssBoundsHold) EXPECT_LT(daemon_->PeakRssBytes(), kAbuseRssLimit) << "cloudkitd peak RSS (VmHWM)";
  int data_frames = 0;
  v1::ResponseEnvelope envelope;
  std::string body;
  while (Receive(&envelope, &body, 500)) {
    if (envelope.kind() == v1::DATA) ++data_frames;
  }
  // The first response carries a chunk; then at most the download window.
  EXPECT_GT(data_frames, 0);
  EXPECT_LE(data_frames, 16) << "the daemon sent more than a window ahead of the client";
  Frame(1, v1::CANCEL);
}

TEST_F(ProtocolTest, ClientThatNeverReadsRepliesCannotGrowTheDaemon) {
  ASSERT_CK_OK(client_->kv().Put(KvPut("t", "big", std::string(1 << 20, 'v'))));
  // A client that asks and asks and reads nothing: its receive queue is small,
  // so what it does not read stays on the daemon's side.
  zmq::socket_t greedy(context_, zmq::socket_type::dealer);
  greedy.set(zmq::sockopt::linger, 0);
  greedy.set(zmq::sockopt::rcvhwm, 1);
  greedy.set(zmq::sockopt::rcvbuf, 64 << 10);
  greedy.connect(daemon_->endpoint());
  const std::string get = KvGet("t", "big").SerializeAsString();
  for (uint64_t id = 1; id <= 2040; ++id) {
    v1::RequestEnvelope envelope;
    envelope.set_request_id(id);
    envelope.set_kind(v1::REQUEST);
    envelope.set_method("cloudkit.v1.KeyValue/Get");
    greedy.send(zmq::buffer(envelope.SerializeAsString()), zmq::send_flags::sndmore);
    greedy.send(zmq::buffer(get), zmq::send_flags::none);
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  // 2040 MiB of replies asked for. What can stay: the client's queue (64
  // replies), its backlog (16 MiB), and replies on their way when its calls
  // are cancelled for not reading. Before these limits: 3.3 GB.
  constexpr uint64_t kUnreadRepliesRssLimit = 400ull << 20;
  if (testing_util::kRssBoundsHold) {
    EXPECT_LT(daemon_->PeakRssBytes(), kUnreadRepliesRssLimit)
        << "cloudkitd peak RSS (VmHWM) for 2040 unread 1 MiB replies";
  }
  // Everyone else is still served.
  auto got = client_->kv().Get(KvGet("t", "big"));
  ASSERT_CK_OK(got);
  EXPECT_EQ(got->item().value().size(), 1u << 20);
  greedy.close();
}

}  // namespace
}  // namespace cloudkit::integration
