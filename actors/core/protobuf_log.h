// Protobuf writes its own complaints to stderr, e.g. "String field contains
// invalid UTF-8 data when parsing a protocol buffer": one line per bad
// message, which a client can cause at will. A host calls
// RouteProtobufLog() once at start to send those lines to its own (rate
// limited) log instead. Decoders then learn why a parse failed: the last
// complaint protobuf made on the calling thread.
#pragma once

#include <string>

#include "core/status.h"

namespace cloudkit {

// What a line of protobuf's is about.
enum class ProtobufLine {
  kBadInput,  // a parse's complaint about the bytes it was given: a client can cause it at will
  kError,     // anything else at WARNING or above (ours to fix; FATAL ends the process after it)
  kInfo,
};
// Where protobuf's lines go. May be called from any thread. Null drops them.
using ProtobufLogSink = void (*)(ProtobufLine kind, const std::string& line);

// Installs the route for the whole process (replacing protobuf's default).
void RouteProtobufLog(ProtobufLogSink sink);

// Forgets this thread's last complaint; call before a parse.
void ClearProtobufComplaint();

// Why the last parse on this thread failed, in a few words ("a string field
// is not valid UTF-8"), or "" when protobuf said nothing useful. Only known
// once RouteProtobufLog() ran.
std::string ProtobufComplaint();

// INVALID_ARGUMENT "<what> is not a valid <type_name>", with the reason when
// protobuf gave one on this thread since the last ClearProtobufComplaint().
Status NotAValid(const std::string& what, const std::string& type_name);

}  // namespace cloudkit
