#include "cli/progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "cli/formatting.h"

namespace cloudkit::cli {
namespace {

constexpr int kBarWidth = 30;
constexpr std::chrono::milliseconds kRedrawInterval{100};

}  // namespace

ProgressBar::ProgressBar(std::string label) : label_(std::move(label)), terminal_(isatty(STDERR_FILENO) == 1) {}

void ProgressBar::Update(uint64_t done, std::optional<uint64_t> total) {
  last_done_ = done;
  last_total_ = total;
  if (!terminal_ || finished_) return;
  if (std::max(done, total.value_or(0)) <= kThresholdBytes) return;
  Clock::time_point now = Clock::now();
  if (shown_ && now - last_draw_ < kRedrawInterval) return;
  last_draw_ = now;
  Draw(done, total);
}

void ProgressBar::Finish() {
  if (finished_) return;
  finished_ = true;
  if (!shown_) return;
  Draw(last_done_, last_total_);
  std::fputc('\n', stderr);
}

void ProgressBar::Draw(uint64_t done, std::optional<uint64_t> total) {
  shown_ = true;
  double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
  std::string rate = HumanBytes(seconds > 0 ? done / seconds : 0) + "/s";
  if (total && *total > 0) {
    double fraction = std::min(1.0, static_cast<double>(done) / static_cast<double>(*total));
    int filled = static_cast<int>(fraction * kBarWidth);
    std::string bar = std::string(filled, '#') + std::string(kBarWidth - filled, ' ');
    std::fprintf(stderr, "\r%s [%s] %3d%% %s / %s  %s\x1b[K", label_.c_str(), bar.c_str(),
                 static_cast<int>(fraction * 100), HumanBytes(done).c_str(), HumanBytes(*total).c_str(), rate.c_str());
  } else {
    std::fprintf(stderr, "\r%s %s  %s\x1b[K", label_.c_str(), HumanBytes(done).c_str(), rate.c_str());
  }
  std::fflush(stderr);
}

}  // namespace cloudkit::cli
