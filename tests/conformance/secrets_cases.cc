// What every Secrets provider promises. Instantiated for each target of the
// host's ConformanceTargets() that serves secrets; a provider that declares
// secrets unsupported (the browser's `local`) must refuse every call.
#include <string>

#include "conformance/conformance.h"
#include "services/secrets_provider.h"

namespace cloudkit::conformance {

class SecretsConformance : public ConformanceTest {
 protected:
  void SetUp() override {
    ConformanceTest::SetUp();
    if (HasFatalFailure()) return;
    if (!binding_.Get<SecretsProvider>(kSecretsService)) GTEST_SKIP() << "target does not serve secrets";
  }
  SecretsProvider& secrets() { return *binding_.Get<SecretsProvider>(kSecretsService); }
  bool Refused() const {
    return !binding_.Get<SecretsProvider>(kSecretsService)->Unsupported().empty();
  }
#define CK_SKIP_IF_REFUSED() \
  if (Refused()) GTEST_SKIP() << "the provider declares secrets unsupported"

  Result<v1::PutSecretResponse> Put(const std::string& name, const std::string& value) {
    v1::PutSecretRequest req;
    req.set_name(name);
    req.set_value(value);
    return Sync(secrets().Put(req));
  }
  Result<v1::GetSecretResponse> Get(const std::string& name, uint64_t version = 0) {
    v1::GetSecretRequest req;
    req.set_name(name);
    req.set_version(version);
    return Sync(secrets().Get(req));
  }
  Result<v1::ListSecretsResponse> List(const std::string& prefix, uint32_t page = 0, const std::string& token = "") {
    v1::ListSecretsRequest req;
    req.set_prefix(prefix);
    req.set_page_size(page);
    req.set_continuation_token(token);
    return Sync(secrets().List(req));
  }
  Result<v1::ListSecretVersionsResponse> Versions(const std::string& name) {
    v1::ListSecretVersionsRequest req;
    req.set_name(name);
    return Sync(secrets().ListVersions(req));
  }
  Result<v1::DeleteSecretResponse> Delete(const std::string& name) {
    v1::DeleteSecretRequest req;
    req.set_name(name);
    return Sync(secrets().Delete(req));
  }
};

TEST_P(SecretsConformance, EveryPutIsANewVersionAndGetReadsLatestOrNamed) {
  CK_SKIP_IF_REFUSED();
  const std::string binary("\0s3cr\xff", 6);
  auto first = Put("db/password", binary);
  CK_ASSERT_OK(first);
  EXPECT_EQ(first->version(), 1u);
  ExpectStampedNow(first->created_at_ms());
  clock_.Advance(5);
  auto second = Put("db/password", "hunter2");
  CK_ASSERT_OK(second);
  EXPECT_EQ(second->version(), 2u);

  auto latest = Get("db/password");
  CK_ASSERT_OK(latest);
  EXPECT_EQ(latest->name(), "db/password");
  EXPECT_EQ(latest->version(), 2u);
  EXPECT_EQ(latest->value(), "hunter2");
  EXPECT_EQ(latest->created_at_ms(), second->created_at_ms());
  auto named = Get("db/password", 1);
  CK_ASSERT_OK(named);
  EXPECT_EQ(named->version(), 1u);
  EXPECT_EQ(named->value(), binary);
  EXPECT_EQ(named->created_at_ms(), first->created_at_ms());
}

TEST_P(SecretsConformance, MissingSecretsAndVersionsAreNotFoundByName) {
  CK_SKIP_IF_REFUSED();
  auto missing = Get("nobody");
  CK_EXPECT_CODE(missing, v1::NOT_FOUND);
  EXPECT_NE(missing.status().message().find("'nobody'"), std::string::npos) << missing.status().message();
  CK_ASSERT_OK(Put("api-key", "value-one"));
  auto beyond = Get("api-key", 2);
  CK_EXPECT_CODE(beyond, v1::NOT_FOUND);
  EXPECT_NE(beyond.status().message().find("version 2"), std::string::npos) << beyond.status().message();
  EXPECT_EQ(beyond.status().message().find("value-one"), std::string::npos) << beyond.status().message();
  CK_EXPECT_CODE(Versions("nobody"), v1::NOT_FOUND);
  CK_EXPECT_CODE(Delete("nobody"), v1::NOT_FOUND);
}

TEST_P(SecretsConformance, ListVersionsGivesTimesOldestFirst) {
  CK_SKIP_IF_REFUSED();
  std::vector<int64_t> times;
  for (int i = 0; i < 3; ++i) {
    auto put = Put("token", "v" + std::to_string(i));
    CK_ASSERT_OK(put);
    times.push_back(put->created_at_ms());
    clock_.Advance(1000);
  }
  auto versions = Versions("token");
  CK_ASSERT_OK(versions);
  ASSERT_EQ(versions->versions_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(versions->versions(i).version(), static_cast<uint64_t>(i + 1));
    EXPECT_EQ(versions->versions(i).created_at_ms(), times[i]);
  }
}

TEST_P(SecretsConformance, ListGivesNamesInOrderPagedWithoutValues) {
  CK_SKIP_IF_REFUSED();
  for (const char* name : {"app/c", "app/a", "other", "app/b", "app/d"}) CK_ASSERT_OK(Put(name, "x"));
  CK_ASSERT_OK(Put("app/b", "y"));
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    auto page = List("app/", 3, token);
    CK_ASSERT_OK(page);
    EXPECT_LE(page->secrets_size(), 3);
    for (const v1::SecretInfo& info : page->secrets()) {
      seen.push_back(info.name());
      EXPECT_EQ(info.latest_version(), info.name() == "app/b" ? 2u : 1u) << info.name();
    }
    token = page->next_continuation_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(seen, (std::vector<std::string>{"app/a", "app/b", "app/c", "app/d"}));
  auto all = List("");
  CK_ASSERT_OK(all);
  EXPECT_EQ(all->secrets_size(), 5);
  EXPECT_TRUE(all->next_continuation_token().empty());
  CK_EXPECT_CODE(List("app/", 3, "zz-not-a-token"), v1::INVALID_ARGUMENT);
}

TEST_P(SecretsConformance, DeleteRemovesEveryVersionAndANewPutStartsOver) {
  CK_SKIP_IF_REFUSED();
  CK_ASSERT_OK(Put("session", "one"));
  CK_ASSERT_OK(Put("session", "two"));
  CK_ASSERT_OK(Put("session-other", "kept"));
  auto deleted = Delete("session");
  CK_ASSERT_OK(deleted);
  EXPECT_EQ(deleted->versions_deleted(), 2u);
  CK_EXPECT_CODE(Get("session"), v1::NOT_FOUND);
  CK_EXPECT_CODE(Get("session", 1), v1::NOT_FOUND);
  CK_EXPECT_CODE(Versions("session"), v1::NOT_FOUND);
  CK_EXPECT_CODE(Delete("session"), v1::NOT_FOUND);
  auto other = Get("session-other");
  CK_ASSERT_OK(other);
  EXPECT_EQ(other->value(), "kept");
  auto again = Put("session", "three");
  CK_ASSERT_OK(again);
  EXPECT_EQ(again->version(), 1u);
  auto versions = Versions("session");
  CK_ASSERT_OK(versions);
  EXPECT_EQ(versions->versions_size(), 1);
}

TEST_P(SecretsConformance, NamesAndValueSizesAreChecked) {
  CK_SKIP_IF_REFUSED();
  for (const std::string& bad : {std::string(""), std::string("/abs"), std::string("a b"), std::string(256, 'n')}) {
    CK_EXPECT_CODE(Put(bad, "x"), v1::INVALID_ARGUMENT);
    CK_EXPECT_CODE(Get(bad), v1::INVALID_ARGUMENT);
    CK_EXPECT_CODE(Versions(bad), v1::INVALID_ARGUMENT);
    CK_EXPECT_CODE(Delete(bad), v1::INVALID_ARGUMENT);
  }
  CK_EXPECT_OK(Put("big", std::string(64 << 10, 'v')));
  auto too_big = Put("big", std::string((64 << 10) + 1, 'v'));
  CK_EXPECT_CODE(too_big, v1::INVALID_ARGUMENT);
  EXPECT_NE(too_big.status().message().find("'big'"), std::string::npos) << too_big.status().message();
  EXPECT_EQ(too_big.status().message().find("vvvv"), std::string::npos) << "the value shows in the error";
}

TEST_P(SecretsConformance, KeepsTheLatestHundredVersions) {
  CK_SKIP_IF_REFUSED();
  for (int i = 1; i <= 101; ++i) CK_ASSERT_OK(Put("rotated", "v" + std::to_string(i)));
  auto versions = Versions("rotated");
  CK_ASSERT_OK(versions);
  ASSERT_EQ(versions->versions_size(), 100);
  EXPECT_EQ(versions->versions(0).version(), 2u);
  EXPECT_EQ(versions->versions(99).version(), 101u);
  CK_EXPECT_CODE(Get("rotated", 1), v1::NOT_FOUND);
  auto oldest = Get("rotated", 2);
  CK_ASSERT_OK(oldest);
  EXPECT_EQ(oldest->value(), "v2");
  auto deleted = Delete("rotated");
  CK_ASSERT_OK(deleted);
  EXPECT_EQ(deleted->versions_deleted(), 100u);
}

TEST_P(SecretsConformance, SecretsOutliveARestartOfDurableProviders) {
  CK_SKIP_IF_REFUSED();
  if (!durable()) GTEST_SKIP() << "not durable";
  CK_ASSERT_OK(Put("kept", "before"));
  CK_ASSERT_OK(Put("kept", "after"));
  Reopen();
  auto latest = Get("kept");
  CK_ASSERT_OK(latest);
  EXPECT_EQ(latest->version(), 2u);
  EXPECT_EQ(latest->value(), "after");
  auto third = Put("kept", "third");
  CK_ASSERT_OK(third);
  EXPECT_EQ(third->version(), 3u);
}

TEST_P(SecretsConformance, AProviderWithoutSecretsRefusesEveryCall) {
  if (!Refused()) GTEST_SKIP() << "the provider serves secrets";
  CK_EXPECT_CODE(Put("a", "x"), v1::UNIMPLEMENTED);
  CK_EXPECT_CODE(Get("a"), v1::UNIMPLEMENTED);
  CK_EXPECT_CODE(List(""), v1::UNIMPLEMENTED);
  CK_EXPECT_CODE(Versions("a"), v1::UNIMPLEMENTED);
  CK_EXPECT_CODE(Delete("a"), v1::UNIMPLEMENTED);
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(SecretsConformance);
INSTANTIATE_TEST_SUITE_P(Providers, SecretsConformance, ::testing::ValuesIn(ConformanceTargetsServing(kSecretsService)),
                         ParamName);

}  // namespace cloudkit::conformance
