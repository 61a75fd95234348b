// cloudkit storage put / get: streamed transfers between a local file (or
// stdin / stdout) and an object, in constant memory, with a progress bar on
// big transfers. Failures on the local side (cannot read the input, cannot
// write the output) exit 1; the daemon's exit 10 + code.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/formatting.h"
#include "cli/local_files.h"
#include "cli/progress_bar.h"

namespace cloudkit::cli {
namespace {

struct TransferArgs {
  std::string bucket;
  std::string key;
  std::string file;  // "-" = stdin / stdout
  std::string content_type;
  std::vector<std::string> metadata;  // KEY=VALUE
  std::string range;                  // START-END (inclusive) or START-
};

// Parses "START-END" (inclusive, as in HTTP) or "START-" into the request.
bool ParseRange(const std::string& text, v1::GetObjectRequest* request) {
  size_t dash = text.find('-');
  if (dash == std::string::npos || dash == 0) return false;
  try {
    size_t used = 0;
    uint64_t start = std::stoull(text.substr(0, dash), &used);
    if (used != dash) return false;
    uint64_t length = 0;  // to the end
    if (dash + 1 < text.size()) {
      std::string end_text = text.substr(dash + 1);
      uint64_t end = std::stoull(end_text, &used);
      if (used != end_text.size() || end < start) return false;
      length = end - start + 1;
    }
    request->set_has_range(true);
    request->set_range_start(start);
    request->set_range_length(length);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

int PutObject(CliContext& context, const TransferArgs& args) {
  v1::PutObjectRequest request;
  request.set_bucket(args.bucket);
  request.set_key(args.key);
  request.set_content_type(args.content_type);
  for (const auto& entry : args.metadata) {
    size_t equals = entry.find('=');
    if (equals == std::string::npos || equals == 0) {
      return context.FailUsage("--metadata expects KEY=VALUE, not '" + entry + "'");
    }
    (*request.mutable_metadata())[entry.substr(0, equals)] = entry.substr(equals + 1);
  }
  auto input = InputFile::Open(args.file);
  if (!input.ok()) return context.FailLocal(input.status().message());
  int exit_code = kExitOk;
  Client* client = context.client(&exit_code);
  if (!client) return exit_code;

  // Remember a read failure, so that it exits 1 and not as the daemon's error.
  Status read_failure;
  ByteSource read = SourceFromFd((*input)->fd(), (*input)->name());
  ByteSource source = [&](char* buffer, size_t capacity) {
    Result<size_t> n = read(buffer, capacity);
    if (!n.ok()) read_failure = n.status();
    return n;
  };
  ProgressBar bar(args.bucket + "/" + args.key);
  TransferOptions options;
  options.size_hint = (*input)->size();
  options.progress = [&bar](uint64_t done, std::optional<uint64_t> total) { bar.Update(done, total); };
  auto put = client->storage().PutObject(request, source, options);
  bar.Finish();
  if (!read_failure.ok()) return context.FailLocal(read_failure.message());
  if (!put.ok()) return context.Fail(put.status());
  if (context.json()) {
    context.PrintJson(ObjectJson(put->object()));
  } else {
    std::printf("uploaded %s/%s: %llu bytes, etag %s\n", args.bucket.c_str(), args.key.c_str(),
                (unsigned long long)put->object().size(), put->object().etag().c_str());
  }
  return kExitOk;
}

int GetObject(CliContext& context, const TransferArgs& args) {
  v1::GetObjectRequest request;
  request.set_bucket(args.bucket);
  request.set_key(args.key);
  if (!args.range.empty() && !ParseRange(args.range, &request)) {
    return context.FailUsage("--range expects START-END or START- (byte offsets, END inclusive), not '" +
                             args.range + "'");
  }
  auto output = OutputFile::Open(args.file);
  if (!output.ok()) return context.FailLocal(output.status().message());
  // The body owns stdout: keep the JSON result (or error) out of it.
  if ((*output)->is_stdout()) context.send_json_to_stderr();
  int exit_code = kExitOk;
  Client* client = context.client(&exit_code);
  if (!client) return exit_code;

  Status write_failure;
  ByteSink write = SinkToFd((*output)->fd(), (*output)->name());
  ByteSink sink = [&](std::string_view chunk) {
    Status written = write(chunk);
    if (!written.ok()) write_failure = written;
    return written;
  };
  ProgressBar bar(args.bucket + "/" + args.key);
  TransferOptions options;
  options.progress = [&bar](uint64_t done, std::optional<uint64_t> total) { bar.Update(done, total); };
  auto got = client->storage().GetObject(request, sink, options);
  bar.Finish();
  if (!write_failure.ok()) return context.FailLocal(write_failure.message());
  if (!got.ok()) return context.Fail(got.status());  // the partial temp file goes with `output`
  Status committed = (*output)->Commit();
  if (!committed.ok()) return context.FailLocal(committed.message());
  if (context.json()) {
    nlohmann::ordered_json result = ObjectJson(got->object());
    result["range_start"] = got->range_start();
    result["content_length"] = got->content_length();
    result["file"] = args.file;
    context.PrintJson(result);
  } else if (!(*output)->is_stdout()) {
    std::printf("downloaded %s/%s to %s: %llu bytes\n", args.bucket.c_str(), args.key.c_str(), args.file.c_str(),
                (unsigned long long)got->content_length());
  }
  return kExitOk;
}

}  // namespace

void AddTransferCommands(CLI::App& storage, CliContext& context, Action* action) {
  auto args = std::make_shared<TransferArgs>();

  CLI::App* put = storage.add_subcommand("put", "Upload a file (or stdin with -) as an object");
  put->fallthrough();
  put->add_option("bucket", args->bucket, "Bucket name")->required();
  put->add_option("key", args->key, "Object key")->required();
  put->add_option("file", args->file, "File to upload, or - for stdin")->required();
  put->add_option("--content-type", args->content_type, "Content type to store with the object");
  put->add_option("--metadata", args->metadata, "User metadata KEY=VALUE (repeatable)")->take_all();
  put->callback([&context, action, args] { *action = [&context, args] { return PutObject(context, *args); }; });

  CLI::App* get = storage.add_subcommand("get", "Download an object to a file (or stdout)");
  get->fallthrough();
  get->add_option("bucket", args->bucket, "Bucket name")->required();
  get->add_option("key", args->key, "Object key")->required();
  get->add_option("file", args->file, "File to write, or - for stdout (default)");
  get->add_option("--range", args->range, "Bytes START-END (inclusive) or START- (to the end)");
  get->callback([&context, action, args] {
    if (args->file.empty()) args->file = "-";
    *action = [&context, args] { return GetObject(context, *args); };
  });
}

}  // namespace cloudkit::cli
