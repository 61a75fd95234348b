// Every ObjectStorage, KeyValue and Runtime call through the C++ client
// library against a real cloudkitd, with the errors each documents.
#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "integration/daemon_fixture.h"
#include "integration/test_helpers.h"

namespace cloudkit::integration {
namespace {

using ClientTest = DaemonTest;

TEST_F(ClientTest, RuntimeStatusDescribesTheDaemon) {
  auto status = client_->runtime().GetStatus();
  ASSERT_CK_OK(status);
  EXPECT_FALSE(status->version().empty());
  std::set<std::string> bindings;
  for (const auto& binding : status->bindings()) bindings.insert(binding.name());
  EXPECT_EQ(bindings, (std::set<std::string>{"default", "scratch"}));
  ASSERT_EQ(status->endpoints_size(), 1);
  EXPECT_EQ(status->endpoints(0), daemon_->endpoint());
  EXPECT_GE(status->providers_size(), 2);
}

TEST_F(ClientTest, BucketLifecycle) {
  auto& storage = client_->storage();
  ASSERT_CK_OK(storage.CreateBucket(CreateBucketRequest("docs")));
  EXPECT_CK_CODE(storage.CreateBucket(CreateBucketRequest("docs")), v1::ALREADY_EXISTS);

  v1::BucketExistsRequest exists;
  exists.set_bucket("docs");
  auto found = storage.BucketExists(exists);
  ASSERT_CK_OK(found);
  EXPECT_TRUE(found->exists());

  auto listed = storage.ListBuckets();
  ASSERT_CK_OK(listed);
  ASSERT_EQ(listed->buckets_size(), 1);
  EXPECT_EQ(listed->buckets(0).name(), "docs");
  EXPECT_GT(listed->buckets(0).created_ms(), 0);

  // A bucket that holds objects cannot go.
  ASSERT_CK_OK(storage.PutObject(PutRequest("docs", "a.txt", "a")));
  v1::DeleteBucketRequest remove;
  remove.set_bucket("docs");
  EXPECT_CK_CODE(storage.DeleteBucket(remove), v1::FAILED_PRECONDITION);
  v1::DeleteObjectRequest remove_object;
  remove_object.set_bucket("docs");
  remove_object.set_key("a.txt");
  ASSERT_CK_OK(storage.DeleteObject(remove_object));

  ASSERT_CK_OK(storage.DeleteBucket(remove));
  EXPECT_CK_CODE(storage.DeleteBucket(remove), v1::NOT_FOUND);
  found = storage.BucketExists(exists);
  ASSERT_CK_OK(found);
  EXPECT_FALSE(found->exists());
}

TEST_F(ClientTest, SmallObjectRoundTripKeepsContentTypeAndMetadata) {
  auto& storage = client_->storage();
  ASSERT_CK_OK(storage.CreateBucket(CreateBucketRequest("docs")));
  v1::PutObjectRequest put = PutRequest("docs", "notes/a.txt", "hello, world\n");
  put.set_content_type("text/plain");
  (*put.mutable_metadata())["author"] = "ada";
  auto stored = storage.PutObject(put);
  ASSERT_CK_OK(stored);
  EXPECT_EQ(stored->object().size(), 13u);
  EXPECT_FALSE(stored->object().etag().empty());

  auto head = storage.HeadObject(HeadRequest("docs", "notes/a.txt"));
  ASSERT_CK_OK(head);
  EXPECT_EQ(head->object().etag(), stored->object().etag());
  EXPECT_EQ(head->object().content_type(), "text/plain");
  EXPECT_EQ(head->object().metadata().at("author"), "ada");
  EXPECT_EQ(head->object().size(), 13u);

  auto got = storage.GetObject(GetRequest("docs", "notes/a.txt"));
  ASSERT_CK_OK(got);
  EXPECT_EQ(got->data(), "hello, world\n");
  EXPECT_EQ(got->content_length(), 13u);
  EXPECT_EQ(got->object().etag(), stored->object().etag());
}

TEST_F(ClientTest, EmptyObject) {
  auto& storage = client_->storage();
  ASSERT_CK_OK(storage.CreateBucket(CreateBucketRequest("docs")));
  ASSERT_CK_OK(storage.PutObject(PutRequest("docs", "empty", "")));
  auto got = storage.GetObject(GetRequest("docs", "empty"));
  ASSERT_CK_OK(got);
  EXPECT_EQ(got->data(), "");
  EXPECT_EQ(got->object().size(), 0u);
}

TEST_F(ClientTest, OverwriteChangesTheEtag) {
  auto& storage = client_->storage();
  ASSERT_CK_OK(storage.CreateBucket(CreateBucketRequest("docs")));
  auto first = storage.PutObject(PutRequest("docs", "k", "one"));
  auto second = storage.PutObject(PutRequest("docs", "k", "two"));
  ASSERT_CK_OK(first);
  ASSERT_CK_OK(second);
  EXPECT_NE(first->object().etag(), second->object().etag());
  auto got = storage.GetObject(GetRequest("docs", "k"));
  ASSERT_CK_OK(got);
  EXPECT_EQ(got->data(), "two");
}

TEST_F(ClientTest, ByteRanges) {
  auto& storage = client_->storage();
  ASSERT_CK_OK(storage.CreateBucket(CreateBucketRequest("docs")));
  ASSERT_CK_OK(storage.PutObject(PutRequest("docs", "digits", "0123456789")));

  v1::GetObjectRequest middle = GetRequest("docs", "digits");
  middle.set_has_range(true);
  middle.set_range_start(2);
  middle.set_range_length(3);
  auto got = storage.GetObject(middle);
  ASSERT_CK_OK(got);
  EXPECT_EQ(got->data(), "234");
  EXPECT_EQ(got->range_start(), 2u);
  EXPECT_EQ(got->content_length(), 3u);

  v1::GetObjectRequest tail = GetRequest("docs", "digits");
  tail.set_has_range(true);
  tail.set_range_start(7);
  got = storage.GetObject(tail);
  ASSERT_CK_OK(got);
  EXPECT_EQ(got->data(), "789");
}

TEST_F(ClientTest, ConditionalPutsAndGets) {
  auto& storage = client_->storage();
  ASSERT_CK_OK(storage.CreateBucket(CreateBucketRequest("docs")));
  v1::PutObjectRequest create_only = PutRequest("docs", "k", "v1");
  create_only.set_if_none_match(true);
  auto created = storage.PutObject(create_only);
  ASSERT_CK_OK(created);
  EXPECT_CK_CODE(storage.PutObject(create_only), v1::FAILED_PRECONDITION);

  v1::PutObjectRequest stale = PutRequest("docs", "k", "v2");
  stale.set_if_match("\"not-the-etag\"");
  EXPECT_CK_CODE(storage.PutObject(stale), v1::FAILED_PRECONDITION);
  v1::PutObjectRequest fresh = PutRequest("docs", "k", "v2");
  fresh.set_if_match(created->object().etag());
  auto replaced = storage.PutObject(fresh);
  ASSERT_CK_OK(replaced);

  v1::GetObjectRequest get_stale = GetRequest("docs", "k");
  get_stale.set_if_match(created->object().etag());
  EXPECT_CK_CODE(storage.GetObject(get_stale), v1::FAILED_PRECONDITION);
  v1::GetObjectRequest get_unchanged = GetRequest("docs", "k");
  get_unchanged.set_if_none_match(replaced->object().etag());
  EXPECT_CK_CODE(storage.GetObject(get_unchanged), v1::FAILED_PRECONDITION);
  v1::GetObjectRequest get_current = GetRequest("docs", "k");
  get_current.set_if_match(replaced->object().etag());
  auto got = storage.GetObject(get_current);
  ASSERT_CK_OK(got);
  EXPECT_EQ(got->data(), "v2");
}

TEST_F(ClientTest, MissingThingsAreNotFoundAndNamed) {
  auto& storage = client_->storage();
  auto missing_bucket = storage.GetObject(GetRequest("nope", "a.txt"));
  EXPECT_CK_CODE(missing_bucket, v1::NOT_FOUND);
  EXPECT_NE(missing_bucket.status().message().find("nope"), std::string::npos) << missing_bucket.status().message();
  EXPECT_CK_CODE(storage.PutObject(PutRequest("nope", "a.txt", "x")), v1::NOT_FOUND);
  // A streamed upload to a missing bucket fails at its REQUEST, without hanging.
  EXPECT_CK_CODE(storage.PutObject(PutRequest("nope", "big", MakeBody(1 << 20))), v1::NOT_FOUND);

  ASSERT_CK_OK(storage.CreateBucket(CreateBucketRequest("docs")));
  auto missing_object = storage.GetObject(GetRequest("docs", "a.txt"));
  EXPECT_CK_CODE(missing_object, v1::NOT_FOUND);
  EXPECT_NE(missing_object.status().message().find("a.txt"), std::string::npos);
  EXPECT_NE(missing_object.status().message().find("docs"), std::string::npos);
  EXPECT_CK_CODE(storage.HeadObject(HeadRequest("docs", "a.txt")), v1::NOT_FOUND);
  v1::CopyObjectRequest copy;
  copy.set_source_bucket("docs");
  copy.set_source_key("a.txt");
  copy.set_bucket("docs");
  copy.set_key("b.txt");
  EXPECT_CK_CODE(storage.CopyObject(copy), v1::NOT_FOUND);
  v1::ListObjectsRequest list;
  list.set_bucket("nope");
  EXPECT_CK_CODE(storage.ListObjects(list), v1::NOT_FOUND);
}

TEST_F(ClientTest, DeleteObjectAndDeleteObjects) {
  auto& storage = client_->storage();
  ASSERT_CK_OK(storage.CreateBucket(CreateBucketRequest("docs")));
  for (const char* key : {"a", "b", "c"}) ASSERT_CK_OK(storage.PutObject(PutRequest("docs", key, key)));

  v1::DeleteObjectRequest remove;
  remove.set_bucket("docs");
  remove.set_key("a");
  auto deleted = storage.DeleteObject(remove);
  ASSERT_CK_OK(deleted);
  EXPECT_TRUE(deleted->existed());
  deleted = storage.DeleteObject(remove);
  ASSERT_CK_OK(deleted);
  EXPECT_FALSE(deleted->existed());

  v1::DeleteObjectsRequest remove_many;
  remove_many.set_bucket("docs");
  remove_many.add_keys("b");
  remove_many.add_keys("c");
  auto many = storage.DeleteObjects(remove_many);
  ASSERT_CK_OK(many);
  EXPECT_EQ(many->errors_size(), 0);
  std::set<std::string> gone(many->deleted().begin(), many->deleted().end());
  EXPECT_EQ(gone, (std::set<std::string>{"b", "c"}));
  EXPECT_CK_CODE(storage.HeadObject(HeadRequest("docs", "b")), v1::NOT_FOUND);
}

TEST_F(ClientTest, CopyObjectAcrossBuckets) {
  auto& storage = client_->storage();
  ASSERT_CK_OK(storage.CreateBucket(CreateBucketRequest("src")));
  ASSERT_CK_OK(storage.CreateBucket(CreateBucketRequest("dst")));
  v1::PutObjectRequest put = PutRequest("src", "a", "payload");
  put.set_content_type("text/plain");
  ASSERT_CK_OK(storage.PutObject(put));
  v1::CopyObjectRequest copy;
  copy.set_source_bucket("src");
  copy.set_source_key("a");
  copy.set_bucket("dst");
  copy.set_key("b");
  auto copied = storage.CopyObject(copy);
  ASSERT_CK_OK(copied);
  EXPECT_EQ(copied->object().bucket(), "dst");
  EXPECT_EQ(copied->object().key(), "b");
  auto got = storage.GetObject(GetRequest("dst", "b"));
  ASSERT_CK_OK(got);
  EXPECT_EQ(got->data(), "payload");
  EXPECT_EQ(got->object().content_type(), "text/plain");
}

TEST_F(ClientTest, ListObjectsWithPrefixDelimiterAndPages) {
  auto& storage = client_->storage();
  ASSERT_CK_OK(storage.CreateBucket(CreateBucketRequest("docs")));
  for (const char* key : {"a.txt", "notes/1.txt", "notes/2.txt", "photos/x.jpg", "z.txt"}) {
    ASSERT_CK_OK(storage.PutObject(PutRequest("docs", key, key)));
  }
  v1::ListObjectsRequest grouped;
  grouped.set_bucket("docs");
  grouped.set_delimiter("/");
  auto page = storage.ListObjects(grouped);
  ASSERT_CK_OK(page);
  std::vector<std::string> keys, prefixes(page->common_prefixes().begin(), page->common_prefixes().end());
  for (const auto& object : page->objects()) keys.push_back(object.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"a.txt", "z.txt"}));
  EXPECT_EQ(prefixes, (std::vector<std::string>{"notes/", "photos/"}));

