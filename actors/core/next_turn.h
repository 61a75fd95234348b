// NextTurn(): lets an actor's other work run before an operation goes on.
// Over a store that answers at once (memory), a walk over many entries
// (counting or collecting a queue's messages) would run in one turn of its
// actor; and an actor run inline on a host's own loop (the daemon's front
// door) would hold every other client up meanwhile. An operation awaits
// NextTurn() between the steps of such a walk: the rest of the walk runs on
// a later turn of its actor. Outside a turn (no executor) it goes on at once.
#pragma once

#include <memory>

#include "core/async.h"
#include "core/executor.h"

namespace cloudkit {

inline Async<bool> NextTurn() {
  const std::shared_ptr<Executor>& executor = CurrentExecutor();
  if (!executor) return Async<bool>::Ready(true);
  Completion<bool> next_turn;
  next_turn.PostTo(*executor, true);
  return next_turn.async();
}

}  // namespace cloudkit
