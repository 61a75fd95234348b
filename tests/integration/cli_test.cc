// The `cloudkit` CLI as a user runs it: a child process against a real
// cloudkitd, checking stdout, stderr, exit codes (docs/cli.md) and --json.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include <nlohmann/json.hpp>

#include "integration/daemon_fixture.h"
#include "integration/subprocess.h"
#include "integration/test_helpers.h"
#include "support/child_process.h"

namespace cloudkit::integration {
namespace {

using nlohmann::json;

class CliTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    if (HasFatalFailure()) return;
    char dir_template[] = "/tmp/cloudkit-cli-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    files_ = dir_template;
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(files_, ignored);
    DaemonTest::TearDown();
  }

  // Runs `cloudkit ARGS...` with CLOUDKIT_ENDPOINT pointing at the test's daemon.
  ProcessResult Cli(std::vector<std::string> args, ProcessOptions options = {}) {
    args.insert(args.begin(), CLOUDKIT_CLI_PATH);
    options.env.emplace("CLOUDKIT_ENDPOINT", daemon_->endpoint());
    return RunProcess(args, options);
  }
  // Runs it and expects exit 0, returning stdout.
  std::string Ok(std::vector<std::string> args, ProcessOptions options = {}) {
    ProcessResult result = Cli(args, std::move(options));
    EXPECT_EQ(result.exit_code, 0) << "stderr: " << result.err << "\nstdout: " << result.out;
    return result.out;
  }
  json Json(std::vector<std::string> args) {
    args.insert(args.begin(), "--json");
    std::string out = Ok(args);
    return json::parse(out, nullptr, /*allow_exceptions=*/false);
  }
  std::string File(const std::string& name, const std::string& content) {
    std::string path = files_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  static std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
  // An error is exactly one line on stderr, "cloudkit: ...".
  static void ExpectOneErrorLine(const ProcessResult& result, const std::string& starts_with) {
    EXPECT_EQ(result.err.rfind("cloudkit: " + starts_with, 0), 0u) << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  }

  std::string files_;
};

TEST_F(CliTest, Status) {
  std::string out = Ok({"status"});
  EXPECT_NE(out.find("cloudkitd"), std::string::npos) << out;
  EXPECT_NE(out.find(daemon_->endpoint()), std::string::npos) << out;
  EXPECT_NE(out.find("scratch"), std::string::npos) << out;
  json status = Json({"status"});
  EXPECT_FALSE(status["version"].get<std::string>().empty());
  EXPECT_EQ(status["endpoints"][0], daemon_->endpoint());
  EXPECT_EQ(status["bindings"].size(), 2u);
}

TEST_F(CliTest, EndpointFlagBeatsTheEnvironment) {
  ProcessOptions options;
  options.env["CLOUDKIT_ENDPOINT"] = UnusedEndpoint();
  ProcessResult result = RunProcess({CLOUDKIT_CLI_PATH, "--endpoint", daemon_->endpoint(), "status"}, options);
  EXPECT_EQ(result.exit_code, 0) << result.err;
}

TEST_F(CliTest, BucketsCreateListDelete) {
  EXPECT_EQ(Ok({"storage", "create-bucket", "docs"}), "created bucket docs\n");
  ProcessResult again = Cli({"storage", "create-bucket", "docs"});
  EXPECT_EQ(again.exit_code, 13);
  ExpectOneErrorLine(again, "already exists: ");
  EXPECT_NE(again.err.find("docs"), std::string::npos);

  std::string listed = Ok({"storage", "list-buckets"});
  EXPECT_NE(listed.find(" docs\n"), std::string::npos) << listed;
  json buckets = Json({"storage", "list-buckets"});
  ASSERT_EQ(buckets["buckets"].size(), 1u);
  EXPECT_EQ(buckets["buckets"][0]["name"], "docs");

  Ok({"storage", "put", "docs", "a.txt", File("a.txt", "a")});
  ProcessResult not_empty = Cli({"storage", "delete-bucket", "docs"});
  EXPECT_EQ(not_empty.exit_code, 14);
  ExpectOneErrorLine(not_empty, "failed precondition: ");
  Ok({"storage", "delete", "docs", "a.txt"});
  EXPECT_EQ(Ok({"storage", "delete-bucket", "docs"}), "deleted bucket docs\n");
  ProcessResult gone = Cli({"storage", "delete-bucket", "docs"});
  EXPECT_EQ(gone.exit_code, 12);
  ExpectOneErrorLine(gone, "not found: ");
}

TEST_F(CliTest, PutGetHeadWithFiles) {
  Ok({"storage", "create-bucket", "docs"});
  std::string input = File("in.txt", "hello from a file\n");
  std::string out = Ok({"storage", "put", "docs", "notes/a.txt", input, "--content-type", "text/plain",
                        "--metadata", "author=ada", "--metadata", "team=core"});
  EXPECT_EQ(out.rfind("uploaded docs/notes/a.txt: 18 bytes, etag ", 0), 0u) << out;

  std::string copy = files_ + "/copy.txt";
  Ok({"storage", "get", "docs", "notes/a.txt", copy});
  EXPECT_EQ(Read(copy), "hello from a file\n");
  struct stat info {};
  ASSERT_EQ(stat(copy.c_str(), &info), 0);
  EXPECT_NE(info.st_mode & S_IRGRP, 0u) << "a downloaded file gets ordinary permissions";

  EXPECT_EQ(Ok({"storage", "get", "docs", "notes/a.txt"}), "hello from a file\n");  // stdout by default
  EXPECT_EQ(Ok({"storage", "get", "docs", "notes/a.txt", "-"}), "hello from a file\n");
  EXPECT_EQ(Ok({"storage", "get", "docs", "notes/a.txt", "-", "--range", "6-9"}), "from");
  EXPECT_EQ(Ok({"storage", "get", "docs", "notes/a.txt", "-", "--range", "13-"}), "file\n");

  std::string head = Ok({"storage", "head", "docs", "notes/a.txt"});
  EXPECT_NE(head.find("size: 18\n"), std::string::npos) << head;
  EXPECT_NE(head.find("content-type: text/plain\n"), std::string::npos) << head;
  EXPECT_NE(head.find("metadata.author: ada\nmetadata.team: core\n"), std::string::npos) << head;
  json info_json = Json({"storage", "head", "docs", "notes/a.txt"});
  EXPECT_EQ(info_json["size"], 18);
  EXPECT_EQ(info_json["metadata"]["team"], "core");
  EXPECT_EQ(info_json["key"], "notes/a.txt");
}

TEST_F(CliTest, StreamsThroughStdinAndStdout) {
  Ok({"storage", "create-bucket", "docs"});
  const std::string body = MakeBody(6 << 20, 9);  // over the 4 MiB progress threshold; stderr is no tty
  ProcessOptions with_stdin;
  with_stdin.stdin_data = body;
  ProcessResult put = Cli({"storage", "put", "docs", "big.bin", "-"}, with_stdin);
  EXPECT_EQ(put.exit_code, 0) << put.err;
  EXPECT_EQ(put.err, "");  // no progress bar when stderr is not a terminal
  ProcessResult get = Cli({"storage", "get", "docs", "big.bin", "-"});
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.err, "");
  EXPECT_EQ(get.out.size(), body.size());
  EXPECT_TRUE(get.out == body);

