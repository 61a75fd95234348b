// Name rules (providers/names) and the embedded providers' key layout and page
// tokens (providers/embedded/store_keys).
#include <gtest/gtest.h>

#include "providers/embedded/store_keys.h"
#include "providers/names.h"

namespace cloudkit {
namespace {

TEST(NamesTest, ContainerNamesArePlainShortTokens) {
  for (const char* ok : {"docs", "a", "A-1_b.c", "0abc"}) {
    EXPECT_TRUE(names::CheckContainerName("bucket", ok).ok()) << ok;
  }
  EXPECT_TRUE(names::CheckContainerName("bucket", std::string(63, 'x')).ok());
  for (std::string bad : {std::string(""), std::string(64, 'x'), std::string(".hidden"), std::string("a/b"),
                          std::string(".."), std::string("a b"), std::string("a\0b", 3), std::string("ü")}) {
    Status s = names::CheckContainerName("table", bad);
    EXPECT_EQ(s.code(), v1::INVALID_ARGUMENT) << bad;
    EXPECT_NE(s.message().find("table name"), std::string::npos) << s.message();
  }
}

TEST(NamesTest, SecretNamesArePathLikeTokens) {
  for (const char* ok : {"db/password", "a", "api.key-2_x", "0/1/2"}) {
    EXPECT_TRUE(names::CheckSecretName(ok).ok()) << ok;
  }
  EXPECT_TRUE(names::CheckSecretName(std::string(255, 's')).ok());
  for (std::string bad : {std::string(""), std::string(256, 's'), std::string("/abs"), std::string(".env"),
                          std::string("a b"), std::string("a\0b", 3), std::string("a:b"), std::string("ü")}) {
    Status s = names::CheckSecretName(bad);
    EXPECT_EQ(s.code(), v1::INVALID_ARGUMENT) << names::Quote(bad);
    EXPECT_NE(s.message().find("secret name"), std::string::npos) << s.message();
  }
}

TEST(NamesTest, ObjectKeysCannotEscape) {
  for (const char* ok : {"a.txt", "dir/a", "a..b", "...", "dir/.hidden", "trailing/", "a//b"}) {
    EXPECT_TRUE(names::CheckObjectKey(ok).ok()) << ok;
  }
  for (std::string bad : {std::string("/abs"), std::string(".."), std::string("../a"), std::string("a/.."),
                          std::string("a/./b"), std::string("."), std::string("a\0", 2),
                          std::string(1025, 'k'), std::string("\xc0\xaf"), std::string("\xed\xa0\x80")}) {
    EXPECT_EQ(names::CheckObjectKey(bad).code(), v1::INVALID_ARGUMENT) << names::Quote(bad);
  }
}

TEST(NamesTest, QuoteEscapesControlBytesAndShortens) {
  EXPECT_EQ(names::Quote("a.txt"), "'a.txt'");
  EXPECT_EQ(names::Quote(std::string("a\0b\n", 4)), "'a\\x00b\\x0a'");
  EXPECT_EQ(names::Quote(std::string(100, 'k')), "'" + std::string(80, 'k') + "...'");
  EXPECT_EQ(names::Quote("a'b\\c"), "'a\\'b\\\\c'");  // the quotes end where the name does
}

// C1 controls (U+0080-U+009F: U+009B is a terminal's CSI) and bytes that are
// not UTF-8 are escaped too; other characters are shown as they are.
TEST(NamesTest, EscapedLeavesNoControlCharacterForATerminal) {
  EXPECT_EQ(names::Escaped("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  EXPECT_EQ(names::Escaped("a\xc2\x9b" "31mred"), "a\\xc2\\x9b31mred");
  EXPECT_EQ(names::Escaped("\x1b[2J\x7f"), "\\x1b[2J\\x7f");
  EXPECT_EQ(names::Escaped("\x9b\xff\xc3"), "\\x9b\\xff\\xc3");                 // not UTF-8
  EXPECT_EQ(names::Escaped("\xed\xa0\x80"), "\\xed\\xa0\\x80");                // a surrogate
  EXPECT_EQ(names::Escaped("a\\b'c", "'"), "a\\\\b\\'c");
  // Cut inside a character, a quoted name shows the cut bytes escaped.
  const std::string long_name = std::string(79, 'k') + "\xc3\xa9";
  EXPECT_EQ(names::Quote(long_name), "'" + std::string(79, 'k') + "\\xc3...'");
}

TEST(StoreKeysTest, PrefixSuccessorBoundsEveryExtension) {
  EXPECT_EQ(embedded::PrefixSuccessor("abc"), "abd");
  EXPECT_EQ(embedded::PrefixSuccessor(std::string("a\xff\xff")), "b");
  EXPECT_EQ(embedded::PrefixSuccessor(std::string("\xff")), "");
  EXPECT_LT(embedded::ObjectKey("docs", "zzz"), embedded::PrefixSuccessor(embedded::ObjectKey("docs", "")));
  EXPECT_LT(embedded::PrefixSuccessor(embedded::ObjectKey("doc", "")), embedded::ObjectKey("docs", ""));
}

TEST(StoreKeysTest, TokensRoundTripAndRejectGarbage) {
  std::string raw("o/b\0k\xff", 6);
  auto token = embedded::EncodeToken(raw);
  EXPECT_EQ(token, "6f2f62006bff");
  EXPECT_EQ(embedded::DecodeToken(token), raw);
  EXPECT_FALSE(embedded::DecodeToken("abc").has_value());
  EXPECT_FALSE(embedded::DecodeToken("zz").has_value());
  EXPECT_FALSE(embedded::DecodeToken("AB").has_value());
}

}  // namespace
}  // namespace cloudkit
