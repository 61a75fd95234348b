#!/usr/bin/env bash
# Configures and builds a tree of its own under sanitizers, with clang
# (scripts/test.sh and scripts/fuzz.sh use it):
#   address  build-sanitize/: AddressSanitizer + UndefinedBehaviorSanitizer,
#            with the libFuzzer harnesses (tests/fuzz)
#   thread   build-tsan/: ThreadSanitizer
# Optimised lightly (-O1) with line tables only: fast to build, with stack
# traces that name the line. No benchmarks in either. Idempotent.
#
# Usage: scripts/build-sanitize.sh address|thread [TARGET...]   (default: every target)
# Environment: CLOUDKIT_BUILD_JOBS=N limits parallel compile jobs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

kind=${1:-}
shift || true
case $kind in
  address) dir=build-sanitize; options=(-DCLOUDKIT_SANITIZE=address,undefined -DCLOUDKIT_FUZZ=ON) ;;
  thread) dir=build-tsan; options=(-DCLOUDKIT_SANITIZE=thread) ;;
  *) echo "usage: scripts/build-sanitize.sh address|thread [TARGET...]" >&2; exit 2 ;;
esac

scripts/install-deps.sh

CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" -DCLOUDKIT_BENCHMARKS=OFF "${options[@]}" >/dev/null
jobs=()
if [[ -n ${CLOUDKIT_BUILD_JOBS:-} ]]; then
  jobs=(-j "$CLOUDKIT_BUILD_JOBS")
fi
targets=()
if (($#)); then
  targets=(--target "$@")
fi
cmake --build "$dir" "${jobs[@]}" "${targets[@]}"
