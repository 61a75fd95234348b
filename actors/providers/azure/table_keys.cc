#include "providers/azure/table_keys.h"

#include "core/hex.h"
#include "providers/aws/sigv4.h"

namespace cloudkit::azure {
namespace {

// The runs of bytes, in order: those with a lead are coded as the lead and a
// fixed-width index; the others stand for themselves.
struct Run {
  unsigned first, last;
  char lead;  // '\0': each byte is its own code
};
constexpr Run kRuns[] = {
    {0x00, 0x21, '!'},  // controls, space, !
    {0x22, 0x23, '"'},  // " #
    {0x24, 0x25, '$'},  // $ %
    {0x26, 0x27, '&'},  // & '
    {0x28, 0x2D, 0},    // ( ) * + , -
    {0x2E, 0x2F, '.'},  // . /
    {0x30, 0x3D, 0},    // 0-9 : ; < =
    {0x3E, 0x3F, '>'},  // > ?
    {0x40, 0x5A, 0},    // @ A-Z
    {0x5B, 0x5C, '['},  // [ backslash
    {0x5D, 0x7D, 0},    // ] ^ _ ` a-z { | }
    {0x7E, 0xFF, '~'},  // ~ DEL and every non-ASCII byte: two hex digits
};
// Indexes within a run (up to 34 bytes), in increasing order.
constexpr char kIndex[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWX";
constexpr char kHex[] = "0123456789ABCDEF";

const Run& RunOf(unsigned byte) {
  for (const Run& run : kRuns) {
    if (byte <= run.last) return run;
  }
  return kRuns[sizeof kRuns / sizeof kRuns[0] - 1];
}

const Run* RunLedBy(char c) {
  for (const Run& run : kRuns) {
    if (run.lead != 0 && run.lead == c) return &run;
  }
  return nullptr;
}

int IndexOf(char c) {
  for (int i = 0; kIndex[i] != '\0'; ++i) {
    if (kIndex[i] == c) return i;
  }
  return -1;
}

}  // namespace

std::string EncodeRowKey(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (unsigned char byte : key) {
    const Run& run = RunOf(byte);
    if (run.lead == 0) {
      out.push_back(static_cast<char>(byte));
    } else if (run.lead == '~') {
      out += '~';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    } else {
      out += run.lead;
      out += kIndex[byte - run.first];
    }
  }
  return out;
}

std::optional<std::string> DecodeRowKey(std::string_view row_key) {
  std::string out;
  for (size_t i = 0; i < row_key.size(); ++i) {
    const char c = row_key[i];
    const Run* led = RunLedBy(c);
    if (led == nullptr) {
      const unsigned byte = static_cast<unsigned char>(c);
      if (RunOf(byte).lead != 0) return std::nullopt;
      out.push_back(c);
    } else if (led->lead == '~') {
      if (i + 2 >= row_key.size()) return std::nullopt;
      const int high = HexDigit(row_key[i + 1]), low = HexDigit(row_key[i + 2]);
      if (high < 0 || low < 0 || row_key[i + 1] > 'F' || row_key[i + 2] > 'F') return std::nullopt;
      const unsigned byte = static_cast<unsigned>(high * 16 + low);
      if (byte < led->first) return std::nullopt;
      out.push_back(static_cast<char>(byte));
      i += 2;
    } else {
      if (i + 1 >= row_key.size()) return std::nullopt;
      const int index = IndexOf(row_key[i + 1]);
      if (index < 0 || led->first + static_cast<unsigned>(index) > led->last) return std::nullopt;
      out.push_back(static_cast<char>(led->first + static_cast<unsigned>(index)));
      i += 1;
    }
  }
  return out;
}

std::string RowKeyPrefixEnd(std::string_view encoded_prefix) { return std::string(encoded_prefix) + "~~"; }

std::string ODataString(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

std::string EntityPath(std::string_view partition_key, std::string_view row_key) {
  // The quotes and punctuation as Azure's SDKs send them; the keys' text encoded.
  auto quoted = [](std::string_view text) {
    const std::string literal = ODataString(text);
    return "'" + aws::UriEncode(std::string_view(literal).substr(1, literal.size() - 2), false) + "'";
  };
  return "(PartitionKey=" + quoted(partition_key) + ",RowKey=" + quoted(row_key) + ")";
}

}  // namespace cloudkit::azure
