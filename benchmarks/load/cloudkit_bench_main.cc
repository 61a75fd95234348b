// cloudkit-bench: the end-to-end load tool. In one run it starts a
// raw ZeroMQ echo server (the baseline), a cloudkitd with a memory binding and
// one with a local binding on a temp dir, measures round trips, throughput,
// durable puts, a streamed object against a file copy, and idle cost, and
// the native HTTP port's fan-out against a loopback Node server; prints every
// figure beside its baseline and target, and stops every server. `--only`
// runs some of its parts (http, memory, local, clouds, messaging).
// benchmarks/RESULTS.md records the figures and what limits each.
#include <linux/limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "client/client.h"
#include "cloudkit/v1/key_value.pb.h"
#include "load/cloud_gets.h"
#include "load/messaging.h"
#include "load/daemon_process.h"
#include "load/echo_server.h"
#include "load/head_of_line.h"
#include "load/http_fanout.h"
#include "load/load_clients.h"
#include "load/report.h"
#include "load/stream_transfer.h"

namespace cloudkit::bench {
namespace {

using Goal = Figure::Goal;
constexpr char kGetMethod[] = "cloudkit.v1.KeyValue/Get";
constexpr char kPutMethod[] = "cloudkit.v1.KeyValue/Put";
constexpr char kTable[] = "bench";
constexpr char kKey[] = "hot-key";

struct BenchOptions {
  std::string cloudkitd;
  std::string work_dir;
  uint64_t value_bytes = 64;
  uint64_t latency_samples = 20'000;
  uint64_t warmup = 2'000;
  int rounds = 4;  // baseline and daemon alternate, to share the machine's noise
  double throughput_seconds = 4;
  int throughput_clients = 1;
  int throughput_depth = 128;
  double put_seconds = 3;
  int put_clients = 16;
  uint64_t stream_bytes = uint64_t{1} << 30;
  uint64_t hol_bytes = uint64_t{1} << 30;
  uint64_t hol_samples = 2'000;
  double idle_seconds = 2;
  HttpFanoutOptions http;
  CloudGetOptions cloud;
  MessagingOptions messaging;
  bool json = false;
  std::set<std::string> sections;  // what to run (kSections); empty: all
  bool Runs(const std::string& section) const { return sections.empty() || sections.count(section) > 0; }
};

// The parts of a run, each with its own servers: --only picks some.
const std::vector<std::string> kSections = {"http", "memory", "local", "clouds", "messaging"};

std::string DefaultCloudkitd() {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return "cloudkitd";
  self[n] = '\0';
  return (std::filesystem::path(self).parent_path() / "cloudkitd").string();
}

void Progress(const std::string& line) { std::cerr << "cloudkit-bench: " << line << std::endl; }

RequestShape GetShape() {
  v1::GetRequest get;
  get.set_table(kTable);
  get.set_key(kKey);
  std::string body = get.SerializeAsString();
  return {kGetMethod, "", [body](uint64_t, uint64_t) { return body; }, false};
}

// Same envelope as a get, a body of the value's size, echoed back unchanged.
RequestShape EchoShape(uint64_t value_bytes) {
  std::string body(value_bytes, 'e');
  return {kGetMethod, "", [body](uint64_t, uint64_t) { return body; }, true};
}

RequestShape PutShape(uint64_t value_bytes) {
  std::string value(value_bytes, 'v');
  return {kPutMethod, "",
          [value](uint64_t client, uint64_t request_id) {
            v1::PutRequest put;
            put.set_table(kTable);
            put.set_key("c" + std::to_string(client) + "-" + std::to_string(request_id));
            put.set_value(value);
            return put.SerializeAsString();
          },
          false};
}

Status Seed(const std::string& endpoint, uint64_t value_bytes) {
  auto client = Client::Connect(endpoint);
  if (!client.ok()) return client.status();
  v1::PutRequest put;
  put.set_table(kTable);
  put.set_key(kKey);
  put.set_value(std::string(value_bytes, 'v'));
  auto stored = (*client)->kv().Put(put);
  return stored.ok() ? Status::Ok() : stored.status();
}

struct IdleFigures {
  double rss_bytes = 0;
  double cpu_percent = 0;
};

IdleFigures MeasureIdle(const DaemonUnderTest& daemon, double seconds) {
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let start-up settle
  IdleFigures idle;
  idle.rss_bytes = static_cast<double>(daemon.ResidentBytes());
  double before = daemon.CpuSeconds();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  idle.cpu_percent = 100.0 * (daemon.CpuSeconds() - before) / seconds;
  return idle;
}

Status RunHttp(const BenchOptions& options, std::vector<Figure>* figures) {
  // ---- HTTP port: requests in flight at once from one actor ------------------
  Progress(std::to_string(options.http.requests) + " HTTP requests in flight against a " +
           std::to_string(options.http.delay_ms) + " ms loopback server");
  Result<HttpFanoutFigures> fanout = MeasureHttpFanout(options.http);
  if (!fanout.ok()) return fanout.status();
  char fanout_notes[160];
  std::snprintf(fanout_notes, sizeof fanout_notes, "median of %d rounds on kept connections: best %.1f, worst %.1f ms; "
                "first round (new connections) %.1f ms", options.http.rounds, fanout->best_ms, fanout->worst_ms,
                fanout->cold_ms);
  figures->push_back({"http_fanout", std::to_string(options.http.requests) + " HTTP GETs in flight, one actor, vs the server delay",
                      "ms", fanout->median_ms, static_cast<double>(options.http.delay_ms), Goal::kAtMost, 1.5,
                      fanout_notes});
  return Status::Ok();
}

// What the idle daemons of a run cost; the worse of those that ran is reported.
struct IdleDaemons {
  std::vector<IdleFigures> idle;
  std::vector<double> start_to_ready_ms;
};

Status RunMemory(const BenchOptions& options, std::vector<Figure>* figures, IdleDaemons* idle) {
  // ---- servers --------------------------------------------------------------
  RawEchoServer echo;
  Progress("raw echo on " + echo.endpoint());
  auto memory = DaemonUnderTest::Start(options.cloudkitd, options.work_dir, "memory",
                                       "  - {name: default, provider: memory}\n");
  if (!memory.ok()) return memory.status();
  Progress("memory cloudkitd on " + (*memory)->endpoint());
  idle->idle.push_back(MeasureIdle(**memory, options.idle_seconds));
  idle->start_to_ready_ms.push_back((*memory)->start_to_ready_ms());
  CK_RETURN_IF_ERROR(Seed((*memory)->endpoint(), options.value_bytes));

  // ---- one client, one request in flight ----------------------------------
  Progress("round trips, one client");
  std::vector<double> echo_micros, get_micros;
  uint64_t errors = 0;
  uint64_t per_round = std::max<uint64_t>(1, options.latency_samples / options.rounds);
  for (int round = 0; round < options.rounds; ++round) {
    errors += CollectRoundTrips(echo.endpoint(), EchoShape(options.value_bytes), per_round, options.warmup,
                                &echo_micros);
    errors += CollectRoundTrips((*memory)->endpoint(), GetShape(), per_round, options.warmup, &get_micros);
  }
  if (errors) return Status::Internal(std::to_string(errors) + " round trip(s) failed");
  double echo_p50 = Percentile(echo_micros, 0.5), echo_p99 = Percentile(echo_micros, 0.99);
  figures->push_back({"kv_get_p50_us", "kv get 64 B, 1 client, memory: p50 round trip", "us",
                      Percentile(get_micros, 0.5), echo_p50, Goal::kAtMost, 1.25, ""});
  figures->push_back({"kv_get_p99_us", "kv get 64 B, 1 client, memory: p99 round trip", "us",
                      Percentile(get_micros, 0.99), echo_p99, Goal::kAtMost, 1.5, ""});

  // ---- pipelined throughput -------------------------------------------------
  Progress("pipelined throughput");
  ThroughputFigures echo_total, get_total;
  auto slice = std::chrono::duration<double>(options.throughput_seconds / 2);
  for (int round = 0; round < 2; ++round) {
    for (auto [endpoint, shape, total] :
         {std::tuple{echo.endpoint(), EchoShape(options.value_bytes), &echo_total},
          std::tuple{(*memory)->endpoint(), GetShape(), &get_total}}) {
      ThroughputFigures part = MeasureThroughput(endpoint, shape, options.throughput_clients,
                                                 options.throughput_depth, slice);
      total->completed += part.completed;
      total->seconds += part.seconds;
      total->errors += part.errors;
    }
  }
  if (echo_total.errors || get_total.errors) return Status::Internal("pipelined requests failed");
  figures->push_back({"kv_get_throughput", "kv get 64 B pipelined (" + std::to_string(options.throughput_clients) +
                                                " x " + std::to_string(options.throughput_depth) + " in flight)",
                      "rt/s", static_cast<double>(get_total.completed) / get_total.seconds,
                      static_cast<double>(echo_total.completed) / echo_total.seconds, Goal::kAtLeast, 0.60, ""});
  int memory_exit = (*memory)->Stop();
  if (memory_exit != 0) return Status::Internal("memory cloudkitd exited " + std::to_string(memory_exit));
  return Status::Ok();
}

Status RunLocal(const BenchOptions& options, std::vector<Figure>* figures, IdleDaemons* idle) {
  // ---- local binding: durable puts, streams ---------------------------------
  auto local = DaemonUnderTest::Start(options.cloudkitd, options.work_dir, "local",
                                      "  - {name: default, provider: local}\n");
  if (!local.ok()) return local.status();
  Progress("local cloudkitd on " + (*local)->endpoint());
  idle->idle.push_back(MeasureIdle(**local, options.idle_seconds));
  idle->start_to_ready_ms.push_back((*local)->start_to_ready_ms());

  Progress("durable puts, " + std::to_string(options.put_clients) + " clients");
  ThroughputFigures puts = MeasureThroughput((*local)->endpoint(), PutShape(options.value_bytes),
                                             options.put_clients, 1,
                                             std::chrono::duration<double>(options.put_seconds));
  if (puts.errors) return Status::Internal(std::to_string(puts.errors) + " put(s) failed");
  figures->push_back({"local_put_rate", "local durable kv put 64 B, " + std::to_string(options.put_clients) +
                                            " clients, 1 in flight each",
                      "puts/s", static_cast<double>(puts.completed) / puts.seconds, std::nullopt, Goal::kAtLeast,
                      10'000, ""});

  Progress("streamed put + get of " + std::to_string(options.stream_bytes) + " bytes");
  Result<StreamFigures> stream =
      MeasureStreaming((*local)->endpoint(), "default", options.work_dir, options.stream_bytes);
  if (!stream.ok()) return stream.status();
  double mib = 1024.0 * 1024.0;
  char stream_notes[160];
  std::snprintf(stream_notes, sizeof stream_notes, "copy %.2f s; put %.2f s + get %.2f s for %.0f MiB",
                stream->copy_seconds, stream->put_seconds, stream->get_seconds,
                static_cast<double>(options.stream_bytes) / mib);
  figures->push_back({"stream_throughput", "object put+get, local, per direction vs file copy", "MiB/s",
                      stream->daemon_bytes_per_second / mib, stream->copy_bytes_per_second / mib, Goal::kAtLeast,
                      0.70, stream_notes});
  figures->push_back({"stream_peak_rss", "local daemon peak RSS (VmHWM) after the run", "MiB",
                      static_cast<double>((*local)->PeakResidentBytes()) / mib, std::nullopt, Goal::kAtMost, 64,
                      ""});
  Progress("heads while a " + std::to_string(options.hol_bytes) + "-byte copy runs on the same binding");
  Result<HeadOfLineFigures> hol = MeasureHeadOfLine((*local)->endpoint(), options.hol_bytes, options.hol_samples);
  if (!hol.ok()) return hol.status();
  char hol_notes[200];
  std::snprintf(hol_notes, sizeof hol_notes, "p50 %.0f us busy vs %.0f us idle; %llu heads during a %.2f s copy",
                hol->busy_p50_us, hol->idle_p50_us, static_cast<unsigned long long>(hol->busy_samples),
                hol->copy_seconds);
  figures->push_back({"hol_p99_ratio", "head p99 on a local binding busy with a long copy, vs idle", "us",
                      hol->busy_p99_us, hol->idle_p99_us, Goal::kAtMost, 3.0, hol_notes});
  int local_exit = (*local)->Stop();
  if (local_exit != 0) return Status::Internal("local cloudkitd exited " + std::to_string(local_exit));
  return Status::Ok();
}

Status RunClouds(const BenchOptions& options, std::vector<Figure>* figures) {
  // ---- remote services: gets through cloudkitd vs straight to the service ---
  Progress("gets from s3rver, redis-server and dynalite, through cloudkitd and straight");
  CloudGetOptions cloud = options.cloud;
  cloud.cloudkitd = options.cloudkitd;
  cloud.work_dir = options.work_dir;
  Result<CloudGetFigures> gets = MeasureCloudGets(cloud);
  if (!gets.ok()) return gets.status();
  figures->push_back({"s3_get_1k_p50", "s3 get 1 KiB (s3rver), 1 call: p50, vs plain libcurl", "us",
                      gets->s3_small_p50_us, gets->s3_small_direct_p50_us, Goal::kAtMost, 1.15, ""});
  figures->push_back({"s3_get_8m_p50", "s3 get " + std::to_string(cloud.large_bytes >> 20) +
                                           " MiB (s3rver), 1 call: p50, vs plain libcurl",
                      "ms", gets->s3_large_p50_ms, gets->s3_large_direct_p50_ms, Goal::kAtMost, 1.15, ""});
  figures->push_back({"s3_get_in_flight", "s3 get 1 KiB, " + std::to_string(cloud.in_flight) +
                                              " at once: aggregate, vs plain libcurl",
                      "gets/s", gets->s3_in_flight_per_s, gets->s3_in_flight_direct_per_s, Goal::kAtLeast, 0.9, ""});
  figures->push_back({"redis_get_p50", "redis kv get 64 B, 1 call: p50, vs hiredis", "us", gets->redis_p50_us,
                      gets->redis_direct_p50_us, Goal::kAtMost, 1.15, ""});
  figures->push_back({"dynamodb_get_p50", "dynamodb kv get 64 B (dynalite), 1 call: p50, vs a plain libcurl GetItem",
                      "us", gets->dynamodb_p50_us, gets->dynamodb_direct_p50_us, Goal::kAtMost, 1.15, ""});
  return Status::Ok();
}

Status RunMessaging(const BenchOptions& options, std::vector<Figure>* figures) {
  // ---- queues and pub/sub vs Redis streams ------------------------------------
  Progress("queue cycles and publish latency, beside Redis streams");
  MessagingOptions messaging = options.messaging;
  messaging.cloudkitd = options.cloudkitd;
  messaging.work_dir = options.work_dir;
  Result<MessagingFigures> messages = MeasureMessaging(messaging);
  if (!messages.ok()) return messages.status();
  const std::string clients = std::to_string(messaging.queue_clients);
  const std::string many = std::to_string(messaging.many_subscriptions);
  for (const auto& [name, durability, redis] :
       {std::tuple{"memory", &messages->memory, "redis streams, no persistence"},
        std::tuple{"local", &messages->local, "redis streams, appendfsync always"}}) {
    const std::string binding = name;
    figures->push_back({"queue_cycles_" + binding, "queue send+receive+ack 64 B, " + clients + " clients, " + binding +
                                                       ": cycles/s, vs " + redis,
                        "cycles/s", durability->queue_cycles_per_s.cloudkit, durability->queue_cycles_per_s.redis,
                        Goal::kAtLeast, 1.0, "Redis: XADD, XREADGROUP, XACK from hiredis"});
    if (durability == &messages->memory) {
      figures->push_back({"queue_cycles_transport_ceiling",
                          "raw ZeroMQ echo, " + clients + " clients one at a time: round trips/s / 3, vs " + redis,
                          "cycles/s", messages->transport_ceiling_cycles_per_s, durability->queue_cycles_per_s.redis,
                          Goal::kNone, 0, "what a daemon that costs nothing could serve over ZeroMQ"});
    }
    for (int slot = 0; slot < 2; ++slot) {
      const std::string subscriptions = slot == 0 ? "1" : many;
      const std::string id = "publish_" + binding + "_" + subscriptions + "sub";
      const std::string what = "publish-to-delivery, " + subscriptions + " subscription(s), " + binding;
      figures->push_back({id + "_p50_us", what + ": p50, vs " + redis, "us",
                          durability->publish_p50_us[slot].cloudkit, durability->publish_p50_us[slot].redis,
                          Goal::kNone, 0, "Redis: XADD read by a blocked XREADGROUP per group"});
      figures->push_back({id + "_p99_us", what + ": p99, vs " + redis, "us",
                          durability->publish_p99_us[slot].cloudkit, durability->publish_p99_us[slot].redis,
                          Goal::kNone, 0, ""});
    }
  }
  return Status::Ok();
}

Status Run(const BenchOptions& options, std::vector<Figure>* figures) {
  IdleDaemons idle;
  if (options.Runs("http")) CK_RETURN_IF_ERROR(RunHttp(options, figures));
  if (options.Runs("memory")) CK_RETURN_IF_ERROR(RunMemory(options, figures, &idle));
  if (options.Runs("local")) CK_RETURN_IF_ERROR(RunLocal(options, figures, &idle));
  if (options.Runs("clouds")) CK_RETURN_IF_ERROR(RunClouds(options, figures));
  if (options.Runs("messaging")) CK_RETURN_IF_ERROR(RunMessaging(options, figures));
  if (idle.idle.empty()) return Status::Ok();

  // ---- idle cost: the worse of the daemons that ran -------------------------
  double rss = 0, cpu = 0;
  for (const IdleFigures& one : idle.idle) {
    rss = std::max(rss, one.rss_bytes);
    cpu = std::max(cpu, one.cpu_percent);
  }
  const double ready = *std::max_element(idle.start_to_ready_ms.begin(), idle.start_to_ready_ms.end());
  figures->push_back({"idle_rss", "idle daemon RSS (worse of memory, local)", "MB", rss / 1e6, std::nullopt,
                      Goal::kAtMost, 15, ""});
  figures->push_back({"start_to_ready", "fork to 'ready' log line (worse of the two)", "ms", ready, std::nullopt,
                      Goal::kAtMost, 100, ""});
  figures->push_back({"idle_cpu", "idle daemon CPU over the idle window (worse)", "%core", cpu, std::nullopt,
                      Goal::kAtMost, 0.5, "utime+stime from /proc/PID/stat; one clock tick is 10 ms"});
  return Status::Ok();
}

}  // namespace
}  // namespace cloudkit::bench

int main(int argc, char** argv) {
  using cloudkit::bench::BenchOptions;
  BenchOptions options;
  options.cloudkitd = cloudkit::bench::DefaultCloudkitd();
  const char* tmp = std::getenv("TMPDIR");
  std::string work_parent = tmp ? tmp : "/tmp";

  CLI::App app{"cloudkit-bench: cloudkitd side by side with its baselines (benchmarks/RESULTS.md)"};
  app.add_option("--cloudkitd", options.cloudkitd, "cloudkitd binary")->capture_default_str();
  app.add_option("--work-dir", work_parent, "where temp data dirs and stream files go (the disk under test)")
      ->capture_default_str();
  app.add_option("--value-bytes", options.value_bytes, "kv value and echo body size")->capture_default_str();
  app.add_option("--latency-samples", options.latency_samples, "round trips measured per server")
      ->capture_default_str();
  app.add_option("--warmup", options.warmup, "uncounted round trips before each round")->capture_default_str();
  app.add_option("--rounds", options.rounds, "alternating baseline/daemon rounds of the latency test")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--throughput-seconds", options.throughput_seconds, "pipelined test length per server")
      ->capture_default_str();
  app.add_option("--throughput-clients", options.throughput_clients, "client sockets of the pipelined test")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--throughput-depth", options.throughput_depth, "requests in flight per client socket")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--put-seconds", options.put_seconds, "durable put test length")->capture_default_str();
  app.add_option("--put-clients", options.put_clients, "concurrent put clients")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--stream-bytes", options.stream_bytes, "streamed object size (e.g. 1GiB, 64MiB)")
      ->transform(CLI::AsSizeValue(false))
      ->capture_default_str();
  app.add_option("--hol-bytes", options.hol_bytes, "object copied while heads are timed (hol_p99_ratio)")
      ->transform(CLI::AsSizeValue(false))
      ->capture_default_str();
  app.add_option("--hol-samples", options.hol_samples, "heads timed idle, and at most while the copy runs")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--idle-seconds", options.idle_seconds, "idle CPU window per daemon")->capture_default_str();
  app.add_option("--http-requests", options.http.requests, "HTTP requests in flight at once (http_fanout)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--http-delay-ms", options.http.delay_ms, "the loopback HTTP server's answer delay")
      ->capture_default_str();
  app.add_option("--http-rounds", options.http.rounds, "timed http_fanout rounds after the warm-up one")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--node", options.http.node, "Node.js binary running the loopback HTTP server")
      ->capture_default_str();
  app.add_option("--cloud-samples", options.cloud.samples, "timed small gets per side (s3, redis)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--cloud-large-samples", options.cloud.large_samples, "timed large s3 gets per side")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--cloud-large-bytes", options.cloud.large_bytes, "the large s3 object")
      ->transform(CLI::AsSizeValue(false))
      ->capture_default_str();
  app.add_option("--cloud-in-flight", options.cloud.in_flight, "s3 gets at once for the aggregate figure")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--cloud-seconds", options.cloud.throughput_seconds, "aggregate s3 test length per side")
      ->capture_default_str();
  app.add_option("--queue-clients", options.messaging.queue_clients, "queue clients, one cycle at a time each")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--queue-seconds", options.messaging.queue_seconds, "queue cycle test length per side")
      ->capture_default_str();
  app.add_option("--publish-samples", options.messaging.latency_samples, "publishes per subscription count and side")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--many-subscriptions", options.messaging.many_subscriptions, "the second publish figure's subscriptions")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--json", options.json, "print the figures as JSON");
  app.add_option("--only", options.sections, "run only these parts (default: all)")
      ->delimiter(',')
      ->check(CLI::IsMember(cloudkit::bench::kSections));
  CLI11_PARSE(app, argc, argv);

  std::string work_template = work_parent + "/cloudkit-bench-XXXXXX";
  if (!mkdtemp(work_template.data())) {
    std::perror("cloudkit-bench: mkdtemp");
    return 1;
  }
  options.work_dir = work_template;
  std::vector<cloudkit::bench::Figure> figures;
  cloudkit::Status status = cloudkit::bench::Run(options, &figures);
  std::error_code ignored;
  std::filesystem::remove_all(options.work_dir, ignored);
  if (!status.ok()) {
    std::cerr << "cloudkit-bench: " << status.message() << std::endl;
    return 1;
  }
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
  if (options.json) cloudkit::bench::PrintJson(figures, command_line);
  else cloudkit::bench::PrintTable(figures);
  return 0;
}
