// examples/python/cloudkit_client.py, run with Debian's /usr/bin/python3
// against a real cloudkitd: the protocol page and the .proto files suffice to
// write a client in another language.
#include "integration/daemon_fixture.h"
#include "integration/subprocess.h"

namespace cloudkit::integration {
namespace {

using PythonExampleTest = DaemonTest;

TEST_F(PythonExampleTest, RunsCleanAgainstTheDaemon) {
  ProcessOptions options;
  options.unset_env = {"PYTHONPATH", "PYTHONHOME"};  // Debian's python3 with Debian's modules only
  options.time_limit = std::chrono::milliseconds(120'000);
  ProcessResult result = RunProcess(
      {"/usr/bin/python3", CLOUDKIT_SOURCE_DIR "/examples/python/cloudkit_client.py", "--endpoint", daemon_->endpoint()},
      options);
  EXPECT_EQ(result.exit_code, 0) << "stdout:\n" << result.out << "\nstderr:\n" << result.err;
  EXPECT_NE(result.out.find("all good"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("error as expected: NOT_FOUND"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("queue: message "), std::string::npos) << result.out;
}

}  // namespace
}  // namespace cloudkit::integration
