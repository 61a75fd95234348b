// The local ends of `cloudkit storage put/get`: an input that is a file or
// stdin ("-"), and an output that is stdout ("-") or a file written through a
// temporary file in the same directory and renamed into place only when the
// download completed, so a failed get never leaves a partial file behind
// (nor an interrupted one: SIGINT, SIGTERM or SIGHUP removes the temporary
// file before the process ends). An existing file keeps its mode, and a
// symbolic link is written through (the file it names is replaced, the link
// stays). What is not a regular file (a device such as /dev/null, a FIFO) is
// written to directly: it cannot be replaced, only written.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"

namespace cloudkit::cli {

class InputFile {
 public:
  // Errors are local (the message names the file and the reason).
  static Result<std::unique_ptr<InputFile>> Open(const std::string& path);
  ~InputFile();

  int fd() const { return fd_; }
  const std::string& name() const { return name_; }
  // Bytes the input holds when it is a regular file.
  std::optional<uint64_t> size() const { return size_; }

 private:
  InputFile(int fd, std::string name, std::optional<uint64_t> size)
      : fd_(fd), name_(std::move(name)), size_(size) {}

  int fd_;
  std::string name_;
  std::optional<uint64_t> size_;
};

class OutputFile {
 public:
  // "-" means stdout. Errors are local.
  static Result<std::unique_ptr<OutputFile>> Open(const std::string& path);
  // Removes the temporary file unless Commit() succeeded.
  ~OutputFile();

  int fd() const { return fd_; }
  bool is_stdout() const { return path_ == "-"; }
  const std::string& name() const { return name_; }
  // Flushes the file to disk and renames it to its final name.
  Status Commit();

 private:
  OutputFile(int fd, std::string path, std::string final_path, std::string temp_path)
      : fd_(fd), path_(std::move(path)), name_(path_ == "-" ? "stdout" : "'" + path_ + "'"),
        final_path_(std::move(final_path)), temp_path_(std::move(temp_path)) {}

  int fd_;
  std::string path_;        // the path asked for, "-" for stdout
  std::string name_;        // how messages name it
  std::string final_path_;  // what the temporary file replaces: path_, or the file a link names
  std::string temp_path_;   // empty when written directly (stdout, a device, a FIFO)
  bool committed_ = false;
};

}  // namespace cloudkit::cli
