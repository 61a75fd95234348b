// What survives the daemon: acknowledged writes to the `local` binding after
// kill -9 and a restart on the same data directory, and a client that keeps
// working across the restart (it reconnects by itself).
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
