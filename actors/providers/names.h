// Name rules shared by every provider, so a name valid on `memory` is valid on
// `local` and on the clouds, and nothing a client sends can name a path outside
// a binding's data: bucket, table and binding names are short plain tokens;
// object and item keys are UTF-8 without NUL, and object keys also cannot be
// absolute or contain `.`/`..` segments. Each check returns INVALID_ARGUMENT
// naming the offending value.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace cloudkit::names {

inline constexpr size_t kMaxContainerName = 63;  // buckets, tables, bindings
inline constexpr size_t kMaxKey = 1024;          // object and item keys, bytes
inline constexpr size_t kMaxSecretName = 255;

// 1..63 of [A-Za-z0-9._-], starting with a letter or digit. `what` is
// "bucket", "table" or "binding" and appears in the message.
Status CheckContainerName(std::string_view what, std::string_view name);
Status CheckObjectKey(std::string_view key);
Status CheckItemKey(std::string_view key);
// 1..255 of [A-Za-z0-9._/-], starting with a letter or digit ("db/password").
Status CheckSecretName(std::string_view name);

// `text` safe to show on one line of a terminal: control characters (C0,
// DEL, and C1 as UTF-8 encodes them) and bytes that are not UTF-8 become
// \xNN, and backslashes and the characters of `also` get a backslash.
std::string Escaped(std::string_view text, std::string_view also = {});

// For messages: the name in quotes, shortened, escaped as above, its own
// quotes too (\').
std::string Quote(std::string_view name);

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool IsValidUtf8(std::string_view bytes);

}  // namespace cloudkit::names
