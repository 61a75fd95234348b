#include "integration/subprocess.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "support/child_process.h"

namespace cloudkit::integration {

ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options) {
  ProcessResult result;
  char dir_template[] = "/tmp/cloudkit-subprocess-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    result.err = "RunProcess: mkdtemp failed";
    return result;
  }
  std::string dir = dir_template;
  testing_util::ChildProcessOptions child;
  child.argv = argv;
  child.env = options.env;
  child.unset_env = options.unset_env;
  child.stdin_path = options.stdin_file.empty() ? dir + "/stdin" : options.stdin_file;
  if (options.stdin_file.empty()) std::ofstream(child.stdin_path, std::ios::binary) << options.stdin_data;
  child.stdout_path = dir + "/stdout";
  child.stderr_path = dir + "/stderr";

  Result<std::unique_ptr<testing_util::ChildProcess>> process = testing_util::ChildProcess::Start(child);
  if (process.ok()) {
    if (!(*process)->WaitForExit(options.time_limit)) {
      result.timed_out = true;
      (*process)->Kill();
    }
    result.exit_code = (*process)->exit_code();
    result.signal = (*process)->term_signal();
    result.out = testing_util::ReadWholeFile(child.stdout_path);
    result.err = testing_util::ReadWholeFile(child.stderr_path);
  } else {
    result.err = process.status().message();
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return result;
}

}  // namespace cloudkit::integration
