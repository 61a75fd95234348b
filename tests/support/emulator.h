// Emulator: a real cloud service emulator for a test — s3rver (S3), Azurite
// (Azure Blob, Queue and Table storage), dynalite (DynamoDB) or Debian's
// redis-server — run as a child process on free ports of 127.0.0.1 with a
// fresh temporary data directory. Start returns once the emulator answers a
// real request; Stop, Kill and Restart (on the same ports and data) are for
// fault tests; destroying it kills the emulator's whole process group and
// removes the directory, so no emulator outlives a test, failed or not.
//
// The Node emulators and the official SDKs are pinned in
// tests/emulators/package-lock.json and installed into
// tests/emulators/node_modules by scripts/install-deps.sh.
//
// Data across Stop/Kill and Restart: s3rver (files) and dynalite (LevelDB)
// keep everything; Azurite keeps blobs and entities, but writes its metadata
// every few seconds and at a graceful Stop, so a Kill can lose the last
// seconds of it; Redis runs without persistence and comes back empty.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "support/child_process.h"

namespace cloudkit::testing_util {

enum class EmulatorKind { kS3rver, kAzurite, kDynalite, kRedis };

const char* EmulatorKindName(EmulatorKind kind);

struct EmulatorOptions {
  // Lets a browser page on any origin call the emulator. s3rver: CORS is set
  // per bucket, so each bucket in `buckets` gets a rule allowing every origin,
  // method and header, and exposing the response headers the `s3` provider
  // reads (tests/emulators/s3rver-cors-allow-all.xml; a bucket created later
  // needs its own PutBucketCors, which s3rver supports; the service root
  // never answers CORS). Azurite: the
  // blob and table services get such a rule (set through the Azure SDKs at
  // every start). Dynalite answers every origin anyway; Redis is not HTTP.
  bool cors_allow_all = false;
  // s3rver: buckets created at start-up (--configure-bucket).
  std::vector<std::string> buckets;
  // Azurite: also write its debug log (data_dir()/azurite-debug.log), which
  // shows the string it signed for each SharedKey check.
  bool azurite_debug_log = false;
  // Appended to the emulator's command line, e.g. {"--createTableMs", "0"}
  // for dynalite or {"--appendonly", "yes"} for redis-server.
  std::vector<std::string> extra_args;
  std::chrono::milliseconds start_timeout{60'000};
};

// The well-known credentials of the emulators.
struct EmulatorCredentials {
  // s3rver: S3RVER/S3RVER (its only key; the key id is checked, a SigV4
  // signature is not). dynalite: any key is accepted.
  std::string access_key_id;
  std::string secret_access_key;
  std::string region;
  // Azurite: its account and the documented key; SharedKey signatures are
  // verified.
  std::string account_name;
  std::string account_key;
};

class Emulator {
 public:
  // Starts the emulator and waits until it answers. On failure, the status
  // says why and includes what the emulator wrote.
  static Result<std::unique_ptr<Emulator>> Start(EmulatorKind kind, EmulatorOptions options = {});
  ~Emulator();
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  EmulatorKind kind() const { return kind_; }
  const char* name() const { return EmulatorKindName(kind_); }
  std::string host() const { return "127.0.0.1"; }
  // The service's port: s3rver, dynalite and Redis have one; for Azurite, the
  // blob service's.
  int port() const { return ports_.at(0); }
  // Azurite's services (0 for the others).
  int blob_port() const;
  int queue_port() const;
  int table_port() const;

  // s3rver and dynalite: "http://127.0.0.1:PORT"; Azurite: its blob service
  // endpoint, "http://127.0.0.1:PORT/devstoreaccount1"; Redis:
  // "redis://127.0.0.1:PORT".
  std::string endpoint() const;
  // Azurite's service endpoints, account included ("" for the others).
  std::string blob_endpoint() const;
  std::string queue_endpoint() const;
  std::string table_endpoint() const;
  // Azurite: the connection string that the Azure SDKs take ("" for the others).
  std::string connection_string() const;
  const EmulatorCredentials& credentials() const { return credentials_; }

  // The emulator's temporary directory: its data and its log.
  const std::string& data_dir() const { return data_dir_; }
  // Its pid, which is also its process group's id; -1 while stopped.
  pid_t pid() const { return process_ ? process_->pid() : -1; }
  // Whether it is running (false once it exited, whatever the reason).
  bool running();
  // Everything it wrote to stdout and stderr, over every start.
  std::string Log() const;

  // SIGTERM, then SIGKILL after a few seconds; its whole process group is
  // gone when this returns. The ports and data stay for Restart.
  void Stop();
  // SIGKILL at once: a crash, as far as the emulator can tell.
  void Kill();
  // SIGSTOP and SIGCONT: a server that hangs, its connections open and
  // nothing answered, then comes back.
  void Pause();
  void Resume();
  // Stops it if running, starts it again on the same ports and data, and
  // waits until it answers.
  Status Restart();

 private:
  Emulator(EmulatorKind kind, EmulatorOptions options) : kind_(kind), options_(std::move(options)) {}
  Status Launch();
  Status WaitUntilAnswering();
  Status AllowAllCorsOnAzurite();
  Status WithLog(const Status& status) const;
  std::vector<std::string> CommandLine() const;

  EmulatorKind kind_;
  EmulatorOptions options_;
  EmulatorCredentials credentials_;
  std::vector<int> ports_;  // s3rver, dynalite, Redis: {port}; Azurite: {blob, queue, table}
  std::string data_dir_;
  std::unique_ptr<ChildProcess> process_;
};

// For tests that run the official SDKs (Node scripts) against an emulator.
// The node binary the emulators run on.
std::string NodeExecutable();
// tests/emulators: the npm package with the emulators and the SDKs; a script
// there imports them from its node_modules.
std::string EmulatorsPackageDir();

}  // namespace cloudkit::testing_util
