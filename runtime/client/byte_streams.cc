#include "client/byte_streams.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <istream>
#include <memory>
#include <ostream>

namespace cloudkit {
namespace {

// Local I/O failures have no protocol code of their own: they carry INTERNAL,
// and a message without the "internal:" prefix, since nothing inside the
// daemon failed; it says what could not be read or written.
Status IoError(const std::string& what, const std::string& name, int error) {
  return Status(v1::INTERNAL, "cannot " + what + " " + name + ": " + std::strerror(error));
}

}  // namespace

ByteSource SourceFromStream(std::istream& in) {
  return [&in](char* buffer, size_t capacity) -> Result<size_t> {
    if (in.eof()) return size_t{0};
    in.read(buffer, static_cast<std::streamsize>(capacity));
    if (in.bad()) return Status(v1::INTERNAL, "cannot read the input stream");
    return static_cast<size_t>(in.gcount());
  };
}

ByteSource SourceFromFd(int fd, std::string name) {
  return [fd, name = std::move(name)](char* buffer, size_t capacity) -> Result<size_t> {
    while (true) {
      ssize_t n = read(fd, buffer, capacity);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return IoError("read", name, errno);
    }
  };
}

ByteSource SourceFromString(std::string_view data) {
  auto offset = std::make_shared<size_t>(0);
  return [data, offset](char* buffer, size_t capacity) -> Result<size_t> {
    size_t n = std::min(capacity, data.size() - *offset);
    std::memcpy(buffer, data.data() + *offset, n);
    *offset += n;
    return n;
  };
}

ByteSink SinkToStream(std::ostream& out) {
  return [&out](std::string_view chunk) -> Status {
    out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    if (!out) return Status(v1::INTERNAL, "cannot write the output stream");
    return Status::Ok();
  };
}

ByteSink SinkToFd(int fd, std::string name) {
  return [fd, name = std::move(name)](std::string_view chunk) -> Status {
    while (!chunk.empty()) {
      ssize_t n = write(fd, chunk.data(), chunk.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return IoError("write", name, errno);
      }
      chunk.remove_prefix(static_cast<size_t>(n));
    }
    return Status::Ok();
  };
}

ByteSink SinkToString(std::string* out) {
  return [out](std::string_view chunk) -> Status {
    out->append(chunk);
    return Status::Ok();
  };
}

}  // namespace cloudkit
