#!/usr/bin/env bash
# Installs dependencies, builds, and runs the tests with ctest, then prints a
# pass/fail summary per label (unit, integration, browser, fuzz...). Exits
# nonzero when any test fails, when a sanitizer reports anything, or when no
# test was found.
#
# Usage: scripts/test.sh [--sanitize] [extra ctest arguments, e.g. -L unit or -R Sqlite]
#   (no arguments)   Every test in build/ (scripts/build.sh). Then, in
#                    build-sanitize/ (clang; scripts/build-sanitize.sh), the unit
#                    and conformance tests under AddressSanitizer and
#                    UndefinedBehaviorSanitizer, and each fuzz harness for
#                    CLOUDKIT_FUZZ_SECONDS (default 30). This is what CI runs.
#   ctest arguments  Only the tests of build/ they select; no sanitizer run.
#   --sanitize       Under ASan+UBSan: the unit, conformance, integration and
#                    fuzz tests. Then, in build-tsan/, the threaded runtime's
#                    tests under ThreadSanitizer: the unit and conformance tests
#                    and the integration tests of the daemon's own paths
#                    (TSAN_TESTS), with tests/tsan.supp.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The integration tests of the daemon's threads (front door, actor threads,
# disk workers, ZeroMQ's I/O) rather than of a provider's remote service.
TSAN_TESTS='^(ProtocolTest|StreamingTest|ClientTest|ClientFailureTest|SupervisionTest|ConcurrencyTest|HeadOfLineTest|HostileClientsTest|IdempotencyTest|DurabilityTest|SweepTest|LongQueueTest|Bindings/(QueueTest|PubSubTest|VanishedWaitersTest))\.'
# Of those, the two that move gigabytes: under ThreadSanitizer's slowdown
# their calls pass their deadlines (they run under ASan and in build/).
TSAN_TOO_SLOW='LargeResultsPageOrFailButNeverComeBackEmpty|ClientThatNeverReadsRepliesCannotGrowTheDaemon'

sanitize=0
if [[ ${1:-} == --sanitize ]]; then
  sanitize=1
  shift
fi

overall=0

# Runs ctest in a build tree and prints the label summary.
# Usage: run_ctest BUILD_DIR [ctest arguments]
run_ctest() {
  local dir=$1
  shift
  local results=$dir/Testing/cloudkit-results.xml
  mkdir -p "$dir/Testing"
  rm -f "$results"
  local rc=0
  ctest --test-dir "$dir" --output-on-failure --no-tests=error -j2 --output-junit "$PWD/$results" "$@" || rc=$?
  summarize "$dir" "$results" "$@"
  if ((rc != 0)); then
    echo "test.sh: FAILED in $dir (ctest exit code $rc)" >&2
    overall=1
  fi
}

# Label summary: labels from ctest's test list, outcomes from its JUnit report.
summarize() {
  local dir=$1 results=$2
  shift 2
  [[ -s $results ]] && command -v python3 >/dev/null 2>&1 || return 0
  ctest --test-dir "$dir" --show-only=json-v1 "$@" 2>/dev/null |
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
print("\nTest summary by label (%s):" % sys.argv[2])
for label in sorted(counts):
    c = counts[label]
    line = "  %-12s %4d passed, %3d failed, %3d skipped" % (label, c["passed"], c["failed"], c["skipped"])
    print(line + ("   <-- FAILURES" if c["failed"] else ""))
' "$results" "$dir" || echo "test.sh: (could not compute the label summary)" >&2
}

# Sanitizer reports go to files, from the test executables and from every
# cloudkitd and cloudkit they start alike; any report fails the run.
# Usage: with_sanitizer_reports BUILD_DIR command...
with_sanitizer_reports() {
  local dir=$1
  shift
  local reports=$PWD/$dir/sanitizer-reports
  rm -rf "$reports"
  mkdir -p "$reports"
  local tsan_options="log_path=$reports/report:second_deadlock_stack=1"
  # What the uninstrumented libraries do behind TSan's back (see the file).
  [[ -f tests/tsan.supp ]] && tsan_options+=":suppressions=$PWD/tests/tsan.supp"
  ASAN_OPTIONS="log_path=$reports/report:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1" \
  UBSAN_OPTIONS="log_path=$reports/report:print_stacktrace=1:halt_on_error=1" \
  TSAN_OPTIONS=$tsan_options \
  ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer \
  "$@"
  if compgen -G "$reports/*" >/dev/null; then
    echo "test.sh: sanitizer reports in $reports:" >&2
    for report in "$reports"/*; do
      echo "---- $report" >&2
      head -60 "$report" >&2
    done
    overall=1
  else
    echo "test.sh: no sanitizer reports in $dir"
  fi
}

if ((sanitize)); then
  scripts/build-sanitize.sh address
  with_sanitizer_reports build-sanitize run_ctest build-sanitize -L 'unit|integration|fuzz' -E '^web\.' "$@"
  scripts/build-sanitize.sh thread unit_tests conformance_tests integration_tests cloudkitd cloudkit
  with_sanitizer_reports build-tsan run_ctest build-tsan -L unit -E '^web\.' "$@"
  with_sanitizer_reports build-tsan run_ctest build-tsan -L integration -R "$TSAN_TESTS" -E "$TSAN_TOO_SLOW" "$@"
else
  scripts/build.sh
  run_ctest build "$@"
  if (($# == 0)); then
    scripts/build-sanitize.sh address unit_tests conformance_tests cloudkit-fuzz-seeds \
      object_storage_actor_fuzzer key_value_actor_fuzzer queue_actor_fuzzer pubsub_actor_fuzzer \
      secrets_actor_fuzzer front_door_fuzzer
    with_sanitizer_reports build-sanitize run_ctest build-sanitize -L 'unit|fuzz' -E '^web\.'
  fi
fi

if ((overall != 0)); then
  echo "test.sh: FAILED" >&2
else
  echo "test.sh: all tests passed"
fi
exit "$overall"
