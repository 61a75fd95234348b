// What every Queue provider promises, and the Queue actor's long polls over
// it. Instantiated for each target of the host's ConformanceTargets() that
// serves queues. Time is the suite's ManualClock: visibility timeouts,
// delays and deduplication windows pass without sleeping, and the actor's
// timers fire when the test says so.
#include <map>
#include <set>

#include "conformance/conformance.h"
#include "services/call_frames.h"
#include "services/queue_provider.h"
#include "services/service_descriptor.h"

namespace cloudkit::conformance {
namespace {

v1::QueueOptions Fifo() {
  v1::QueueOptions options;
  options.set_fifo(true);
  return options;
}

v1::QueueOptions DeadLettersTo(const std::string& queue, uint32_t max_receives, bool fifo = false) {
  v1::QueueOptions options;
  options.set_fifo(fifo);
  options.set_dead_letter_queue(queue);
  options.set_max_receives(max_receives);
  return options;
}

}  // namespace

class QueueConformance : public ConformanceTest {
 protected:
  void SetUp() override {
    ConformanceTest::SetUp();
    if (!binding_.Get<QueueProvider>(kQueueService)) GTEST_SKIP() << "target does not serve queues";
  }
  QueueProvider& queues() { return *binding_.Get<QueueProvider>(kQueueService); }

