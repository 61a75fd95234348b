#!/usr/bin/env bash
# Installs what building and testing CloudKit Runtime needs, on Debian 12
# (bookworm), from Debian's archive. Idempotent: installs only the packages that
# are missing, and runs `apt-get update` only when apt cannot install them from
# the package lists it already has. Run as root, or as a user with sudo.
#
# Usage: scripts/install-deps.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache
  # libraries
  libcaf-dev libzmq3-dev cppzmq-dev libprotobuf-dev protobuf-compiler libyaml-cpp-dev
  libcli11-dev nlohmann-json3-dev libspdlog-dev libsqlite3-dev libssl-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev python3-zmq python3-protobuf procps
)

log() { printf 'install-deps: %s\n' "$*" >&2; }

is_installed() {
  local status
  status=$(dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null || true)
  [[ $status == *"install ok installed"* ]]
}

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
  log "apt-get/dpkg not found: this script supports Debian 12. Install these packages yourself:"
  log "  ${PACKAGES[*]}"
  exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  is_installed "$pkg" || missing+=("$pkg")
done

if ((${#missing[@]} > 0)); then
  SUDO=()
  if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
      log "not root and sudo is not installed; as root, run: apt-get install ${missing[*]}"
      exit 1
    fi
    SUDO=(sudo)
  fi
  apt_get() {
    # DPkg::Lock::Timeout waits for another apt/dpkg run instead of failing.
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3 "$@"
  }
  has_candidate() {
    local policy
    policy=$(apt-cache policy "$1" 2>/dev/null || true)
    [[ $policy == *"Candidate:"* && $policy != *"Candidate: (none)"* ]]
  }

  need_update=0
  for pkg in "${missing[@]}"; do
    has_candidate "$pkg" || { need_update=1; break; }
  done

  log "installing: ${missing[*]}"
  if ((need_update)); then
    log "package lists lack some of them: running apt-get update"
    apt_get update
    apt_get install -y --no-install-recommends "${missing[@]}"
  elif ! apt_get install -y --no-install-recommends "${missing[@]}"; then
    # Usually stale lists naming versions the mirror no longer has.
    log "install failed with the current package lists: running apt-get update and retrying"
    apt_get update
    apt_get install -y --no-install-recommends "${missing[@]}"
  fi

  still_missing=()
  for pkg in "${missing[@]}"; do
    is_installed "$pkg" || still_missing+=("$pkg")
  done
  if ((${#still_missing[@]} > 0)); then
    log "still missing after apt-get install: ${still_missing[*]}"
    exit 1
  fi
fi

# ---- Browser toolchain: HOOK, not yet enabled ------------------------------
# The web-worker/ host (actors compiled with Emscripten, tested in headless
# Chromium, with s3rver / Azurite / dynalite from npm as provider fakes) will add
# its installs here, in the same idempotent style:
#   - Debian packages: emscripten chromium nodejs npm (add to PACKAGES above, or
#     to a BROWSER_PACKAGES list installed the same way)
#   - npm packages, from the npm registry into a project-local folder, e.g.
#       npm ci --prefix tools/npm     (versions pinned in tools/npm/package-lock.json)
# Keep it behind a switch (e.g. CLOUDKIT_BROWSER=1) until the browser tests exist.

log "all ${#PACKAGES[@]} packages present"
