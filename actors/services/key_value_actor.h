// The actor serving the KeyValue service of one binding: decodes each request,
// calls the binding's KeyValueProvider and replies. All calls are unary.
// A host that has several frames waiting hands them over together
// (ReceiveAll): consecutive unconditional Puts then share one provider write
// (group commit), so a durable store pays one sync for many acknowledgements.
#pragma once

#include <string>
#include <vector>

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
  // Handles `frames` in order, as Receive would one by one, except that each
  // run of consecutive unconditional Put requests is applied with one
  // KeyValueProvider::PutGroup; each is answered once the group is durable.
  void ReceiveAll(std::vector<Inbound>&& frames);

  static constexpr char kServicePrefix[] = "cloudkit.v1.KeyValue/";

 private:
  struct PendingPut {
    uint64_t call_id;
    v1::PutRequest request;
  };
  void CommitPuts(std::vector<PendingPut>* pending);

  KeyValueProvider* provider_;
  ports::Clock* clock_;
  Outbox* outbox_;
};

}  // namespace cloudkit
