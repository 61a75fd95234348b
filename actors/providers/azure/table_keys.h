// How the API's items map onto Azure Table entities' keys. One Azure table
// holds a binding's items: the API's table is the PartitionKey (its names,
// [A-Za-z0-9._-], are valid as they are), the item's key the RowKey.
//
// RowKeys forbid / \ # ? and control characters, and a listing must come
// back in the keys' byte order (the embedded providers' order) and select a
// prefix with a range. So keys are encoded, reversibly, into printable ASCII
// by an order-preserving prefix-free code: most printable characters stand
// for themselves; each of the few runs of bytes that cannot (or that would
// need quoting in URLs and filters: " # $ % & ' . / > ? [ \, controls and
// space, and every byte from 0x7E up, i.e. all non-ASCII UTF-8) shares a
// lead character, the run's lowest printable one, followed by a fixed-width
// index: "a/b.txt" is "a.1b.0txt", "é" (C3 A9) is "~C3~A9". Since each run's
// codes start with a character between the run's bounds, and a lead never
// stands for itself, comparing encodings compares the keys byte by byte (as
// Azure compares RowKeys: ordinally, and all of these are ASCII). Every
// encoding of a key starting with `p` lies in [Encode(p), Encode(p) + "~~"):
// no code starts with a character above '~', and '~' is followed by a hex
// digit.
//
// Azure allows RowKeys of 1 KiB, Azurite 512 characters: keys whose encoding
// is longer are refused (INVALID_ARGUMENT), as no order-preserving encoding
// of 1024-byte keys fits.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cloudkit::azure {

inline constexpr size_t kMaxRowKeyChars = 512;

std::string EncodeRowKey(std::string_view key);
// nullopt for a RowKey that is no encoding (an entity this provider did not write).
std::optional<std::string> DecodeRowKey(std::string_view row_key);
// The exclusive upper bound of the RowKeys of keys starting with the key
// whose encoding is `encoded_prefix`.
std::string RowKeyPrefixEnd(std::string_view encoded_prefix);

// An OData string literal: 'text' with each ' doubled.
std::string ODataString(std::string_view text);
// The entity's address after the table's name: "(PartitionKey='p',RowKey='r')",
// percent-encoded for a URL path.
std::string EntityPath(std::string_view partition_key, std::string_view row_key);

}  // namespace cloudkit::azure
