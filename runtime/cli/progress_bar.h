// ProgressBar: the transfer progress line `cloudkit storage put/get` draws on
// stderr. It only appears when stderr is a terminal and the transfer is over
// 4 MiB (known total, or bytes moved so far when the total is unknown), so
// pipes, logs and small transfers stay clean.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace cloudkit::cli {

class ProgressBar {
 public:
  static constexpr uint64_t kThresholdBytes = 4 << 20;

  // `label` names the transfer, e.g. "docs/big.iso".
  explicit ProgressBar(std::string label);
  ~ProgressBar() { Finish(); }

  // Redraws at most ten times a second.
  void Update(uint64_t done, std::optional<uint64_t> total);
  // Draws the final state and ends the line, if the bar was shown.
  void Finish();

 private:
  void Draw(uint64_t done, std::optional<uint64_t> total);

  using Clock = std::chrono::steady_clock;
  std::string label_;
  bool terminal_;
  bool shown_ = false;
  bool finished_ = false;
  uint64_t last_done_ = 0;
  std::optional<uint64_t> last_total_;
  Clock::time_point started_ = Clock::now();
  Clock::time_point last_draw_{};
};

}  // namespace cloudkit::cli
