#!/usr/bin/env bash
# Installs dependencies, builds (scripts/build.sh), and runs every test with
# ctest, then prints a pass/fail summary per label (unit, integration, ...).
# Exits nonzero when any test fails or when no test was found.
#
# Usage: scripts/test.sh [extra ctest arguments, e.g. -L unit or -R Sqlite]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/build.sh

results=build/Testing/cloudkit-results.xml
rm -f "$results"
rc=0
ctest --test-dir build --output-on-failure --no-tests=error -j2 --output-junit "$PWD/$results" "$@" ||
  rc=$?

# Label summary: labels from ctest's test list, outcomes from its JUnit report.
if [[ -s $results ]] && command -v python3 >/dev/null 2>&1; then
  ctest --test-dir build --show-only=json-v1 "$@" 2>/dev/null |
    python3 -c '
import collections, json, sys, xml.etree.ElementTree as ET
tests = json.load(sys.stdin).get("tests", [])
labels = {}
for t in tests:
    props = {p["name"]: p["value"] for p in t.get("properties", [])}
    labels[t["name"]] = props.get("LABELS") or ["(none)"]
counts = collections.defaultdict(lambda: collections.Counter())
for case in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    status = case.get("status", "run")
    if case.find("failure") is not None or case.find("error") is not None or status == "fail":
        outcome = "failed"
    elif status in ("notrun", "disabled") or case.find("skipped") is not None:
        outcome = "skipped"
    else:
        outcome = "passed"
    for label in labels.get(case.get("name"), ["(none)"]):
        counts[label][outcome] += 1
if not counts:
    sys.exit(0)
print("\nTest summary by label:")
for label in sorted(counts):
    c = counts[label]
    line = "  %-12s %4d passed, %3d failed, %3d skipped" % (label, c["passed"], c["failed"], c["skipped"])
    print(line + ("   <-- FAILURES" if c["failed"] else ""))
' "$results" || echo "test.sh: (could not compute the label summary)" >&2
fi

if ((rc != 0)); then
  echo "test.sh: FAILED (ctest exit code $rc)" >&2
else
  echo "test.sh: all tests passed"
fi
exit "$rc"
