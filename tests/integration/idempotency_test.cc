// Writes clients can retry: a write answered DEADLINE_EXCEEDED may still have
// been applied, and a retry under the same idempotency key gets the first
// call's answer instead of applying it again (docs/protocol.md, "Idempotency
// keys"). The daemon is held still (SIGSTOP) so that calls time out at the
// client while their requests wait, unread, to be applied later.
#include <signal.h>

#include <chrono>
#include <future>
#include <thread>

#include "integration/daemon_fixture.h"
#include "integration/test_helpers.h"

namespace cloudkit::integration {
namespace {

using std::chrono::milliseconds;
using IdempotencyTest = DaemonTest;

v1::SendRequest SendTo(const std::string& queue, const std::string& body) {
  v1::SendRequest send;
  send.set_queue(queue);
  send.set_body(body);
  return send;
}

uint64_t Visible(Client& client, const std::string& queue) {
  v1::DepthRequest depth;
  depth.set_queue(queue);
  auto got = client.queue().Depth(depth);
  EXPECT_TRUE(got.ok()) << got.status().message();
  return got.ok() ? got->visible() : 0;
}

// The one message of `queue`, received.
std::string OnlyMessageId(Client& client, const std::string& queue) {
  v1::ReceiveRequest receive;
  receive.set_queue(queue);
  receive.set_max_messages(10);
  auto got = client.queue().Receive(receive);
  EXPECT_TRUE(got.ok()) << got.status().message();
  if (!got.ok()) return "";
  EXPECT_EQ(got->messages_size(), 1);
  return got->messages_size() == 1 ? got->messages(0).message_id() : "";
}

void CreateQueue(Client& client, const std::string& queue) {
  v1::CreateQueueRequest create;
  create.set_queue(queue);
  ASSERT_CK_OK(client.queue().CreateQueue(create));
}

TEST_F(IdempotencyTest, ASendThatTimedOutAndIsRetriedWithItsKeyIsEnqueuedOnce) {
  CreateQueue(*client_, "jobs");
  CallOptions call;
  call.idempotency_key = "send-job-1";
  call.timeout = milliseconds(300);

  ASSERT_EQ(::kill(daemon_->pid(), SIGSTOP), 0);
  auto first = client_->queue().Send(SendTo("jobs", "the job"), call);
  ASSERT_EQ(::kill(daemon_->pid(), SIGCONT), 0);
  EXPECT_CK_CODE(first, v1::DEADLINE_EXCEEDED);
  // Timed out, and applied all the same: the daemon read it once it ran again.
  for (int i = 0; i < 100 && Visible(*client_, "jobs") == 0; ++i) std::this_thread::sleep_for(milliseconds(20));
  ASSERT_EQ(Visible(*client_, "jobs"), 1u) << "the timed-out send was not applied";

  // The retry, here from another connection, gets the first call's answer.
  call.timeout = milliseconds(10'000);
  std::unique_ptr<Client> other = Connect();
  auto retried = other->queue().Send(SendTo("jobs", "the job"), call);
  ASSERT_CK_OK(retried);
  EXPECT_EQ(Visible(*client_, "jobs"), 1u) << "the retry was enqueued again";

  // The same key for another request is refused, and changes nothing.
  EXPECT_CK_CODE(client_->queue().Send(SendTo("jobs", "another job"), call), v1::INVALID_ARGUMENT);
  EXPECT_EQ(Visible(*client_, "jobs"), 1u);
  EXPECT_EQ(OnlyMessageId(*client_, "jobs"), retried->message_id());
}

TEST_F(IdempotencyTest, TheClientRetriesATimedOutWriteUnderOneKeyAndItIsAppliedOnce) {
  CreateQueue(*client_, "jobs");
  ClientOptions options;
  options.timeout = milliseconds(300);  // an attempt fails 0.8 s after it was sent (with the client's grace)
  options.attempts = 4;
  std::unique_ptr<Client> retrying = Connect(options);
  ASSERT_CK_OK(retrying->runtime().GetStatus());  // connected

  ASSERT_EQ(::kill(daemon_->pid(), SIGSTOP), 0);
  auto sent = std::async(std::launch::async, [&retrying] { return retrying->queue().Send(SendTo("jobs", "once")); });
  // Attempts 1 and 2 have timed out and been sent by now; 3 and 4 still to go.
  std::this_thread::sleep_for(milliseconds(1'800));
  ASSERT_EQ(::kill(daemon_->pid(), SIGCONT), 0);
  // The first attempt had failed a second before the daemon ran again: an
  // answer means a later attempt got it. The daemon then read every attempt
  // sent so far (the client cancels those it gave up on, but the first one's
  // send was under way by then, and the rest had to wait for it).
  auto answer = sent.get();
  ASSERT_CK_OK(answer);
  EXPECT_FALSE(answer->duplicate());
  EXPECT_EQ(Visible(*client_, "jobs"), 1u) << "an attempt was enqueued again";
  EXPECT_EQ(OnlyMessageId(*client_, "jobs"), answer->message_id());
}

}  // namespace
}  // namespace cloudkit::integration
