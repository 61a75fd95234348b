// Many calls in flight at once, from several clients and threads, mixing
// every kind of operation: no call may fail, and every reply must belong to
// its request (each reply is checked against what its own request asked).
#include <future>
#include <thread>
#include <atomic>

#include "integration/daemon_fixture.h"
#include "integration/test_helpers.h"

namespace cloudkit::integration {
namespace {

constexpr int kClients = 4;
constexpr int kThreadsPerClient = 2;
constexpr int kItemsPerThread = 150;
constexpr size_t kStreamedBytes = 600'000;  // more than two chunks

using ConcurrencyTest = DaemonTest;

std::string Value(int client, int thread, int item) {
  return "value-" + std::to_string(client) + "-" + std::to_string(thread) + "-" + std::to_string(item);
}

// One thread's share: a wave of writes all in flight together, then a wave of
// reads all in flight together, each checked against its own key.
void RunMixedWorkload(Client& client, int client_index, int thread_index, std::atomic<int>* failures) {
  auto fail = [&](const std::string& what) {
    failures->fetch_add(1);
    ADD_FAILURE() << what;
  };
  const std::string table = "t" + std::to_string(client_index);
  const std::string prefix = std::to_string(client_index) + "/" + std::to_string(thread_index) + "/";

  std::vector<std::future<KeyValueClient::PutResult>> kv_puts;
  std::vector<std::future<ObjectStorageClient::PutObjectResult>> object_puts;
  std::vector<std::future<RuntimeClient::StatusResult>> statuses;
  for (int i = 0; i < kItemsPerThread; ++i) {
    kv_puts.push_back(client.kv().PutAsync(KvPut(table, prefix + std::to_string(i), Value(client_index, thread_index, i))));
    object_puts.push_back(client.storage().PutObjectAsync(
        PutRequest("shared", prefix + std::to_string(i), Value(client_index, thread_index, i))));
    if (i % 10 == 0) statuses.push_back(client.runtime().GetStatusAsync());
  }
  auto streamed_put = client.storage().PutObjectAsync(
      PutRequest("shared", prefix + "streamed", MakeBody(kStreamedBytes, client_index * 10 + thread_index)));

  for (int i = 0; i < kItemsPerThread; ++i) {
    auto put = kv_puts[i].get();
    if (!put.ok()) fail("kv put: " + put.status().message());
    auto stored = object_puts[i].get();
    if (!stored.ok()) {
      fail("object put: " + stored.status().message());
    } else if (stored->object().key() != prefix + std::to_string(i)) {
      fail("object put reply for the wrong key: " + stored->object().key());
    }
  }
  for (auto& status : statuses) {
    auto result = status.get();
    if (!result.ok()) fail("status: " + result.status().message());
  }
  auto streamed = streamed_put.get();
  if (!streamed.ok()) fail("streamed put: " + streamed.status().message());

  std::vector<std::future<KeyValueClient::GetResult>> kv_gets;
  std::vector<std::future<ObjectStorageClient::HeadObjectResult>> heads;
  std::vector<std::future<ObjectStorageClient::GetObjectResult>> gets;
  for (int i = 0; i < kItemsPerThread; ++i) {
    kv_gets.push_back(client.kv().GetAsync(KvGet(table, prefix + std::to_string(i))));
    heads.push_back(client.storage().HeadObjectAsync(HeadRequest("shared", prefix + std::to_string(i))));
    if (i % 15 == 0) gets.push_back(client.storage().GetObjectAsync(GetRequest("shared", prefix + std::to_string(i))));
  }
  auto streamed_get = client.storage().GetObjectAsync(GetRequest("shared", prefix + "streamed"));
  for (int i = 0; i < kItemsPerThread; ++i) {
    auto got = kv_gets[i].get();
    if (!got.ok()) {
      fail("kv get: " + got.status().message());
    } else if (got->item().value() != Value(client_index, thread_index, i)) {
      fail("kv get reply mismatched: " + got->item().key() + " = " + got->item().value());
    }
    auto head = heads[i].get();
    if (!head.ok()) {
      fail("head: " + head.status().message());
    } else if (head->object().key() != prefix + std::to_string(i) ||
               head->object().size() != Value(client_index, thread_index, i).size()) {
      fail("head reply mismatched: " + head->object().key());
    }
  }
  for (size_t g = 0; g < gets.size(); ++g) {
    int i = static_cast<int>(g) * 15;
    auto got = gets[g].get();
    if (!got.ok()) {
      fail("get: " + got.status().message());
    } else if (got->data() != Value(client_index, thread_index, i)) {
      fail("get reply mismatched for item " + std::to_string(i) + ": " + got->data());
    }
  }
  auto streamed_body = streamed_get.get();
  if (!streamed_body.ok()) {
    fail("streamed get: " + streamed_body.status().message());
  } else if (streamed_body->data() != MakeBody(kStreamedBytes, client_index * 10 + thread_index)) {
    fail("streamed get body mismatched");
  }
}

// Half the clients use the durable `default` binding, half the `memory`
// binding `scratch`: both kinds serve at once.
TEST_F(ConcurrencyTest, ManyClientsManyCallsInFlightNoErrorsEveryReplyMatched) {
  const std::vector<std::string> bindings = {"default", "scratch"};
  for (const auto& binding : bindings) {
    CallOptions options;
    options.binding = binding;
    ASSERT_CK_OK(client_->storage().CreateBucket(CreateBucketRequest("shared"), options));
  }
  std::vector<std::unique_ptr<Client>> clients;
  for (int c = 0; c < kClients; ++c) {
    ClientOptions options;
    options.binding = bindings[c % 2];
    clients.push_back(Connect(options));
  }

  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    for (int t = 0; t < kThreadsPerClient; ++t) {
      threads.emplace_back([&, c, t] { RunMixedWorkload(*clients[c], c, t, &failures); });
    }
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);

