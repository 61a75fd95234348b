#include "load/messaging.h"

#include <hiredis/hiredis.h>
#include <zmq.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "client/client.h"
#include "load/daemon_process.h"
#include "load/echo_server.h"
#include "load/load_clients.h"
#include "support/emulator.h"

namespace cloudkit::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using testing_util::Emulator;
using testing_util::EmulatorKind;

constexpr char kQueue[] = "bench";
constexpr char kTopic[] = "ticks";
const std::string kBody(64, 'm');

template <typename Response>
Status StatusOf(const Result<Response>& result) {
  return result.ok() ? Status::Ok() : result.status();
}

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// The first error any thread met.
class FirstError {
 public:
  void Note(const Status& status) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (status_.ok()) status_ = status;
  }
  Status Get() {
    std::lock_guard<std::mutex> lock(mutex_);
    return status_;
  }

 private:
  std::mutex mutex_;
  Status status_ = Status::Ok();
};

// ---- Redis streams --------------------------------------------------------

struct RedisReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using RedisReplyPtr = std::unique_ptr<redisReply, RedisReplyDeleter>;
struct RedisContextDeleter {
  void operator()(redisContext* context) const { redisFree(context); }
};
using RedisConnection = std::unique_ptr<redisContext, RedisContextDeleter>;

Result<RedisConnection> ConnectRedis(const Emulator& redis) {
  RedisConnection connection(redisConnect(redis.host().c_str(), redis.port()));
  if (!connection || connection->err) return Status::Unavailable("hiredis could not connect to " + redis.endpoint());
  return connection;
}

Result<RedisReplyPtr> RedisCall(redisContext* redis, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  RedisReplyPtr reply(
      static_cast<redisReply*>(redisCommandArgv(redis, static_cast<int>(args.size()), argv.data(), lengths.data())));
  if (!reply) return Status::Unavailable("redis: " + std::string(redis->errstr));
  if (reply->type == REDIS_REPLY_ERROR) return Status::Internal("redis " + args[0] + ": " + reply->str);
  return reply;
}

// The first entry of an XREADGROUP reply: its id and its first field's value.
struct StreamEntry {
  std::string id;
  std::string value;
};
std::optional<StreamEntry> FirstEntry(const redisReply* reply) {
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) return std::nullopt;  // BLOCK timed out
  const redisReply* stream = reply->element[0];
  if (stream->type != REDIS_REPLY_ARRAY || stream->elements < 2) return std::nullopt;
  const redisReply* entries = stream->element[1];
  if (entries->type != REDIS_REPLY_ARRAY || entries->elements == 0) return std::nullopt;
  const redisReply* entry = entries->element[0];
  if (entry->type != REDIS_REPLY_ARRAY || entry->elements < 2) return std::nullopt;
  const redisReply* fields = entry->element[1];
  if (fields->type != REDIS_REPLY_ARRAY || fields->elements < 2) return std::nullopt;
  return StreamEntry{std::string(entry->element[0]->str, entry->element[0]->len),
                     std::string(fields->element[1]->str, fields->element[1]->len)};
}

// XADD, XREADGROUP, XACK: Redis streams' send, receive and ack.
Result<Call> RedisQueueCycle(const Emulator& redis, int client) {
  auto connection = ConnectRedis(redis);
  if (!connection.ok()) return connection.status();
  auto shared = std::make_shared<RedisConnection>(std::move(*connection));
  const std::string consumer = "c" + std::to_string(client);
  return Call([shared, consumer]() -> Status {
    redisContext* redis = shared->get();
    CK_RETURN_IF_ERROR(RedisCall(redis, {"XADD", kQueue, "*", "b", kBody}).status());
    for (;;) {
      auto read = RedisCall(redis, {"XREADGROUP", "GROUP", "g", consumer, "COUNT", "1", "BLOCK", "1000", "STREAMS",
                                    kQueue, ">"});
      if (!read.ok()) return read.status();
      std::optional<StreamEntry> entry = FirstEntry(read->get());
      if (!entry) continue;
      return RedisCall(redis, {"XACK", kQueue, "g", entry->id}).status();
    }
  });
}

// ---- cloudkitd --------------------------------------------------------------

Result<Call> CloudkitQueueCycle(const std::string& endpoint) {
  auto connected = Client::Connect(endpoint);
  if (!connected.ok()) return connected.status();
  std::shared_ptr<Client> client = std::move(*connected);
  return Call([client]() -> Status {
    v1::SendRequest send;
    send.set_queue(kQueue);
    send.set_body(kBody);
    CK_RETURN_IF_ERROR(StatusOf(client->queue().Send(send)));
    v1::ReceiveRequest receive;
    receive.set_queue(kQueue);
    receive.set_wait_ms(1000);
    for (;;) {
      auto got = client->queue().Receive(receive);
      if (!got.ok()) return got.status();
      if (got->messages_size() == 0) continue;
      v1::AckRequest ack;
      ack.set_queue(kQueue);
      ack.set_receipt_handle(got->messages(0).receipt_handle());
      return StatusOf(client->queue().Ack(ack));
    }
  });
}

