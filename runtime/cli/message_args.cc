#include "cli/message_args.h"

#include <iostream>
#include <iterator>

namespace cloudkit::cli {
namespace {

constexpr size_t kMaxMessageBytes = 1 << 20;

}  // namespace

std::optional<std::string> ArgOrStdin(const std::string& arg, size_t max_bytes) {
  if (arg != "-") return arg;
  std::string body;
  std::istreambuf_iterator<char> in(std::cin), end;
  while (in != end && body.size() <= max_bytes) body.push_back(*in++);
  if (body.size() > max_bytes) return std::nullopt;
  return body;
}

std::optional<std::string> MessageFrom(const std::string& arg) { return ArgOrStdin(arg, kMaxMessageBytes); }

std::string PairsInto(const std::vector<std::string>& pairs, google::protobuf::Map<std::string, std::string>* out) {
  for (const std::string& pair : pairs) {
    const size_t equals = pair.find('=');
    if (equals == std::string::npos || equals == 0) return pair;
    (*out)[pair.substr(0, equals)] = pair.substr(equals + 1);
  }
  return {};
}

}  // namespace cloudkit::cli
