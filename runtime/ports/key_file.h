// Key files: a secret key kept as base64 text in a file only its owner may
// read. The first start of a host creates it (a new random key, mode 0600,
// written whole before it appears under its name); later starts read it back.
// Internal to runtime/ports (the sealer port's keys).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"

namespace cloudkit::key_file {

// The `size` key bytes the file at `path` holds, creating it (and its
// directory, mode 0700) with `size` random bytes when absent. Two hosts
// creating it at once end up with the same key. FAILED_PRECONDITION for a
// file that group or others may access, or that does not hold base64 of
// `size` bytes; messages name the file, never the key.
Result<std::string> ReadOrCreate(const std::string& path, size_t size);

// The `size` bytes whose base64 (standard alphabet, padded; surrounding
// whitespace ignored) is `text`; INVALID_ARGUMENT, showing none of it, when
// it is not that.
Result<std::string> DecodeKey(std::string_view text, size_t size);

}  // namespace cloudkit::key_file
