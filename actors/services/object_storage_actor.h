// The actor serving the ObjectStorage service of one binding. Unary calls go
// straight to the ObjectStorageProvider; PutObject and GetObject may stream,
// and this actor runs their flow control (docs/protocol.md, "Streams"): it
// grants an upload a window of DATA frames and refills it as chunks are
// written, and sends a download no more chunks than the client granted. So
// each transfer holds at most a window of chunks in memory, whatever its size.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "core/actor.h"
#include "ports/clock.h"
#include "services/object_storage_provider.h"

namespace cloudkit {

class ObjectStorageActor : public Actor {
 public:
  // The provider, clock and outbox must outlive the actor.
  ObjectStorageActor(ObjectStorageProvider* provider, ports::Clock* clock, Outbox* outbox)
      : provider_(provider), clock_(clock), outbox_(outbox) {}

  void Receive(Inbound&& frame) override;

  static constexpr char kServicePrefix[] = "cloudkit.v1.ObjectStorage/";
  // DATA frames an upload may have in flight towards this actor.
  static constexpr uint32_t kUploadWindow = 8;

  size_t open_streams() const { return uploads_.size() + downloads_.size(); }

 private:
  struct Download {
    std::unique_ptr<ObjectDownload> body;
    uint64_t remaining = 0;  // bytes not yet sent
    uint32_t credits = 0;    // DATA frames the client is ready for
  };

  void HandleRequest(Inbound& in);
  void HandleUnary(Inbound& in, std::string_view rpc);
  void StartPut(Inbound& in);
  void StartGet(Inbound& in);
  void OnUploadData(Inbound& in);
  void OnDownloadCredit(Inbound& in);
  void PumpDownload(uint64_t call_id, Download& download);
  void FinishUpload(uint64_t call_id);

  ObjectStorageProvider* provider_;
  ports::Clock* clock_;
  Outbox* outbox_;
  std::unordered_map<uint64_t, std::unique_ptr<ObjectUpload>> uploads_;
  std::unordered_map<uint64_t, Download> downloads_;
};

}  // namespace cloudkit
