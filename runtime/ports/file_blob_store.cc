#include "ports/file_blob_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <functional>
#include <mutex>
#include <utility>

#include "ports/posix_fs.h"

namespace cloudkit {
namespace {

using posix_fs::ErrnoStatus;

constexpr size_t kIdBytes = 16;  // 128 bits -> 32 hex characters
constexpr mode_t kDirMode = 0700;
constexpr mode_t kFileMode = 0600;
constexpr std::string_view kPartSuffix = ".part";

Status Fsync(int fd, const std::string& path) {
  int rc;
  do {
    rc = ::fsync(fd);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return ErrnoStatus("fsync", path, errno);
  return Status::Ok();
}

// Renames without replacing an existing file where the file system allows it.
int RenameNoReplace(const std::string& from, const std::string& to) {
  int rc = ::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE);
  if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) rc = ::rename(from.c_str(), to.c_str());
  return rc;
}

// Removes tmp/*.part but those `in_use` names, adding what it removed to *swept.
Status RemoveLeftoverParts(const std::string& tmp_dir, const std::function<bool(const std::string&)>& in_use,
                           ports::SweptUploads* swept) {
  DIR* d = ::opendir(tmp_dir.c_str());
  if (d == nullptr) return ErrnoStatus("open directory", tmp_dir, errno);
  Status status;
  bool removed = false;
  errno = 0;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.size() <= kPartSuffix.size() || !name.ends_with(kPartSuffix) || in_use(name)) {
      errno = 0;
      continue;
    }
    struct stat st;
    const uint64_t bytes = ::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? st.st_size : 0;
    if (::unlinkat(::dirfd(d), e->d_name, 0) == 0) {
      removed = true;
      swept->files++;
      swept->bytes += bytes;
    } else if (errno != ENOENT && status.ok()) {
      status = ErrnoStatus("remove leftover", tmp_dir + "/" + name, errno);
    }
    errno = 0;
  }
  if (errno != 0 && status.ok()) status = ErrnoStatus("read directory", tmp_dir, errno);
  ::closedir(d);
  if (status.ok() && removed) status = posix_fs::FsyncDir(tmp_dir);
  return status;
}

class FileBlobWriterImpl : public FileBlobWriter {
 public:
  FileBlobWriterImpl(std::string dir, std::string tmp_path, int fd, std::shared_ptr<FileBlobStore::OpenParts> open_parts,
                     std::string part_name)
      : dir_(std::move(dir)), tmp_path_(std::move(tmp_path)), fd_(fd), open_parts_(std::move(open_parts)),
        part_name_(std::move(part_name)) {}
  ~FileBlobWriterImpl() override { Abort(); }
  FileBlobWriterImpl(const FileBlobWriterImpl&) = delete;
  FileBlobWriterImpl& operator=(const FileBlobWriterImpl&) = delete;

  Status Append(std::string_view chunk) override {
    if (fd_ < 0) return Status::FailedPrecondition("blob writer already committed or aborted");
    if (!failed_.ok()) return failed_;
    Status s = posix_fs::WriteAll(fd_, chunk, tmp_path_);
    if (!s.ok()) failed_ = s;
    return s;
  }

  Result<std::string> Commit() override {
    if (fd_ < 0) return Status::FailedPrecondition("blob writer already committed or aborted");
    if (!failed_.ok()) {
      Status s = failed_;
      Abort();
      return s;
    }
    Result<std::string> id = Publish();
    if (!id.ok()) Abort();
    return id;
  }

