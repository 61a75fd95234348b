// The native Sealer port (runtime/ports/sodium_sealer) and its key files
// (runtime/ports/key_file): sealing round trips, and nothing opens with
// another key, a changed byte or other associated data; key files are made
// 0600 once and read back after, and a key given outright wins over the file.
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "core/base64.h"
#include "ports/sodium_sealer.h"
#include "support/run_task.h"
#include "unit/temp_dir.h"

namespace cloudkit {
namespace {

using testing_util::ReadyValue;

const std::string kKeyA = Base64Encode(std::string(32, 'a'));
const std::string kKeyB = Base64Encode(std::string(32, 'b'));

std::unique_ptr<ports::Sealer> SealerWith(const ports::SealerKey& key) {
  SodiumSealerPort port;
  auto sealer = port.OpenSealer(key);
  EXPECT_TRUE(sealer.ok()) << sealer.status().message();
  return sealer.ok() ? std::move(*sealer) : nullptr;
}
std::unique_ptr<ports::Sealer> SealerWithKey(const std::string& base64) { return SealerWith({base64, "", ""}); }
std::unique_ptr<ports::Sealer> SealerWithFile(const std::string& path) { return SealerWith({"", "", path}); }

std::string Seal(ports::Sealer& sealer, const std::string& plaintext, const std::string& ad) {
  Result<std::string> sealed = ReadyValue(sealer.Seal(plaintext, ad));
  EXPECT_TRUE(sealed.ok()) << sealed.status().message();
  return sealed.ok() ? *sealed : "";
}
Result<std::string> Open(ports::Sealer& sealer, const std::string& sealed, const std::string& ad) {
  return ReadyValue(sealer.Open(sealed, ad));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(SodiumSealerTest, SealedValuesOpenWithTheSameKeyAndAssociatedData) {
  auto sealer = SealerWithKey(kKeyA);
  ASSERT_TRUE(sealer);
  const std::string plaintext("pass\0word\xff", 10);
  std::string sealed = Seal(*sealer, plaintext, "db/1");
  EXPECT_EQ(sealed.find("pass"), std::string::npos);
  EXPECT_NE(Seal(*sealer, plaintext, "db/1"), sealed) << "a fresh nonce per seal";
  Result<std::string> opened = Open(*sealer, sealed, "db/1");
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_EQ(*opened, plaintext);
  Result<std::string> empty = Open(*sealer, Seal(*sealer, "", "x"), "x");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
}

TEST(SodiumSealerTest, AnotherKeyDoesNotOpen) {
  auto a = SealerWithKey(kKeyA);
  auto b = SealerWithKey(kKeyB);
  ASSERT_TRUE(a && b);
  Result<std::string> opened = Open(*b, Seal(*a, "secret", "ad"), "ad");
  EXPECT_EQ(opened.status().code(), v1::FAILED_PRECONDITION);
  EXPECT_EQ(opened.status().message().find("secret"), std::string::npos) << opened.status().message();
}

TEST(SodiumSealerTest, AnyChangedByteDoesNotOpen) {
  auto sealer = SealerWithKey(kKeyA);
  ASSERT_TRUE(sealer);
  const std::string sealed = Seal(*sealer, "secret value", "ad");
  // Every byte: the format byte, the nonce, the ciphertext and the tag.
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string tampered = sealed;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    EXPECT_EQ(Open(*sealer, tampered, "ad").status().code(), v1::FAILED_PRECONDITION) << "byte " << i;
  }
  EXPECT_EQ(Open(*sealer, sealed.substr(0, sealed.size() - 1), "ad").status().code(), v1::FAILED_PRECONDITION);
  EXPECT_EQ(Open(*sealer, "", "ad").status().code(), v1::FAILED_PRECONDITION);
}

TEST(SodiumSealerTest, OtherAssociatedDataDoesNotOpen) {
  auto sealer = SealerWithKey(kKeyA);
  ASSERT_TRUE(sealer);
  const std::string sealed = Seal(*sealer, "secret", std::string("db\0" "1", 4));
  EXPECT_EQ(Open(*sealer, sealed, std::string("db\0" "2", 4)).status().code(), v1::FAILED_PRECONDITION);
  EXPECT_EQ(Open(*sealer, sealed, std::string("other\0" "1", 7)).status().code(), v1::FAILED_PRECONDITION);
  EXPECT_TRUE(Open(*sealer, sealed, std::string("db\0" "1", 4)).ok());
}

TEST(SodiumSealerTest, AKeyThatIsNotBase64Of32BytesIsRefusedWithoutShowingIt) {
  SodiumSealerPort port;
  for (const std::string& bad : {std::string("not base64!"), Base64Encode(std::string(31, 'k')),
                                 Base64Encode(std::string(33, 'k'))}) {
    auto sealer = port.OpenSealer({bad, "CLOUDKIT_SECRETS_KEY", ""});
    EXPECT_EQ(sealer.status().code(), v1::INVALID_ARGUMENT) << bad;
    EXPECT_NE(sealer.status().message().find("CLOUDKIT_SECRETS_KEY"), std::string::npos) << sealer.status().message();
    EXPECT_EQ(sealer.status().message().find(bad), std::string::npos) << sealer.status().message();
  }
  // Surrounding whitespace, as `echo KEY > file` or an environment file leaves, is fine.
  EXPECT_TRUE(port.OpenSealer({" " + kKeyA + "\n", "", ""}).ok());
}

TEST(KeyFileTest, IsCreatedOwnerOnlyOnceAndReadBackAfter) {
  testing_util::TempDir dir;
  const std::string path = dir / "nested/dir/secrets.key";
  auto first = SealerWithFile(path);
  ASSERT_TRUE(first);
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  const std::string text = ReadFile(path);
  std::string trimmed = text.substr(0, text.find_last_not_of('\n') + 1);
  auto decoded = Base64Decode(trimmed);
  ASSERT_TRUE(decoded.has_value()) << "the key file holds base64";
  EXPECT_EQ(decoded->size(), 32u);
  // A restart: the same file, the same key.
  auto second = SealerWithFile(path);
  ASSERT_TRUE(second);
  EXPECT_EQ(ReadFile(path), text);
  Result<std::string> opened = Open(*second, Seal(*first, "kept", "ad"), "ad");
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_EQ(*opened, "kept");
  // And the key in it is the one an operator can give through the environment.
  auto from_text = SealerWithKey(trimmed);
  ASSERT_TRUE(from_text);
  EXPECT_TRUE(Open(*from_text, Seal(*first, "kept", "ad"), "ad").ok());
  // Another file is another key.
  auto other = SealerWithFile(dir / "other.key");
  ASSERT_TRUE(other);
  EXPECT_FALSE(Open(*other, Seal(*first, "kept", "ad"), "ad").ok());
}

TEST(KeyFileTest, AKeyGivenOutrightWinsAndNoFileIsMade) {
  testing_util::TempDir dir;
  const std::string path = dir / "secrets.key";
  auto given = SealerWith({kKeyA, "CLOUDKIT_SECRETS_KEY", path});
  ASSERT_TRUE(given);
  EXPECT_FALSE(std::ifstream(path).good()) << "the key file was made though a key was given";
  auto same = SealerWithKey(kKeyA);
  ASSERT_TRUE(same);
  EXPECT_TRUE(Open(*same, Seal(*given, "v", "ad"), "ad").ok());
}

TEST(KeyFileTest, AFileOthersMayReadOrThatHoldsNoKeyIsRefused) {
  testing_util::TempDir dir;
  SodiumSealerPort port;
  const std::string loose = dir / "loose.key";
  std::ofstream(loose) << kKeyA << "\n";
  ASSERT_EQ(::chmod(loose.c_str(), 0644), 0);
  auto refused = port.OpenSealer({"", "", loose});
  EXPECT_EQ(refused.status().code(), v1::FAILED_PRECONDITION);
  EXPECT_NE(refused.status().message().find("chmod 600"), std::string::npos) << refused.status().message();
  ASSERT_EQ(::chmod(loose.c_str(), 0600), 0);
  EXPECT_TRUE(port.OpenSealer({"", "", loose}).ok());

  const std::string garbage = dir / "garbage.key";
  std::ofstream(garbage) << "not a key\n";
  ASSERT_EQ(::chmod(garbage.c_str(), 0600), 0);
  auto unreadable = port.OpenSealer({"", "", garbage});
  EXPECT_EQ(unreadable.status().code(), v1::FAILED_PRECONDITION);
  EXPECT_NE(unreadable.status().message().find(garbage), std::string::npos) << unreadable.status().message();
  EXPECT_EQ(ReadFile(garbage), "not a key\n") << "a bad key file is never replaced";
}

}  // namespace
}  // namespace cloudkit
