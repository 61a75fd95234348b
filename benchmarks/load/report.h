// The report of cloudkit-bench: every figure with its baseline from the same
// run, the ratio, the target it is held to, and whether it met it; printed as
// a table for people or as JSON (--json) for machines.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace cloudkit::bench {

struct Figure {
  enum class Goal { kAtMost, kAtLeast, kNone };  // kNone: measured for the record, held to nothing
  std::string id;           // stable name, e.g. "kv_get_p50_us"
  std::string description;  // what was measured
  std::string unit;
  double value = 0;
  std::optional<double> baseline;  // the same measure of the baseline, when there is one
  Goal goal = Goal::kAtMost;
  double target = 0;        // applies to the ratio when there is a baseline, else to the value
  std::string notes;

  std::optional<double> ratio() const;
  bool passed() const;
  std::string TargetText() const;
};

void PrintTable(const std::vector<Figure>& figures);
void PrintJson(const std::vector<Figure>& figures, const std::string& command_line);

}  // namespace cloudkit::bench
