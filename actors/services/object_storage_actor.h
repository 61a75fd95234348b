// The actor serving the ObjectStorage service of one binding. Each call is an
// operation of its own (services/operation_actor), so a long copy or a slow
// upload never holds up a head or a list on the same binding. One client's
// calls on an object (or bucket) take effect in the order it sent them
// (OperationActor::OrderFor): an object's writers hold it, its readers share
// it, calls on a bucket's objects share the bucket, and creating or deleting
// the bucket holds it. An upload holds its object until it is published; a
// download only until its first response: the body it streams is immutable.
//
// PutObject and GetObject may stream, and their operations run the flow
// control (docs/protocol.md, "Streams"): an upload is granted a window of
// DATA frames, refilled as chunks are written; a download sends no more
// chunks than the client granted, and counts at most a window of grants.
// So each transfer holds at most a window of chunks in memory, whatever its
// size and whatever the client does.
//
// With timers, it runs its provider's sweeps (what crashes left behind) when
// it starts and then every sweep_interval_ms, one pass at a time, beside the calls.
#pragma once

#include <cstdint>

#include "ports/clock.h"
#include "ports/timers.h"
#include "services/object_storage_provider.h"
#include "services/operation_actor.h"
#include "services/service_descriptor.h"

namespace cloudkit {

class ObjectStorageActor : public OperationActor {
 public:
  // The provider, clock, outbox and timers (null: no sweeps) must outlive the actor.
  ObjectStorageActor(ObjectStorageProvider* provider, ports::Clock* clock, Outbox* outbox,
                     ports::Timers* timers = nullptr);
  ~ObjectStorageActor() override { EndOperations(); }

  void OnTimer(uint32_t token) override;

  // The ObjectStorage service: "object_storage", cloudkit.v1.ObjectStorage, this actor.
  static ServiceDescriptor Descriptor();
  static constexpr char kServicePrefix[] = "cloudkit.v1.ObjectStorage/";
  // DATA frames an upload may have in flight towards this actor.
  static constexpr uint32_t kUploadWindow = 8;
  // DATA frames a download may have granted and not yet received: more
  // credit than this is not counted (a client grants as it reads).
  static constexpr uint32_t kDownloadWindow = 16;

 protected:
  Task<void> Start(Call& call, Inbound& request) override;

 private:
  using Handler = Task<void> (ObjectStorageActor::*)(Call&, Inbound&);
  struct Method {
    const char* name;
    bool streams;
    Handler handler;
  };
  // Every method, in proto order: the one table Start and Descriptor read.
  static const std::vector<Method>& Methods();
  template <typename Req, typename Resp, Task<Result<Resp>> (ObjectStorageProvider::*Method)(const Req&),
            std::vector<KeyLocks::Key> (*Keys)(const Req&)>
  Task<void> Unary(Call& call, Inbound& request);
  Task<void> PutObject(Call& call, Inbound& request);
  Task<void> GetObject(Call& call, Inbound& request);
  Task<void> SweepPass();

  static constexpr uint32_t kSweepTimer = 1;
  ObjectStorageProvider* provider_;
  ports::Timers* timers_;
};

}  // namespace cloudkit