  std::string file = files_ + "/big.out";
  Ok({"storage", "get", "docs", "big.bin", file});
  EXPECT_TRUE(Read(file) == body);
  std::string input = File("big.in", body);
  Ok({"storage", "put", "docs", "big2.bin", input});
  EXPECT_TRUE(Ok({"storage", "get", "docs", "big2.bin"}) == body);
}

// `script` runs the CLI on a pseudo-terminal, where the progress bar may appear.
TEST_F(CliTest, ProgressBarOnlyOnATerminalAndOnlyForBigTransfers) {
  if (access("/usr/bin/script", X_OK) != 0) GTEST_SKIP() << "needs /usr/bin/script (bsdutils)";
  Ok({"storage", "create-bucket", "docs"});
  auto on_terminal = [&](const std::string& args) {
    std::string command = "'" + std::string(CLOUDKIT_CLI_PATH) + "' --endpoint " + daemon_->endpoint() + " " + args;
    ProcessResult result = RunProcess({"/usr/bin/script", "-qec", command, "/dev/null"});
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
    return result.out;  // the terminal's output: the CLI's stdout and stderr
  };
  std::string big = on_terminal("storage put docs big " + File("big", MakeBody(5 << 20)));
  EXPECT_NE(big.find("100%"), std::string::npos) << big;
  std::string download = on_terminal("storage get docs big " + files_ + "/big.copy");
  EXPECT_NE(download.find("100%"), std::string::npos) << download;
  std::string small = on_terminal("storage put docs small " + File("small", MakeBody(1 << 20)));
  EXPECT_EQ(small.find('%'), std::string::npos) << small;
}

