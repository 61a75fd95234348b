// The actor serving the KeyValue service of one binding: decodes each request,
// calls the binding's KeyValueProvider and replies. All calls are unary.
#pragma once

#include <string>

#include "core/actor.h"
#include "ports/clock.h"
#include "services/key_value_provider.h"

namespace cloudkit {

class KeyValueActor : public Actor {
 public:
  // The provider, clock and outbox must outlive the actor.
  KeyValueActor(KeyValueProvider* provider, ports::Clock* clock, Outbox* outbox)
      : provider_(provider), clock_(clock), outbox_(outbox) {}

  void Receive(Inbound&& frame) override;

  static constexpr char kServicePrefix[] = "cloudkit.v1.KeyValue/";

 private:
  KeyValueProvider* provider_;
  ports::Clock* clock_;
  Outbox* outbox_;
};

}  // namespace cloudkit