  Result<v1::CreateQueueResponse> Create(const std::string& queue, const v1::QueueOptions& options = {}) {
    v1::CreateQueueRequest req;
    req.set_queue(queue);
    *req.mutable_options() = options;
    return Sync(queues().CreateQueue(req));
  }
  Result<v1::SendResponse> Send(const std::string& queue, const std::string& body,
                                const std::function<void(v1::SendRequest*)>& tweak = {}) {
    v1::SendRequest req;
    req.set_queue(queue);
    req.set_body(body);
    if (tweak) tweak(&req);
    return Sync(queues().Send(req));
  }
  Result<QueueProvider::Received> Receive(const std::string& queue, uint32_t max = 1, uint32_t visibility_ms = 0) {
    v1::ReceiveRequest req;
    req.set_queue(queue);
    req.set_max_messages(max);
    req.set_visibility_timeout_ms(visibility_ms);
    return Sync(queues().Receive(req));
  }
  // The bodies received, in order.
  std::vector<std::string> Bodies(const std::string& queue, uint32_t max, uint32_t visibility_ms = 0) {
    auto received = Receive(queue, max, visibility_ms);
    EXPECT_TRUE(received.ok()) << received.status().message();
    std::vector<std::string> bodies;
    if (received.ok()) {
      for (const auto& message : received->response.messages()) bodies.push_back(message.body());
    }
    return bodies;
  }
  Status Ack(const std::string& queue, const std::string& receipt) {
    v1::AckRequest req;
    req.set_queue(queue);
    req.set_receipt_handle(receipt);
    return StatusOf(Sync(queues().Ack(req)));
  }
  v1::DepthResponse Depth(const std::string& queue) {
    v1::DepthRequest req;
    req.set_queue(queue);
    auto depth = Sync(queues().Depth(req));
    EXPECT_TRUE(depth.ok()) << depth.status().message();
    return depth.ok() ? *depth : v1::DepthResponse();
  }
  // "visible/in_flight/delayed"
  std::string Counts(const std::string& queue) {
    v1::DepthResponse depth = Depth(queue);
    return std::to_string(depth.visible()) + "/" + std::to_string(depth.in_flight()) + "/" +
           std::to_string(depth.delayed());
  }
  std::vector<std::string> Names(const v1::ListQueuesResponse& listed) {
    std::vector<std::string> names;
    for (const auto& queue : listed.queues()) names.push_back(queue.name());
    return names;
  }
  Result<v1::ListQueuesResponse> List(const std::string& prefix = "", uint32_t page = 0, const std::string& token = "") {
    v1::ListQueuesRequest req;
    req.set_prefix(prefix);
    req.set_page_size(page);
    req.set_continuation_token(token);
    return Sync(queues().ListQueues(req));
  }
};

TEST_P(QueueConformance, QueuesAreCreatedListedAndDeleted) {
  v1::QueueOptions options = Fifo();
  options.set_visibility_timeout_ms(5000);
  auto created = Create("mail", options);
  CK_ASSERT_OK(created);
  EXPECT_EQ(created->queue().name(), "mail");
  EXPECT_TRUE(created->queue().options().fifo());
  ExpectStampedNow(created->queue().created_ms());
  CK_ASSERT_OK(Create("jobs"));
  CK_ASSERT_OK(Create("jobs-low"));
  CK_EXPECT_CODE(Create("jobs"), v1::ALREADY_EXISTS);
  CK_EXPECT_CODE(Create("bad/name"), v1::INVALID_ARGUMENT);
  CK_EXPECT_CODE(Create(""), v1::INVALID_ARGUMENT);

  auto all = List();
  CK_ASSERT_OK(all);
  EXPECT_EQ(Names(*all), (std::vector<std::string>{"jobs", "jobs-low", "mail"}));
  EXPECT_EQ(all->queues(2).options().visibility_timeout_ms(), 5000u);
  EXPECT_EQ(Names(*List("jobs")), (std::vector<std::string>{"jobs", "jobs-low"}));
  auto first = List("", 2);
  CK_ASSERT_OK(first);
  EXPECT_EQ(Names(*first), (std::vector<std::string>{"jobs", "jobs-low"}));
  ASSERT_FALSE(first->next_continuation_token().empty());
  auto second = List("", 2, first->next_continuation_token());
  CK_ASSERT_OK(second);
  EXPECT_EQ(Names(*second), (std::vector<std::string>{"mail"}));
  EXPECT_TRUE(second->next_continuation_token().empty());
  CK_EXPECT_CODE(List("", 2, "zz"), v1::INVALID_ARGUMENT);

  CK_ASSERT_OK(Send("jobs", "one"));
  v1::DeleteQueueRequest del;
  del.set_queue("jobs");
  CK_EXPECT_OK(Sync(queues().DeleteQueue(del)));
  CK_EXPECT_CODE(Sync(queues().DeleteQueue(del)), v1::NOT_FOUND);
  EXPECT_EQ(Names(*List()), (std::vector<std::string>{"jobs-low", "mail"}));
  auto missing = Send("jobs", "two");
  CK_EXPECT_CODE(missing, v1::NOT_FOUND);
  EXPECT_EQ(missing.status().message(), "not found: queue 'jobs'");
  CK_EXPECT_CODE(Receive("jobs"), v1::NOT_FOUND);
  // A queue made again under the name starts empty.
  CK_ASSERT_OK(Create("jobs"));
  EXPECT_EQ(Counts("jobs"), "0/0/0");
}

TEST_P(QueueConformance, SendReceiveAckRoundTrip) {
  CK_ASSERT_OK(Create("jobs"));
  auto sent = Send("jobs", std::string("\0payload\xff", 9), [](v1::SendRequest* r) {
    (*r->mutable_attributes())["kind"] = "resize";
    (*r->mutable_attributes())["size"] = "large";
  });
  CK_ASSERT_OK(sent);
  EXPECT_EQ(sent->message_id().size(), 16u);
  EXPECT_FALSE(sent->duplicate());
  EXPECT_EQ(Counts("jobs"), "1/0/0");

  auto received = Receive("jobs", 10, 30'000);
  CK_ASSERT_OK(received);
  ASSERT_EQ(received->response.messages_size(), 1);
  const v1::ReceivedMessage& message = received->response.messages(0);
  EXPECT_EQ(message.message_id(), sent->message_id());
  EXPECT_EQ(message.body(), std::string("\0payload\xff", 9));
  EXPECT_EQ(message.attributes().at("kind"), "resize");
  EXPECT_EQ(message.attributes().at("size"), "large");
  EXPECT_EQ(message.receive_count(), 1u);
  ExpectStampedNow(message.sent_ms());
  EXPECT_EQ(message.invisible_until_ms(), clock_.NowMs() + 30'000);
  EXPECT_EQ(Counts("jobs"), "0/1/0");

  CK_EXPECT_OK(Ack("jobs", message.receipt_handle()));
  EXPECT_EQ(Counts("jobs"), "0/0/0");
  // Acked: gone, and its receipt is stale.
  CK_EXPECT_CODE(Ack("jobs", message.receipt_handle()), v1::FAILED_PRECONDITION);
  clock_.Advance(60'000);
  auto after = Receive("jobs");
  CK_ASSERT_OK(after);
  EXPECT_EQ(after->response.messages_size(), 0);
  EXPECT_EQ(after->next_visible_ms, 0);
  CK_EXPECT_CODE(Ack("jobs", "not-a-receipt"), v1::INVALID_ARGUMENT);
  CK_EXPECT_CODE(Ack("nosuch", message.receipt_handle()), v1::NOT_FOUND);
}

TEST_P(QueueConformance, AnUnackedMessageComesBackAfterItsVisibilityTimeout) {
  CK_ASSERT_OK(Create("jobs"));
  CK_ASSERT_OK(Send("jobs", "work"));
  auto first = Receive("jobs", 1, 1000);
  CK_ASSERT_OK(first);
  ASSERT_EQ(first->response.messages_size(), 1);
  auto hidden = Receive("jobs");
  CK_ASSERT_OK(hidden);
  EXPECT_EQ(hidden->response.messages_size(), 0);
  EXPECT_EQ(hidden->next_visible_ms, clock_.NowMs() + 1000);
  clock_.Advance(999);
  EXPECT_TRUE(Bodies("jobs", 1).empty());
  clock_.Advance(1);
  EXPECT_EQ(Counts("jobs"), "1/0/0");
  auto again = Receive("jobs", 1, 1000);
  CK_ASSERT_OK(again);
  ASSERT_EQ(again->response.messages_size(), 1);
  EXPECT_EQ(again->response.messages(0).receive_count(), 2u);
  EXPECT_EQ(again->response.messages(0).message_id(), first->response.messages(0).message_id());
  // The first receipt is stale now that the message was received again.
  auto stale = Ack("jobs", first->response.messages(0).receipt_handle());
  CK_EXPECT_CODE(stale, v1::FAILED_PRECONDITION);
  EXPECT_NE(stale.message().find("stale receipt handle for queue 'jobs'"), std::string::npos) << stale.message();
  CK_EXPECT_OK(Ack("jobs", again->response.messages(0).receipt_handle()));
  EXPECT_EQ(Counts("jobs"), "0/0/0");
}

TEST_P(QueueConformance, ChangeVisibilityHidesLongerOrReleasesAtOnce) {
  CK_ASSERT_OK(Create("jobs"));
  CK_ASSERT_OK(Send("jobs", "work"));
  auto received = Receive("jobs", 1, 1000);
  CK_ASSERT_OK(received);
  ASSERT_EQ(received->response.messages_size(), 1);
  v1::ChangeVisibilityRequest change;
  change.set_queue("jobs");
  change.set_receipt_handle(received->response.messages(0).receipt_handle());
  change.set_visibility_timeout_ms(60'000);
  auto longer = Sync(queues().ChangeVisibility(change));
  CK_ASSERT_OK(longer);
  EXPECT_EQ(longer->invisible_until_ms(), clock_.NowMs() + 60'000);
  clock_.Advance(30'000);
  EXPECT_TRUE(Bodies("jobs", 1).empty());
  EXPECT_EQ(Counts("jobs"), "0/1/0");
  change.set_receipt_handle(longer->receipt_handle());
  change.set_visibility_timeout_ms(0);
  auto released = Sync(queues().ChangeVisibility(change));
  CK_ASSERT_OK(released);
  auto again = Receive("jobs");
  CK_ASSERT_OK(again);
  ASSERT_EQ(again->response.messages_size(), 1);
  EXPECT_EQ(again->response.messages(0).receive_count(), 2u);
  change.set_visibility_timeout_ms(43'200'001);
  CK_EXPECT_CODE(Sync(queues().ChangeVisibility(change)), v1::INVALID_ARGUMENT);
}

// "Answers a new receipt handle; the old one becomes stale": on FIFO queues
// too, where a message keeps its place in send order whatever its visibility.
TEST_P(QueueConformance, ChangeVisibilityMakesTheOldReceiptStaleOnEveryKindOfQueue) {
  for (bool fifo : {false, true}) {
    const std::string queue = fifo ? "orders" : "jobs";
    CK_ASSERT_OK(Create(queue, fifo ? Fifo() : v1::QueueOptions()));
    CK_ASSERT_OK(Send(queue, "work"));
    auto received = Receive(queue, 1, 1000);
    CK_ASSERT_OK(received);
    ASSERT_EQ(received->response.messages_size(), 1);
    const std::string old_receipt = received->response.messages(0).receipt_handle();
    v1::ChangeVisibilityRequest change;
    change.set_queue(queue);
    change.set_receipt_handle(old_receipt);
    change.set_visibility_timeout_ms(60'000);
    auto changed = Sync(queues().ChangeVisibility(change));
    CK_ASSERT_OK(changed);
    EXPECT_NE(changed->receipt_handle(), old_receipt) << queue;
    CK_EXPECT_CODE(Sync(queues().ChangeVisibility(change)), v1::FAILED_PRECONDITION);
    v1::AckRequest ack;
    ack.set_queue(queue);
    ack.set_receipt_handle(old_receipt);
    CK_EXPECT_CODE(Sync(queues().Ack(ack)), v1::FAILED_PRECONDITION);
    ack.set_receipt_handle(changed->receipt_handle());
    CK_EXPECT_OK(Sync(queues().Ack(ack)));
    EXPECT_EQ(Counts(queue), "0/0/0") << queue;
  }
}

// A receive of many large messages answers as many as one reply holds; the
// others stay receivable, not taken and then lost with a failed reply.
TEST_P(QueueConformance, AReceiveAnswersNoMoreMessagesThanAReplyHolds) {
  CK_ASSERT_OK(Create("big"));
  const std::string body(1 << 20, 'm');
  for (int i = 0; i < 12; ++i) CK_ASSERT_OK(Send("big", body));
  auto first = Receive("big", 12);
  CK_ASSERT_OK(first);
  const int taken = first->response.messages_size();
  EXPECT_GE(taken, 1);
  EXPECT_LT(taken, 12);
  EXPECT_LE(first->response.ByteSizeLong(), frames::kMaxReplyBytes);
  auto rest = Receive("big", 12);
  CK_ASSERT_OK(rest);
  EXPECT_EQ(taken + rest->response.messages_size(), 12);
  for (const auto& message : rest->response.messages()) EXPECT_EQ(message.receive_count(), 1u);
}

TEST_P(QueueConformance, DelayedMessagesWaitTheirDelay) {
  CK_ASSERT_OK(Create("jobs"));
  CK_ASSERT_OK(Send("jobs", "later", [](v1::SendRequest* r) { r->set_delay_ms(2000); }));
  CK_ASSERT_OK(Send("jobs", "now"));
  EXPECT_EQ(Counts("jobs"), "1/0/1");
  EXPECT_EQ(Bodies("jobs", 10), (std::vector<std::string>{"now"}));
  auto waiting = Receive("jobs");
  CK_ASSERT_OK(waiting);
  EXPECT_EQ(waiting->next_visible_ms, clock_.NowMs() + 2000);
  clock_.Advance(2000);
  EXPECT_EQ(Bodies("jobs", 10), (std::vector<std::string>{"later"}));
  CK_EXPECT_CODE(Send("jobs", "x", [](v1::SendRequest* r) { r->set_delay_ms(900'001); }), v1::INVALID_ARGUMENT);
}

TEST_P(QueueConformance, ASendWithASeenDeduplicationIdIsNotEnqueuedTwice) {
  CK_ASSERT_OK(Create("jobs"));
  auto tweak = [](v1::SendRequest* r) { r->set_deduplication_id("order-17"); };
  auto first = Send("jobs", "charge", tweak);
  CK_ASSERT_OK(first);
  EXPECT_FALSE(first->duplicate());
  clock_.Advance(60'000);
  auto second = Send("jobs", "charge", tweak);
  CK_ASSERT_OK(second);
  EXPECT_TRUE(second->duplicate());
  EXPECT_EQ(second->message_id(), first->message_id());
  EXPECT_EQ(Counts("jobs"), "1/0/0");
  // Within one batch too.
  v1::SendBatchRequest batch;
  batch.set_queue("jobs");
  for (const char* id : {"a", "a", "order-17", ""}) {
    v1::SendBatchEntry* entry = batch.add_entries();
    entry->set_body(id);
    entry->set_deduplication_id(id);
  }
  auto sent = Sync(queues().SendBatch(batch));
  CK_ASSERT_OK(sent);
  ASSERT_EQ(sent->results_size(), 4);
  EXPECT_FALSE(sent->results(0).duplicate());
  EXPECT_TRUE(sent->results(1).duplicate());
  EXPECT_EQ(sent->results(1).message_id(), sent->results(0).message_id());
  EXPECT_TRUE(sent->results(2).duplicate());
  EXPECT_FALSE(sent->results(3).duplicate());
  EXPECT_EQ(Counts("jobs"), "3/0/0");
  // Once the window (5 minutes from the first send) has passed, the id is new again.
  clock_.Advance(5 * 60'000 - 60'000);
  auto later = Send("jobs", "charge again", tweak);
  CK_ASSERT_OK(later);
  EXPECT_FALSE(later->duplicate());
  EXPECT_NE(later->message_id(), first->message_id());
  EXPECT_EQ(Counts("jobs"), "4/0/0");
  // Another queue has ids of its own.
  CK_ASSERT_OK(Create("other"));
  auto elsewhere = Send("other", "charge", tweak);
  CK_ASSERT_OK(elsewhere);
  EXPECT_FALSE(elsewhere->duplicate());
}

TEST_P(QueueConformance, AMessageReceivedMaxReceivesTimesMovesToTheDeadLetterQueue) {
  CK_ASSERT_OK(Create("jobs-dlq"));
  CK_EXPECT_CODE(Create("jobs", DeadLettersTo("nosuch", 2)), v1::NOT_FOUND);
  CK_EXPECT_CODE(Create("jobs", DeadLettersTo("jobs-dlq", 0)), v1::INVALID_ARGUMENT);
  CK_EXPECT_CODE(Create("jobs", DeadLettersTo("jobs-dlq", 2, /*fifo=*/true)), v1::INVALID_ARGUMENT);
  CK_EXPECT_CODE(Create("jobs", DeadLettersTo("jobs", 2)), v1::INVALID_ARGUMENT);
  CK_ASSERT_OK(Create("jobs", DeadLettersTo("jobs-dlq", 2)));
  auto sent = Send("jobs", "poison");
  CK_ASSERT_OK(sent);
  (void)queues().TakeArrivals();
  for (uint32_t n = 1; n <= 2; ++n) {
    auto received = Receive("jobs", 1, 1000);
    CK_ASSERT_OK(received);
    ASSERT_EQ(received->response.messages_size(), 1) << "receive " << n;
    EXPECT_EQ(received->response.messages(0).receive_count(), n);
    clock_.Advance(1000);
  }
  // Received twice and back: the third try moves it instead.
  EXPECT_TRUE(Bodies("jobs", 10).empty());
  EXPECT_EQ(Counts("jobs"), "0/0/0");
  EXPECT_EQ(Counts("jobs-dlq"), "1/0/0");
  bool announced = false;
  for (const auto& arrival : queues().TakeArrivals()) announced = announced || arrival.queue == "jobs-dlq";
  EXPECT_TRUE(announced) << "the dead-letter queue's waiters hear of the message";
  auto dead = Receive("jobs-dlq");
  CK_ASSERT_OK(dead);
  ASSERT_EQ(dead->response.messages_size(), 1);
  EXPECT_EQ(dead->response.messages(0).body(), "poison");
  EXPECT_EQ(dead->response.messages(0).message_id(), sent->message_id());
  EXPECT_EQ(dead->response.messages(0).receive_count(), 1u);
  CK_EXPECT_OK(Ack("jobs-dlq", dead->response.messages(0).receipt_handle()));

  v1::DeleteQueueRequest del;
  del.set_queue("jobs-dlq");
  auto in_use = Sync(queues().DeleteQueue(del));
  CK_EXPECT_CODE(in_use, v1::FAILED_PRECONDITION);
  EXPECT_NE(in_use.status().message().find("dead-letter queue of queue 'jobs'"), std::string::npos);
  del.set_queue("jobs");
  CK_EXPECT_OK(Sync(queues().DeleteQueue(del)));
  del.set_queue("jobs-dlq");
  CK_EXPECT_OK(Sync(queues().DeleteQueue(del)));
}

TEST_P(QueueConformance, FifoQueuesDeliverInSendOrderAndAMessageOutBlocksTheRest) {
  CK_ASSERT_OK(Create("orders", Fifo()));
  v1::SendBatchRequest batch;
  batch.set_queue("orders");
  for (const char* body : {"m1", "m2", "m3", "m4"}) batch.add_entries()->set_body(body);
  CK_ASSERT_OK(Sync(queues().SendBatch(batch)));
  CK_ASSERT_OK(Send("orders", "m5"));

  auto head = Receive("orders", 2, 1000);
  CK_ASSERT_OK(head);
  ASSERT_EQ(head->response.messages_size(), 2);
  EXPECT_EQ(head->response.messages(0).body(), "m1");
  EXPECT_EQ(head->response.messages(1).body(), "m2");
  auto blocked = Receive("orders", 10);
  CK_ASSERT_OK(blocked);
  EXPECT_EQ(blocked->response.messages_size(), 0);
  EXPECT_EQ(blocked->next_visible_ms, clock_.NowMs() + 1000);
  (void)queues().TakeArrivals();
  CK_ASSERT_OK(Ack("orders", head->response.messages(0).receipt_handle()));
  EXPECT_FALSE(queues().TakeArrivals().empty()) << "acking a FIFO head lets waiters try again";
  EXPECT_TRUE(Bodies("orders", 10).empty());  // m2 is still out
  // m2 comes back first when its timeout ends, then the rest in order.
  clock_.Advance(1000);
  EXPECT_EQ(Bodies("orders", 10, 1000), (std::vector<std::string>{"m2", "m3", "m4", "m5"}));
  clock_.Advance(1000);
  auto again = Receive("orders", 1);
  CK_ASSERT_OK(again);
  ASSERT_EQ(again->response.messages_size(), 1);
  EXPECT_EQ(again->response.messages(0).body(), "m2");
  EXPECT_EQ(again->response.messages(0).receive_count(), 3u);
}

TEST_P(QueueConformance, ABatchSendIsAllOrNothing) {
  CK_ASSERT_OK(Create("jobs"));
  v1::SendBatchRequest batch;
  batch.set_queue("jobs");
  batch.add_entries()->set_body("fine");
  batch.add_entries()->set_delay_ms(900'001);
  CK_EXPECT_CODE(Sync(queues().SendBatch(batch)), v1::INVALID_ARGUMENT);
  EXPECT_EQ(Counts("jobs"), "0/0/0");
  batch.clear_entries();
  for (int i = 0; i < 101; ++i) batch.add_entries()->set_body("x");
  CK_EXPECT_CODE(Sync(queues().SendBatch(batch)), v1::INVALID_ARGUMENT);
  batch.clear_entries();
  CK_EXPECT_CODE(Sync(queues().SendBatch(batch)), v1::INVALID_ARGUMENT);
  CK_EXPECT_CODE(Send("jobs", std::string((1 << 20) + 1, 'x')), v1::INVALID_ARGUMENT);
  CK_EXPECT_CODE(Receive("jobs", 101), v1::INVALID_ARGUMENT);
  CK_EXPECT_CODE(Receive("jobs", 1, 43'200'001), v1::INVALID_ARGUMENT);
  EXPECT_EQ(Counts("jobs"), "0/0/0");
}

TEST_P(QueueConformance, PurgeEmptiesTheQueueAndStalesItsReceipts) {
  CK_ASSERT_OK(Create("jobs"));
  for (const char* body : {"a", "b", "c"}) CK_ASSERT_OK(Send("jobs", body));
  CK_ASSERT_OK(Send("jobs", "d", [](v1::SendRequest* r) { r->set_delay_ms(1000); }));
  auto out = Receive("jobs", 1, 60'000);
  CK_ASSERT_OK(out);
  ASSERT_EQ(out->response.messages_size(), 1);
  EXPECT_EQ(Counts("jobs"), "2/1/1");
  v1::PurgeRequest purge;
  purge.set_queue("jobs");
  auto purged = Sync(queues().Purge(purge));
  CK_ASSERT_OK(purged);
  EXPECT_EQ(purged->purged(), 4u);
  EXPECT_EQ(Counts("jobs"), "0/0/0");
  CK_EXPECT_CODE(Ack("jobs", out->response.messages(0).receipt_handle()), v1::FAILED_PRECONDITION);
  clock_.Advance(60'000);
  EXPECT_TRUE(Bodies("jobs", 10).empty());
  CK_ASSERT_OK(Send("jobs", "after"));
  EXPECT_EQ(Bodies("jobs", 10), (std::vector<std::string>{"after"}));
  purge.set_queue("nosuch");
  CK_EXPECT_CODE(Sync(queues().Purge(purge)), v1::NOT_FOUND);
}

TEST_P(QueueConformance, SendsReportArrivalsForTheActorsWaiters) {
  CK_ASSERT_OK(Create("jobs"));
  (void)queues().TakeArrivals();
  CK_ASSERT_OK(Send("jobs", "now"));
  CK_ASSERT_OK(Send("jobs", "later", [](v1::SendRequest* r) { r->set_delay_ms(500); }));
  auto arrivals = queues().TakeArrivals();
  ASSERT_EQ(arrivals.size(), 2u);
  EXPECT_EQ(arrivals[0].queue, "jobs");
  EXPECT_EQ(arrivals[0].at_ms, clock_.NowMs());
  EXPECT_EQ(arrivals[1].at_ms, clock_.NowMs() + 500);
  EXPECT_TRUE(queues().TakeArrivals().empty());
}

TEST_P(QueueConformance, MessagesAndTheirStateSurviveAReopen) {
  if (!durable()) GTEST_SKIP() << "target is not durable";
  CK_ASSERT_OK(Create("jobs"));
  CK_ASSERT_OK(Create("orders", Fifo()));
  std::set<std::string> ids;
  for (const char* body : {"acked", "out", "waiting"}) ids.insert(Send("jobs", body)->message_id());
  for (const char* body : {"o1", "o2"}) ids.insert(Send("orders", body)->message_id());
  auto acked = Receive("jobs", 1, 60'000);
  CK_ASSERT_OK(acked);
  CK_ASSERT_OK(Ack("jobs", acked->response.messages(0).receipt_handle()));
  auto out = Receive("jobs", 1, 60'000);
  CK_ASSERT_OK(out);
  ASSERT_EQ(out->response.messages_size(), 1);

  Reopen();
  EXPECT_EQ(Counts("jobs"), "1/1/0");
  EXPECT_EQ(Bodies("jobs", 10, 60'000), (std::vector<std::string>{"waiting"}));
  // Ids given after the reopen are new, and sort after the earlier ones.
  auto fresh = Send("orders", "o3");
  CK_ASSERT_OK(fresh);
  EXPECT_FALSE(ids.count(fresh->message_id()));
  EXPECT_EQ(Bodies("orders", 10), (std::vector<std::string>{"o1", "o2", "o3"}));
  // The one still out comes back when its timeout ends; the acked one never.
  clock_.Advance(60'000);
  auto back = Receive("jobs", 10);
  CK_ASSERT_OK(back);
  std::vector<std::string> bodies;
  for (const auto& message : back->response.messages()) bodies.push_back(message.body());
  std::sort(bodies.begin(), bodies.end());
  EXPECT_EQ(bodies, (std::vector<std::string>{"out", "waiting"}));
  for (const auto& message : back->response.messages()) {
    if (message.body() == "out") {
      EXPECT_EQ(message.receive_count(), 2u);
      CK_EXPECT_CODE(Ack("jobs", out->response.messages(0).receipt_handle()), v1::FAILED_PRECONDITION);
      CK_EXPECT_OK(Ack("jobs", message.receipt_handle()));
    }
  }
}

// The actor's long polls, over the target's provider: a waiting receive is
// answered when a send arrives, when its wait ends, when a delayed message
// becomes visible, or not at all once cancelled. The actor's timers are the
// test's: they fire when the test says, by the manual clock.
class QueueLongPoll : public QueueConformance {
 protected:
  void SetUp() override {
    QueueConformance::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    RegisterBuiltinServices(&services_);
    const ServiceDescriptor* service = services_.Find(kQueueService);
    ASSERT_NE(service, nullptr);
    actor_ = service->make_actor(queues(), {&clock_, &outbox_, &timers_});
    ASSERT_NE(actor_, nullptr);
    CK_ASSERT_OK(Create("jobs"));
  }

  template <typename Req>
  void Call(uint64_t call_id, const char* rpc, const Req& req, int64_t deadline_ms = 0) {
    Inbound in;
    in.call_id = call_id;
    in.client = 1;  // one client: its later calls on the queue must not wait for its long poll
    in.method = std::string("cloudkit.v1.Queue/") + rpc;
    in.body = req.SerializeAsString();
    in.deadline_ms = deadline_ms;
    actor_->Receive(std::move(in));
    Settle();
  }
  void LongPoll(uint64_t call_id, uint32_t wait_ms, int64_t deadline_ms = 0, uint32_t visibility_ms = 0) {
    v1::ReceiveRequest req;
    req.set_queue("jobs");
    req.set_wait_ms(wait_ms);
    req.set_visibility_timeout_ms(visibility_ms);
    Call(call_id, "Receive", req, deadline_ms);
  }
  void FireDueTimers() { conformance::FireDueTimers(timers_, *actor_); }
  // The final frame of the call, or null while it is open.
  const Outbound* Answer(uint64_t call_id) {
    for (const Outbound& frame : outbox_.frames) {
      if (frame.call_id == call_id && frame.ends_call) return &frame;
    }
    return nullptr;
  }
  v1::ReceiveResponse Received(uint64_t call_id) {
    const Outbound* answer = Answer(call_id);
    v1::ReceiveResponse resp;
    EXPECT_NE(answer, nullptr) << "call " << call_id << " is unanswered";
    if (answer) {
      EXPECT_TRUE(answer->status.ok()) << answer->status.message();
      EXPECT_TRUE(resp.ParseFromString(answer->body));
    }
    return resp;
  }
  // When the actor's earliest wake-up of a waiter is due (0: none armed).
  int64_t WaitTimerDue() { return timers_.due.count(1) ? timers_.due[1] : 0; }

  ServiceRegistry services_;
  ManualTimers timers_{&clock_};
  RecordingOutbox outbox_;
  std::unique_ptr<Actor> actor_;
};

TEST_P(QueueLongPoll, AWaitingReceiveIsAnsweredByASendOnTheBinding) {
  LongPoll(1, 10'000);
  EXPECT_EQ(Answer(1), nullptr) << "nothing to receive: the call waits";
  EXPECT_EQ(WaitTimerDue(), clock_.NowMs() + 10'000);
  v1::SendRequest send;
  send.set_queue("jobs");
  send.set_body("wake up");
  Call(2, "Send", send);
  ASSERT_NE(Answer(2), nullptr) << "the same client's send does not wait for its long poll";
  EXPECT_TRUE(Answer(2)->status.ok());
  FireDueTimers();  // the waiter is woken on the actor's next turn, not inside the send
  v1::ReceiveResponse got = Received(1);
  ASSERT_EQ(got.messages_size(), 1);
  EXPECT_EQ(got.messages(0).body(), "wake up");
  EXPECT_EQ(WaitTimerDue(), 0) << "no waiter left, no timer armed";
}

TEST_P(QueueLongPoll, AWaitingReceiveEndsEmptyWhenItsWaitEndsOrBeforeItsDeadline) {
  LongPoll(1, 5000);
  clock_.Advance(4999);
  FireDueTimers();
  EXPECT_EQ(Answer(1), nullptr);
  clock_.Advance(1);
  FireDueTimers();
  EXPECT_EQ(Received(1).messages_size(), 0);

  // A deadline 1 s away cuts a 20 s wait short, leaving time for the answer.
  LongPoll(2, 20'000, clock_.NowMs() + 1000);
  const int64_t due = WaitTimerDue();
  EXPECT_GT(due, clock_.NowMs());
  EXPECT_LT(due, clock_.NowMs() + 1000);
  clock_.Advance(due - clock_.NowMs());
  FireDueTimers();
  EXPECT_EQ(Received(2).messages_size(), 0);

  v1::ReceiveRequest too_long;
  too_long.set_queue("jobs");
  too_long.set_wait_ms(20'001);
  Call(3, "Receive", too_long);
  ASSERT_NE(Answer(3), nullptr);
  EXPECT_EQ(Answer(3)->status.code(), v1::INVALID_ARGUMENT);
}

TEST_P(QueueLongPoll, AWaitingReceiveWakesWhenADelayedOrInvisibleMessageBecomesVisible) {
  v1::SendRequest send;
  send.set_queue("jobs");
  send.set_body("delayed");
  send.set_delay_ms(3000);
  Call(1, "Send", send);
  LongPoll(2, 10'000, 0, /*visibility_ms=*/5000);
  EXPECT_EQ(Answer(2), nullptr);
  EXPECT_EQ(WaitTimerDue(), clock_.NowMs() + 3000);
  clock_.Advance(3000);
  FireDueTimers();
  v1::ReceiveResponse got = Received(2);
  ASSERT_EQ(got.messages_size(), 1);
  EXPECT_EQ(got.messages(0).body(), "delayed");
  // Not acked: a second long poll gets it back when its visibility ends.
  LongPoll(3, 20'000);
  EXPECT_EQ(Answer(3), nullptr);
  EXPECT_EQ(WaitTimerDue(), got.messages(0).invisible_until_ms());
  clock_.Advance(WaitTimerDue() - clock_.NowMs());
  FireDueTimers();
  v1::ReceiveResponse again = Received(3);
  ASSERT_EQ(again.messages_size(), 1);
  EXPECT_EQ(again.messages(0).receive_count(), 2u);
}

TEST_P(QueueLongPoll, ACancelledLongPollEndsAtOnceAndTakesNothing) {
  LongPoll(1, 10'000);
  Inbound cancel;
  cancel.call_id = 1;
  cancel.kind = v1::CANCEL;
  actor_->Receive(std::move(cancel));
  FireDueTimers();
  EXPECT_EQ(Answer(1), nullptr);
  EXPECT_EQ(WaitTimerDue(), 0) << "the cancelled waiter is gone";
  v1::SendRequest send;
  send.set_queue("jobs");
  send.set_body("for someone else");
  Call(2, "Send", send);
  FireDueTimers();
  EXPECT_EQ(Counts("jobs"), "1/0/0");
}

TEST_P(QueueLongPoll, AStreamFrameOnALongPollFailsItAndEndsItsWaitAtOnce) {
  LongPoll(1, 10'000);
  Inbound data;  // no queue call takes DATA: the call fails, and its operation must not wait on
  data.call_id = 1;
  data.kind = v1::DATA;
  data.body = "unasked";
  actor_->Receive(std::move(data));
  FireDueTimers();
  const Outbound* answer = Answer(1);
  ASSERT_NE(answer, nullptr);
  EXPECT_EQ(answer->status.code(), v1::RESOURCE_EXHAUSTED) << answer->status.message();
  EXPECT_EQ(actor_->load().open_calls, 0u) << "the failed long poll still waits";
  EXPECT_EQ(WaitTimerDue(), 0);
}

TEST_P(QueueLongPoll, EachArrivalWakesOneWaiterAndEachSuccessTheNext) {
  LongPoll(1, 10'000);
  LongPoll(2, 10'000);
  v1::SendBatchRequest batch;
  batch.set_queue("jobs");
  batch.add_entries()->set_body("a");
  batch.add_entries()->set_body("b");
  Call(3, "SendBatch", batch);
  FireDueTimers();
  // The first waiter takes one (its max is 1) and wakes the second, which takes the other.
  ASSERT_EQ(Received(1).messages_size(), 1);
  ASSERT_EQ(Received(2).messages_size(), 1);
  EXPECT_NE(Received(1).messages(0).body(), Received(2).messages(0).body());
  EXPECT_EQ(WaitTimerDue(), 0);
}

// Hosts whose targets serve no queues (the clouds') instantiate none.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(QueueConformance);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(QueueLongPoll);
INSTANTIATE_TEST_SUITE_P(Providers, QueueConformance, ::testing::ValuesIn(ConformanceTargetsServing(kQueueService)),
                         ParamName);
INSTANTIATE_TEST_SUITE_P(Providers, QueueLongPoll, ::testing::ValuesIn(ConformanceTargetsServing(kQueueService)),
                         ParamName);

}  // namespace cloudkit::conformance