  // Everything written is there, once.
  for (const auto& binding : bindings) {
    CallOptions options;
    options.binding = binding;
    v1::ListObjectsRequest list;
    list.set_bucket("shared");
    size_t objects = 0;
    do {
      auto page = client_->storage().ListObjects(list, options);
      ASSERT_CK_OK(page);
      objects += page->objects_size();
      list.set_continuation_token(page->next_continuation_token());
    } while (!list.continuation_token().empty());
    EXPECT_EQ(objects, static_cast<size_t>(kClients / 2 * kThreadsPerClient * (kItemsPerThread + 1))) << binding;
  }
}

// Blocking calls run the connection on their own thread when it is free,
// and hand what is left in flight to the client's I/O thread after. Here a
// blocking long poll holds the connection while other threads block on the
// same Client and calls nobody waits on start; once it returns, the I/O
// thread must serve the call still in flight (a second long poll).
TEST_F(ConcurrencyTest, BlockingCallsShareOneClientAndHandOverWhatIsInFlight) {
  constexpr int kThreads = 6;
  constexpr int kCallsPerThread = 200;
  for (const char* name : {"jobs", "idle"}) {
    v1::CreateQueueRequest queue;
    queue.set_queue(name);
    ASSERT_CK_OK(client_->queue().CreateQueue(queue));
  }
  std::unique_ptr<Client> shared = Connect();
  ASSERT_TRUE(shared);

  std::thread holder([&] {
    v1::ReceiveRequest idle;
    idle.set_queue("idle");
    idle.set_wait_ms(1'500);
    auto nothing = shared->queue().Receive(idle);
    EXPECT_TRUE(nothing.ok() && nothing->messages_size() == 0) << StatusOf(nothing).message();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // its long poll is on the wire
  v1::ReceiveRequest receive;
  receive.set_queue("jobs");
  receive.set_wait_ms(10'000);
  auto long_poll = shared->queue().ReceiveAsync(receive);
  std::vector<std::future<KeyValueClient::PutResult>> unwaited;
  for (int i = 0; i < 50; ++i) unwaited.push_back(shared->kv().PutAsync(KvPut("u", std::to_string(i), "v")));

  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        const std::string key = std::to_string(t) + "/" + std::to_string(i);
        auto put = shared->kv().Put(KvPut("b", key, Value(0, t, i)));
        auto got = shared->kv().Get(KvGet("b", key));
        if (!put.ok() || !got.ok() || got->item().value() != Value(0, t, i)) {
          failures.fetch_add(1);
          ADD_FAILURE() << key << ": " << (put.ok() ? got.status().message() : put.status().message());
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  holder.join();
  EXPECT_EQ(failures.load(), 0);
  for (auto& put : unwaited) EXPECT_CK_CODE(put.get(), v1::OK);

  // Nobody blocks on `shared` now: its I/O thread must be reading for the long poll.
  ASSERT_EQ(long_poll.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  v1::SendRequest send;
  send.set_queue("jobs");
  send.set_body("for the long poll");
  ASSERT_CK_OK(client_->queue().Send(send));
  ASSERT_EQ(long_poll.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  auto polled = long_poll.get();
  ASSERT_CK_OK(polled);
  ASSERT_EQ(polled->messages_size(), 1);
  EXPECT_EQ(polled->messages(0).body(), "for the long poll");
}

}  // namespace
}  // namespace cloudkit::integration