  v1::ListObjectsRequest prefixed;
  prefixed.set_bucket("docs");
  prefixed.set_prefix("notes/");
  page = storage.ListObjects(prefixed);
  ASSERT_CK_OK(page);
  ASSERT_EQ(page->objects_size(), 2);
  EXPECT_EQ(page->objects(0).key(), "notes/1.txt");

  // Two at a time: three pages, every key once, in order.
  v1::ListObjectsRequest paged;
  paged.set_bucket("docs");
  paged.set_page_size(2);
  std::vector<std::string> all;
  int pages = 0;
  do {
    page = storage.ListObjects(paged);
    ASSERT_CK_OK(page);
    EXPECT_LE(page->objects_size(), 2);
    for (const auto& object : page->objects()) all.push_back(object.key());
    paged.set_continuation_token(page->next_continuation_token());
    ++pages;
  } while (!paged.continuation_token().empty() && pages < 10);
  EXPECT_EQ(all, (std::vector<std::string>{"a.txt", "notes/1.txt", "notes/2.txt", "photos/x.jpg", "z.txt"}));
  EXPECT_EQ(pages, 3);
}

TEST_F(ClientTest, KeyValueGetPutExistsDelete) {
  auto& kv = client_->kv();
  auto put = kv.Put(KvPut("settings", "theme", "dark"));
  ASSERT_CK_OK(put);
  EXPECT_FALSE(put->etag().empty());
  auto got = kv.Get(KvGet("settings", "theme"));
  ASSERT_CK_OK(got);
  EXPECT_EQ(got->item().value(), "dark");
  EXPECT_EQ(got->item().etag(), put->etag());
  EXPECT_EQ(got->item().key(), "theme");

  v1::ExistsRequest exists;
  exists.set_table("settings");
  exists.set_key("theme");
  auto there = kv.Exists(exists);
  ASSERT_CK_OK(there);
  EXPECT_TRUE(there->exists());

  v1::DeleteRequest remove;
  remove.set_table("settings");
  remove.set_key("theme");
  auto deleted = kv.Delete(remove);
  ASSERT_CK_OK(deleted);
  EXPECT_TRUE(deleted->existed());
  deleted = kv.Delete(remove);
  ASSERT_CK_OK(deleted);
  EXPECT_FALSE(deleted->existed());
  EXPECT_CK_CODE(kv.Get(KvGet("settings", "theme")), v1::NOT_FOUND);
  there = kv.Exists(exists);
  ASSERT_CK_OK(there);
  EXPECT_FALSE(there->exists());
}

