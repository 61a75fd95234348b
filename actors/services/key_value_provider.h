// What a provider implements to serve the KeyValue service. The service actor
// (services/key_value_actor) decodes requests and calls these; the provider
// enforces the semantics documented in proto/cloudkit/v1/key_value.proto.
// Every method is a coroutine (core/task.h); calls may overlap, started by
// the actor in the order their keys allow (docs/protocol.md, "Ordering").
//
// REQUIRES: called from the turns of one actor.
#pragma once

#include "cloudkit/v1/key_value.pb.h"
#include "core/status.h"
#include "core/task.h"
#include "services/service_provider.h"

namespace cloudkit {

class KeyValueProvider : public ServiceProvider {
 public:
  virtual Task<Result<v1::GetResponse>> Get(const v1::GetRequest& req) = 0;
  virtual Task<Result<v1::PutResponse>> Put(const v1::PutRequest& req) = 0;
  virtual Task<Result<v1::DeleteResponse>> Delete(const v1::DeleteRequest& req) = 0;
  virtual Task<Result<v1::ExistsResponse>> Exists(const v1::ExistsRequest& req) = 0;
  virtual Task<Result<v1::ListResponse>> List(const v1::ListRequest& req) = 0;
  virtual Task<Result<v1::BatchGetResponse>> BatchGet(const v1::BatchGetRequest& req) = 0;
  virtual Task<Result<v1::BatchPutResponse>> BatchPut(const v1::BatchPutRequest& req) = 0;

  // Expired items read as absent at once; sweeping removes them from storage,
  // a bounded step at a time so that requests keep their turns. The actor
  // drives it from a timer (services/key_value_actor).
  struct SweepStep {
    size_t removed = 0;           // expired items this step removed
    bool pass_complete = true;    // the step reached the end of the items
    int64_t next_expiry_ms = 0;   // pass_complete: earliest expiry still ahead (0 = none)
  };
  // Examines at most `budget` items after where the previous step stopped and
  // removes the expired ones; the step after a complete pass starts a new one.
  // Providers without stored expiry (or that expire by themselves) keep this default.
  virtual Task<Result<SweepStep>> SweepExpired(size_t budget) { co_return SweepStep{}; }
  // The earliest expiry given to an item since the last call (0 = none), so
  // the actor can schedule a sweep for it.
  virtual int64_t TakeNewExpiry() { return 0; }
};

}  // namespace cloudkit