  // Appends `size` bytes of `src_fd` from its start, in the kernel where it can.
  Status AppendFileContent(int src_fd, uint64_t size, const std::string& src_path) {
    if (fd_ < 0) return Status::FailedPrecondition("blob writer already committed or aborted");
    loff_t in_offset = 0;
    while (static_cast<uint64_t>(in_offset) < size) {
      ssize_t n = ::copy_file_range(src_fd, &in_offset, fd_, nullptr, size - in_offset, 0);
      if (n > 0) continue;
      if (n == 0) return Status::Internal("content of " + src_path + " ended early");
      if (errno == EINTR) continue;
      if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP) {
        return failed_ = ErrnoStatus("copy from " + src_path + " to", tmp_path_, errno);
      }
      // No in-kernel copy here: through a buffer, from where it stopped.
      std::string buffer(1 << 20, '\0');
      while (static_cast<uint64_t>(in_offset) < size) {
        ssize_t got = ::pread(src_fd, buffer.data(), std::min<uint64_t>(buffer.size(), size - in_offset), in_offset);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return failed_ = ErrnoStatus("read", src_path, errno);
        if (got == 0) return Status::Internal("content of " + src_path + " ended early");
        CK_RETURN_IF_ERROR(Append(std::string_view(buffer.data(), static_cast<size_t>(got))));
        in_offset += got;
      }
    }
    return Status::Ok();
  }

  void Abort() override {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (!tmp_path_.empty()) {
      ::unlink(tmp_path_.c_str());
      PartGone();
    }
  }

 private:
  Result<std::string> Publish() {
    CK_RETURN_IF_ERROR(Fsync(fd_, tmp_path_));
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0 && errno != EINTR) return ErrnoStatus("close", tmp_path_, errno);

    for (int attempt = 0; attempt < 4; ++attempt) {
      Result<std::string> id = posix_fs::RandomHex(kIdBytes);
      if (!id.ok()) return id.status();
      const std::string sub = dir_ + "/" + id->substr(0, 2);
      if (::mkdir(sub.c_str(), kDirMode) == 0) {
        CK_RETURN_IF_ERROR(posix_fs::FsyncDir(dir_));
      } else if (errno != EEXIST) {
        return ErrnoStatus("mkdir", sub, errno);
      }
      const std::string dest = sub + "/" + *id;
      if (RenameNoReplace(tmp_path_, dest) != 0) {
        if (errno == EEXIST) continue;  // 2^-128; draw another id
        return ErrnoStatus("rename " + tmp_path_ + " to", dest, errno);
      }
      PartGone();
      Status synced = posix_fs::FsyncDir(sub);
      if (!synced.ok()) {
        // Not known to be durable: the caller will not reference it, so drop it.
        ::unlink(dest.c_str());
        return synced;
      }
      return id;
    }
    return Status::Internal("could not pick an unused blob id in " + dir_);
  }

  // The temp file was renamed or removed: sweeps may no longer meet it.
  void PartGone() {
    tmp_path_.clear();
    std::lock_guard<std::mutex> lock(open_parts_->mutex);
    open_parts_->names.erase(part_name_);
  }

  std::string dir_;
  std::string tmp_path_;  // empty once renamed or removed
  int fd_;                // -1 once closed
  Status failed_;
  std::shared_ptr<FileBlobStore::OpenParts> open_parts_;
  std::string part_name_;
};

class FileBlobReaderImpl : public FileBlobReader {
 public:
  FileBlobReaderImpl(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~FileBlobReaderImpl() override { ::close(fd_); }
  FileBlobReaderImpl(const FileBlobReaderImpl&) = delete;
  FileBlobReaderImpl& operator=(const FileBlobReaderImpl&) = delete;

  uint64_t size() const override { return size_; }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

  Result<std::string> Read(uint64_t offset, size_t max_bytes) override {
    if (offset >= size_ || max_bytes == 0) return std::string();
    const size_t want = static_cast<size_t>(std::min<uint64_t>(max_bytes, size_ - offset));
    std::string buf(want, '\0');
    size_t got = 0;
    while (got < want) {
      ssize_t n = ::pread(fd_, buf.data() + got, want - got, static_cast<off_t>(offset + got));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("read", path_, errno);
      }
      if (n == 0) break;  // blobs are immutable; only a damaged file ends early
      got += static_cast<size_t>(n);
    }
    if (got == 0) {
      return Status::Internal("read " + path_ + ": file is shorter than its recorded size");
    }
    buf.resize(got);
    return buf;
  }

 private:
  std::string path_;
  int fd_;
  uint64_t size_;
};

}  // namespace

