// The C++ client library of cloudkitd: one Client per daemon endpoint, with a
// typed stub per service.
//
//   auto client = cloudkit::Client::Connect("tcp://127.0.0.1:7420");
//   if (!client.ok()) ...                                  // bad endpoint
//   v1::CreateBucketRequest create;
//   create.set_bucket("docs");
//   auto created = (*client)->storage().CreateBucket(create);
//   if (!created.ok()) std::cerr << created.status().message();
//
// A Client owns one ZeroMQ DEALER socket and one I/O thread (transport.h);
// the Clients of a process share one ZeroMQ context, whose I/O thread carries
// all their connections. A blocking call sends and receives on the calling
// thread itself while no other call of the Client is in flight (the fastest
// path: one Client per thread that makes blocking calls gets it every time);
// otherwise the thread holding the connection (the I/O thread, or another
// caller) carries it. A Client is thread-safe: any number of threads may
// call it at once, and the ...Async forms keep many calls in flight; replies
// are matched to calls by request id. Connecting happens in the background: a
// call made while the daemon cannot be reached fails UNAVAILABLE after
// connect_timeout.
// Destroying the Client ends calls still in flight with UNAVAILABLE; it must
// outlive the futures of streamed ...Async transfers it handed out.
#pragma once

#include <memory>
#include <string>

#include "client/byte_streams.h"
#include "client/client_options.h"
#include "client/key_value_client.h"
#include "client/object_storage_client.h"
#include "client/pubsub_client.h"
#include "client/queue_client.h"
#include "client/runtime_client.h"
#include "client/secrets_client.h"

namespace cloudkit {

namespace client_internal {
class Caller;
}

class Client {
 public:
  // INVALID_ARGUMENT when `endpoint` is not a ZeroMQ endpoint; the key files'
  // errors (curve_keys.h) when options name keys. Does not wait for the
  // daemon: a daemon refusing the key fails calls UNAUTHENTICATED.
  static Result<std::unique_ptr<Client>> Connect(const std::string& endpoint = kDefaultEndpoint,
                                                 ClientOptions options = {});
  ~Client();

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const std::string& endpoint() const;
  const ClientOptions& options() const;

  ObjectStorageClient& storage() { return storage_; }
  KeyValueClient& kv() { return kv_; }
  QueueClient& queue() { return queue_; }
  PubSubClient& pubsub() { return pubsub_; }
  RuntimeClient& runtime() { return runtime_; }
  SecretsClient& secrets() { return secrets_; }

 private:
  explicit Client(std::unique_ptr<client_internal::Caller> caller);

  std::unique_ptr<client_internal::Caller> caller_;
  ObjectStorageClient storage_;
  KeyValueClient kv_;
  QueueClient queue_;
  PubSubClient pubsub_;
  RuntimeClient runtime_;
  SecretsClient secrets_;
};

}  // namespace cloudkit
