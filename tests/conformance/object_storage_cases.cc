// What every ObjectStorage provider promises. Instantiated per provider by the
// host (native_targets.cc natively).
#include <algorithm>
#include <map>
#include <set>

#include "conformance/conformance.h"

namespace cloudkit::conformance {

class ObjectStorageConformance : public ConformanceTest {
 protected:
  void SetUp() override {
    ConformanceTest::SetUp();
    if (!binding_.Get<ObjectStorageProvider>(kObjectStorageService)) GTEST_SKIP() << "target does not serve object storage";
    v1::CreateBucketRequest create;
    create.set_bucket("docs");
    CK_ASSERT_OK(Sync(storage().CreateBucket(create)));
  }
  ObjectStorageProvider& storage() { return *binding_.Get<ObjectStorageProvider>(kObjectStorageService); }
  // Whether the provider declares `promise` among those it cannot keep.
  bool Lacks(const std::string& promise) {
    for (const std::string& unsupported : storage().Unsupported()) {
      if (unsupported.find(promise) != std::string::npos) return true;
    }
    return false;
  }

  Result<v1::PutObjectResponse> Put(const std::string& bucket, const std::string& key,
                                    std::string_view content, size_t chunk = 64 * 1024,
                                    const std::function<void(v1::PutObjectRequest*)>& tweak = {}) {
    v1::PutObjectRequest req;
    req.set_bucket(bucket);
    req.set_key(key);
    if (tweak) tweak(&req);
    auto upload = Sync(storage().BeginPut(req));
    if (!upload.ok()) return upload.status();
    for (size_t at = 0; at < content.size(); at += chunk) {
      CK_RETURN_IF_ERROR(Sync((*upload)->Append(std::string(content.substr(at, chunk)))));
    }
    return Sync((*upload)->Finish());
  }

  // Reads the whole selected content in chunks of `chunk` bytes.
  Result<std::string> Get(const v1::GetObjectRequest& req, v1::GetObjectResponse* head = nullptr,
                          size_t chunk = 64 * 1024) {
    v1::GetObjectResponse local_head;
    if (head == nullptr) head = &local_head;
    auto download = Sync(storage().BeginGet(req, head));
    if (!download.ok()) return download.status();
    std::string out;
    while (true) {
      Result<std::string> next = Sync((*download)->Next(chunk));
      if (!next.ok()) return next.status();
      if (next->empty()) break;
      EXPECT_LE(next->size(), chunk);
      out += *next;
    }
    return out;
  }
  Result<std::string> Get(const std::string& bucket, const std::string& key) {
    v1::GetObjectRequest req;
    req.set_bucket(bucket);
    req.set_key(key);
    return Get(req);
  }

