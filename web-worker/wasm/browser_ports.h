// The browser's implementations of the actor core's ports that need nothing
// asynchronous: the clock (Date.now), and MD5, SHA-256 and HMAC-SHA256 (JS
// hashers the worker script supplies as Module.ckHash: src/hash_port.js).
#pragma once

#include "ports/clock.h"
#include "ports/hash.h"

namespace cloudkit::web {

class BrowserClock : public ports::Clock {
 public:
  int64_t NowMs() override;
};

class JsHashPort : public ports::HashPort {
 public:
  std::unique_ptr<ports::Hasher> NewMd5() override;
  std::unique_ptr<ports::Hasher> NewSha256() override;
  std::string HmacSha256(std::string_view key, std::string_view data) override;
};

}  // namespace cloudkit::web
