// What every KeyValue provider promises. Instantiated for each target of the
// host's ConformanceTargets().
#include "conformance/conformance.h"

namespace cloudkit::conformance {

class KeyValueConformance : public ConformanceTest {
 protected:
  void SetUp() override {
    ConformanceTest::SetUp();
    if (!binding_.Get<KeyValueProvider>(kKeyValueService)) GTEST_SKIP() << "target does not serve key-value";
  }
  KeyValueProvider& kv() { return *binding_.Get<KeyValueProvider>(kKeyValueService); }

  Result<v1::PutResponse> Put(const std::string& key, const std::string& value,
                              const std::function<void(v1::PutRequest*)>& tweak = {},
                              const std::string& table = "users") {
    v1::PutRequest req;
    req.set_table(table);
    req.set_key(key);
    req.set_value(value);
    if (tweak) tweak(&req);
    return Sync(kv().Put(req));
  }
  Result<v1::GetResponse> Get(const std::string& key, const std::string& table = "users") {
    v1::GetRequest req;
    req.set_table(table);
    req.set_key(key);
    return Sync(kv().Get(req));
  }
  bool Exists(const std::string& key) {
    v1::ExistsRequest req;
    req.set_table("users");
    req.set_key(key);
    auto resp = Sync(kv().Exists(req));
    EXPECT_TRUE(resp.ok()) << resp.status().message();
    return resp.ok() && resp->exists();
  }
  v1::ListResponse List(const std::string& prefix, uint32_t page = 0, const std::string& token = "",
                        bool keys_only = false) {
    v1::ListRequest req;
    req.set_table("users");
    req.set_prefix(prefix);
    req.set_page_size(page);
    req.set_continuation_token(token);
    req.set_keys_only(keys_only);
    auto resp = Sync(kv().List(req));
    EXPECT_TRUE(resp.ok()) << resp.status().message();
    return resp.ok() ? *resp : v1::ListResponse();
  }
};

TEST_P(KeyValueConformance, PutThenGetReturnsValueAndETag) {
  auto put = Put("ada", std::string("\0binary\xff", 8));
  CK_ASSERT_OK(put);
  EXPECT_FALSE(put->etag().empty());
  EXPECT_EQ(put->expires_at_ms(), 0);
  auto got = Get("ada");
  CK_ASSERT_OK(got);
  EXPECT_EQ(got->item().key(), "ada");
  EXPECT_EQ(got->item().value(), std::string("\0binary\xff", 8));
  EXPECT_EQ(got->item().etag(), put->etag());
  EXPECT_TRUE(Exists("ada"));
}

TEST_P(KeyValueConformance, EveryWriteGetsANewETag) {
  auto first = Put("k", "same");
  auto second = Put("k", "same");
  CK_ASSERT_OK(first);
  CK_ASSERT_OK(second);
  EXPECT_NE(first->etag(), second->etag());
}

TEST_P(KeyValueConformance, MissingItemIsNotFoundNamingIt) {
  auto got = Get("nobody");
  CK_EXPECT_CODE(got, v1::NOT_FOUND);
  EXPECT_EQ(got.status().message(), "not found: item 'nobody' in table 'users'");
  EXPECT_FALSE(Exists("nobody"));
}

TEST_P(KeyValueConformance, IfAbsentCreatesOnlyOnce) {
  auto absent = [](v1::PutRequest* r) { r->set_if_absent(true); };
  CK_ASSERT_OK(Put("k", "first", absent));
  CK_EXPECT_CODE(Put("k", "second", absent), v1::ALREADY_EXISTS);
  EXPECT_EQ(Get("k")->item().value(), "first");
}

TEST_P(KeyValueConformance, IfMatchLetsTheFirstWriterWin) {
  auto base = Put("counter", "0");
  CK_ASSERT_OK(base);
  auto from_base = [&](v1::PutRequest* r) { r->set_if_match(base->etag()); };
  auto winner = Put("counter", "1-from-a", from_base);
  CK_ASSERT_OK(winner);
  CK_EXPECT_CODE(Put("counter", "1-from-b", from_base), v1::FAILED_PRECONDITION);
  EXPECT_EQ(Get("counter")->item().value(), "1-from-a");
  CK_EXPECT_CODE(Put("absent", "x", from_base), v1::FAILED_PRECONDITION);
}

TEST_P(KeyValueConformance, DeleteReportsExistenceAndHonoursIfMatch) {
  auto put = Put("k", "v");
  CK_ASSERT_OK(put);
  v1::DeleteRequest del;
  del.set_table("users");
  del.set_key("k");
  del.set_if_match("stale");
  CK_EXPECT_CODE(Sync(kv().Delete(del)), v1::FAILED_PRECONDITION);
  del.set_if_match(put->etag());
  auto removed = Sync(kv().Delete(del));
  CK_ASSERT_OK(removed);
  EXPECT_TRUE(removed->existed());
  CK_EXPECT_CODE(Sync(kv().Delete(del)), v1::NOT_FOUND);
  del.clear_if_match();
  auto again = Sync(kv().Delete(del));
  CK_ASSERT_OK(again);
  EXPECT_FALSE(again->existed());
  CK_EXPECT_CODE(Get("k"), v1::NOT_FOUND);
}

TEST_P(KeyValueConformance, ItemsExpireAfterTheirTtl) {
  CK_SKIP_UNLESS_TARGET_CAN("manual clock");
  auto put = Put("session", "token", [](v1::PutRequest* r) { r->set_ttl_ms(1000); });
  CK_ASSERT_OK(put);
  EXPECT_EQ(put->expires_at_ms(), clock_.NowMs() + 1000);
  clock_.Advance(999);
  CK_EXPECT_OK(Get("session"));
  EXPECT_EQ(List("").items_size(), 1);
  clock_.Advance(1);
  CK_EXPECT_CODE(Get("session"), v1::NOT_FOUND);
  EXPECT_FALSE(Exists("session"));
  EXPECT_EQ(List("").items_size(), 0);
  // An expired item is absent for if_absent too.
  CK_EXPECT_OK(Put("session", "new", [](v1::PutRequest* r) { r->set_if_absent(true); }));
  EXPECT_EQ(Get("session")->item().expires_at_ms(), 0);
}

// Sweeping (what the actor runs from its timer) removes expired items from
// storage in bounded steps, keeps the rest, and says when the next one is due.
// Providers whose backend expires items by itself would skip this case.
TEST_P(KeyValueConformance, SweepingRemovesExpiredItemsInStepsAndKeepsTheRest) {
  CK_SKIP_UNLESS_TARGET_CAN("manual clock");
  const int64_t start = clock_.NowMs();
  for (const char* key : {"a", "c", "e"}) CK_ASSERT_OK(Put(key, "soon", [](v1::PutRequest* r) { r->set_ttl_ms(1000); }));
  for (const char* key : {"b", "d"}) CK_ASSERT_OK(Put(key, "forever"));
  CK_ASSERT_OK(Put("f", "later", [](v1::PutRequest* r) { r->set_ttl_ms(10'000); }));
  CK_ASSERT_OK(Put("g", "elsewhere", [](v1::PutRequest* r) { r->set_ttl_ms(1000); }, "other"));
  EXPECT_EQ(kv().TakeNewExpiry(), start + 1000);
  EXPECT_EQ(kv().TakeNewExpiry(), 0);  // taken

  // Runs steps of `budget` items until a pass completes.
  auto sweep = [this](size_t budget, int* steps) {
    KeyValueProvider::SweepStep total;
    *steps = 0;
    for (;;) {
      auto step = Sync(kv().SweepExpired(budget));
      EXPECT_TRUE(step.ok()) << step.status().message();
      if (!step.ok() || ++*steps > 100) return total;
      total.removed += step->removed;
      if (step->pass_complete) {
        total.next_expiry_ms = step->next_expiry_ms;
        return total;
      }
    }
  };
  int steps = 0;
  auto early = sweep(2, &steps);  // nothing has expired yet
  EXPECT_EQ(early.removed, 0u);
  EXPECT_EQ(early.next_expiry_ms, start + 1000);
  EXPECT_GE(steps, 4);  // 7 items, 2 at a time

  clock_.Advance(1000);
  auto due = sweep(2, &steps);
  EXPECT_EQ(due.removed, 4u);
  EXPECT_EQ(due.next_expiry_ms, start + 10'000);
  for (const char* key : {"a", "c", "e"}) CK_EXPECT_CODE(Get(key), v1::NOT_FOUND);
  CK_EXPECT_CODE(Get("g", "other"), v1::NOT_FOUND);
  for (const char* key : {"b", "d", "f"}) CK_EXPECT_OK(Get(key));
  EXPECT_EQ(sweep(100, &steps).removed, 0u);  // they are gone, not just hidden

  clock_.Advance(9000);
  auto last = sweep(100, &steps);
  EXPECT_EQ(last.removed, 1u);
  EXPECT_EQ(last.next_expiry_ms, 0);  // nothing left to expire
  EXPECT_EQ(List("").items_size(), 2);
  // ETags stay fresh after sweeps (the provider's own records are not items).
  CK_EXPECT_OK(Put("b", "again"));
}

TEST_P(KeyValueConformance, ListByPrefixPagesThroughEverythingOnce) {
  for (int i = 0; i < 17; ++i) CK_ASSERT_OK(Put("user:" + std::to_string(100 + i), "v" + std::to_string(i)));
  CK_ASSERT_OK(Put("group:1", "g"));
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    auto page = List("user:", 4, token);
    EXPECT_LE(page.items_size(), 4);
    for (const auto& item : page.items()) {
      seen.push_back(item.key());
      EXPECT_FALSE(item.value().empty());
      EXPECT_FALSE(item.etag().empty());
    }
    token = page.next_continuation_token();
    ASSERT_LT(++pages, 10);
  } while (!token.empty());
  ASSERT_EQ(seen.size(), 17u);
  for (int i = 0; i < 17; ++i) EXPECT_EQ(seen[i], "user:" + std::to_string(100 + i));
  auto keys_only = List("group:", 0, "", true);
  ASSERT_EQ(keys_only.items_size(), 1);
  EXPECT_TRUE(keys_only.items(0).value().empty());
  EXPECT_FALSE(keys_only.items(0).etag().empty());
}

TEST_P(KeyValueConformance, BadContinuationTokenIsInvalidArgument) {
  v1::ListRequest req;
  req.set_table("users");
  req.set_continuation_token("zz");
  CK_EXPECT_CODE(Sync(kv().List(req)), v1::INVALID_ARGUMENT);
}

TEST_P(KeyValueConformance, BatchGetKeepsRequestOrderAndListsMissing) {
  CK_ASSERT_OK(Put("a", "1"));
  CK_ASSERT_OK(Put("c", "3"));
  v1::BatchGetRequest req;
  req.set_table("users");
  for (const char* key : {"c", "b", "a"}) req.add_keys(key);
  auto resp = Sync(kv().BatchGet(req));
  CK_ASSERT_OK(resp);
  ASSERT_EQ(resp->items_size(), 2);
  EXPECT_EQ(resp->items(0).key(), "c");
  EXPECT_EQ(resp->items(0).value(), "3");
  EXPECT_EQ(resp->items(1).key(), "a");
  ASSERT_EQ(resp->missing_size(), 1);
  EXPECT_EQ(resp->missing(0), "b");
}

TEST_P(KeyValueConformance, BatchPutIsAllOrNothing) {
  v1::BatchPutRequest req;
  req.set_table("users");
  for (const char* key : {"x", "y"}) {
    auto* e = req.add_entries();
    e->set_key(key);
    e->set_value(std::string("v-") + key);
  }
  req.mutable_entries(1)->set_ttl_ms(50);
  auto resp = Sync(kv().BatchPut(req));
  CK_ASSERT_OK(resp);
  ASSERT_EQ(resp->etags_size(), 2);
  EXPECT_EQ(Get("x")->item().etag(), resp->etags(0));
  EXPECT_GT(Get("y")->item().expires_at_ms(), 0);

  auto* bad = req.add_entries();
  bad->set_key(std::string("nul\0key", 7));
  req.mutable_entries(0)->set_value("changed");
  CK_EXPECT_CODE(Sync(kv().BatchPut(req)), v1::INVALID_ARGUMENT);
  EXPECT_EQ(Get("x")->item().value(), "v-x");
}

TEST_P(KeyValueConformance, TablesAreSeparate) {
  CK_ASSERT_OK(Put("k", "in users"));
  CK_ASSERT_OK(Put("k", "in users2", {}, "users2"));
  EXPECT_EQ(Get("k")->item().value(), "in users");
  EXPECT_EQ(Get("k", "users2")->item().value(), "in users2");
  EXPECT_EQ(List("").items_size(), 1);
}

TEST_P(KeyValueConformance, BadNamesAreInvalidArgument) {
  CK_EXPECT_CODE(Put("", "v"), v1::INVALID_ARGUMENT);
  CK_EXPECT_CODE(Put(std::string(1025, 'k'), "v"), v1::INVALID_ARGUMENT);
  CK_EXPECT_CODE(Put(std::string("a\0b", 3), "v"), v1::INVALID_ARGUMENT);
  CK_EXPECT_CODE(Put("k", "v", {}, "../etc"), v1::INVALID_ARGUMENT);
  CK_EXPECT_CODE(Put("k", "v", {}, ""), v1::INVALID_ARGUMENT);
  CK_EXPECT_CODE(Get("k", "a/b"), v1::INVALID_ARGUMENT);
  CK_EXPECT_OK(Put("path/like/../key", "v"));  // item keys are not paths
}

TEST_P(KeyValueConformance, ItemsSurviveReopening) {
  if (!durable()) GTEST_SKIP() << "not a durable provider";
  auto put = Put("keep", "me", [](v1::PutRequest* r) { r->set_ttl_ms(60000); });
  CK_ASSERT_OK(put);
  Reopen();
  auto got = Get("keep");
  CK_ASSERT_OK(got);
  EXPECT_EQ(got->item().value(), "me");
  EXPECT_EQ(got->item().etag(), put->etag());
  EXPECT_EQ(got->item().expires_at_ms(), put->expires_at_ms());
  // ETags stay distinct across a restart.
  auto after = Put("keep", "me");
  CK_ASSERT_OK(after);
  EXPECT_NE(after->etag(), put->etag());
}

INSTANTIATE_TEST_SUITE_P(Providers, KeyValueConformance, ::testing::ValuesIn(ConformanceTargets()),
                         ParamName);

}  // namespace cloudkit::conformance
