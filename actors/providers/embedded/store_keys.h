// How the embedded providers lay their records out in an OrderedStore, and the
// page tokens they hand to clients. Names never contain NUL (providers/names),
// so NUL separates a container from the key inside it and keeps every
// container's entries contiguous and in key order:
//   "b/" bucket                 -> store.v1.BucketRecord
//   "o/" bucket "\0" key        -> store.v1.ObjectRecord
//   table "\0" key              -> store.v1.ItemRecord   (key-value store)
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cloudkit::embedded {

std::string BucketKey(std::string_view bucket);
inline constexpr std::string_view kBucketPrefix = "b/";

// The start of every object record, of bucket's objects, and of the key `key` in it.
inline constexpr std::string_view kObjectPrefix = "o/";
std::string ObjectKey(std::string_view bucket, std::string_view key);
std::string ItemKey(std::string_view table, std::string_view key);

// The smallest string greater than every string starting with `prefix`;
// empty when there is none (all 0xFF), meaning "no upper bound".
std::string PrefixSuccessor(std::string_view prefix);

// Page tokens are the hex of the store key where the next page starts, so they
// are opaque, printable and cheap to check.
std::string EncodeToken(std::string_view resume_at);
std::optional<std::string> DecodeToken(std::string_view token);

}  // namespace cloudkit::embedded
