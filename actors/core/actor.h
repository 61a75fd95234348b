// The contract between an actor and the host that runs it. A host (CAF in
// runtime/, the Web Worker scheduler in web-worker/) delivers Inbound messages
// to an Actor one at a time, and the actor answers through the Outbox the host
// gave it. Actors own their state and never block on each other.
#pragma once

#include <cstdint>
#include <string>

#include "cloudkit/v1/envelope.pb.h"
#include "core/status.h"

namespace cloudkit {

// One frame of a call, delivered to the actor serving it.
struct Inbound {
  uint64_t call_id = 0;       // unique within the host for the life of the call
  uint64_t client = 0;        // REQUEST: who sent it (the host's id for the connection)
  v1::FrameKind kind = v1::REQUEST;
  std::string method;         // REQUEST: "cloudkit.v1.KeyValue/Get"
  std::string body;           // REQUEST: request message; DATA: raw chunk
  uint32_t credits = 0;       // REQUEST, CREDIT: DATA frames the actor may send back
  bool end_of_stream = false; // DATA: last chunk of an upload
  int64_t deadline_ms = 0;    // REQUEST: absolute, on the host's Clock::NowMs(); 0 = none
  std::string idempotency_key;  // REQUEST: the envelope's; empty = none
};

// One frame an actor sends back for a call.
struct Outbound {
  uint64_t call_id = 0;
  v1::FrameKind kind = v1::RESPONSE;  // RESPONSE, DATA or CREDIT
  Status status;                      // RESPONSE (and DATA when a download fails)
  std::string body;                   // RESPONSE: response message; DATA: raw chunk
  uint32_t credits = 0;               // CREDIT: DATA frames the client may send
  bool end_of_stream = false;         // DATA: last chunk of a download
  bool ends_call = true;              // the host forgets the call after this frame
};

// Where an actor's frames go. Implemented by the host.
// REQUIRES: Send may be called only from inside Actor::Receive of the actor
// that owns this outbox; the host makes it safe to hand the frame to its I/O.
class Outbox {
 public:
  virtual ~Outbox() = default;
  virtual void Send(Outbound&& frame) = 0;
};

// What an actor holds open right now, for the host's status: each open call
// and each parked one costs memory until it ends, so these fall back to zero
// once every client has gone.
struct ActorLoad {
  uint32_t open_calls = 0;    // operations that outlived the turn that started them
  uint32_t parked_calls = 0;  // of those, waiting for something to arrive (long polls, idle streams)
};

// Something that handles frames, one at a time, to completion.
class Actor {
 public:
  virtual ~Actor() = default;
  virtual void Receive(Inbound&& frame) = 0;
  // A timer the actor armed through its ports::Timers fired. Delivered in turn
  // with frames, like one.
  virtual void OnTimer(uint32_t token) {}
  // OK while the actor can go on. After a failure that may have left its
  // state or its provider's broken (a provider threw), the status naming it:
  // the host then logs it, fails the actor's open calls with INTERNAL and
  // replaces the actor with a new one (supervision).
  virtual Status health() const { return Status::Ok(); }
  // Called by the host between turns, on the actor's thread.
  virtual ActorLoad load() const { return {}; }
};

}  // namespace cloudkit
