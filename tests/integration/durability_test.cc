// What survives the daemon: acknowledged writes to the `local` binding after
// kill -9 and a restart on the same data directory, and a client that keeps
// working across the restart (it reconnects by itself).
#include <atomic>
#include <map>
#include <thread>

#include "integration/daemon_fixture.h"
#include "integration/test_helpers.h"

namespace cloudkit::integration {
namespace {

using DurabilityTest = DaemonTest;

TEST_F(DurabilityTest, AcknowledgedWritesSurviveKill9) {
  auto& storage = client_->storage();
  ASSERT_CK_OK(storage.CreateBucket(CreateBucketRequest("docs")));
  const std::string big = MakeBody(3 << 20, 11);
  ASSERT_CK_OK(storage.PutObject(PutRequest("docs", "small", "small body")));
  ASSERT_CK_OK(storage.PutObject(PutRequest("docs", "big", big)));
  ASSERT_CK_OK(client_->kv().Put(KvPut("settings", "theme", "dark")));

  daemon_->Kill();
  ASSERT_CK_OK(daemon_->Restart());

  auto small = storage.GetObject(GetRequest("docs", "small"));
  ASSERT_CK_OK(small);
  EXPECT_EQ(small->data(), "small body");
  auto got_big = storage.GetObject(GetRequest("docs", "big"));
  ASSERT_CK_OK(got_big);
  EXPECT_TRUE(got_big->data() == big);
  auto theme = client_->kv().Get(KvGet("settings", "theme"));
  ASSERT_CK_OK(theme);
  EXPECT_EQ(theme->item().value(), "dark");
}

// Writers keep putting items and objects while the daemon is killed at an
// arbitrary moment: every write that was acknowledged is there afterwards,
// byte for byte, and whatever else is there (a write in flight at the kill)
// is whole, never torn.
TEST_F(DurabilityTest, EveryAcknowledgedWriteSurvivesKill9UnderLoad) {
  ASSERT_CK_OK(client_->storage().CreateBucket(CreateBucketRequest("docs")));
  auto object_body = [](int i) { return MakeBody(20'000 + i * 37, i); };
  auto item_value = [](int i) { return "value-" + std::to_string(i) + std::string(i % 50, 'x'); };

  std::atomic<bool> stop{false};
  std::vector<int> acked_items, acked_objects;
  auto writer = [&](bool objects, std::vector<int>* acked) {
    ClientOptions options;
    options.connect_timeout = std::chrono::milliseconds(300);
    std::unique_ptr<Client> client = Connect(options);
    for (int i = 0; !stop; ++i) {
      Status status = objects
          ? StatusOf(client->storage().PutObject(PutRequest("docs", "obj-" + std::to_string(i), object_body(i))))
          : StatusOf(client->kv().Put(KvPut("load", "item-" + std::to_string(i), item_value(i))));
      if (!status.ok()) break;  // the daemon is gone
      acked->push_back(i);
    }
  };
  std::thread items(writer, false, &acked_items);
  std::thread objects(writer, true, &acked_objects);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  daemon_->Kill();
  stop = true;
  items.join();
  objects.join();
  ASSERT_GT(acked_items.size(), 10u);
  ASSERT_GT(acked_objects.size(), 5u);

  ASSERT_CK_OK(daemon_->Restart());
  for (int i : acked_items) {
    auto got = client_->kv().Get(KvGet("load", "item-" + std::to_string(i)));
    ASSERT_CK_OK(got);
    EXPECT_EQ(got->item().value(), item_value(i));
  }
  for (int i : acked_objects) {
    auto got = client_->storage().GetObject(GetRequest("docs", "obj-" + std::to_string(i)));
    ASSERT_CK_OK(got);
    EXPECT_TRUE(got->data() == object_body(i)) << "object " << i;
  }
  // Anything beyond the acknowledged writes is complete too.
  v1::ListObjectsRequest list;
  list.set_bucket("docs");
  auto listed = client_->storage().ListObjects(list);
  ASSERT_CK_OK(listed);
  EXPECT_GE(listed->objects_size(), static_cast<int>(acked_objects.size()));
  for (const auto& info : listed->objects()) {
    int i = std::stoi(info.key().substr(4));
    auto got = client_->storage().GetObject(GetRequest("docs", info.key()));
    ASSERT_CK_OK(got);
    EXPECT_TRUE(got->data() == object_body(i)) << info.key();
  }
  RecordProperty("acked_items", static_cast<int>(acked_items.size()));
  RecordProperty("acked_objects", static_cast<int>(acked_objects.size()));
}

TEST_F(DurabilityTest, ScratchBindingForgetsAndClientReconnects) {
  ClientOptions options;
  options.binding = "scratch";
  options.connect_timeout = std::chrono::milliseconds(500);
  std::unique_ptr<Client> client = Connect(options);
  ASSERT_CK_OK(client->kv().Put(KvPut("t", "k", "v")));
  EXPECT_EQ(daemon_->Stop(), 0);
  EXPECT_CK_CODE(client->kv().Get(KvGet("t", "k")), v1::UNAVAILABLE);
  ASSERT_CK_OK(daemon_->Restart());
  // The same client, reconnected: memory bindings start empty.
  EXPECT_CK_CODE(client->kv().Get(KvGet("t", "k")), v1::NOT_FOUND);
}

}  // namespace
}  // namespace cloudkit::integration