// Publish-to-delivery latency: one publisher sends `samples` messages one at
// a time (the next once every reader had the last), each carrying the time
// it was sent; each of `readers` records when it got it. Returns {p50, p99}
// in µs over every delivery after the first tenth.
struct ReaderLoop {
  // Blocks until the next message; its body, or nullopt when the wait ran out.
  std::function<Result<std::optional<std::string>>()> next;
};
Result<std::pair<double, double>> PublishLatency(uint64_t samples, int readers,
                                                 const std::function<Result<ReaderLoop>(int)>& make_reader,
                                                 const std::function<Status(const std::string&)>& publish) {
  std::mutex mutex;
  std::condition_variable delivered;
  uint64_t deliveries = 0;
  int ready = 0;
  std::vector<double> micros;
  FirstError error;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < readers; ++i) {
    threads.emplace_back([&, i] {
      Result<ReaderLoop> reader = make_reader(i);
      {
        std::lock_guard<std::mutex> lock(mutex);
        ++ready;
      }
      delivered.notify_all();
      if (!reader.ok()) return error.Note(reader.status());
      while (!stop.load()) {
        auto body = reader->next();
        if (!body.ok()) return error.Note(body.status());
        if (!*body) continue;
        const double latency = (NowNanos() - std::stoll(**body)) / 1e3;
        {
          std::lock_guard<std::mutex> lock(mutex);
          micros.push_back(latency);
          ++deliveries;
        }
        delivered.notify_all();
      }
    });
  }
  {
    std::unique_lock<std::mutex> lock(mutex);
    delivered.wait(lock, [&] { return ready == readers; });
  }
  std::this_thread::sleep_for(milliseconds(200));  // the readers are waiting
  for (uint64_t sample = 0; sample < samples && error.Get().ok(); ++sample) {
    if (Status sent = publish(std::to_string(NowNanos())); !sent.ok()) {
      error.Note(sent);
      break;
    }
    std::unique_lock<std::mutex> lock(mutex);
    if (!delivered.wait_for(lock, std::chrono::seconds(10),
                            [&] { return deliveries >= (sample + 1) * readers || !error.Get().ok(); })) {
      lock.unlock();
      error.Note(Status::DeadlineExceeded("a published message reached no reader within 10 s"));
    }
  }
  stop = true;
  for (auto& thread : threads) thread.join();
  CK_RETURN_IF_ERROR(error.Get());
  std::vector<double> counted(micros.begin() + static_cast<std::ptrdiff_t>(micros.size() / 10), micros.end());
  if (counted.empty()) return Status::Internal("no deliveries measured");
  return std::pair{Percentile(counted, 0.5), Percentile(counted, 0.99)};
}

Status MeasureCloudkit(const MessagingOptions& options, const std::string& provider, Durability* figures) {
  auto daemon = DaemonUnderTest::Start(options.cloudkitd, options.work_dir, provider + "-messaging",
                                       "  - {name: default, provider: " + provider + "}\n");
  if (!daemon.ok()) return daemon.status();
  const std::string endpoint = (*daemon)->endpoint();
  auto admin = Client::Connect(endpoint);
  if (!admin.ok()) return admin.status();
  v1::CreateQueueRequest queue;
  queue.set_queue(kQueue);
  CK_RETURN_IF_ERROR(StatusOf((*admin)->queue().CreateQueue(queue)));
  auto cycles = CallsPerSecond(options.queue_clients, options.queue_seconds,
                                [&](int) { return CloudkitQueueCycle(endpoint); });
  if (!cycles.ok()) return cycles.status();
  figures->queue_cycles_per_s.cloudkit = *cycles;

  v1::CreateTopicRequest topic;
  topic.set_topic(kTopic);
  CK_RETURN_IF_ERROR(StatusOf((*admin)->pubsub().CreateTopic(topic)));
  int made = 0;
  for (int slot = 0; slot < 2; ++slot) {
    const int readers = slot == 0 ? 1 : options.many_subscriptions;
    // Subscriptions s0.. serve the first figure; the second adds to them.
    for (; made < readers; ++made) {
      v1::CreateSubscriptionRequest subscription;
      subscription.set_subscription("s" + std::to_string(made));
      subscription.set_topic(kTopic);
      CK_RETURN_IF_ERROR(StatusOf((*admin)->pubsub().CreateSubscription(subscription)));
    }
    auto make_reader = [&](int i) -> Result<ReaderLoop> {
      auto connected = Client::Connect(endpoint);
      if (!connected.ok()) return connected.status();
      std::shared_ptr<Client> client = std::move(*connected);
      const std::string name = "s" + std::to_string(i);
      auto stream = client->pubsub().Subscribe(name, 8);
      if (!stream.ok()) return stream.status();
      std::shared_ptr<SubscriptionStream> open = std::move(*stream);
      return ReaderLoop{[client, open, name]() -> Result<std::optional<std::string>> {
        auto next = open->Next(milliseconds(200));
        if (!next.ok()) return next.status();
        if (!*next) return std::optional<std::string>();
        std::string body = (*next)->body();
        CK_RETURN_IF_ERROR(StatusOf(client->pubsub().Ack(name, {(*next)->ack_id()})));
        return std::optional<std::string>(std::move(body));
      }};
    };
    auto publish = [&](const std::string& body) -> Status {
      v1::PublishRequest request;
      request.set_topic(kTopic);
      request.set_body(body);
      return StatusOf((*admin)->pubsub().Publish(request));
    };
    auto latency = PublishLatency(options.latency_samples, readers, make_reader, publish);
    if (!latency.ok()) return latency.status();
    figures->publish_p50_us[slot].cloudkit = latency->first;
    figures->publish_p99_us[slot].cloudkit = latency->second;
  }
  const int exit_code = (*daemon)->Stop();
  return exit_code == 0 ? Status::Ok()
                        : Status::Internal(provider + " cloudkitd exited " + std::to_string(exit_code));
}