TEST_F(ClientTest, KeyValueConditionalWrites) {
  auto& kv = client_->kv();
  v1::PutRequest first = KvPut("locks", "job", "worker-1");
  first.set_if_absent(true);
  auto won = kv.Put(first);
  ASSERT_CK_OK(won);
  v1::PutRequest second = KvPut("locks", "job", "worker-2");
  second.set_if_absent(true);
  EXPECT_CK_CODE(kv.Put(second), v1::ALREADY_EXISTS);

  v1::PutRequest stale = KvPut("locks", "job", "worker-3");
  stale.set_if_match("\"stale\"");
  EXPECT_CK_CODE(kv.Put(stale), v1::FAILED_PRECONDITION);
  v1::PutRequest fresh = KvPut("locks", "job", "worker-3");
  fresh.set_if_match(won->etag());
  auto updated = kv.Put(fresh);
  ASSERT_CK_OK(updated);
  EXPECT_NE(updated->etag(), won->etag());

  v1::DeleteRequest stale_delete;
  stale_delete.set_table("locks");
  stale_delete.set_key("job");
  stale_delete.set_if_match(won->etag());
  EXPECT_CK_CODE(kv.Delete(stale_delete), v1::FAILED_PRECONDITION);
  v1::DeleteRequest missing_delete;
  missing_delete.set_table("locks");
  missing_delete.set_key("nothing");
  missing_delete.set_if_match(won->etag());
  EXPECT_CK_CODE(kv.Delete(missing_delete), v1::NOT_FOUND);
}

