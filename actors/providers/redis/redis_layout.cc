#include "providers/redis/redis_layout.h"

#include "core/hex.h"

namespace cloudkit::redis {

std::string EncodeListToken(std::string_view table, std::string_view last_key) {
  std::string plain(table);
  plain += '\0';
  plain += last_key;
  return ToHex(plain);
}

std::optional<std::string> DecodeListToken(std::string_view table, std::string_view token) {
  if (token.size() % 2 != 0) return std::nullopt;
  std::string plain;
  plain.reserve(token.size() / 2);
  for (size_t i = 0; i < token.size(); i += 2) {
    const int high = HexDigit(token[i]);
    const int low = HexDigit(token[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    plain += static_cast<char>(high * 16 + low);
  }
  if (plain.size() <= table.size() || plain.compare(0, table.size(), table) != 0 || plain[table.size()] != '\0') {
    return std::nullopt;
  }
  return plain.substr(table.size() + 1);
}

}  // namespace cloudkit::redis
