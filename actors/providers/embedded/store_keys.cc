#include "providers/embedded/store_keys.h"

#include "core/hex.h"

namespace cloudkit::embedded {

std::string BucketKey(std::string_view bucket) {
  std::string out(kBucketPrefix);
  out.append(bucket);
  return out;
}

std::string ObjectKey(std::string_view bucket, std::string_view key) {
  std::string out(kObjectPrefix);
  out.append(bucket);
  out.push_back('\0');
  out.append(key);
  return out;
}

std::string ItemKey(std::string_view table, std::string_view key) {
  std::string out(table);
  out.push_back('\0');
  out.append(key);
  return out;
}

std::string PrefixSuccessor(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    unsigned char last = out.back();
    if (last != 0xFF) {
      out.back() = static_cast<char>(last + 1);
      return out;
    }
    out.pop_back();
  }
  return out;
}

std::string EncodeToken(std::string_view resume_at) { return ToHex(resume_at); }

std::optional<std::string> DecodeToken(std::string_view token) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (token.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(token.size() / 2);
  for (size_t i = 0; i < token.size(); i += 2) {
    int hi = nibble(token[i]), lo = nibble(token[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

}  // namespace cloudkit::embedded
