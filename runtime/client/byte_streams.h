// Adapters between ordinary byte containers (std::istream / std::ostream,
// POSIX file descriptors, std::string) and the ByteSource / ByteSink callbacks
// that streamed object transfers use. The adapters keep references: the stream,
// descriptor or string must outlive the transfer.
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>

#include "client/client_options.h"

namespace cloudkit {

ByteSource SourceFromStream(std::istream& in);
// Reads until end of file; retries EINTR. `name` appears in error messages.
ByteSource SourceFromFd(int fd, std::string name = "input");
ByteSource SourceFromString(std::string_view data);

ByteSink SinkToStream(std::ostream& out);
// Writes every byte; retries EINTR and short writes.
ByteSink SinkToFd(int fd, std::string name = "output");
ByteSink SinkToString(std::string* out);

}  // namespace cloudkit
