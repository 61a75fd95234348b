#!/usr/bin/env bash
# Installs dependencies (scripts/install-deps.sh), then configures and builds
# everything into build/ with CMake and Ninja. ccache is used when installed
# (see CMakeLists.txt), then builds the browser worker bundle
# (scripts/build-web.sh). Idempotent: reruns only rebuild what changed.
#
# Usage: scripts/build.sh [extra cmake configure arguments, e.g. -DCMAKE_BUILD_TYPE=Debug]
# Environment: CLOUDKIT_BUILD_JOBS=N limits parallel compile jobs (default: Ninja's).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-deps.sh

cmake -S . -B build -G Ninja "$@"
jobs=()
if [[ -n ${CLOUDKIT_BUILD_JOBS:-} ]]; then
  jobs=(-j "$CLOUDKIT_BUILD_JOBS")
fi
cmake --build build "${jobs[@]}"

# The worker bundle (build/web) and the browser tests' wasm (build/web-tests).
scripts/build-web.sh