TEST_F(ClientTest, KeyValueTtlExpires) {
  auto& kv = client_->kv();
  v1::PutRequest put = KvPut("sessions", "s1", "token");
  put.set_ttl_ms(300);
  auto stored = kv.Put(put);
  ASSERT_CK_OK(stored);
  EXPECT_GT(stored->expires_at_ms(), 0);
  auto got = kv.Get(KvGet("sessions", "s1"));
  ASSERT_CK_OK(got);
  EXPECT_EQ(got->item().expires_at_ms(), stored->expires_at_ms());
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  EXPECT_CK_CODE(kv.Get(KvGet("sessions", "s1")), v1::NOT_FOUND);
}

TEST_F(ClientTest, KeyValueListPagesAndBatches) {
  auto& kv = client_->kv();
  v1::BatchPutRequest batch;
  batch.set_table("users");
  for (int i = 0; i < 5; ++i) {
    v1::BatchPutEntry* entry = batch.add_entries();
    entry->set_key("user/" + std::to_string(i));
    entry->set_value("name-" + std::to_string(i));
  }
  auto written = kv.BatchPut(batch);
  ASSERT_CK_OK(written);
  EXPECT_EQ(written->etags_size(), 5);
  ASSERT_CK_OK(kv.Put(KvPut("users", "admin", "root")));

  v1::ListRequest list;
  list.set_table("users");
  list.set_prefix("user/");
  list.set_page_size(2);
  std::vector<std::string> keys;
  int pages = 0;
  do {
    auto page = kv.List(list);
    ASSERT_CK_OK(page);
    for (const auto& item : page->items()) {
      keys.push_back(item.key());
      EXPECT_EQ(item.value(), "name-" + item.key().substr(5));
    }
    list.set_continuation_token(page->next_continuation_token());
    ++pages;
  } while (!list.continuation_token().empty() && pages < 10);
  EXPECT_EQ(keys, (std::vector<std::string>{"user/0", "user/1", "user/2", "user/3", "user/4"}));

  v1::ListRequest keys_only;
  keys_only.set_table("users");
  keys_only.set_keys_only(true);
  auto page = kv.List(keys_only);
  ASSERT_CK_OK(page);
  ASSERT_EQ(page->items_size(), 6);
  EXPECT_EQ(page->items(0).value(), "");

  v1::BatchGetRequest batch_get;
  batch_get.set_table("users");
  batch_get.add_keys("user/3");
  batch_get.add_keys("ghost");
  batch_get.add_keys("admin");
  auto got = kv.BatchGet(batch_get);
  ASSERT_CK_OK(got);
  ASSERT_EQ(got->items_size(), 2);
  EXPECT_EQ(got->items(0).key(), "user/3");
  EXPECT_EQ(got->items(1).value(), "root");
  ASSERT_EQ(got->missing_size(), 1);
  EXPECT_EQ(got->missing(0), "ghost");
}