TEST_F(CliTest, JsonGoesToStderrWhenTheBodyOwnsStdout) {
  Ok({"storage", "create-bucket", "docs"});
  Ok({"storage", "put", "docs", "a", File("a", "body")});
  ProcessResult result = Cli({"--json", "storage", "get", "docs", "a", "-"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "body");
  EXPECT_EQ(json::parse(result.err, nullptr, false)["content_length"], 4);
  ProcessResult missing = Cli({"--json", "storage", "get", "docs", "nope", "-"});
  EXPECT_EQ(missing.exit_code, 12);
  EXPECT_EQ(missing.out, "");
  EXPECT_EQ(json::parse(missing.err, nullptr, false)["error"]["code"], "NOT_FOUND");
}

TEST_F(CliTest, BinaryValuesInJsonAreBase64) {
  Ok({"kv", "put", "t", "k", "caf\xe9"});
  std::string binary("\xff\x00\x01", 3);
  ASSERT_CK_OK(client_->kv().Put(KvPut("t", "bin", binary)));
  EXPECT_EQ(Json({"kv", "get", "t", "bin"})["value_base64"], "/wAB");
  EXPECT_EQ(Json({"kv", "get", "t", "k"})["value_base64"], "Y2Fm6Q==");
  // Shaped like UTF-8 but not: an overlong '/' and a UTF-16 surrogate.
  ASSERT_CK_OK(client_->kv().Put(KvPut("t", "overlong", "\xc0\xaf")));
  ASSERT_CK_OK(client_->kv().Put(KvPut("t", "surrogate", "\xed\xa0\x80")));
  EXPECT_EQ(Json({"kv", "get", "t", "overlong"})["value_base64"], "wK8=");
  EXPECT_EQ(Json({"kv", "get", "t", "surrogate"})["value_base64"], "7aCA");
  EXPECT_EQ(Json({"kv", "get", "t", "bin"}).count("value"), 0u);
}

TEST_F(CliTest, FailedGetLeavesNoFileBehind) {
  Ok({"storage", "create-bucket", "docs"});
  std::string target = files_ + "/never.txt";
  ProcessResult missing = Cli({"storage", "get", "docs", "a.txt", target});
  EXPECT_EQ(missing.exit_code, 12);
  EXPECT_EQ(missing.err, "cloudkit: not found: object 'a.txt' in bucket 'docs'\n");
  EXPECT_FALSE(std::filesystem::exists(target));
  EXPECT_TRUE(std::filesystem::is_empty(files_)) << "no temporary file left";
}

// A get replaces a regular file (through a link, keeping its mode) and
// writes into what it cannot replace: a FIFO stays a FIFO (so would
// /dev/null), its reader gets the object.
TEST_F(CliTest, GetWritesThroughLinksAndIntoFifos) {
  Ok({"storage", "create-bucket", "docs"});
  Ok({"storage", "put", "docs", "a.txt", File("in", "new body")});
  const std::string real = File("real", "old");
  ASSERT_EQ(chmod(real.c_str(), 0600), 0);
  const std::string link = files_ + "/link";
  std::filesystem::create_symlink(real, link);
  Ok({"storage", "get", "docs", "a.txt", link});
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_EQ(Read(real), "new body");
  struct stat info {};
  ASSERT_EQ(stat(real.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);

  const std::string fifo = files_ + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  testing_util::ChildProcessOptions reader;
  reader.argv = {"/bin/sh", "-c", "cat '" + fifo + "' > '" + files_ + "/from-fifo'"};
  auto cat = testing_util::ChildProcess::Start(reader);
  ASSERT_TRUE(cat.ok()) << cat.status().message();
  Ok({"storage", "get", "docs", "a.txt", fifo});
  ASSERT_TRUE((*cat)->WaitForExit(std::chrono::seconds(10))) << "nothing was written into the FIFO";
  EXPECT_EQ(Read(files_ + "/from-fifo"), "new body");
  EXPECT_TRUE(std::filesystem::is_fifo(fifo));
}

// Ctrl-C in the middle of a download: the temporary file goes too.
TEST_F(CliTest, InterruptedGetLeavesNoFileBehind) {
  Ok({"storage", "create-bucket", "docs"});
  Ok({"storage", "put", "docs", "big", File("big", MakeBody(96 << 20))});
  std::filesystem::remove(files_ + "/big");
  testing_util::ChildProcessOptions get;
  get.argv = {CLOUDKIT_CLI_PATH, "storage", "get", "docs", "big", files_ + "/out"};
  get.env = {{"CLOUDKIT_ENDPOINT", daemon_->endpoint()}};
  auto cli = testing_util::ChildProcess::Start(get);
  ASSERT_TRUE(cli.ok()) << cli.status().message();
  const auto partial = [&] {
    for (const auto& entry : std::filesystem::directory_iterator(files_)) {
      std::error_code ignored;
      if (entry.path().filename().string().rfind("out.cloudkit-", 0) == 0 && entry.file_size(ignored) > 0) return true;
    }
    return false;
  };
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!partial() && !(*cli)->Exited() && std::chrono::steady_clock::now() < give_up) usleep(500);
  (*cli)->SignalGroup(SIGINT);
  ASSERT_TRUE((*cli)->WaitForExit(std::chrono::seconds(10)));
  ASSERT_EQ((*cli)->term_signal(), SIGINT) << (*cli)->DescribeExit() << ": the get ended before it was interrupted";
  EXPECT_TRUE(std::filesystem::is_empty(files_)) << "a partial or temporary file was left";
}

TEST_F(CliTest, AStdoutThatCannotBeWrittenIsALocalError) {
  testing_util::ChildProcessOptions status;
  status.argv = {CLOUDKIT_CLI_PATH, "status"};
  status.env = {{"CLOUDKIT_ENDPOINT", daemon_->endpoint()}};
  status.stdout_path = "/dev/full";
  status.stderr_path = files_ + "/stderr";
  auto cli = testing_util::ChildProcess::Start(status);
  ASSERT_TRUE(cli.ok()) << cli.status().message();
  ASSERT_TRUE((*cli)->WaitForExit(std::chrono::seconds(30)));
  EXPECT_EQ((*cli)->exit_code(), 1) << (*cli)->DescribeExit();
  EXPECT_EQ(Read(files_ + "/stderr"), "cloudkit: cannot write stdout: No space left on device\n");
}

TEST_F(CliTest, DeleteCopyAndList) {
  Ok({"storage", "create-bucket", "docs"});
  Ok({"storage", "create-bucket", "archive"});
  std::string input = File("x", "x");
  for (const char* key : {"a.txt", "notes/1.txt", "notes/2.txt", "z.txt"}) Ok({"storage", "put", "docs", key, input});

  std::string listed = Ok({"storage", "list", "docs", "--delimiter", "/"});
  EXPECT_NE(listed.find("PRE notes/\n"), std::string::npos) << listed;
  EXPECT_NE(listed.find(" a.txt\n"), std::string::npos) << listed;
  EXPECT_EQ(listed.find("notes/1.txt"), std::string::npos) << listed;
  json prefixed = Json({"storage", "list", "docs", "--prefix", "notes/"});
  ASSERT_EQ(prefixed["objects"].size(), 2u);
  EXPECT_EQ(prefixed["objects"][1]["key"], "notes/2.txt");
  json grouped = Json({"storage", "list", "docs", "--delimiter", "/"});
  EXPECT_EQ(grouped["common_prefixes"], json::array({"notes/"}));

  EXPECT_EQ(Ok({"storage", "copy", "docs", "a.txt", "archive", "a-copy.txt"}),
            "copied docs/a.txt to archive/a-copy.txt\n");
  EXPECT_EQ(Ok({"storage", "get", "archive", "a-copy.txt"}), "x");
  ProcessResult bad_copy = Cli({"storage", "copy", "docs", "ghost", "archive", "b"});
  EXPECT_EQ(bad_copy.exit_code, 12);

  EXPECT_EQ(Ok({"storage", "delete", "docs", "notes/1.txt", "notes/2.txt"}),
            "deleted docs/notes/1.txt\ndeleted docs/notes/2.txt\n");
  json deleted = Json({"storage", "delete", "docs", "z.txt"});
  EXPECT_EQ(deleted["deleted"], json::array({"z.txt"}));
  EXPECT_EQ(Json({"storage", "list", "docs"})["objects"].size(), 1u);
  EXPECT_EQ(Cli({"storage", "delete", "nope", "k"}).exit_code, 12);
}

// More objects than one page (1000) holds. In the memory binding: this is
// about paging, not about the disk.
TEST_F(CliTest, ListPagesThroughEveryObject) {
  CallOptions scratch;
  scratch.binding = "scratch";
  ASSERT_CK_OK(client_->storage().CreateBucket(CreateBucketRequest("many"), scratch));
  std::vector<std::future<ObjectStorageClient::PutObjectResult>> puts;
  TransferOptions options;
  options.call = scratch;
  // In waves within the daemon's calls-in-flight limit per client (1024).
  for (int i = 0; i < 1203; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "k%05d", i);
    puts.push_back(client_->storage().PutObjectAsync(PutRequest("many", key, "v"), options));
    if (puts.size() == 600 || i == 1202) {
      for (auto& put : puts) ASSERT_CK_OK(put.get());
      puts.clear();
    }
  }
  std::string listed = Ok({"--binding", "scratch", "storage", "list", "many"});
  EXPECT_EQ(std::count(listed.begin(), listed.end(), '\n'), 1203);
  EXPECT_EQ(Json({"--binding", "scratch", "storage", "list", "many"})["objects"].size(), 1203u);
}

