// The provider conformance suite's frame: what every provider of a service
// promises is written once, as GoogleTest cases against the provider
// interfaces, and each host instantiates the cases for each of its providers
// (native: memory and local; later the clouds and the browser's providers).
// A target opens a binding on a ManualClock so expiry and timestamps are exact
// (for backends that expire items by their own clock, see manual_clock_expiry).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/actor.h"
#include "core/status.h"
#include "ports/clock.h"
#include "ports/timers.h"
#include "providers/registry.h"
#include "support/manual_host.h"
#include "support/run_task.h"

namespace cloudkit::conformance {

class ConformanceTarget {
 public:
  virtual ~ConformanceTarget() = default;
  // True when data outlives the binding instance: opening again sees it.
  virtual bool durable() const = 0;
  // True when the provider stamps times with the clock given to Open (a
  // remote service stamps them with its own).
  virtual bool host_clock() const { return true; }
  // Why the target cannot run a case (a known defect of an emulator),
  // or empty; `feature` names what the case relies on (e.g. "key order").
  virtual std::string Cannot(const std::string& feature) const { return {}; }
  virtual Result<BindingInstance> Open(ports::Clock* clock) = 0;
};

struct TargetParam {
  std::string name;  // becomes part of the test name: [A-Za-z0-9_]
  std::function<std::unique_ptr<ConformanceTarget>()> make;
  std::vector<std::string> services = {};  // those the target serves; empty = all
};
// Defined by the host's target list (native_targets.cc natively): every
// provider the host runs the suite against.
std::vector<TargetParam> ConformanceTargets();
// Those serving `service`: a service's cases run on them only.
inline std::vector<TargetParam> ConformanceTargetsServing(const std::string& service) {
  std::vector<TargetParam> serving;
  for (TargetParam& target : ConformanceTargets()) {
    if (target.services.empty() ||
        std::find(target.services.begin(), target.services.end(), service) != target.services.end()) {
      serving.push_back(std::move(target));
    }
  }
  return serving;
}

inline void PrintTo(const TargetParam& param, std::ostream* os) { *os << param.name; }
inline std::string ParamName(const ::testing::TestParamInfo<TargetParam>& info) { return info.param.name; }

// Runs a provider's call to completion: the test thread is its actor.
using testing_util::RunTask;
template <typename T>
T Sync(Task<T> task) { return RunTask(std::move(task)); }

// The host's side of a service actor under test: its timers fire when the
// test says (FireDueTimers, by the manual clock), and its frames are kept.
using testing_util::ManualTimers;
using testing_util::RecordingOutbox;
// Runs what the ports answer until they fall quiet (at once over memory).
inline void Settle() {
  while (testing_util::ThisThreadExecutor()->RunOne(std::chrono::milliseconds(100))) {
  }
}
// Fires the timers that are due by the clock, as the host would.
inline void FireDueTimers(ManualTimers& timers, Actor& actor) {
  for (uint32_t token; timers.TakeDue(&token);) {
    actor.OnTimer(token);
    Settle();
  }
}

inline const Status& StatusOf(const Status& s) { return s; }
template <typename T>
const Status& StatusOf(const Result<T>& r) { return r.status(); }

#define CK_EXPECT_OK(expr)                                                            \
  do {                                                                                \
    const auto& ck_v_ = (expr);                                                       \
    EXPECT_TRUE(::cloudkit::conformance::StatusOf(ck_v_).ok())                        \
        << #expr << ": " << ::cloudkit::conformance::StatusOf(ck_v_).message();       \
  } while (0)
#define CK_ASSERT_OK(expr)                                                            \
  do {                                                                                \
    const auto& ck_v_ = (expr);                                                       \
    ASSERT_TRUE(::cloudkit::conformance::StatusOf(ck_v_).ok())                        \
        << #expr << ": " << ::cloudkit::conformance::StatusOf(ck_v_).message();       \
  } while (0)
#define CK_EXPECT_CODE(expr, expected_code)                                                    \
  do {                                                                                \
    const auto& ck_v_ = (expr);                                                       \
    EXPECT_EQ(::cloudkit::Status::CodeName(::cloudkit::conformance::StatusOf(ck_v_).code()), \
              ::cloudkit::Status::CodeName(expected_code))                                     \
        << #expr << ": " << ::cloudkit::conformance::StatusOf(ck_v_).message();       \
  } while (0)

class ConformanceTest : public ::testing::TestWithParam<TargetParam> {
 protected:
  void SetUp() override {
    target_ = GetParam().make();
    Reopen();
  }
  // Drops the binding and opens it again, as a restarted host would.
  void Reopen() {
    binding_ = BindingInstance();
    Result<BindingInstance> opened = target_->Open(&clock_);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    binding_ = std::move(*opened);
  }
  bool durable() const { return target_->durable(); }
  // Times the provider stamps: the manual clock's exactly, or a remote
  // service's, which must be close to the real time.
  void ExpectStampedNow(int64_t stamped_ms) {
    if (target_->host_clock()) {
      EXPECT_EQ(stamped_ms, clock_.NowMs());
    } else {
      const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch()).count();
      EXPECT_NEAR(static_cast<double>(stamped_ms), static_cast<double>(now), 120'000.0);
    }
  }
  // Whether items expire by the clock the target is opened on (the suite's
  // ManualClock); a backend that expires them by its own clock (Redis,
  // DynamoDB) cannot follow it: its target Cannot("manual clock").
  bool ManualClockExpiry() const { return target_->Cannot("manual clock").empty(); }
  // Skips the case when the target cannot run it.
#define CK_SKIP_UNLESS_TARGET_CAN(feature)                                        \
  do {                                                                            \
    const std::string ck_why_ = target_->Cannot(feature);                        \
    if (!ck_why_.empty()) GTEST_SKIP() << ck_why_;                                \
  } while (0)

  testing_util::TestTurn turn_;  // before the binding: its ports answer here
  ports::ManualClock clock_;
  std::unique_ptr<ConformanceTarget> target_;
  BindingInstance binding_;
};

}  // namespace cloudkit::conformance
