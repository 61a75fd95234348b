// What the commands that send messages (`queue send`, `pubsub publish`)
// read off their command lines: the message, or stdin for "-", and
// KEY=VALUE pairs (attributes, filters).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/map.h>

namespace cloudkit::cli {

// `arg` itself, or all of stdin when `arg` is "-". nullopt, with `*error` set
// to a message for the user naming `what` ("value", "message"), when stdin
// cannot be read or holds more than `max_bytes`.
std::optional<std::string> ArgOrStdin(const std::string& arg, size_t max_bytes, const std::string& what,
                                      std::string* error);
// The same for a message: at most 1 MiB.
std::optional<std::string> MessageFrom(const std::string& arg, std::string* error);
// Puts each KEY=VALUE of `pairs` into `out`. Answers the first pair that is
// not one (no '=' or an empty KEY), or "" when all are.
std::string PairsInto(const std::vector<std::string>& pairs, google::protobuf::Map<std::string, std::string>* out);

}  // namespace cloudkit::cli