TEST_F(CliTest, KeyValueVerbs) {
  std::string etag = Ok({"kv", "put", "settings", "theme", "dark"});
  EXPECT_FALSE(etag.empty());
  EXPECT_EQ(Ok({"kv", "get", "settings", "theme"}), "dark\n");
  json item = Json({"kv", "get", "settings", "theme"});
  EXPECT_EQ(item["value"], "dark");
  EXPECT_EQ(item["etag"].get<std::string>() + "\n", etag);

  ProcessResult taken = Cli({"kv", "put", "settings", "theme", "light", "--if-absent"});
  EXPECT_EQ(taken.exit_code, 13);
  ExpectOneErrorLine(taken, "already exists: ");
  ProcessResult stale = Cli({"kv", "put", "settings", "theme", "light", "--if-match", "\"stale\""});
  EXPECT_EQ(stale.exit_code, 14);
  ExpectOneErrorLine(stale, "failed precondition: ");
  etag.pop_back();
  Ok({"kv", "put", "settings", "theme", "light", "--if-match", etag});
  EXPECT_EQ(Ok({"kv", "get", "settings", "theme"}), "light\n");

  json with_ttl = Json({"kv", "put", "settings", "session", "abc", "--ttl", "60000"});
  EXPECT_GT(with_ttl["expires_at_ms"].get<int64_t>(), 0);
  Ok({"kv", "put", "settings", "font", "mono"});
  EXPECT_EQ(Ok({"kv", "list", "settings"}), "font\tmono\nsession\tabc\ntheme\tlight\n");
  EXPECT_EQ(Ok({"kv", "list", "settings", "--prefix", "s"}), "session\tabc\n");
  json listed = Json({"kv", "list", "settings"});
  EXPECT_EQ(listed["items"].size(), 3u);

  EXPECT_EQ(Ok({"kv", "delete", "settings", "font"}), "deleted settings/font\n");
  EXPECT_EQ(Json({"kv", "delete", "settings", "font"})["existed"], false);
  ProcessResult missing = Cli({"kv", "get", "settings", "font"});
  EXPECT_EQ(missing.exit_code, 12);
  ExpectOneErrorLine(missing, "not found: ");

  // From stdin: any bytes, NUL included.
  ProcessOptions from_stdin;
  from_stdin.stdin_data = std::string("bin\0ary", 7);
  Ok({"kv", "put", "settings", "blob", "-"}, from_stdin);
  EXPECT_EQ(Ok({"kv", "get", "settings", "blob"}), std::string("bin\0ary\n", 8));
  // Listings escape control bytes: a key cannot recolour the terminal or split its line.
  Ok({"kv", "put", "esc", "a\x1b[31m\nb\\", "v\tw"});
  EXPECT_EQ(Ok({"kv", "list", "esc"}), "a\\x1b[31m\\x0ab\\\\\tv\\x09w\n");
  // Numbers and conditions a script could get wrong are usage errors.
  EXPECT_EQ(Cli({"kv", "put", "settings", "theme", "x", "--ttl", "-1"}).exit_code, 2);
  EXPECT_EQ(Cli({"kv", "put", "settings", "theme", "x", "--if-match", ""}).exit_code, 2);
  EXPECT_EQ(Cli({"kv", "put", "settings", "theme", "x", "--if-absent", "--if-match", etag}).exit_code, 2);
}