TEST_F(ClientTest, BindingsAreSeparateAndUnknownOnesAreNotFound) {
  CallOptions scratch;
  scratch.binding = "scratch";
  ASSERT_CK_OK(client_->kv().Put(KvPut("t", "k", "in scratch"), scratch));
  EXPECT_CK_CODE(client_->kv().Get(KvGet("t", "k")), v1::NOT_FOUND);  // default binding
  auto got = client_->kv().Get(KvGet("t", "k"), scratch);
  ASSERT_CK_OK(got);
  EXPECT_EQ(got->item().value(), "in scratch");

  CallOptions unknown;
  unknown.binding = "no-such-binding";
  auto missing = client_->kv().Get(KvGet("t", "k"), unknown);
  EXPECT_CK_CODE(missing, v1::NOT_FOUND);
  EXPECT_NE(missing.status().message().find("no-such-binding"), std::string::npos);

  ClientOptions options;
  options.binding = "scratch";
  std::unique_ptr<Client> scratch_client = Connect(options);
  got = scratch_client->kv().Get(KvGet("t", "k"));
  ASSERT_CK_OK(got);
  EXPECT_EQ(got->item().value(), "in scratch");
}

TEST_F(ClientTest, AsyncFormsOfEveryKindOfCall) {
  auto& storage = client_->storage();
  ASSERT_CK_OK(storage.CreateBucketAsync(CreateBucketRequest("docs")).get());
  auto put = storage.PutObjectAsync(PutRequest("docs", "small", "s"));
  auto big = storage.PutObjectAsync(PutRequest("docs", "big", MakeBody(700'000)));
  auto kv_put = client_->kv().PutAsync(KvPut("t", "k", "v"));
  auto status = client_->runtime().GetStatusAsync();
  ASSERT_CK_OK(put.get());
  ASSERT_CK_OK(big.get());
  ASSERT_CK_OK(kv_put.get());
  ASSERT_CK_OK(status.get());
  auto got_small = storage.GetObjectAsync(GetRequest("docs", "small"));
  auto got_big = storage.GetObjectAsync(GetRequest("docs", "big"));
  auto head = storage.HeadObjectAsync(HeadRequest("docs", "big"));
  auto kv_get = client_->kv().GetAsync(KvGet("t", "k"));
  auto got_small_result = got_small.get();
  auto got_big_result = got_big.get();
  ASSERT_CK_OK(got_small_result);
  ASSERT_CK_OK(got_big_result);
  EXPECT_EQ(got_small_result->data(), "s");
  EXPECT_EQ(got_big_result->data(), MakeBody(700'000));
  auto head_result = head.get();
  ASSERT_CK_OK(head_result);
  EXPECT_EQ(head_result->object().size(), 700'000u);
  auto kv_result = kv_get.get();
  ASSERT_CK_OK(kv_result);
  EXPECT_EQ(kv_result->item().value(), "v");
}

}  // namespace
}  // namespace cloudkit::integration
