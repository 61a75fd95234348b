// The byte format the fuzz harnesses read their inputs in: a script of steps,
// each a one-byte operation and its arguments, where a byte string is a
// little-endian 16-bit length and that many bytes. Plain enough that the seed
// corpus (seed_corpus.cc) writes meaningful scripts and libFuzzer's mutations
// of them stay meaningful; a script that ends early just ends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cloudkit::fuzz {

class ScriptReader {
 public:
  ScriptReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool done() const { return pos_ >= size_; }
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint16_t U16() {
    uint16_t low = Byte();
    return static_cast<uint16_t>(low | (Byte() << 8));
  }
  // A byte string: its length, then its bytes (fewer when the script ends first).
  std::string_view Bytes() {
    size_t n = U16();
    if (n > size_ - pos_) n = size_ - pos_;
    std::string_view bytes(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return bytes;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// Writes scripts the way ScriptReader reads them.
class ScriptWriter {
 public:
  ScriptWriter& Byte(uint8_t b) {
    script_.push_back(static_cast<char>(b));
    return *this;
  }
  ScriptWriter& U16(uint16_t v) { return Byte(v & 0xff).Byte(v >> 8); }
  ScriptWriter& Bytes(std::string_view bytes) {
    U16(static_cast<uint16_t>(bytes.size()));
    script_.append(bytes.substr(0, 0xffff));
    return *this;
  }
  const std::string& script() const { return script_; }

 private:
  std::string script_;
};

}  // namespace cloudkit::fuzz
