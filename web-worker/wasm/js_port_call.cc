#include "js_port_call.h"

#include <emscripten.h>
#include <emscripten/em_js.h>

#include <cstdlib>
#include <cstring>

// Returns a malloc'd [u32 length][reply bytes] that the caller frees.
EM_ASYNC_JS(char*, ck_js_port_call, (const char* port, const char* op, const char* request, size_t request_size), {
  const reply = await Module[UTF8ToString(port)].call(UTF8ToString(op), HEAPU8.slice(request, request + request_size));
  const ptr = _malloc(reply.length + 4);
  HEAPU32[ptr >> 2] = reply.length;
  HEAPU8.set(reply, ptr + 4);
  return ptr;
});

namespace cloudkit::web {

Result<std::string> CallJsPort(const char* port, const std::string& op, const std::string& request) {
  char* raw = ck_js_port_call(port, op.c_str(), request.data(), request.size());
  if (raw == nullptr) return Status::Internal(std::string(port) + " " + op + ": no reply");
  uint32_t size;
  std::memcpy(&size, raw, sizeof size);
  std::string reply(raw + sizeof size, size);
  std::free(raw);
  return reply;
}

}  // namespace cloudkit::web
