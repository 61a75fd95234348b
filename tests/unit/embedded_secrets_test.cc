// The embedded Secrets provider with a sealer (as `local` runs it), looked at
// from its store: values never lie there in the clear, a record moved to
// another secret or changed does not open, and another key is told apart
// from a damaged record. Errors name the secret, never its value.
#include <gtest/gtest.h>

#include "cloudkit/store/v1/secret_records.pb.h"
#include "core/base64.h"
#include "ports/memory_storage.h"
#include "ports/sodium_sealer.h"
#include "providers/embedded/embedded_secrets.h"
#include "support/run_task.h"
#include "support/shared_ordered_store.h"

namespace cloudkit {
namespace {

using testing_util::RunTask;

// A store the test keeps looking at while a provider owns its handle.
using SharedStore = testing_util::SharedOrderedStore;

class EmbeddedSecretsSealingTest : public ::testing::Test {
 protected:
  std::unique_ptr<embedded::EmbeddedSecrets> Provider(char key_byte) {
    auto sealer = sealers_.OpenSealer({Base64Encode(std::string(32, key_byte)), "", ""});
    EXPECT_TRUE(sealer.ok()) << sealer.status().message();
    return std::make_unique<embedded::EmbeddedSecrets>(std::make_unique<SharedStore>(&store_), std::move(*sealer),
                                                       &clock_);
  }
  static Result<v1::PutSecretResponse> Put(SecretsProvider& p, const std::string& name, const std::string& value) {
    v1::PutSecretRequest req;
    req.set_name(name);
    req.set_value(value);
    return RunTask(p.Put(req));
  }
  static Result<v1::GetSecretResponse> Get(SecretsProvider& p, const std::string& name) {
    v1::GetSecretRequest req;
    req.set_name(name);
    return RunTask(p.Get(req));
  }
  ports::OrderedStore::Entries Everything() {
    auto entries = testing_util::ReadyValue(store_.Scan("", "", 1000));
    EXPECT_TRUE(entries.ok());
    return entries.ok() ? *entries : ports::OrderedStore::Entries();
  }
  // The store key of the record of `name`'s version 1.
  std::string FirstVersionKey(const std::string& name) {
    for (const auto& [key, value] : Everything()) {
      if (key.rfind("v/" + name + '\0', 0) == 0) return key;
    }
    ADD_FAILURE() << "no version record for " << name;
    return "";
  }
  void Overwrite(const std::string& key, const std::string& value) {
    ports::WriteBatch batch;
    batch.Put(key, value);
    ASSERT_TRUE(testing_util::ReadyValue(store_.Write(std::move(batch))).ok());
  }
  std::string Stored(const std::string& key) { return *testing_util::ReadyValue(store_.Get(key)); }

  ports::ManualClock clock_;
  ports::MemoryOrderedStore store_;
  SodiumSealerPort sealers_;
};

TEST_F(EmbeddedSecretsSealingTest, ValuesAreNeverStoredInTheClear) {
  auto secrets = Provider('a');
  ASSERT_TRUE(Put(*secrets, "db", "plaintext-password-1").ok());
  ASSERT_TRUE(Put(*secrets, "db", "plaintext-password-2").ok());
  for (const auto& [key, value] : Everything()) {
    EXPECT_EQ(value.find("plaintext-password"), std::string::npos) << "in the record under " << key;
  }
  auto got = Get(*secrets, "db");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->value(), "plaintext-password-2");
}

TEST_F(EmbeddedSecretsSealingTest, ARecordCopiedToAnotherSecretDoesNotOpen) {
  auto secrets = Provider('a');
  ASSERT_TRUE(Put(*secrets, "admin", "admin-value").ok());
  ASSERT_TRUE(Put(*secrets, "guest", "guest-value").ok());
  Overwrite(FirstVersionKey("guest"), Stored(FirstVersionKey("admin")));
  auto got = Get(*secrets, "guest");
  EXPECT_EQ(got.status().code(), v1::FAILED_PRECONDITION);
  EXPECT_NE(got.status().message().find("'guest'"), std::string::npos) << got.status().message();
  EXPECT_EQ(got.status().message().find("admin-value"), std::string::npos) << got.status().message();
  ASSERT_TRUE(Get(*secrets, "admin").ok());
}

TEST_F(EmbeddedSecretsSealingTest, AChangedRecordDoesNotOpen) {
  auto secrets = Provider('a');
  ASSERT_TRUE(Put(*secrets, "token", "token-value").ok());
  const std::string key = FirstVersionKey("token");
  store::v1::SecretVersionRecord record;
  ASSERT_TRUE(record.ParseFromString(Stored(key)));
  std::string& sealed = *record.mutable_value();
  sealed[sealed.size() / 2] ^= 0x40;
  Overwrite(key, record.SerializeAsString());
  auto got = Get(*secrets, "token");
  EXPECT_EQ(got.status().code(), v1::FAILED_PRECONDITION) << got.status().message();
  EXPECT_NE(got.status().message().find("'token'"), std::string::npos) << got.status().message();
}

TEST_F(EmbeddedSecretsSealingTest, AnotherKeyIsRefusedByNameBeforeAnyValueIsReadOrWritten) {
  {
    auto secrets = Provider('a');
    ASSERT_TRUE(Put(*secrets, "db", "first-value").ok());
  }
  auto wrong = Provider('b');
  auto got = Get(*wrong, "db");
  EXPECT_EQ(got.status().code(), v1::FAILED_PRECONDITION);
  EXPECT_NE(got.status().message().find("another key"), std::string::npos) << got.status().message();
  EXPECT_NE(got.status().message().find("'db'"), std::string::npos) << got.status().message();
  EXPECT_EQ(Put(*wrong, "db", "second-value").status().code(), v1::FAILED_PRECONDITION);
  // Names stay listable without the key: an operator can still see and delete them.
  auto listed = RunTask(wrong->List(v1::ListSecretsRequest()));
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->secrets_size(), 1);
  auto right = Provider('a');
  auto kept = Get(*right, "db");
  ASSERT_TRUE(kept.ok()) << kept.status().message();
  EXPECT_EQ(kept->value(), "first-value");
  EXPECT_EQ(kept->version(), 1u) << "the refused put wrote nothing";
}

}  // namespace
}  // namespace cloudkit