TEST_F(CliTest, QueueVerbs) {
  EXPECT_EQ(Ok({"queue", "create", "jobs-dlq"}), "created queue jobs-dlq\n");
  Ok({"queue", "create", "jobs", "--dead-letter", "jobs-dlq", "--max-receives", "3"});
  json fifo = Json({"queue", "create", "orders", "--fifo"});
  EXPECT_EQ(fifo["fifo"], true);
  ProcessResult again = Cli({"queue", "create", "jobs"});
  EXPECT_EQ(again.exit_code, 13);
  ExpectOneErrorLine(again, "already exists: queue 'jobs'");
  // The protocol reads 0 ms as "the default" (30 s): a visibility of 0 is refused, not taken for 30 s.
  EXPECT_EQ(Cli({"queue", "create", "q0", "--visibility", "0"}).exit_code, 2);
  EXPECT_EQ(Cli({"queue", "receive", "jobs", "--visibility", "0.0001"}).exit_code, 2);
  EXPECT_EQ(Ok({"queue", "list"}),
            "jobs\tstandard\tdead letters to jobs-dlq after 3 receives\njobs-dlq\tstandard\norders\tfifo\n");
  EXPECT_EQ(Json({"queue", "list", "--prefix", "jobs"})["queues"].size(), 2u);

  const std::string id = Ok({"queue", "send", "jobs", "resize photo 7", "--attr", "size=large", "--dedup", "p7"});
  EXPECT_EQ(id.size(), 17u) << id;  // 16 hex digits and a newline
  json duplicate = Json({"queue", "send", "jobs", "resize photo 7", "--dedup", "p7"});
  EXPECT_EQ(duplicate["duplicate"], true);
  EXPECT_EQ(duplicate["message_id"].get<std::string>() + "\n", id);
  ProcessOptions from_stdin;
  from_stdin.stdin_data = "from stdin";
  Ok({"queue", "send", "jobs", "-"}, from_stdin);
  Ok({"queue", "send", "jobs", "later", "--delay", "60"});
  EXPECT_EQ(Ok({"queue", "depth", "jobs"}), "visible 2, in flight 0, delayed 1\n");

  json received = Json({"queue", "receive", "jobs", "--max", "10", "--visibility", "30"});
  ASSERT_EQ(received["messages"].size(), 2u);
  EXPECT_EQ(received["messages"][0]["body"], "resize photo 7");
  EXPECT_EQ(received["messages"][0]["attributes"]["size"], "large");
  EXPECT_EQ(received["messages"][0]["receive_count"], 1);
  EXPECT_EQ(Json({"queue", "depth", "jobs"})["in_flight"], 2);
  const std::string receipt = received["messages"][0]["receipt_handle"];
  EXPECT_EQ(Ok({"queue", "ack", "jobs", receipt}), "acked\n");
  ProcessResult stale = Cli({"queue", "ack", "jobs", receipt});
  EXPECT_EQ(stale.exit_code, 14);
  ExpectOneErrorLine(stale, "failed precondition: stale receipt handle for queue 'jobs'");
  ProcessResult bad = Cli({"queue", "ack", "jobs", "nonsense"});
  EXPECT_EQ(bad.exit_code, 11);

  // Text: RECEIPT<TAB>BODY; an empty queue prints nothing after its wait.
  Ok({"queue", "send", "orders", "first"});
  const std::string line = Ok({"queue", "receive", "orders", "--wait", "1"});
  EXPECT_EQ(line.substr(line.find('\t')), "\tfirst\n");
  EXPECT_EQ(Ok({"queue", "receive", "orders", "--wait", "0.5"}), "");
  EXPECT_EQ(Cli({"queue", "receive", "orders", "--wait", "21"}).exit_code, 2);

  EXPECT_EQ(Ok({"queue", "purge", "jobs"}), "purged 2 messages from jobs\n");
  ProcessResult in_use = Cli({"queue", "delete", "jobs-dlq"});
  EXPECT_EQ(in_use.exit_code, 14);
  EXPECT_EQ(Ok({"queue", "delete", "jobs"}), "deleted queue jobs\n");
  ProcessResult gone = Cli({"queue", "depth", "jobs"});
  EXPECT_EQ(gone.exit_code, 12);
  ExpectOneErrorLine(gone, "not found: queue 'jobs'");
  EXPECT_EQ(Cli({"queue", "create", "x", "--max-receives", "2"}).exit_code, 2);
}

