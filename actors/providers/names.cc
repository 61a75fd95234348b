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

// The length of the valid UTF-8 sequence at s[i] (0 if there is none), and its code point.
size_t Utf8SequenceAt(std::string_view s, size_t i, uint32_t* code_point) {
  const unsigned char c = s[i];
  size_t extra;
  uint32_t cp;
  if (c < 0x80) { *code_point = c; return 1; }
  if ((c & 0xE0) == 0xC0) { extra = 1; cp = c & 0x1F; }
  else if ((c & 0xF0) == 0xE0) { extra = 2; cp = c & 0x0F; }
  else if ((c & 0xF8) == 0xF0) { extra = 3; cp = c & 0x07; }
  else return 0;
  if (i + extra >= s.size()) return 0;
  for (size_t k = 1; k <= extra; ++k) {
    const unsigned char cc = s[i + k];
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
  if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  *code_point = cp;
  return extra + 1;
}

void AppendByteEscape(unsigned char c, std::string* out) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", c);
  *out += buf;
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  uint32_t code_point;
  for (size_t i = 0; i < s.size();) {
    const size_t length = Utf8SequenceAt(s, i, &code_point);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

std::string Escaped(std::string_view text, std::string_view also) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    const size_t length = Utf8SequenceAt(text, i, &cp);
    const bool control = cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);  // C0, DEL and C1 (U+0080-U+009F)
    if (length == 0 || control) {
      const size_t bytes = length == 0 ? 1 : length;
      for (size_t k = 0; k < bytes; ++k) AppendByteEscape(static_cast<unsigned char>(text[i + k]), &out);
      i += bytes;
      continue;
    }
    if (text[i] == '\\' || (length == 1 && also.find(text[i]) != std::string_view::npos)) out += '\\';
    out.append(text, i, length);
    i += length;
  }
  return out;
}

std::string Quote(std::string_view name) {
  constexpr size_t kShown = 80;
  // Its own quotes escaped too, so that the quotes end where the name does.
  std::string out = "'" + Escaped(name.substr(0, kShown), "'");
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
