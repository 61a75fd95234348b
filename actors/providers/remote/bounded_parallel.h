// RunBounded: many independent requests of one call (deleting a list of
// objects, reading a list of items) sent concurrently, at most `limit` at
// once, on the calling actor's turns. It completes when every one has.
// `step(i)` runs for each i in [0, count), in order of start; what it needs
// beyond i it must own (e.g. a shared_ptr to the results), as the steps live
// in frames of their own.
//
// REQUIRES: used from one actor's turns.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "core/task.h"
#include "providers/resilience/concurrency_limit.h"

namespace cloudkit::remote {

inline Task<void> RunBounded(size_t count, size_t limit, std::function<Task<void>(size_t)> step) {
  if (limit == 0) limit = 1;
  struct Shared {
    explicit Shared(size_t limit, std::function<Task<void>(size_t)> step) : slots(limit), step(std::move(step)) {}
    resilience::ConcurrencyLimit slots;
    std::function<Task<void>(size_t)> step;
  };
  auto shared = std::make_shared<Shared>(limit, std::move(step));
  for (size_t i = 0; i < count; ++i) {
    auto slot = shared->slots.Acquire();
    co_await slot->Granted();
    Detach([](std::shared_ptr<Shared> s, size_t index,
              std::unique_ptr<resilience::ConcurrencyLimit::Permit> held) -> Task<void> {
      co_await s->step(index);
      held.reset();
    }(shared, i, std::move(slot)));
  }
  // Every step done: every slot free again.
  std::vector<std::unique_ptr<resilience::ConcurrencyLimit::Permit>> all;
  for (size_t i = 0; i < limit; ++i) {
    all.push_back(shared->slots.Acquire());
    co_await all.back()->Granted();
  }
}

}  // namespace cloudkit::remote