TEST_F(CliTest, JsonErrorsGoToStdoutWithTheSameExitCode) {
  ProcessResult missing = Cli({"--json", "kv", "get", "settings", "nothing"});
  EXPECT_EQ(missing.exit_code, 12);
  EXPECT_EQ(missing.err, "");
  json error = json::parse(missing.out, nullptr, false);
  ASSERT_TRUE(error.is_object()) << missing.out;
  EXPECT_EQ(error["error"]["code"], "NOT_FOUND");
  EXPECT_NE(error["error"]["message"].get<std::string>().find("nothing"), std::string::npos);

  // The flag may also follow the verb.
  ProcessResult after = Cli({"storage", "head", "docs", "a", "--json"});
  EXPECT_EQ(after.exit_code, 12);
  EXPECT_EQ(json::parse(after.out, nullptr, false)["error"]["code"], "NOT_FOUND");
}

TEST_F(CliTest, BindingFlag) {
  Ok({"--binding", "scratch", "kv", "put", "t", "k", "scratch-value"});
  EXPECT_EQ(Ok({"--binding", "scratch", "kv", "get", "t", "k"}), "scratch-value\n");
  EXPECT_EQ(Cli({"kv", "get", "t", "k"}).exit_code, 12);  // not in the default binding
  ProcessResult unknown = Cli({"--binding", "nope", "kv", "get", "t", "k"});
  EXPECT_EQ(unknown.exit_code, 12);
  EXPECT_NE(unknown.err.find("binding 'nope'"), std::string::npos) << unknown.err;
}

