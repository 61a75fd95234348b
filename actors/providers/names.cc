#include "providers/names.h"

#include <cstdio>

namespace cloudkit::names {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

Status CheckKeyCommon(std::string_view what, std::string_view key) {
  if (key.empty()) return Status::InvalidArgument(std::string(what) + " key is empty");
  if (key.size() > kMaxKey) {
    return Status::InvalidArgument(std::string(what) + " key " + Quote(key) + " is longer than " +
                                   std::to_string(kMaxKey) + " bytes");
  }
  if (key.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument(std::string(what) + " key " + Quote(key) + " contains NUL");
  }
  if (!IsValidUtf8(key)) {
    return Status::InvalidArgument(std::string(what) + " key " + Quote(key) + " is not valid UTF-8");
  }
  return Status::Ok();
}

// A name of 1..`max` letters, digits and `punctuation`, starting with a letter
// or digit; `punctuation_text` lists the punctuation for the message.
Status CheckToken(std::string_view what, std::string_view name, size_t max, std::string_view punctuation,
                  std::string_view punctuation_text) {
  std::string label(what);
  if (name.empty()) return Status::InvalidArgument(label + " name is empty");
  if (name.size() > max) {
    return Status::InvalidArgument(label + " name " + Quote(name) + " is longer than " + std::to_string(max) +
                                   " characters");
  }
  if (!IsAlnum(name[0])) {
    return Status::InvalidArgument(label + " name " + Quote(name) + " must start with a letter or digit");
  }
  for (char c : name) {
    if (!IsAlnum(c) && punctuation.find(c) == std::string_view::npos) {
      return Status::InvalidArgument(label + " name " + Quote(name) + " may only hold letters, digits, " +
                                     std::string(punctuation_text));
    }
  }
  return Status::Ok();
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    size_t extra;
    uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { extra = 1; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { extra = 2; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { extra = 3; cp = c & 0x07; }
    else return false;
    if (i + extra >= s.size()) return false;
    for (size_t k = 1; k <= extra; ++k) {
      unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}


std::string Quote(std::string_view name) {
  constexpr size_t kShown = 80;
  std::string out = "'";
  for (size_t i = 0; i < name.size() && i < kShown; ++i) {
    unsigned char c = name[i];
    if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else if (c == '\'' || c == '\\') {
      out += '\\';  // so that the quotes end where the name does
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (name.size() > kShown) out += "...";
  return out + "'";
}

Status CheckContainerName(std::string_view what, std::string_view name) {
  return CheckToken(what, name, kMaxContainerName, "._-", "'.', '-' and '_'");
}

Status CheckObjectKey(std::string_view key) {
  CK_RETURN_IF_ERROR(CheckKeyCommon("object", key));
  if (key.front() == '/') {
    return Status::InvalidArgument("object key " + Quote(key) + " is an absolute path");
  }
  size_t start = 0;
  while (start <= key.size()) {
    size_t slash = key.find('/', start);
    size_t end = slash == std::string_view::npos ? key.size() : slash;
    std::string_view segment = key.substr(start, end - start);
    if (segment == "." || segment == "..") {
      return Status::InvalidArgument("object key " + Quote(key) + " has a '" +
                                     std::string(segment) + "' segment");
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return Status::Ok();
}

Status CheckItemKey(std::string_view key) { return CheckKeyCommon("item", key); }

Status CheckSecretName(std::string_view name) {
  return CheckToken("secret", name, kMaxSecretName, "._-/", "'.', '-', '_' and '/'");
}

}  // namespace cloudkit::names
