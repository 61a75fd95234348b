#include "load/load_clients.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include <zmq.hpp>

#include "cloudkit/v1/envelope.pb.h"

namespace cloudkit::bench {
namespace {

using Clock = std::chrono::steady_clock;

// One DEALER socket and the bookkeeping to match replies to requests.
class BenchConnection {
 public:
  BenchConnection(zmq::context_t& context, const std::string& endpoint, const RequestShape& shape,
                  uint64_t client)
      : socket_(context, zmq::socket_type::dealer), shape_(shape), client_(client) {
    socket_.set(zmq::sockopt::sndhwm, 0);
    socket_.set(zmq::sockopt::rcvhwm, 0);
    socket_.set(zmq::sockopt::linger, 0);
    socket_.connect(endpoint);
    envelope_.set_kind(v1::REQUEST);
    envelope_.set_method(shape.method);
    envelope_.set_binding(shape.binding);
    envelope_.set_timeout_ms(30'000);
  }

  void SendNext() {
    uint64_t request_id = ++last_sent_;
    envelope_.set_request_id(request_id);
    envelope_.SerializeToString(&envelope_bytes_);
    std::string body = shape_.body(client_, request_id);
    socket_.send(zmq::buffer(envelope_bytes_), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(body), zmq::send_flags::none);
    outstanding_.insert(request_id);
    in_flight_++;
  }

  // Receives one reply if one is waiting (or blocks when `wait`). Returns
  // false when none was read; counts it as an error when it does not match.
  bool ReceiveOne(bool wait) {
    zmq::message_t envelope, body;
    auto flags = wait ? zmq::recv_flags::none : zmq::recv_flags::dontwait;
    if (!socket_.recv(envelope, flags)) return false;
    while (envelope.more()) {
      (void)socket_.recv(body);
      if (!body.more()) break;
    }
    in_flight_--;
    uint64_t request_id = 0;
    bool ok;
    if (shape_.echo) {
      v1::RequestEnvelope echoed;
      ok = echoed.ParseFromArray(envelope.data(), static_cast<int>(envelope.size()));
      request_id = echoed.request_id();
    } else {
      v1::ResponseEnvelope reply;
      ok = reply.ParseFromArray(envelope.data(), static_cast<int>(envelope.size())) &&
           reply.status().code() == v1::OK && reply.kind() == v1::RESPONSE;
      request_id = reply.request_id();
    }
    // Every reply must answer a request sent and not answered yet.
    ok = outstanding_.erase(request_id) == 1 && ok;
    if (!ok) errors_++;
    return true;
  }

  zmq::socket_t& socket() { return socket_; }
  int in_flight() const { return in_flight_; }
  uint64_t errors() const { return errors_; }

 private:
  zmq::socket_t socket_;
  const RequestShape& shape_;
  uint64_t client_;
  v1::RequestEnvelope envelope_;
  std::string envelope_bytes_;
  uint64_t last_sent_ = 0;
  std::unordered_set<uint64_t> outstanding_;
  int in_flight_ = 0;
  uint64_t errors_ = 0;
};

}  // namespace

double Percentile(std::vector<double>& samples, double fraction) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  size_t index = std::min(samples.size() - 1, static_cast<size_t>(fraction * static_cast<double>(samples.size())));
  return samples[index];
}

uint64_t CollectRoundTrips(const std::string& endpoint, const RequestShape& shape, uint64_t samples,
                           uint64_t warmup, std::vector<double>* micros) {
  zmq::context_t context(1);
  BenchConnection connection(context, endpoint, shape, 0);
  for (uint64_t i = 0; i < warmup + samples; ++i) {
    Clock::time_point sent = Clock::now();
    connection.SendNext();
    connection.ReceiveOne(true);
    if (i >= warmup) micros->push_back(std::chrono::duration<double, std::micro>(Clock::now() - sent).count());
  }
  return connection.errors();
}

ThroughputFigures MeasureThroughput(const std::string& endpoint, const RequestShape& shape, int clients,
                                    int depth, std::chrono::duration<double> duration) {
  zmq::context_t context(1);
  std::vector<std::unique_ptr<BenchConnection>> connections;
  for (int i = 0; i < clients; ++i) {
    connections.push_back(std::make_unique<BenchConnection>(context, endpoint, shape, static_cast<uint64_t>(i)));
  }
  std::vector<zmq::pollitem_t> items;
  for (auto& connection : connections) items.push_back({connection->socket().handle(), 0, ZMQ_POLLIN, 0});

  for (auto& connection : connections) {
    for (int i = 0; i < depth; ++i) connection->SendNext();
  }
  uint64_t completed = 0;
  Clock::time_point started = Clock::now();
  Clock::time_point stop_at =
      started + std::chrono::duration_cast<Clock::duration>(duration);
  bool sending = true;
  Clock::time_point stopped_sending = stop_at;
  while (true) {
    bool any_in_flight = false;
    for (auto& connection : connections) any_in_flight |= connection->in_flight() > 0;
    if (!any_in_flight) break;
    zmq::poll(items, std::chrono::milliseconds(1000));
    for (size_t i = 0; i < connections.size(); ++i) {
      while (connections[i]->ReceiveOne(false)) {
        if (sending) {
          completed++;
          connections[i]->SendNext();
        }
      }
    }
    if (sending && Clock::now() >= stop_at) {
      sending = false;
      stopped_sending = Clock::now();
    }
  }
  ThroughputFigures figures;
  figures.completed = completed;
  figures.seconds = std::chrono::duration<double>(stopped_sending - started).count();
  for (auto& connection : connections) figures.errors += connection->errors();
  return figures;
}

Result<double> CallsPerSecond(int threads, double seconds, const std::function<Result<Call>(int)>& make_caller) {
  std::atomic<uint64_t> done{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  Status first_error = Status::Ok();
  auto note = [&](const Status& error) {
    std::lock_guard<std::mutex> lock(mutex);
    if (first_error.ok()) first_error = error;
  };
  std::vector<std::thread> callers;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < threads; ++i) {
    callers.emplace_back([&, i] {
      Result<Call> call = make_caller(i);
      if (!call.ok()) return note(call.status());
      while (!stop.load()) {
        Status ran = (*call)();
        if (!ran.ok()) return note(ran);
        done.fetch_add(1);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& caller : callers) caller.join();
  CK_RETURN_IF_ERROR(first_error);
  return static_cast<double>(done.load()) /
         std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace cloudkit::bench
