// cloudkit-fuzz-seeds OUT_DIR: writes the fuzz harnesses' seed corpus, one
// directory per harness (OUT_DIR/<harness>/). The seeds are the calls the
// protocol and conformance tests make, as scripts: each service's methods
// with valid requests, in the orders clients use them (create, write, read,
// list, stream, expire, delete), and for the front door the same calls as
// client messages, plus the malformed messages the protocol tests send.
// libFuzzer starts from these rather than from nothing, so that its first
// mutations already reach past request decoding.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <google/protobuf/message_lite.h>

#include "cloudkit/v1/envelope.pb.h"
#include "cloudkit/v1/key_value.pb.h"
#include "cloudkit/v1/object_storage.pb.h"
#include "cloudkit/v1/pubsub.pb.h"
#include "cloudkit/v1/queue.pb.h"
#include "cloudkit/v1/secrets.pb.h"
#include "fuzz_script.h"
#include "service_steps.h"
#include "services/service_descriptor.h"

namespace cloudkit::fuzz {
namespace {

namespace fs = std::filesystem;

// A service actor script (service_steps.h), its methods named.
class ServiceScript {
 public:
  explicit ServiceScript(const ServiceDescriptor& service) : service_(service) {}
  ServiceScript& Request(int slot, const std::string& method, const google::protobuf::MessageLite& body,
                         uint8_t credits = 0, uint8_t flags = 0) {
    const auto& methods = service_.methods;
    size_t index = 0;
    while (index < methods.size() && methods[index].name != method) ++index;
    if (index == methods.size()) {
      std::fprintf(stderr, "cloudkit-fuzz-seeds: %s has no method %s\n", service_.name.c_str(), method.c_str());
      std::exit(1);
    }
    writer_.Byte(kRequest).Byte(slot).Byte(index).Byte(credits).Byte(flags).Bytes(body.SerializeAsString());
    return *this;
  }
  ServiceScript& Data(int slot, const std::string& chunk, bool end) {
    writer_.Byte(kData).Byte(slot).Byte(end ? kFlagFirst : 0).Bytes(chunk);
    return *this;
  }
  ServiceScript& Credit(int slot, uint8_t credits) {
    writer_.Byte(kCredit).Byte(slot).Byte(credits);
    return *this;
  }
  ServiceScript& Cancel(int slot) {
    writer_.Byte(kCancel).Byte(slot);
    return *this;
  }
  ServiceScript& AdvanceMs(int ms) {
    writer_.Byte(kAdvanceClock).U16(static_cast<uint16_t>(ms / 16));
    return *this;
  }
  const std::string& script() const { return writer_.script(); }

 private:
  const ServiceDescriptor& service_;
  ScriptWriter writer_;
};

class Corpus {
 public:
  explicit Corpus(fs::path dir) : dir_(std::move(dir)) {}
  void Add(const std::string& harness, const std::string& name, const std::string& script) {
    fs::create_directories(dir_ / harness);
    std::ofstream out(dir_ / harness / name, std::ios::binary | std::ios::trunc);
    out << script;
    if (!out) {
      std::fprintf(stderr, "cloudkit-fuzz-seeds: cannot write %s\n", (dir_ / harness / name).c_str());
      std::exit(1);
    }
  }

