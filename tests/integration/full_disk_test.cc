// A `local` binding on a full disk (a small tmpfs of its own): puts fail
// RESOURCE_EXHAUSTED, deletes still succeed and free space, puts succeed
// again, and nothing acknowledged is lost on the way.
#include <map>
#include <string>

#include "integration/daemon_fixture.h"
#include "integration/test_helpers.h"
#include "support/tmpfs_mount.h"

namespace cloudkit::integration {
namespace {

using testing_util::TmpfsMount;

constexpr uint64_t kDiskBytes = 32 << 20;
constexpr size_t kObjectBytes = 512 << 10;

TEST(FullDiskTest, DeletesFreeSpaceOnAFullDiskAndPutsWorkAgain) {
  auto mount = TmpfsMount::Create(kDiskBytes);
  if (!mount.ok()) GTEST_SKIP() << mount.status().message();
  DaemonOptions options;
  options.extra_bindings = "  - {name: full, provider: local, services: [object_storage, key_value], options: {path: " +
                           (*mount)->dir() + "/full}}\n";
  auto daemon = DaemonProcess::Start(options);
  ASSERT_TRUE(daemon.ok()) << daemon.status().message();
  ClientOptions client_options;
  client_options.binding = "full";
  auto client = Client::Connect((*daemon)->endpoint(), client_options);
  ASSERT_TRUE(client.ok()) << client.status().message();
  auto& storage = (*client)->storage();
  auto& kv = (*client)->kv();

  ASSERT_CK_OK(storage.CreateBucket(CreateBucketRequest("fill")));
  for (int i = 0; i < 20; ++i) ASSERT_CK_OK(kv.Put(KvPut("items", "item-" + std::to_string(i), MakeBody(1000, i))));

  // Objects until the disk is full; every acknowledged one is remembered.
  std::map<std::string, std::string> etags;
  Status full;
  for (int i = 0; full.ok(); ++i) {
    const std::string key = "object-" + std::to_string(i);
    auto put = storage.PutObject(PutRequest("fill", key, MakeBody(kObjectBytes, i)));
    if (put.ok()) {
      etags[key] = put->object().etag();
    } else {
      full = put.status();
    }
    ASSERT_LT(i, 200) << "the disk never filled";
  }
  EXPECT_CK_CODE(full, v1::RESOURCE_EXHAUSTED);
  ASSERT_GT(etags.size(), 30u);
  // Items fail too once there is no room for them.
  Status kv_full;
  for (int i = 0; kv_full.ok() && i < 1000; ++i) {
    kv_full = StatusOf(kv.Put(KvPut("items", "more-" + std::to_string(i), MakeBody(4000, i))));
  }
  EXPECT_CK_CODE(kv_full, v1::RESOURCE_EXHAUSTED);

  // Deleting works on the full disk, for objects and for items.
  v1::DeleteRequest delete_item;
  delete_item.set_table("items");
  delete_item.set_key("item-0");
  auto deleted_item = kv.Delete(delete_item);
  ASSERT_CK_OK(deleted_item);
  EXPECT_TRUE(deleted_item->existed());
  for (int i = 0; i < 20; ++i) {  // 10 MiB: room for the reserves again, and for more
    v1::DeleteObjectRequest delete_object;
    delete_object.set_bucket("fill");
    delete_object.set_key("object-" + std::to_string(i));
    auto deleted = storage.DeleteObject(delete_object);
    ASSERT_CK_OK(deleted);
    EXPECT_TRUE(deleted->existed());
    etags.erase(delete_object.key());
  }

  // The space is back: puts succeed again.
  auto again = storage.PutObject(PutRequest("fill", "after", MakeBody(kObjectBytes, 999)));
  ASSERT_CK_OK(again);
  etags["after"] = again->object().etag();
  ASSERT_CK_OK(kv.Put(KvPut("items", "after", "room again")));

  // Nothing acknowledged was lost.
  for (const auto& [key, etag] : etags) {
    auto head = storage.HeadObject(HeadRequest("fill", key));
    ASSERT_CK_OK(head);
    EXPECT_EQ(head->object().etag(), etag) << key;
  }
  auto body = storage.GetObject(GetRequest("fill", "after"));
  ASSERT_CK_OK(body);
  EXPECT_TRUE(body->data() == MakeBody(kObjectBytes, 999));
  for (int i = 1; i < 20; ++i) {
    auto item = kv.Get(KvGet("items", "item-" + std::to_string(i)));
    ASSERT_CK_OK(item);
    EXPECT_TRUE(item->item().value() == MakeBody(1000, i));
  }
  (*daemon)->Stop();
}

}  // namespace
}  // namespace cloudkit::integration
