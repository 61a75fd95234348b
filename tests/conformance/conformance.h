// The provider conformance suite's frame: what every provider of a service
// promises is written once, as GoogleTest cases against the provider
// interfaces, and each host instantiates the cases for each of its providers
// (native: memory and local; later the clouds and the browser's providers).
// A target opens a binding on a ManualClock so expiry and timestamps are exact
// (for backends that expire items by their own clock, see manual_clock_expiry).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "ports/clock.h"
#include "providers/registry.h"
#include "support/run_task.h"

namespace cloudkit::conformance {

class ConformanceTarget {
 public:
  virtual ~ConformanceTarget() = default;
  // True when data outlives the binding instance: opening again sees it.
  virtual bool durable() const = 0;
  // True when items expire by the clock the target is opened on (the suite's
  // ManualClock); false when its backend expires them by a clock of its own
  // (Redis), which the cases that advance the manual clock cannot move.
  virtual bool manual_clock_expiry() const { return true; }
  virtual Result<BindingInstance> Open(ports::Clock* clock) = 0;
};

struct TargetParam {
  std::string name;  // becomes part of the test name: [A-Za-z0-9_]
  std::function<std::unique_ptr<ConformanceTarget>()> make;
};
// Defined by the host's target list (native_targets.cc natively): every
// provider the host runs the suite against.
std::vector<TargetParam> ConformanceTargets();

inline void PrintTo(const TargetParam& param, std::ostream* os) { *os << param.name; }
inline std::string ParamName(const ::testing::TestParamInfo<TargetParam>& info) { return info.param.name; }

// Runs a provider's call to completion: the test thread is its actor.
using testing_util::RunTask;
template <typename T>
T Sync(Task<T> task) { return RunTask(std::move(task)); }

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
  bool manual_clock_expiry() const { return target_->manual_clock_expiry(); }

  testing_util::TestTurn turn_;  // before the binding: its ports answer here
  ports::ManualClock clock_;
  std::unique_ptr<ConformanceTarget> target_;
  BindingInstance binding_;
};

}  // namespace cloudkit::conformance
