// BindSymbol: one function of a library the daemon loads with dlopen on
// first use (libcurl, libcrypto) instead of at start, so that a daemon that
// never needs them does not carry their pages.
#pragma once

#include <dlfcn.h>

#include <string>

namespace cloudkit {

// Sets *out to the function `name` of `handle`; when the library lacks it,
// says which in *missing and returns false.
template <typename F>
bool BindSymbol(void* handle, const char* name, F* out, std::string* missing) {
  *out = reinterpret_cast<F>(dlsym(handle, name));
  if (*out == nullptr) *missing = name;
  return *out != nullptr;
}

}  // namespace cloudkit