TEST_F(CliTest, UsageErrorsExit2) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {},
           {"storage"},
           {"storage", "fly", "b"},
           {"storage", "put", "docs"},
           {"kv", "get", "t"},
           {"--timeout", "zero", "status"},
           {"storage", "get", "docs", "a", "-", "--range", "9-3"},
           {"storage", "get", "docs", "a", "-", "--range", "abc"},
           {"storage", "put", "docs", "a", "-", "--metadata", "novalue"},
           {"--endpoint", "nonsense", "status"},
       }) {
    ProcessResult result = Cli(args);
    EXPECT_EQ(result.exit_code, 2) << ::testing::PrintToString(args) << "\n" << result.err;
    EXPECT_EQ(result.err.rfind("cloudkit: ", 0), 0u) << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  }
  ProcessResult help = Cli({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("storage"), std::string::npos);
}

TEST_F(CliTest, LocalErrorsExit1) {
  Ok({"storage", "create-bucket", "docs"});
  ProcessResult unreadable = Cli({"storage", "put", "docs", "a", files_ + "/does-not-exist"});
  EXPECT_EQ(unreadable.exit_code, 1);
  ExpectOneErrorLine(unreadable, "cannot open '" + files_ + "/does-not-exist'");
  ProcessResult directory = Cli({"storage", "put", "docs", "a", files_});
  EXPECT_EQ(directory.exit_code, 1);
  Ok({"storage", "put", "docs", "a", File("a", "a")});
  ProcessResult unwritable = Cli({"storage", "get", "docs", "a", files_ + "/no/such/dir/file"});
  EXPECT_EQ(unwritable.exit_code, 1);
  ExpectOneErrorLine(unwritable, "cannot create");
}

