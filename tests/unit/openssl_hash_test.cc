// OpenSslHashPort: MD5 against the RFC 1321 test suite and other known
// vectors, fed whole and in pieces.
#include "ports/openssl_hash.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "core/hex.h"

namespace cloudkit {
namespace {

std::string Md5(OpenSslHashPort& port, const std::string& data) {
  auto h = port.NewMd5();
  h->Update(data);
  return h->FinishHex();
}

const std::vector<std::pair<std::string, std::string>>& Vectors() {
  static const std::vector<std::pair<std::string, std::string>> v = {
      // RFC 1321, appendix A.5.
      {"", "d41d8cd98f00b204e9800998ecf8427e"},
      {"a", "0cc175b9c0f1b6a831c399e269772661"},
      {"abc", "900150983cd24fb0d6963f7d28e17f72"},
      {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
      {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
      {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
       "d174ab98d277d9f5a5611c2c9f419d9f"},
      {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
       "57edf4a22be3c955ac49da2e2107b67a"},
      // Well known.
      {"The quick brown fox jumps over the lazy dog", "9e107d9d372bb6826bd81d3542a419d6"},
      {"The quick brown fox jumps over the lazy dog.", "e4d909c290d0fb1ca068ffaddf22cbd0"},
  };
  return v;
}

TEST(OpenSslHashTest, KnownVectors) {
  OpenSslHashPort port;
  for (const auto& [in, want] : Vectors()) EXPECT_EQ(Md5(port, in), want) << "'" << in << "'";
}

TEST(OpenSslHashTest, IncrementalEqualsOneShot) {
  OpenSslHashPort port;
  for (const auto& [in, want] : Vectors()) {
    for (size_t step : {1, 3, 64}) {
      auto h = port.NewMd5();
      for (size_t off = 0; off < in.size(); off += step) h->Update(std::string_view(in).substr(off, step));
      h->Update("");  // empty updates change nothing
      EXPECT_EQ(h->FinishHex(), want) << "'" << in << "' in steps of " << step;
    }
  }
}

TEST(OpenSslHashTest, MillionAsAndBinaryInput) {
  OpenSslHashPort port;
  auto h = port.NewMd5();
  const std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i) h->Update(chunk);
  EXPECT_EQ(h->FinishHex(), "7707d6ae4e027c70eea2a935c2296f21");

  // Bytes with NULs are hashed, not cut at the first NUL.
  EXPECT_NE(Md5(port, std::string("a\0b", 3)), Md5(port, "a"));
  EXPECT_EQ(Md5(port, std::string(1, '\0')), "93b885adfe0da089cdf634904fd59f71");
}

TEST(OpenSslHashTest, HashersAreIndependent) {
  OpenSslHashPort port;
  auto a = port.NewMd5();
  auto b = port.NewMd5();
  a->Update("ab");
  b->Update("message ");
  a->Update("c");
  b->Update("digest");
  EXPECT_EQ(a->FinishHex(), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(b->FinishHex(), "f96b697d7cb7938d525a2f31aaf161d0");
}

// FIPS 180-2's example and RFC 4231's test case 2.
TEST(OpenSslHashTest, Sha256AndHmacSha256MatchThePublishedVectors) {
  OpenSslHashPort port;
  auto sha = port.NewSha256();
  sha->Update("a");
  sha->Update("bc");
  EXPECT_EQ(sha->FinishHex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string mac = port.HmacSha256("Jefe", "what do ya want for nothing?");
  ASSERT_EQ(mac.size(), 32u);
  EXPECT_EQ(ToHex(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
}  // namespace cloudkit
