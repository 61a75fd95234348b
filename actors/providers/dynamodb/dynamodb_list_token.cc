#include "providers/dynamodb/dynamodb_list_token.h"

#include "core/base64.h"

namespace cloudkit::dynamodb {
namespace {
constexpr std::string_view kVersion = "ck1:";
}  // namespace

std::string ListingTag(ports::HashPort& hash, std::string_view dynamo_table, std::string_view table,
                       std::string_view prefix) {
  auto sha = hash.NewSha256();
  sha->Update(dynamo_table);
  sha->Update(std::string_view("\0", 1));
  sha->Update(table);
  sha->Update(std::string_view("\0", 1));
  sha->Update(prefix);
  return sha->FinishHex().substr(0, 16);
}

std::string EncodeListToken(std::string_view tag, std::string_view last_key) {
  std::string plain(kVersion);
  plain.append(tag);
  plain.push_back(':');
  plain.append(last_key);
  return Base64Encode(plain);
}

std::optional<std::string> DecodeListToken(std::string_view token, std::string_view tag) {
  std::optional<std::string> plain = Base64Decode(token);
  if (!plain) return std::nullopt;
  std::string head(kVersion);
  head.append(tag);
  head.push_back(':');
  if (plain->size() <= head.size() || plain->compare(0, head.size(), head) != 0) return std::nullopt;
  return plain->substr(head.size());
}

}  // namespace cloudkit::dynamodb