 private:
  fs::path dir_;
};

void ObjectStorageSeeds(const ServiceDescriptor& service, Corpus& corpus) {
  v1::CreateBucketRequest create;
  create.set_bucket("docs");
  v1::PutObjectRequest put;
  put.set_bucket("docs");
  put.set_key("a.txt");
  put.set_content_type("text/plain");
  (*put.mutable_metadata())["owner"] = "me";
  put.set_data("hello, world");
  v1::GetObjectRequest get;
  get.set_bucket("docs");
  get.set_key("a.txt");
  v1::HeadObjectRequest head;
  head.set_bucket("docs");
  head.set_key("a.txt");
  v1::CopyObjectRequest copy;
  copy.set_source_bucket("docs");
  copy.set_source_key("a.txt");
  copy.set_bucket("docs");
  copy.set_key("b.txt");
  v1::ListObjectsRequest list;
  list.set_bucket("docs");
  list.set_delimiter("/");
  list.set_page_size(1);
  v1::DeleteObjectsRequest delete_all;
  delete_all.set_bucket("docs");
  delete_all.add_keys("a.txt");
  delete_all.add_keys("b.txt");
  v1::DeleteBucketRequest drop;
  drop.set_bucket("docs");
  v1::BucketExistsRequest exists;
  exists.set_bucket("docs");
  corpus.Add("object_storage_actor_fuzzer", "lifecycle",
             ServiceScript(service)
                 .Request(0, "CreateBucket", create)
                 .Request(0, "PutObject", put)
                 .Request(0, "GetObject", get, 4)
                 .Request(0, "HeadObject", head)
                 .Request(0, "CopyObject", copy)
                 .Request(0, "ListObjects", list)
                 .Request(0, "ListBuckets", v1::ListBucketsRequest())
                 .Request(0, "DeleteObjects", delete_all)
                 .Request(0, "DeleteBucket", drop)
                 .Request(0, "BucketExists", exists)
                 .script());

  v1::PutObjectRequest streamed = put;
  streamed.set_more_data(true);
  streamed.set_data("first chunk ");
  v1::GetObjectRequest range = get;
  range.set_has_range(true);
  range.set_range_start(3);
  range.set_range_length(9);
  corpus.Add("object_storage_actor_fuzzer", "streams",
             ServiceScript(service)
                 .Request(0, "CreateBucket", create)
                 .Request(1, "PutObject", streamed)
                 .Data(1, "second chunk ", false)
                 .Data(1, "last chunk", true)
                 .Request(2, "GetObject", get, 1)
                 .Credit(2, 2)
                 .Request(3, "GetObject", range, 0)
                 .Cancel(3)
                 .Request(4, "PutObject", streamed)
                 .AdvanceMs(2000)
                 .Request(4, "GetObject", get, 1)
                 .script());

  v1::PutObjectRequest if_absent = put;
  if_absent.set_if_none_match(true);
  v1::PutObjectRequest if_match = put;
  if_match.set_if_match("\"0123456789abcdef0123456789abcdef\"");
  v1::DeleteObjectRequest delete_if = {};
  delete_if.set_bucket("docs");
  delete_if.set_key("a.txt");
  delete_if.set_if_match("\"x\"");
  v1::PresignObjectRequest presign;
  presign.set_bucket("docs");
  presign.set_key("a.txt");
  presign.set_method("PUT");
  presign.set_expires_seconds(60);
  corpus.Add("object_storage_actor_fuzzer", "conditions",
             ServiceScript(service)
                 .Request(0, "CreateBucket", create, 0, kFlagFirst)
                 .Request(0, "CreateBucket", create, 0, kFlagFirst)
                 .Request(0, "PutObject", if_absent)
                 .Request(0, "PutObject", if_absent)
                 .Request(0, "PutObject", if_match)
                 .Request(0, "DeleteObject", delete_if)
                 .Request(0, "PresignObject", presign)
                 .script());
}

void KeyValueSeeds(const ServiceDescriptor& service, Corpus& corpus) {
  v1::PutRequest put;
  put.set_table("users");
  put.set_key("alice");
  put.set_value("{\"age\":30}");
  put.set_ttl_ms(1000);
  v1::GetRequest get;
  get.set_table("users");
  get.set_key("alice");
  v1::ExistsRequest exists;
  exists.set_table("users");
  exists.set_key("alice");
  v1::ListRequest list;
  list.set_table("users");
  list.set_prefix("a");
  list.set_page_size(1);
  corpus.Add("key_value_actor_fuzzer", "expiry",
             ServiceScript(service)
                 .Request(0, "Put", put)
                 .Request(0, "Get", get)
                 .Request(0, "Exists", exists)
                 .Request(0, "List", list)
                 .AdvanceMs(1600)
                 .Request(0, "Get", get)
                 .AdvanceMs(120'000)
                 .script());

  v1::BatchPutRequest batch;
  batch.set_table("users");
  for (const char* key : {"bob", "carol", "dave"}) {
    v1::BatchPutEntry* entry = batch.add_entries();
    entry->set_key(key);
    entry->set_value(std::string("value of ") + key);
  }
  v1::BatchGetRequest batch_get;
  batch_get.set_table("users");
  batch_get.add_keys("bob");
  batch_get.add_keys("nobody");
  batch_get.add_keys("bob");
  v1::PutRequest if_absent = put;
  if_absent.set_if_absent(true);
  if_absent.set_ttl_ms(0);
  v1::DeleteRequest delete_if;
  delete_if.set_table("users");
  delete_if.set_key("bob");
  delete_if.set_if_match("\"1\"");
  corpus.Add("key_value_actor_fuzzer", "batches",
             ServiceScript(service)
                 .Request(0, "BatchPut", batch, 0, kFlagFirst)
                 .Request(1, "BatchGet", batch_get)
                 .Request(2, "Put", if_absent, 0, kFlagFirst | kFlagDeadline)
                 .Request(3, "Put", if_absent)
                 .Request(4, "Delete", delete_if)
                 .Request(5, "List", v1::ListRequest())
                 .script());
}

void QueueSeeds(const ServiceDescriptor& service, Corpus& corpus) {
  v1::CreateQueueRequest create;
  create.set_queue("jobs");
  create.mutable_options()->set_visibility_timeout_ms(1000);
  create.mutable_options()->set_max_receives(2);
  create.mutable_options()->set_dead_letter_queue("jobs-dead");
  v1::CreateQueueRequest dead;
  dead.set_queue("jobs-dead");
  v1::SendRequest send;
  send.set_queue("jobs");
  send.set_body("resize photo 7");
  (*send.mutable_attributes())["kind"] = "resize";
  v1::SendBatchRequest batch;
  batch.set_queue("jobs");
  for (int i = 0; i < 3; ++i) batch.add_entries()->set_body("job " + std::to_string(i));
  batch.mutable_entries(2)->set_delay_ms(500);
  v1::ReceiveRequest receive;
  receive.set_queue("jobs");
  receive.set_max_messages(10);
  v1::AckRequest ack;
  ack.set_queue("jobs");
  ack.set_receipt_handle("not-a-handle");
  v1::ChangeVisibilityRequest visibility;
  visibility.set_queue("jobs");
  visibility.set_receipt_handle("not-a-handle");
  visibility.set_visibility_timeout_ms(100);
  v1::DepthRequest depth;
  depth.set_queue("jobs");
  v1::PurgeRequest purge;
  purge.set_queue("jobs");
  v1::DeleteQueueRequest drop;
  drop.set_queue("jobs");
  corpus.Add("queue_actor_fuzzer", "lifecycle",
             ServiceScript(service)
                 .Request(0, "CreateQueue", dead)
                 .Request(0, "CreateQueue", create)
                 .Request(0, "Send", send, 0, kFlagFirst)
                 .Request(0, "SendBatch", batch)
                 .Request(0, "Depth", depth)
                 .Request(0, "Receive", receive)
                 .Request(0, "Ack", ack)
                 .Request(0, "ChangeVisibility", visibility)
                 .AdvanceMs(1100)
                 .Request(0, "Receive", receive)
                 .AdvanceMs(1100)
                 .Request(0, "Receive", receive)
                 .Request(0, "ListQueues", v1::ListQueuesRequest())
                 .Request(0, "Purge", purge)
                 .Request(0, "DeleteQueue", drop)
                 .script());

  v1::ReceiveRequest long_poll = receive;
  long_poll.set_wait_ms(5000);
  v1::CreateQueueRequest fifo;
  fifo.set_queue("orders.fifo");
  fifo.mutable_options()->set_fifo(true);
  v1::SendRequest deduplicated;
  deduplicated.set_queue("orders.fifo");
  deduplicated.set_body("order 1");
  deduplicated.set_deduplication_id("order-1");
  corpus.Add("queue_actor_fuzzer", "long_polls",
             ServiceScript(service)
                 .Request(0, "CreateQueue", create)
                 .Request(1, "Receive", long_poll)
                 .Request(2, "Receive", long_poll, 0, kFlagDeadline)
                 .Request(3, "Send", send)
                 .AdvanceMs(1200)
                 .Request(4, "Receive", long_poll)
                 .Cancel(4)
                 .Request(5, "CreateQueue", fifo)
                 .Request(5, "Send", deduplicated)
                 .Request(5, "Send", deduplicated)
                 .Request(6, "Receive", long_poll)
                 .AdvanceMs(6000)
                 .script());
}

void PubSubSeeds(const ServiceDescriptor& service, Corpus& corpus) {
  v1::CreateTopicRequest topic;
  topic.set_topic("events");
  v1::CreateSubscriptionRequest subscription;
  subscription.set_subscription("audit");
  subscription.set_topic("events");
  subscription.mutable_options()->set_ack_deadline_ms(1000);
  subscription.mutable_options()->set_max_deliveries(2);
  (*subscription.mutable_options()->mutable_filter())["kind"] = "login";
  v1::SubscribeRequest subscribe;
  subscribe.set_subscription("audit");
  v1::PublishRequest publish;
  publish.set_topic("events");
  publish.set_body("alice logged in");
  (*publish.mutable_attributes())["kind"] = "login";
  v1::PublishBatchRequest batch;
  batch.set_topic("events");
  for (int i = 0; i < 3; ++i) batch.add_entries()->set_body("event " + std::to_string(i));
  v1::AckMessagesRequest ack;
  ack.set_subscription("audit");
  ack.add_ack_ids("not-an-ack-id");
  v1::NackMessagesRequest nack;
  nack.set_subscription("audit");
  nack.add_ack_ids("not-an-ack-id");
  v1::ListSubscriptionsRequest list_subscriptions;
  list_subscriptions.set_topic("events");
  v1::DeleteSubscriptionRequest drop_subscription;
  drop_subscription.set_subscription("audit");
  v1::DeleteTopicRequest drop_topic;
  drop_topic.set_topic("events");
  corpus.Add("pubsub_actor_fuzzer", "lifecycle",
             ServiceScript(service)
                 .Request(0, "CreateTopic", topic)
                 .Request(0, "CreateSubscription", subscription)
                 .Request(1, "Subscribe", subscribe, 4)
                 .Request(0, "Publish", publish, 0, kFlagFirst)
                 .Request(0, "PublishBatch", batch)
                 .Credit(1, 8)
                 .Request(0, "Ack", ack)
                 .Request(0, "Nack", nack)
                 .AdvanceMs(1100)
                 .AdvanceMs(30'000)
                 .Request(0, "ListTopics", v1::ListTopicsRequest())
                 .Request(0, "ListSubscriptions", list_subscriptions)
                 .Cancel(1)
                 .Request(0, "DeleteSubscription", drop_subscription)
                 .Request(0, "DeleteTopic", drop_topic)
                 .script());
  corpus.Add("pubsub_actor_fuzzer", "two_subscribers",
             ServiceScript(service)
                 .Request(0, "CreateTopic", topic)
                 .Request(0, "CreateSubscription", subscription)
                 .Request(1, "Subscribe", subscribe, 1)
                 .Request(2, "Subscribe", subscribe, 0)
                 .Request(0, "Publish", publish)
                 .Request(0, "Publish", publish)
                 .Credit(2, 1)
                 .Request(3, "Subscribe", subscribe, 2)
                 .AdvanceMs(2000)
                 .script());
}

void SecretsSeeds(const ServiceDescriptor& service, Corpus& corpus) {
  v1::PutSecretRequest put;
  put.set_name("db/password");
  put.set_value("hunter2");
  v1::GetSecretRequest get;
  get.set_name("db/password");
  v1::GetSecretRequest first = get;
  first.set_version(1);
  v1::ListSecretsRequest list;
  list.set_prefix("db/");
  v1::ListSecretVersionsRequest versions;
  versions.set_name("db/password");
  v1::DeleteSecretRequest drop;
  drop.set_name("db/password");
  corpus.Add("secrets_actor_fuzzer", "versions",
             ServiceScript(service)
                 .Request(0, "Put", put, 0, kFlagFirst)
                 .Request(0, "Put", put)
                 .Request(0, "Get", get)
                 .Request(0, "Get", first)
                 .Request(0, "List", list)
                 .Request(0, "ListVersions", versions)
                 .Request(0, "Delete", drop)
                 .Request(0, "Get", get)
                 .script());
}

// Client messages: a frame count, then each frame (fuzz_script.h).
class MessageScript {
 public:
  MessageScript& Call(uint64_t id, const std::string& method, const google::protobuf::MessageLite& body,
                      uint32_t credits = 0, const std::string& binding = "") {
    v1::RequestEnvelope env;
    env.set_request_id(id);
    env.set_kind(v1::REQUEST);
    env.set_method(method);
    env.set_binding(binding);
    env.set_credits(credits);
    return Frames({env.SerializeAsString(), body.SerializeAsString()});
  }
  MessageScript& Stream(uint64_t id, v1::FrameKind kind, const std::string& body, uint32_t credits = 0,
                        bool end = false) {
    v1::RequestEnvelope env;
    env.set_request_id(id);
    env.set_kind(kind);
    env.set_credits(credits);
    env.set_end_of_stream(end);
    return Frames({env.SerializeAsString(), body});
  }
  MessageScript& Frames(std::initializer_list<std::string> frames) {
    writer_.Byte(static_cast<uint8_t>(frames.size()));
    for (const std::string& frame : frames) writer_.Bytes(frame);
    return *this;
  }
  const std::string& script() const { return writer_.script(); }

 private:
  ScriptWriter writer_;
};

void FrontDoorSeeds(Corpus& corpus) {
  const std::string kv = "cloudkit.v1.KeyValue/";
  const std::string objects = "cloudkit.v1.ObjectStorage/";
  v1::PutRequest put;
  put.set_table("t");
  put.set_key("k");
  put.set_value("v");
  v1::GetRequest get;
  get.set_table("t");
  get.set_key("k");
  corpus.Add("front_door_fuzzer", "key_value",
             MessageScript()
                 .Call(1, kv + "Put", put)
                 .Call(2, kv + "Get", get)
                 .Call(3, kv + "List", v1::ListRequest())
                 .Call(4, kv + "Get", get, 0, "no-such-binding")
                 .Call(5, "cloudkit.v1.Runtime/Status", v1::ListRequest())
                 .script());
  v1::CreateBucketRequest create;
  create.set_bucket("b");
  v1::PutObjectRequest upload;
  upload.set_bucket("b");
  upload.set_key("o");
  upload.set_more_data(true);
  v1::GetObjectRequest download;
  download.set_bucket("b");
  download.set_key("o");
  corpus.Add("front_door_fuzzer", "streams",
             MessageScript()
                 .Call(1, objects + "CreateBucket", create)
                 .Call(2, objects + "PutObject", upload)
                 .Stream(2, v1::DATA, "chunk one")
                 .Stream(2, v1::DATA, "chunk two", 0, true)
                 .Call(3, objects + "GetObject", download, 1)
                 .Stream(3, v1::CREDIT, "", 4)
                 .Stream(3, v1::CANCEL, "")
                 .script());
  v1::ReceiveRequest long_poll;
  long_poll.set_queue("q");
  long_poll.set_wait_ms(20'000);
  v1::CreateQueueRequest queue;
  queue.set_queue("q");
  corpus.Add("front_door_fuzzer", "parked",
             MessageScript()
                 .Call(1, "cloudkit.v1.Queue/CreateQueue", queue)
                 .Call(2, "cloudkit.v1.Queue/Receive", long_poll)
                 .Call(2, "cloudkit.v1.Queue/Receive", long_poll)
                 .script());
  v1::RequestEnvelope response_kind;
  response_kind.set_request_id(9);
  response_kind.set_kind(v1::RESPONSE);
  v1::RequestEnvelope envelope_only;
  envelope_only.set_request_id(8);
  envelope_only.set_kind(v1::REQUEST);
  envelope_only.set_method(kv + "Get");
  corpus.Add("front_door_fuzzer", "malformed",
             MessageScript()
                 .Frames({"not an envelope", ""})
                 .Frames({envelope_only.SerializeAsString()})
                 .Frames({envelope_only.SerializeAsString(), get.SerializeAsString(), "a third frame"})
                 .Frames({response_kind.SerializeAsString(), ""})
                 .Call(10, "cloudkit.v1.Nothing/Here", get)
                 .Call(11, kv + "Get", put)
                 .script());
}

}  // namespace
}  // namespace cloudkit::fuzz

int main(int argc, char** argv) {
  using namespace cloudkit;
  if (argc != 2) {
    std::fprintf(stderr, "usage: cloudkit-fuzz-seeds OUT_DIR\n");
    return 2;
  }
  ServiceRegistry services;
  RegisterBuiltinServices(&services);
  fuzz::Corpus corpus{fuzz::fs::path(argv[1])};
  fuzz::ObjectStorageSeeds(*services.Find("object_storage"), corpus);
  fuzz::KeyValueSeeds(*services.Find("key_value"), corpus);
  fuzz::QueueSeeds(*services.Find("queue"), corpus);
  fuzz::PubSubSeeds(*services.Find("pubsub"), corpus);
  fuzz::SecretsSeeds(*services.Find("secrets"), corpus);
  fuzz::FrontDoorSeeds(corpus);
  return 0;
}
