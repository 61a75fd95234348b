// The RowKey encoding of the azure key-value provider
// (actors/providers/azure/table_keys): reversible, printable ASCII without
// the characters Azure forbids, and order-preserving, so that a range of
// RowKeys is exactly a prefix of keys.
#include "providers/azure/table_keys.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace cloudkit::azure {
namespace {

int Sign(int c) { return (c > 0) - (c < 0); }

// Random byte strings over an alphabet that stresses the runs' borders.
std::string RandomKey(std::mt19937& random) {
  static const char kBorders[] = "\x01\x1f !\"#$%&'(-./09:=>?@AZ[\\]az{}~\x7f\x80\xc3\xa9\xff";
  static const std::string kBytes = std::string(kBorders, sizeof kBorders - 1) + "ab";
  std::string key(random() % 6, '\0');
  for (char& c : key) c = kBytes[random() % kBytes.size()];
  return key;
}

TEST(AzureTableKeysTest, EveryByteRoundTripsIntoAllowedCharacters) {
  for (int byte = 1; byte < 256; ++byte) {
    const std::string key(1, static_cast<char>(byte));
    const std::string encoded = EncodeRowKey(key);
    for (char c : encoded) {
      EXPECT_TRUE(c >= 0x21 && c <= 0x7e) << "byte " << byte << " encodes to " << encoded;
      EXPECT_EQ(std::string("/\\#?").find(c), std::string::npos) << "byte " << byte << " encodes to " << encoded;
    }
    EXPECT_EQ(DecodeRowKey(encoded), key) << "byte " << byte;
  }
  EXPECT_EQ(EncodeRowKey("user:42"), "user:42");
  EXPECT_EQ(EncodeRowKey("a/b.txt"), "a.1b.0txt");
  EXPECT_EQ(EncodeRowKey("\xc3\xa9"), "~C3~A9");
}

TEST(AzureTableKeysTest, EncodingKeepsByteOrderAndPrefixesAreRanges) {
  std::mt19937 random(7);
  for (int i = 0; i < 20000; ++i) {
    const std::string a = RandomKey(random), b = RandomKey(random);
    const std::string ea = EncodeRowKey(a), eb = EncodeRowKey(b);
    ASSERT_EQ(Sign(a.compare(b)), Sign(ea.compare(eb))) << "'" << a << "' vs '" << b << "'";
    const bool has_prefix = b.compare(0, a.size(), a) == 0 && b.size() >= a.size();
    const bool in_range = eb >= ea && eb < RowKeyPrefixEnd(ea);
    ASSERT_EQ(has_prefix, in_range) << "prefix '" << a << "' of '" << b << "'";
    ASSERT_EQ(DecodeRowKey(eb), b);
  }
}

TEST(AzureTableKeysTest, ForeignRowKeysDoNotDecode) {
  for (const char* foreign : {"!", "!Y", ".2", "~", "~7", "~7D", "~c3", "/", "a?b", "\x01"}) {
    EXPECT_FALSE(DecodeRowKey(foreign).has_value()) << foreign;
  }
}

TEST(AzureTableKeysTest, EntityPathsQuoteAndEncodeTheKeys) {
  EXPECT_EQ(EntityPath("users", "a.1b"), "(PartitionKey='users',RowKey='a.1b')");
  EXPECT_EQ(EntityPath("o'k", "x y\""), "(PartitionKey='o%27%27k',RowKey='x%20y%22')");
  EXPECT_EQ(ODataString("it's"), "'it''s'");
}

}  // namespace
}  // namespace cloudkit::azure
