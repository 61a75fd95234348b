// Runs a program to completion for the integration tests (a ChildProcess,
// support/child_process.h, in a process group of its own): stdin from a
// string or a file, stdout and stderr captured through temporary files (so a
// child writing megabytes never blocks on a full pipe), with a time limit
// after which it is killed.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace cloudkit::integration {

struct ProcessResult {
  int exit_code = -1;    // -1 when killed by a signal
  int signal = 0;        // the signal that ended it, if any
  bool timed_out = false;
  std::string out;
  std::string err;
};

struct ProcessOptions {
  std::string stdin_data;           // used unless stdin_file is set
  std::string stdin_file;
  std::map<std::string, std::string> env;  // added to (or replacing in) the test's environment
  std::vector<std::string> unset_env;
  std::chrono::milliseconds time_limit{60'000};
};

// argv[0] is the program's path.
ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options = {});

}  // namespace cloudkit::integration