TEST_F(CliTest, UnreachableDaemonExits19) {
  std::string endpoint = UnusedEndpoint();
  ProcessResult result = RunProcess({CLOUDKIT_CLI_PATH, "--endpoint", endpoint, "status"});
  EXPECT_EQ(result.exit_code, 19);
  EXPECT_EQ(result.err, "cloudkit: unavailable: cannot connect to cloudkitd at " + endpoint + " (is it running?)\n");
  ProcessResult json_result = RunProcess({CLOUDKIT_CLI_PATH, "--json", "--endpoint", endpoint, "kv", "get", "t", "k"});
  EXPECT_EQ(json_result.exit_code, 19);
  EXPECT_EQ(json::parse(json_result.out, nullptr, false)["error"]["code"], "UNAVAILABLE");
}

TEST_F(CliTest, StalledUploadExits20) {
  Ok({"storage", "create-bucket", "docs"});
  // More than two chunks arrive, then the input stalls past the deadline.
  std::string command = "(head -c 700000 /dev/zero; sleep 2) | '" + std::string(CLOUDKIT_CLI_PATH) +
                        "' --timeout 300 storage put docs stalled -";
  ProcessOptions options;
  options.env["CLOUDKIT_ENDPOINT"] = daemon_->endpoint();
  ProcessResult result = RunProcess({"/bin/sh", "-c", command}, options);
  EXPECT_EQ(result.exit_code, 20) << result.err;
  ExpectOneErrorLine(result, "deadline exceeded: ");
  EXPECT_EQ(Cli({"storage", "head", "docs", "stalled"}).exit_code, 12);
}

}  // namespace
}  // namespace cloudkit::integration
