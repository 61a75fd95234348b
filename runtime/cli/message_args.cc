#include "cli/message_args.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "cli/formatting.h"

namespace cloudkit::cli {
namespace {

constexpr size_t kMaxMessageBytes = 1 << 20;

}  // namespace

std::optional<std::string> ArgOrStdin(const std::string& arg, size_t max_bytes, const std::string& what,
                                      std::string* error) {
  if (arg != "-") return arg;
  std::string body(max_bytes + 1, '\0');  // one byte more tells "too large" from "just fits"
  size_t got = 0;
  while (got < body.size()) {
    const size_t n = std::fread(body.data() + got, 1, body.size() - got, stdin);
    if (n == 0) break;
    got += n;
  }
  if (std::ferror(stdin)) {
    *error = "cannot read the " + what + " from stdin: " + std::strerror(errno);
    return std::nullopt;
  }
  if (got > max_bytes) {
    *error = "the " + what + " on stdin is over " + HumanBytes(static_cast<double>(max_bytes)) +
             ", more than it may hold";
    return std::nullopt;
  }
  body.resize(got);
  return body;
}

std::optional<std::string> MessageFrom(const std::string& arg, std::string* error) {
  return ArgOrStdin(arg, kMaxMessageBytes, "message", error);
}

std::string PairsInto(const std::vector<std::string>& pairs, google::protobuf::Map<std::string, std::string>* out) {
  for (const std::string& pair : pairs) {
    const size_t equals = pair.find('=');
    if (equals == std::string::npos || equals == 0) return pair;
    (*out)[pair.substr(0, equals)] = pair.substr(equals + 1);
  }
  return {};
}

}  // namespace cloudkit::cli
