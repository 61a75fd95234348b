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
  libcli11-dev nlohmann-json3-dev libspdlog-dev libsqlite3-dev libssl-dev libcurl4-openssl-dev
  libpugixml-dev libhiredis-dev libsodium-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev python3-zmq python3-protobuf procps
  # real servers and official SDKs the providers are tested against
  redis-server python3-boto3
  # sanitizers and libFuzzer (scripts/build-sanitize.sh, scripts/fuzz.sh): clang's
  # runtimes, and llvm-symbolizer for their stack traces
  clang libclang-rt-14-dev llvm-14
  # browser host: Emscripten for the wasm build, Node and npm for the JS side,
  # Chromium for the browser tests; dpkg-dev unpacks Debian source packages
  emscripten nodejs chromium dpkg-dev
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

log "all ${#PACKAGES[@]} packages present"

# ---- library sources, for the wasm build -----------------------------------
# The wasm build needs the same protobuf as the native protoc (Debian's), and
# pugixml, built with Emscripten; scripts/build-web.sh compiles them from
# Debian's source packages, fetched here once into build/deps/src.
SOURCE_DIR=build/deps/src
ensure_deb_src() {
  if [[ -z $(apt-cache showsrc protobuf 2>/dev/null) ]]; then
    log "adding a deb-src line for Debian's source packages"
    SUDO=(); [[ $(id -u) -ne 0 ]] && SUDO=(sudo)
    "${SUDO[@]}" tee /etc/apt/sources.list.d/cloudkit-deb-src.sources >/dev/null <<'SOURCES'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    "${SUDO[@]}" apt-get -o Acquire::Retries=3 update
  fi
}
# fetch_source SOURCE_PACKAGE BINARY_PACKAGE FILE_INSIDE: the source of the
# version of BINARY_PACKAGE installed, unpacked as build/deps/src/SOURCE-VERSION.
fetch_source() {
  local source=$1 binary=$2 inside=$3 version upstream
  version=$(dpkg-query -W -f='${source:Version}' "$binary")
  upstream=${version%%-*}
  upstream=${upstream#*:}
  [[ -f $SOURCE_DIR/$source-$upstream/$inside ]] && return 0
  ensure_deb_src
  log "fetching Debian's $source $version source"
  mkdir -p "$SOURCE_DIR"
  (cd "$SOURCE_DIR" && apt-get source -q "$source=$version" >/dev/null)
  [[ -f $SOURCE_DIR/$source-$upstream/$inside ]] ||
    { log "$source source did not unpack into $SOURCE_DIR/$source-$upstream"; exit 1; }
}
fetch_source protobuf libprotobuf-dev CMakeLists.txt
fetch_source pugixml libpugixml-dev src/pugixml.cpp

# ---- npm packages -------------------------------------------------------------
# Pinned in each directory's package-lock.json and installed into its
# node_modules, again only when the lockfile changed since the last install:
# web-worker/ (the web bundle and browser tests) and tests/emulators/ (the
# cloud emulators and official SDKs the providers are tested against).
for npm_dir in web-worker tests/emulators; do
  if [[ ! -f $npm_dir/node_modules/.package-lock.json ]] ||
     ! cmp -s "$npm_dir/package-lock.json" "$npm_dir/node_modules/.cloudkit-lock"; then
    log "installing npm packages for $npm_dir/"
    (cd "$npm_dir" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$npm_dir/package-lock.json" "$npm_dir/node_modules/.cloudkit-lock"
  fi
done
