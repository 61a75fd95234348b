#include "load/stream_transfer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "client/client.h"

namespace cloudkit::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kCopyBufferBytes = 1 << 20;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

Status Errno(const std::string& what) { return Status::Internal(what + ": " + std::strerror(errno)); }

Status WriteAll(int fd, const char* data, size_t size, const std::string& name) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("write " + name);
    data += n;
    size -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

// Pseudo-random bytes, so no layer can compress or deduplicate them.
Status WriteSourceFile(const std::string& path, uint64_t size) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create " + path);
  std::vector<uint64_t> block(kCopyBufferBytes / sizeof(uint64_t));
  uint64_t state = 0x9E3779B97F4A7C15ull;
  Status status;
  for (uint64_t written = 0; written < size && status.ok();) {
    for (uint64_t& word : block) {
      state ^= state << 13, state ^= state >> 7, state ^= state << 17;
      word = state;
    }
    size_t n = static_cast<size_t>(std::min<uint64_t>(kCopyBufferBytes, size - written));
    status = WriteAll(fd, reinterpret_cast<const char*>(block.data()), n, path);
    written += n;
  }
  if (status.ok() && fsync(fd) != 0) status = Errno("fsync " + path);
  close(fd);
  return status;
}

// What `cp` does, plus fsync: the durability a put promises.
Status CopyFile(const std::string& from, const std::string& to) {
  int in = open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Errno("open " + from);
  int out = open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    close(in);
    return Errno("create " + to);
  }
  std::vector<char> buffer(kCopyBufferBytes);
  Status status;
  while (status.ok()) {
    ssize_t n = read(in, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) status = Errno("read " + from);
    if (n <= 0) break;
    status = WriteAll(out, buffer.data(), static_cast<size_t>(n), to);
  }
  if (status.ok() && fsync(out) != 0) status = Errno("fsync " + to);
  close(in);
  close(out);
  return status;
}

Result<bool> SameContents(const std::string& a, const std::string& b) {
  int fa = open(a.c_str(), O_RDONLY | O_CLOEXEC), fb = open(b.c_str(), O_RDONLY | O_CLOEXEC);
  if (fa < 0 || fb < 0) {
    if (fa >= 0) close(fa);
    if (fb >= 0) close(fb);
    return Errno("open for comparison");
  }
  std::vector<char> ba(kCopyBufferBytes), bb(kCopyBufferBytes);
  bool same = true;
  while (same) {
    ssize_t na = read(fa, ba.data(), ba.size());
    ssize_t nb = read(fb, bb.data(), bb.size());
    // Both are regular files read in equal steps: short reads line up.
    if (na != nb || na < 0) same = false;
    else if (na == 0) break;
    else same = std::memcmp(ba.data(), bb.data(), static_cast<size_t>(na)) == 0;
  }
  close(fa);
  close(fb);
  return same;
}

}  // namespace

Result<StreamFigures> MeasureStreaming(const std::string& endpoint, const std::string& binding,
                                       const std::string& work_dir, uint64_t size) {
  const std::string source = work_dir + "/stream-source.bin";
  const std::string copy = work_dir + "/stream-copy.bin";
  const std::string fetched = work_dir + "/stream-fetched.bin";
  CK_RETURN_IF_ERROR(WriteSourceFile(source, size));

  StreamFigures figures;
  Clock::time_point started = Clock::now();
  CK_RETURN_IF_ERROR(CopyFile(source, copy));
  figures.copy_seconds = SecondsSince(started);
  unlink(copy.c_str());

  ClientOptions options;
  options.binding = binding;
  auto client = Client::Connect(endpoint, options);
  if (!client.ok()) return client.status();
  v1::CreateBucketRequest create;
  create.set_bucket("bench");
  auto created = (*client)->storage().CreateBucket(create);
  if (!created.ok() && created.status().code() != v1::ALREADY_EXISTS) return created.status();

  v1::PutObjectRequest put;
  put.set_bucket("bench");
  put.set_key("stream.bin");
  int in = open(source.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Errno("open " + source);
  started = Clock::now();
  auto stored = (*client)->storage().PutObjectFromFd(put, in);
  figures.put_seconds = SecondsSince(started);
  close(in);
  if (!stored.ok()) return stored.status();

  v1::GetObjectRequest get;
  get.set_bucket("bench");
  get.set_key("stream.bin");
  int out = open(fetched.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) return Errno("create " + fetched);
  started = Clock::now();
  auto loaded = (*client)->storage().GetObjectToFd(get, out);
  bool synced = loaded.ok() && fsync(out) == 0;
  figures.get_seconds = SecondsSince(started);
  close(out);
  if (!loaded.ok()) return loaded.status();
  if (!synced) return Errno("fsync " + fetched);

  Result<bool> same = SameContents(source, fetched);
  unlink(fetched.c_str());
  unlink(source.c_str());
  if (!same.ok()) return same.status();
  if (!*same) return Status::Internal("the object read back differs from the one written");

  figures.copy_bytes_per_second = static_cast<double>(size) / figures.copy_seconds;
  figures.daemon_bytes_per_second = 2.0 * static_cast<double>(size) / (figures.put_seconds + figures.get_seconds);
  return figures;
}

}  // namespace cloudkit::bench
