// The browser's implementations of the actor core's ports that need nothing
// asynchronous: the clock (Date.now) and MD5 (a JS hasher the worker script
// supplies as Module.ckMd5, from the spark-md5 package).
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
};

}  // namespace cloudkit::web
