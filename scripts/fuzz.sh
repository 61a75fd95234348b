#!/usr/bin/env bash
# Runs the libFuzzer harnesses (tests/fuzz): each service actor over the
# memory provider, and the daemon's front door. Builds them first, with clang
# under ASan+UBSan, into build-sanitize/ (scripts/build-sanitize.sh), writes
# their seed corpus, and runs each harness for the given time on a corpus
# kept in build-sanitize/fuzz-corpus/<harness> (it grows from run to run).
# A crash, a sanitizer report or a failed check leaves its input in
# build-sanitize/fuzz-crashes/ and makes the script fail. Prints one line per
# harness: executions, time, crashes.
#
# Usage: scripts/fuzz.sh [--seconds N (default 600)] [--jobs N (default 1)]
#                        [--build-dir DIR (already built: skip the build)] [HARNESS...]
# Reproduce a crash: build-sanitize/bin/<harness> build-sanitize/fuzz-crashes/<file>
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=600
jobs=1
build_dir=
harnesses=()
while (($#)); do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) harnesses+=("$1"); shift ;;
  esac
done
all=(object_storage_actor_fuzzer key_value_actor_fuzzer queue_actor_fuzzer pubsub_actor_fuzzer
     secrets_actor_fuzzer front_door_fuzzer)
((${#harnesses[@]})) || harnesses=("${all[@]}")

if [[ -z $build_dir ]]; then
  build_dir=build-sanitize
  scripts/build-sanitize.sh address cloudkit-fuzz-seeds "${harnesses[@]}"
fi

build_dir=$(cd "$build_dir" && pwd)
# Written anew for each run, apart: runs of several harnesses at once (ctest -j) share nothing.
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
"$build_dir/bin/cloudkit-fuzz-seeds" "$seeds"
mkdir -p "$build_dir/fuzz-crashes"

failed=0
for harness in "${harnesses[@]}"; do
  corpus=$build_dir/fuzz-corpus/$harness
  log=$build_dir/fuzz-logs/$harness.log
  mkdir -p "$corpus" "$(dirname "$log")"
  rm -f "$log"
  # -entropic=0: the entropic schedule's bookkeeping took 65% of the time
  # here, for coverage the plain schedule reaches too (benchmarks/RESULTS.md).
  args=(-max_total_time="$seconds" -max_len=2048 -entropic=0 -timeout=30 -rss_limit_mb=4096 -print_final_stats=1
        -artifact_prefix="$build_dir/fuzz-crashes/$harness-")
  # The front door's inputs end on other threads (actors, ZeroMQ's I/O): a
  # leak check after each would be slow and meaningless, and at exit the
  # daemon is still up (never torn down: CAF's statics go first). Leaks of the
  # daemon are the integration tests' (a real cloudkitd exits under
  # LeakSanitizer in scripts/test.sh --sanitize).
  asan_options=${ASAN_OPTIONS:-}
  if [[ $harness == front_door_fuzzer ]]; then
    args+=(-detect_leaks=0)
    asan_options+="${asan_options:+:}detect_leaks=0"
  fi
  args+=("$corpus" "$seeds/$harness")
  rc=0
  if ((jobs > 1)); then
    # Parallel workers each log to fuzz-<n>.log in the working directory: run them in the log's.
    (cd "$(dirname "$log")" && rm -f fuzz-*.log &&
       ASAN_OPTIONS=$asan_options "$build_dir/bin/$harness" -jobs="$jobs" -workers="$jobs" "${args[@]}") \
      >"$log" 2>&1 || rc=$?
    # (libFuzzer's parent prints each job's log as the job ends: counted once from $log.)
  else
    ASAN_OPTIONS=$asan_options "$build_dir/bin/$harness" "${args[@]}" >"$log" 2>&1 || rc=$?
  fi
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{s += $2} END {print s + 0}')
  crashes=$(grep -c -E '^==[0-9]+==ERROR|fuzz check failed|runtime error:' "$log" || true)
  if ((rc != 0)) && ((crashes == 0)); then crashes=1; fi
  printf 'fuzz.sh: %-28s %12d executions in %s s, %d crash(es)\n' "$harness" "$runs" "$seconds" "$crashes"
  if ((rc != 0 || crashes != 0)); then
    failed=1
    echo "fuzz.sh: $harness failed (exit code $rc); its log, $log, ends:" >&2
    tail -40 "$log" >&2
  fi
done
exit "$failed"