Result<std::unique_ptr<FileBlobStore>> FileBlobStore::OpenDirectory(const std::string& dir) {
  if (dir.empty()) return Status::InvalidArgument("empty blob store directory");
  const std::string tmp_dir = dir + "/tmp";
  CK_RETURN_IF_ERROR(posix_fs::MakeDirs(tmp_dir, kDirMode));

  const std::string lock_path = dir + "/.lock";
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, kFileMode);
  if (lock_fd < 0) return ErrnoStatus("open", lock_path, errno);
  std::unique_ptr<FileBlobStore> store(new FileBlobStore(dir, lock_fd));

  // Exclusive lock = nobody else has the store open: leftovers are a crash's.
  int rc;
  do {
    rc = ::flock(lock_fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) {
    store->alone_at_open_ = true;
    CK_RETURN_IF_ERROR(RemoveLeftoverParts(tmp_dir, [](const std::string&) { return false; }, &store->swept_at_open_));
  } else if (errno != EWOULDBLOCK) {
    return ErrnoStatus("lock", lock_path, errno);
  }
  // Hold a shared lock while open, so a later Open elsewhere leaves our
  // in-flight .part files alone.
  do {
    rc = ::flock(lock_fd, LOCK_SH);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return ErrnoStatus("lock", lock_path, errno);
  return store;
}

FileBlobStore::~FileBlobStore() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

bool FileBlobStore::IsValidId(std::string_view blob_id) {
  if (blob_id.size() != kIdBytes * 2) return false;
  return std::all_of(blob_id.begin(), blob_id.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Status FileBlobStore::CheckId(const std::string& blob_id) const {
  if (IsValidId(blob_id)) return Status::Ok();
  return Status::InvalidArgument("blob id '" + blob_id.substr(0, 64) + "' in " + dir_ +
                                 " (expected 32 lower-case hex characters)");
}

std::string FileBlobStore::PathOf(const std::string& blob_id) const {
  return dir_ + "/" + blob_id.substr(0, 2) + "/" + blob_id;
}

Result<std::unique_ptr<FileBlobWriter>> FileBlobStore::Create() {
  for (int attempt = 0; attempt < 4; ++attempt) {
    Result<std::string> name = posix_fs::RandomHex(kIdBytes);
    if (!name.ok()) return name.status();
    std::string part_name = *name + std::string(kPartSuffix);
    std::string tmp_path = dir_ + "/tmp/" + part_name;
    {
      // Known before it exists, so that no sweep takes it for a leftover.
      std::lock_guard<std::mutex> lock(open_parts_->mutex);
      open_parts_->names.insert(part_name);
    }
    int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kFileMode);
    if (fd < 0) {
      const int err = errno;
      std::lock_guard<std::mutex> lock(open_parts_->mutex);
      open_parts_->names.erase(part_name);
      if (err == EEXIST) continue;
      return ErrnoStatus("create", tmp_path, err);
    }
    return std::unique_ptr<FileBlobWriter>(
        std::make_unique<FileBlobWriterImpl>(dir_, std::move(tmp_path), fd, open_parts_, std::move(part_name)));
  }
  return Status::Internal("could not pick an unused temp file name in " + dir_ + "/tmp");
}

Result<std::unique_ptr<FileBlobReader>> FileBlobStore::Open(const std::string& blob_id) {
  CK_RETURN_IF_ERROR(CheckId(blob_id));
  std::string path = PathOf(blob_id);
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound("blob " + blob_id + " in " + dir_);
    return ErrnoStatus("open", path, errno);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus("stat", path, err);
  }
  return std::unique_ptr<FileBlobReader>(
      std::make_unique<FileBlobReaderImpl>(std::move(path), fd, static_cast<uint64_t>(st.st_size)));
}

Result<std::string> FileBlobStore::Copy(const std::string& blob_id) {
  Result<std::unique_ptr<FileBlobReader>> source = Open(blob_id);
  if (!source.ok()) return source.status();
  auto* reader = static_cast<FileBlobReaderImpl*>(source->get());
  Result<std::unique_ptr<FileBlobWriter>> created = Create();
  if (!created.ok()) return created.status();
  auto* writer = static_cast<FileBlobWriterImpl*>(created->get());
  CK_RETURN_IF_ERROR(writer->AppendFileContent(reader->fd(), reader->size(), reader->path()));
  return writer->Commit();
}

Status FileBlobStore::Remove(const std::string& blob_id) {
  CK_RETURN_IF_ERROR(CheckId(blob_id));
  std::string path = PathOf(blob_id);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("remove", path, errno);
  // Not fsynced: a removal undone by a crash leaves an unreferenced blob, never
  // a missing one.
  return Status::Ok();
}

Result<ports::SweptUploads> FileBlobStore::SweepUnfinished() {
  ports::SweptUploads swept = std::exchange(swept_at_open_, {});
  // Another store had the directory open too: its uploads are not ours to judge.
  if (!alone_at_open_) return swept;
  std::shared_ptr<OpenParts> open_parts = open_parts_;
  CK_RETURN_IF_ERROR(RemoveLeftoverParts(
      dir_ + "/tmp",
      [&open_parts](const std::string& name) {
        std::lock_guard<std::mutex> lock(open_parts->mutex);
        return open_parts->names.count(name) > 0;
      },
      &swept));
  return swept;
}

Result<std::vector<ports::ListedBlob>> FileBlobStore::List(const std::string& after, size_t limit) {
  std::vector<ports::ListedBlob> listed;
  if (limit == 0) return listed;
  // Subdirectories are the ids' first two hex digits: "00" to "ff" in order.
  unsigned sub = 0;
  if (!after.empty()) {
    CK_RETURN_IF_ERROR(CheckId(after));
    sub = static_cast<unsigned>(std::stoul(after.substr(0, 2), nullptr, 16));
  }
  for (; sub < 256 && listed.empty(); ++sub) {
    char name[3];
    std::snprintf(name, sizeof name, "%02x", sub);
    const std::string sub_dir = dir_ + "/" + name;
    DIR* d = ::opendir(sub_dir.c_str());
    if (d == nullptr) {
      if (errno == ENOENT) continue;
      return ErrnoStatus("open directory", sub_dir, errno);
    }
    errno = 0;
    while (dirent* e = ::readdir(d)) {
      std::string id = e->d_name;
      if (IsValidId(id) && id > after) {
        struct stat st;
        if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
          const int64_t written_ms = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
          listed.push_back({std::move(id), static_cast<uint64_t>(st.st_size), written_ms});
        }
      }
      errno = 0;
    }
    const int err = errno;
    ::closedir(d);
    if (err != 0) return ErrnoStatus("read directory", sub_dir, err);
  }
  std::sort(listed.begin(), listed.end(),
            [](const ports::ListedBlob& a, const ports::ListedBlob& b) { return a.id < b.id; });
  if (listed.size() > limit) listed.resize(limit);
  return listed;
}

}  // namespace cloudkit
