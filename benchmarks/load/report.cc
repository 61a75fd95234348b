#include "load/report.h"

#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

namespace cloudkit::bench {
namespace {

std::string Format(double value) {
  char buf[32];
  if (value >= 1000) std::snprintf(buf, sizeof buf, "%.0f", value);
  else if (value >= 10) std::snprintf(buf, sizeof buf, "%.1f", value);
  else std::snprintf(buf, sizeof buf, "%.3g", value);
  return buf;
}

}  // namespace

std::optional<double> Figure::ratio() const {
  if (!baseline || *baseline == 0) return std::nullopt;
  return value / *baseline;
}

bool Figure::passed() const {
  if (goal == Goal::kNone) return true;
  double measured = baseline ? ratio().value_or(0) : value;
  return goal == Goal::kAtMost ? measured <= target : measured >= target;
}

std::string Figure::TargetText() const {
  if (goal == Goal::kNone) return "-";
  std::string text = goal == Goal::kAtMost ? "<= " : ">= ";
  text += Format(target);
  text += baseline ? "x" : " " + unit;
  return text;
}

void PrintTable(const std::vector<Figure>& figures) {
  std::printf("%-18s %-56s %12s %12s %8s %12s  %s\n", "figure", "what", "value", "baseline", "ratio",
              "target", "result");
  for (const Figure& figure : figures) {
    std::string value = Format(figure.value) + " " + figure.unit;
    std::string baseline = figure.baseline ? Format(*figure.baseline) : "-";
    std::string ratio = figure.ratio() ? Format(*figure.ratio()) + "x" : "-";
    std::printf("%-18s %-56s %12s %12s %8s %12s  %s\n", figure.id.c_str(), figure.description.c_str(),
                value.c_str(), baseline.c_str(), ratio.c_str(), figure.TargetText().c_str(),
                figure.goal == Figure::Goal::kNone ? "-" : figure.passed() ? "pass" : "FAIL");
  }
  for (const Figure& figure : figures) {
    if (!figure.notes.empty()) std::printf("  %s: %s\n", figure.id.c_str(), figure.notes.c_str());
  }
}

void PrintJson(const std::vector<Figure>& figures, const std::string& command_line) {
  nlohmann::json out;
  out["command"] = command_line;
  out["figures"] = nlohmann::json::array();
  for (const Figure& figure : figures) {
    nlohmann::json entry = {{"id", figure.id},
                            {"description", figure.description},
                            {"unit", figure.unit},
                            {"value", figure.value},
                            {"target", figure.TargetText()},
                            {"pass", figure.passed()}};
    entry["baseline"] = figure.baseline ? nlohmann::json(*figure.baseline) : nlohmann::json(nullptr);
    entry["ratio"] = figure.ratio() ? nlohmann::json(*figure.ratio()) : nlohmann::json(nullptr);
    if (!figure.notes.empty()) entry["notes"] = figure.notes;
    out["figures"].push_back(entry);
  }
  std::cout << out.dump(2) << std::endl;
}

}  // namespace cloudkit::bench