  v1::ListObjectsResponse List(const std::string& prefix, const std::string& delimiter = "",
                               uint32_t page = 0, const std::string& token = "") {
    v1::ListObjectsRequest req;
    req.set_bucket("docs");
    req.set_prefix(prefix);
    req.set_delimiter(delimiter);
    req.set_page_size(page);
    req.set_continuation_token(token);
    auto resp = Sync(storage().ListObjects(req));
    EXPECT_TRUE(resp.ok()) << resp.status().message();
    return resp.ok() ? *resp : v1::ListObjectsResponse();
  }
};

std::string Pattern(size_t n, unsigned seed = 7) {
  std::string s(n, '\0');
  uint32_t x = seed;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

TEST_P(ObjectStorageConformance, BucketsAreCreatedListedAndDeleted) {
  v1::CreateBucketRequest create;
  create.set_bucket("photos");
  clock_.Advance(5);
  auto created = Sync(storage().CreateBucket(create));
  CK_ASSERT_OK(created);
  EXPECT_EQ(created->bucket().name(), "photos");
  ExpectStampedNow(created->bucket().created_ms());

  auto listed = Sync(storage().ListBuckets({}));
  CK_ASSERT_OK(listed);
  std::vector<std::string> names;
  for (const auto& b : listed->buckets()) names.push_back(b.name());
  EXPECT_EQ(names, (std::vector<std::string>{"docs", "photos"}));

  v1::BucketExistsRequest exists;
  exists.set_bucket("photos");
  EXPECT_TRUE(Sync(storage().BucketExists(exists))->exists());
  v1::DeleteBucketRequest remove;
  remove.set_bucket("photos");
  CK_EXPECT_OK(Sync(storage().DeleteBucket(remove)));
  EXPECT_FALSE(Sync(storage().BucketExists(exists))->exists());
  CK_EXPECT_CODE(Sync(storage().DeleteBucket(remove)), v1::NOT_FOUND);
}

TEST_P(ObjectStorageConformance, CreatingAnExistingBucketIsAlreadyExists) {
  v1::CreateBucketRequest create;
  create.set_bucket("docs");
  auto again = Sync(storage().CreateBucket(create));
  CK_EXPECT_CODE(again, v1::ALREADY_EXISTS);
  EXPECT_EQ(again.status().message(), "already exists: bucket 'docs'");
}

TEST_P(ObjectStorageConformance, OnlyEmptyBucketsCanBeDeleted) {
  CK_ASSERT_OK(Put("docs", "a.txt", "x"));
  v1::DeleteBucketRequest remove;
  remove.set_bucket("docs");
  CK_EXPECT_CODE(Sync(storage().DeleteBucket(remove)), v1::FAILED_PRECONDITION);
  v1::DeleteObjectRequest del;
  del.set_bucket("docs");
  del.set_key("a.txt");
  CK_ASSERT_OK(Sync(storage().DeleteObject(del)));
  CK_EXPECT_OK(Sync(storage().DeleteBucket(remove)));
}

TEST_P(ObjectStorageConformance, BadBucketNamesAreInvalidArgument) {
  for (std::string name : {std::string(""), std::string(".."), std::string("a/b"), std::string(64, 'a'),
                           std::string("-a"), std::string("a\0b", 3), std::string("/etc"), std::string("a b")}) {
    v1::CreateBucketRequest create;
    create.set_bucket(name);
    CK_EXPECT_CODE(Sync(storage().CreateBucket(create)), v1::INVALID_ARGUMENT);
    CK_EXPECT_CODE(Put(name, "k", "v"), v1::INVALID_ARGUMENT);
  }
}

TEST_P(ObjectStorageConformance, KeysThatCouldEscapeAreInvalidArgument) {
  for (std::string key : {std::string(""), std::string("/etc/passwd"), std::string("../x"),
                          std::string("a/../../b"), std::string("a/./b"), std::string(".."),
                          std::string("a\0b", 3), std::string(1025, 'k'), std::string("\xff\xfe")}) {
    CK_EXPECT_CODE(Put("docs", key, "v"), v1::INVALID_ARGUMENT);
    CK_EXPECT_CODE(Get("docs", key), v1::INVALID_ARGUMENT);
  }
  if (target_->Cannot("1024-byte keys").empty()) CK_EXPECT_OK(Put("docs", std::string(1024, 'k'), "v"));
  CK_EXPECT_OK(Put("docs", "dir/sub/..name/file..txt", "v"));
  CK_EXPECT_OK(Put("docs", "ünïcødé/日本", "v"));
}

TEST_P(ObjectStorageConformance, PutThenGetReturnsContentAndMetadata) {
  clock_.Advance(1234);
  auto put = Put("docs", "a.txt", "hello world", 4, [](v1::PutObjectRequest* r) {
    r->set_content_type("text/plain");
    (*r->mutable_metadata())["owner"] = "ada";
  });
  CK_ASSERT_OK(put);
  const v1::ObjectInfo& info = put->object();
  EXPECT_EQ(info.bucket(), "docs");
  EXPECT_EQ(info.key(), "a.txt");
  EXPECT_EQ(info.size(), 11u);
  EXPECT_EQ(info.etag(), "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"");  // MD5 of the content
  ExpectStampedNow(info.last_modified_ms());
  EXPECT_EQ(info.content_type(), "text/plain");
  EXPECT_EQ(info.metadata().at("owner"), "ada");

  v1::GetObjectRequest get;
  get.set_bucket("docs");
  get.set_key("a.txt");
  v1::GetObjectResponse head;
  auto content = Get(get, &head, 3);
  CK_ASSERT_OK(content);
  EXPECT_EQ(*content, "hello world");
  EXPECT_EQ(head.content_length(), 11u);
  EXPECT_EQ(head.range_start(), 0u);
  EXPECT_EQ(head.object().etag(), info.etag());
  EXPECT_EQ(head.object().metadata().at("owner"), "ada");

  v1::HeadObjectRequest h;
  h.set_bucket("docs");
  h.set_key("a.txt");
  auto headed = Sync(storage().HeadObject(h));
  CK_ASSERT_OK(headed);
  EXPECT_EQ(headed->object().size(), 11u);
  EXPECT_EQ(headed->object().content_type(), "text/plain");
}

TEST_P(ObjectStorageConformance, ContentTypeDefaultsToOctetStream) {
  auto put = Put("docs", "blob", "\x01\x02");
  CK_ASSERT_OK(put);
  EXPECT_EQ(put->object().content_type(), "application/octet-stream");
}

TEST_P(ObjectStorageConformance, EmptyAndBinaryAndMultiMegabyteObjectsRoundTrip) {
  CK_ASSERT_OK(Put("docs", "empty", ""));
  EXPECT_EQ(*Get("docs", "empty"), "");
  std::string binary("\0\xff\0zz", 5);
  CK_ASSERT_OK(Put("docs", "binary", binary));
  EXPECT_EQ(*Get("docs", "binary"), binary);
  std::string big = Pattern(5 * 1024 * 1024 + 17);
  auto put = Put("docs", "big", big, 1 << 20);
  CK_ASSERT_OK(put);
  EXPECT_EQ(put->object().size(), big.size());
  auto got = Get("docs", "big");
  CK_ASSERT_OK(got);
  EXPECT_TRUE(*got == big);
}

TEST_P(ObjectStorageConformance, OverwriteReplacesContentAndETag) {
  auto first = Put("docs", "k", "one");
  clock_.Advance(10);
  auto second = Put("docs", "k", "two");
  CK_ASSERT_OK(first);
  CK_ASSERT_OK(second);
  EXPECT_NE(first->object().etag(), second->object().etag());
  ExpectStampedNow(second->object().last_modified_ms());
  EXPECT_EQ(*Get("docs", "k"), "two");
}

TEST_P(ObjectStorageConformance, MissingThingsAreNotFoundNamingThem) {
  auto missing = Get("docs", "a.txt");
  CK_EXPECT_CODE(missing, v1::NOT_FOUND);
  EXPECT_EQ(missing.status().message(), "not found: object 'a.txt' in bucket 'docs'");
  auto no_bucket = Put("nope", "a.txt", "x");
  CK_EXPECT_CODE(no_bucket, v1::NOT_FOUND);
  EXPECT_EQ(no_bucket.status().message(), "not found: bucket 'nope'");
  v1::HeadObjectRequest head;
  head.set_bucket("docs");
  head.set_key("a.txt");
  CK_EXPECT_CODE(Sync(storage().HeadObject(head)), v1::NOT_FOUND);
}

TEST_P(ObjectStorageConformance, RangesSelectBytes) {
  CK_ASSERT_OK(Put("docs", "r", "0123456789"));
  auto range = [&](uint64_t start, uint64_t length) {
    v1::GetObjectRequest req;
    req.set_bucket("docs");
    req.set_key("r");
    req.set_has_range(true);
    req.set_range_start(start);
    req.set_range_length(length);
    v1::GetObjectResponse head;
    auto got = Get(req, &head, 2);
    if (got.ok()) {
      EXPECT_EQ(head.range_start(), start);
      EXPECT_EQ(head.content_length(), got->size());
      EXPECT_EQ(head.object().size(), 10u);
    }
    return got;
  };
  EXPECT_EQ(*range(2, 3), "234");
  EXPECT_EQ(*range(7, 0), "789");
  EXPECT_EQ(*range(8, 100), "89");
  EXPECT_EQ(*range(10, 0), "");
  CK_EXPECT_CODE(range(11, 1), v1::INVALID_ARGUMENT);
}

TEST_P(ObjectStorageConformance, RangesOfAnEmptyObjectAreEmpty) {
  CK_SKIP_UNLESS_TARGET_CAN("ranges of an empty object");
  CK_ASSERT_OK(Put("docs", "empty", ""));
  v1::GetObjectRequest req;
  req.set_bucket("docs");
  req.set_key("empty");
  req.set_has_range(true);
  v1::GetObjectResponse head;
  auto got = Get(req, &head, 2);
  CK_ASSERT_OK(got);
  EXPECT_EQ(*got, "");
  EXPECT_EQ(head.content_length(), 0u);
  EXPECT_EQ(head.object().size(), 0u);
  req.set_range_start(1);
  CK_EXPECT_CODE(Get(req, &head, 2), v1::INVALID_ARGUMENT);
}

TEST_P(ObjectStorageConformance, ConditionalGets) {
  auto put = Put("docs", "c", "v1");
  CK_ASSERT_OK(put);
  std::string etag = put->object().etag();
  v1::GetObjectRequest req;
  req.set_bucket("docs");
  req.set_key("c");
  req.set_if_match(etag);
  CK_EXPECT_OK(Get(req));
  req.set_if_match("\"0000\"");
  if (target_->Cannot("if-match on reads").empty()) CK_EXPECT_CODE(Get(req), v1::FAILED_PRECONDITION);
  req.clear_if_match();
  req.set_if_none_match(etag);
  CK_EXPECT_CODE(Get(req), v1::FAILED_PRECONDITION);
  req.set_if_none_match("*");
  CK_EXPECT_CODE(Get(req), v1::FAILED_PRECONDITION);
  req.set_if_none_match("\"other\"");
  CK_EXPECT_OK(Get(req));
}

TEST_P(ObjectStorageConformance, ConditionalPuts) {
  auto create = [](v1::PutObjectRequest* r) { r->set_if_none_match(true); };
  if (Lacks("conditional writes")) {
    CK_EXPECT_CODE(Put("docs", "c", "v1", 64, create), v1::UNIMPLEMENTED);
    return;
  }
  auto first = Put("docs", "c", "v1", 64, create);
  CK_ASSERT_OK(first);
  CK_EXPECT_CODE(Put("docs", "c", "v2", 64, create), v1::FAILED_PRECONDITION);
  auto matching = [&](v1::PutObjectRequest* r) { r->set_if_match(first->object().etag()); };
  auto second = Put("docs", "c", "v2", 64, matching);
  CK_ASSERT_OK(second);
  CK_EXPECT_CODE(Put("docs", "c", "v3", 64, matching), v1::FAILED_PRECONDITION);  // stale ETag
  CK_EXPECT_CODE(Put("docs", "absent", "v", 64, matching), v1::FAILED_PRECONDITION);
  EXPECT_EQ(*Get("docs", "c"), "v2");
}

TEST_P(ObjectStorageConformance, PreconditionsAreCheckedAgainWhenTheUploadFinishes) {
  v1::PutObjectRequest req;
  req.set_bucket("docs");
  req.set_key("race");
  req.set_if_none_match(true);
  if (Lacks("conditional writes")) GTEST_SKIP() << "the provider declares conditional writes unsupported";
  auto slow = Sync(storage().BeginPut(req));
  CK_ASSERT_OK(slow);
  CK_ASSERT_OK(Sync((*slow)->Append("slow writer")));
  CK_ASSERT_OK(Put("docs", "race", "fast writer"));
  CK_EXPECT_CODE(Sync((*slow)->Finish()), v1::FAILED_PRECONDITION);
  EXPECT_EQ(*Get("docs", "race"), "fast writer");
}

TEST_P(ObjectStorageConformance, AbandonedUploadLeavesNothing) {
  {
    v1::PutObjectRequest req;
    req.set_bucket("docs");
    req.set_key("half");
    auto upload = Sync(storage().BeginPut(req));
    CK_ASSERT_OK(upload);
    CK_ASSERT_OK(Sync((*upload)->Append(Pattern(100000))));
  }
  CK_EXPECT_CODE(Get("docs", "half"), v1::NOT_FOUND);
  EXPECT_EQ(List("").objects_size(), 0);
}

TEST_P(ObjectStorageConformance, DownloadKeepsReadingWhatItOpened) {
  std::string original = Pattern(300000, 1);
  CK_ASSERT_OK(Put("docs", "snap", original));
  v1::GetObjectRequest req;
  req.set_bucket("docs");
  req.set_key("snap");
  v1::GetObjectResponse head;
  auto download = Sync(storage().BeginGet(req, &head));
  CK_ASSERT_OK(download);
  auto first = Sync((*download)->Next(1000));
  CK_ASSERT_OK(first);
  CK_ASSERT_OK(Put("docs", "snap", "replaced"));
  std::string rest;
  while (true) {
    auto next = Sync((*download)->Next(64 * 1024));
    CK_ASSERT_OK(next);
    if (next->empty()) break;
    rest += *next;
  }
  EXPECT_TRUE(*first + rest == original);
  EXPECT_EQ(*Get("docs", "snap"), "replaced");
}

TEST_P(ObjectStorageConformance, DeleteReportsWhetherTheObjectExisted) {
  auto put = Put("docs", "d", "x");
  CK_ASSERT_OK(put);
  v1::DeleteObjectRequest del;
  del.set_bucket("docs");
  del.set_key("d");
  del.set_if_match("\"stale\"");
  if (Lacks("conditional writes")) {
    CK_EXPECT_CODE(Sync(storage().DeleteObject(del)), v1::UNIMPLEMENTED);
    del.clear_if_match();
    EXPECT_TRUE(Sync(storage().DeleteObject(del))->existed());
    EXPECT_FALSE(Sync(storage().DeleteObject(del))->existed());
    return;
  }
  CK_EXPECT_CODE(Sync(storage().DeleteObject(del)), v1::FAILED_PRECONDITION);
  del.set_if_match(put->object().etag());
  auto removed = Sync(storage().DeleteObject(del));
  CK_ASSERT_OK(removed);
  EXPECT_TRUE(removed->existed());
  CK_EXPECT_CODE(Sync(storage().DeleteObject(del)), v1::NOT_FOUND);  // conditional on a missing object
  del.clear_if_match();
  auto again = Sync(storage().DeleteObject(del));
  CK_ASSERT_OK(again);
  EXPECT_FALSE(again->existed());
  del.set_bucket("nope");
  CK_EXPECT_CODE(Sync(storage().DeleteObject(del)), v1::NOT_FOUND);
}

TEST_P(ObjectStorageConformance, DeleteManyReportsEachKey) {
  CK_ASSERT_OK(Put("docs", "a", "1"));
  CK_ASSERT_OK(Put("docs", "b", "2"));
  v1::DeleteObjectsRequest req;
  req.set_bucket("docs");
  for (const char* key : {"a", "b", "missing", "../bad"}) req.add_keys(key);
  auto resp = Sync(storage().DeleteObjects(req));
  CK_ASSERT_OK(resp);
  EXPECT_EQ(std::vector<std::string>(resp->deleted().begin(), resp->deleted().end()),
            (std::vector<std::string>{"a", "b", "missing"}));
  ASSERT_EQ(resp->errors_size(), 1);
  EXPECT_EQ(resp->errors(0).key(), "../bad");
  EXPECT_EQ(resp->errors(0).status().code(), v1::INVALID_ARGUMENT);
  EXPECT_EQ(List("").objects_size(), 0);
}

TEST_P(ObjectStorageConformance, CopyDuplicatesContentAndMetadata) {
  v1::CreateBucketRequest create;
  create.set_bucket("backup");
  CK_ASSERT_OK(Sync(storage().CreateBucket(create)));
  std::string content = Pattern(2 * 1024 * 1024 + 3);
  auto put = Put("docs", "src", content, 1 << 20, [](v1::PutObjectRequest* r) {
    r->set_content_type("image/png");
    (*r->mutable_metadata())["k"] = "v";
  });
  CK_ASSERT_OK(put);
  v1::CopyObjectRequest copy;
  copy.set_source_bucket("docs");
  copy.set_source_key("src");
  copy.set_bucket("backup");
  copy.set_key("dst");
  auto copied = Sync(storage().CopyObject(copy));
  CK_ASSERT_OK(copied);
  EXPECT_EQ(copied->object().etag(), put->object().etag());
  EXPECT_EQ(copied->object().size(), content.size());
  EXPECT_EQ(copied->object().content_type(), "image/png");
  EXPECT_EQ(copied->object().metadata().at("k"), "v");
  EXPECT_TRUE(*Get("backup", "dst") == content);
  // The copy is independent of its source.
  CK_ASSERT_OK(Put("docs", "src", "changed"));
  EXPECT_TRUE(*Get("backup", "dst") == content);

  copy.set_if_match(put->object().etag());  // now stale
  if (target_->Cannot("if-match on reads").empty()) CK_EXPECT_CODE(Sync(storage().CopyObject(copy)), v1::FAILED_PRECONDITION);
  copy.clear_if_match();
  copy.set_source_key("missing");
  CK_EXPECT_CODE(Sync(storage().CopyObject(copy)), v1::NOT_FOUND);
  copy.set_source_key("src");
  copy.set_bucket("nope");
  CK_EXPECT_CODE(Sync(storage().CopyObject(copy)), v1::NOT_FOUND);
}

TEST_P(ObjectStorageConformance, ListFiltersByPrefixInKeyOrder) {
  CK_SKIP_UNLESS_TARGET_CAN("key order");
  for (const char* key : {"b/2", "a/1", "a/2", "c", "ab"}) CK_ASSERT_OK(Put("docs", key, key));
  auto all = List("");
  std::vector<std::string> keys;
  for (const auto& o : all.objects()) keys.push_back(o.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"a/1", "a/2", "ab", "b/2", "c"}));
  EXPECT_TRUE(all.next_continuation_token().empty());
  auto a = List("a/");
  ASSERT_EQ(a.objects_size(), 2);
  EXPECT_EQ(a.objects(1).key(), "a/2");
  EXPECT_EQ(a.objects(1).size(), 3u);
  EXPECT_FALSE(a.objects(1).etag().empty());
}

TEST_P(ObjectStorageConformance, DelimiterGroupsCommonPrefixes) {
  for (const char* key : {"top.txt", "photos/2024/a.jpg", "photos/2024/b.jpg", "photos/2025/c.jpg",
                          "photos/index", "videos/x.mp4"}) {
    CK_ASSERT_OK(Put("docs", key, "x"));
  }
  auto root = List("", "/");
  std::vector<std::string> prefixes(root.common_prefixes().begin(), root.common_prefixes().end());
  EXPECT_EQ(prefixes, (std::vector<std::string>{"photos/", "videos/"}));
  ASSERT_EQ(root.objects_size(), 1);
  EXPECT_EQ(root.objects(0).key(), "top.txt");

  auto photos = List("photos/", "/");
  prefixes.assign(photos.common_prefixes().begin(), photos.common_prefixes().end());
  EXPECT_EQ(prefixes, (std::vector<std::string>{"photos/2024/", "photos/2025/"}));
  ASSERT_EQ(photos.objects_size(), 1);
  EXPECT_EQ(photos.objects(0).key(), "photos/index");
}

TEST_P(ObjectStorageConformance, PagesCoverEveryEntryExactlyOnce) {
  CK_SKIP_UNLESS_TARGET_CAN("key order");
  std::set<std::string> expected;
  for (int i = 0; i < 23; ++i) {
    std::string key = "k" + std::to_string(100 + i);
    expected.insert(key);
    CK_ASSERT_OK(Put("docs", key, "x"));
  }
  for (int i = 0; i < 4; ++i) CK_ASSERT_OK(Put("docs", "dir" + std::to_string(i) + "/f", "x"));
  for (const std::string delimiter : {"", "/"}) {
    std::vector<std::string> seen;
    std::string token;
    int pages = 0;
    do {
      auto page = List("", delimiter, 5, token);
      EXPECT_LE(page.objects_size() + page.common_prefixes_size(), 5);
      for (const auto& o : page.objects()) seen.push_back(o.key());
      for (const auto& p : page.common_prefixes()) seen.push_back(p);
      token = page.next_continuation_token();
      ASSERT_LT(++pages, 20);
    } while (!token.empty());
    std::vector<std::string> want;
    if (delimiter.empty()) {
      for (int i = 0; i < 4; ++i) want.push_back("dir" + std::to_string(i) + "/f");
    } else {
      for (int i = 0; i < 4; ++i) want.push_back("dir" + std::to_string(i) + "/");
    }
    want.insert(want.end(), expected.begin(), expected.end());
    std::sort(seen.begin(), seen.end());  // a page holds objects and prefixes separately
    EXPECT_EQ(seen, want) << "delimiter '" << delimiter << "'";
  }
}

TEST_P(ObjectStorageConformance, ForeignContinuationTokensAreInvalidArgument) {
  for (int i = 0; i < 3; ++i) CK_ASSERT_OK(Put("docs", "a" + std::to_string(i), "x"));
  auto page = List("a", "", 1);
  ASSERT_FALSE(page.next_continuation_token().empty());
  v1::ListObjectsRequest req;
  req.set_bucket("docs");
  req.set_prefix("zzz");
  req.set_continuation_token(page.next_continuation_token());
  CK_EXPECT_CODE(Sync(storage().ListObjects(req)), v1::INVALID_ARGUMENT);
  req.set_prefix("");
  req.set_continuation_token("not a token");
  CK_EXPECT_CODE(Sync(storage().ListObjects(req)), v1::INVALID_ARGUMENT);
}

TEST_P(ObjectStorageConformance, BucketsDoNotShareObjects) {
  v1::CreateBucketRequest create;
  create.set_bucket("doc");  // a prefix of "docs"
  CK_ASSERT_OK(Sync(storage().CreateBucket(create)));
  CK_ASSERT_OK(Put("docs", "k", "in docs"));
  CK_EXPECT_CODE(Get("doc", "k"), v1::NOT_FOUND);
  v1::ListObjectsRequest req;
  req.set_bucket("doc");
  EXPECT_EQ(Sync(storage().ListObjects(req))->objects_size(), 0);
}

TEST_P(ObjectStorageConformance, DataSurvivesReopening) {
  if (!durable()) GTEST_SKIP() << "not a durable provider";
  std::string content = Pattern(700000, 3);
  auto put = Put("docs", "keep", content);
  CK_ASSERT_OK(put);
  Reopen();
  v1::GetObjectResponse head;
  v1::GetObjectRequest req;
  req.set_bucket("docs");
  req.set_key("keep");
  auto got = Get(req, &head);
  CK_ASSERT_OK(got);
  EXPECT_TRUE(*got == content);
  EXPECT_EQ(head.object().etag(), put->object().etag());
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ObjectStorageConformance);
INSTANTIATE_TEST_SUITE_P(Providers, ObjectStorageConformance, ::testing::ValuesIn(ConformanceTargetsServing(kObjectStorageService)),
                         ParamName);

}  // namespace cloudkit::conformance