Status MeasureRedis(const MessagingOptions& options, bool durable, Durability* figures) {
  testing_util::EmulatorOptions emulator;
  if (durable) emulator.extra_args = {"--appendonly", "yes", "--appendfsync", "always"};
  auto redis = Emulator::Start(EmulatorKind::kRedis, emulator);
  if (!redis.ok()) return redis.status();
  auto admin = ConnectRedis(**redis);
  if (!admin.ok()) return admin.status();
  CK_RETURN_IF_ERROR(RedisCall(admin->get(), {"XGROUP", "CREATE", kQueue, "g", "$", "MKSTREAM"}).status());
  auto cycles = CallsPerSecond(options.queue_clients, options.queue_seconds,
                                [&](int i) { return RedisQueueCycle(**redis, i); });
  if (!cycles.ok()) return cycles.status();
  figures->queue_cycles_per_s.redis = *cycles;

  int made = 0;
  for (int slot = 0; slot < 2; ++slot) {
    const int readers = slot == 0 ? 1 : options.many_subscriptions;
    for (; made < readers; ++made) {
      CK_RETURN_IF_ERROR(
          RedisCall(admin->get(), {"XGROUP", "CREATE", kTopic, "g" + std::to_string(made), "$", "MKSTREAM"}).status());
    }
    auto make_reader = [&](int i) -> Result<ReaderLoop> {
      auto connection = ConnectRedis(**redis);
      if (!connection.ok()) return connection.status();
      auto shared = std::make_shared<RedisConnection>(std::move(*connection));
      const std::string group = "g" + std::to_string(i);
      return ReaderLoop{[shared, group]() -> Result<std::optional<std::string>> {
        auto read = RedisCall(shared->get(), {"XREADGROUP", "GROUP", group, "c", "COUNT", "1", "BLOCK", "200",
                                              "STREAMS", kTopic, ">"});
        if (!read.ok()) return read.status();
        std::optional<StreamEntry> entry = FirstEntry(read->get());
        if (!entry) return std::optional<std::string>();
        CK_RETURN_IF_ERROR(RedisCall(shared->get(), {"XACK", kTopic, group, entry->id}).status());
        return std::optional<std::string>(std::move(entry->value));
      }};
    };
    auto publish = [&](const std::string& body) -> Status {
      return RedisCall(admin->get(), {"XADD", kTopic, "*", "t", body}).status();
    };
    auto latency = PublishLatency(options.latency_samples, readers, make_reader, publish);
    if (!latency.ok()) return latency.status();
    figures->publish_p50_us[slot].redis = latency->first;
    figures->publish_p99_us[slot].redis = latency->second;
  }
  return Status::Ok();
}

}  // namespace

Result<double> TransportCeiling(const MessagingOptions& options) {
  RawEchoServer echo;
  auto context = std::make_shared<zmq::context_t>(1);  // shared, as the client library's is
  auto round_trips = CallsPerSecond(options.queue_clients, options.queue_seconds, [&](int) -> Result<Call> {
    auto socket = std::make_shared<zmq::socket_t>(*context, zmq::socket_type::dealer);
    socket->set(zmq::sockopt::linger, 0);
    socket->connect(echo.endpoint());
    return Call([context, socket]() -> Status {
      if (!socket->send(zmq::buffer(kBody), zmq::send_flags::none)) return Status::Unavailable("echo send failed");
      zmq::message_t reply;
      if (!socket->recv(reply)) return Status::Unavailable("echo receive failed");
      return Status::Ok();
    });
  });
  if (!round_trips.ok()) return round_trips.status();
  return *round_trips / 3;
}

Result<MessagingFigures> MeasureMessaging(const MessagingOptions& options) {
  MessagingFigures figures;
  auto ceiling = TransportCeiling(options);
  if (!ceiling.ok()) return ceiling.status();
  figures.transport_ceiling_cycles_per_s = *ceiling;
  CK_RETURN_IF_ERROR(MeasureRedis(options, false, &figures.memory));
  CK_RETURN_IF_ERROR(MeasureCloudkit(options, "memory", &figures.memory));
  CK_RETURN_IF_ERROR(MeasureRedis(options, true, &figures.local));
  CK_RETURN_IF_ERROR(MeasureCloudkit(options, "local", &figures.local));
  return figures;
}

}  // namespace cloudkit::bench
