#!/usr/bin/env bash
# Builds the worker bundle into build/web/: protobuf-lite for wasm (once, from
# Debian's protobuf source that scripts/install-deps.sh fetched), the wasm core
# (actors/ + web-worker/wasm with Emscripten), the JS messages generated from
# proto/ by protoc-gen-es, and the ES modules bundled by esbuild. Idempotent;
# called by scripts/build.sh after the native build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
export NODE_PATH=/usr/share/nodejs  # Debian's emscripten finds its JS tools here

log() { printf 'build-web: %s\n' "$*" >&2; }
# CLOUDKIT_BUILD_JOBS caps parallel compiles, as in scripts/build.sh.
jobs=()
if [[ -n ${CLOUDKIT_BUILD_JOBS:-} ]]; then
  jobs=(-j "$CLOUDKIT_BUILD_JOBS")
fi

version=$(dpkg-query -W -f='${source:Version}' libprotobuf-dev)
PROTOBUF_SRC=$ROOT/build/deps/src/protobuf-${version%%-*}
PROTOBUF_LITE=$ROOT/build/deps/protobuf-wasm/libprotobuf-lite.a
if [[ ! -f $PROTOBUF_LITE ]]; then
  log "building protobuf-lite for wasm from $PROTOBUF_SRC"
  emcmake cmake -S "$PROTOBUF_SRC" -B build/deps/protobuf-wasm -G Ninja -DCMAKE_BUILD_TYPE=MinSizeRel \
    -Dprotobuf_BUILD_TESTS=OFF -Dprotobuf_BUILD_PROTOC_BINARIES=OFF -Dprotobuf_WITH_ZLIB=OFF \
    -Dprotobuf_BUILD_SHARED_LIBS=OFF >/dev/null
  cmake --build build/deps/protobuf-wasm --target libprotobuf-lite "${jobs[@]}"
fi

pugixml_version=$(dpkg-query -W -f='${source:Version}' libpugixml-dev)
PUGIXML_SRC=$ROOT/build/deps/src/pugixml-${pugixml_version%%-*}
if [[ ! -f build/wasm/build.ninja ]] || ! grep -q "^PUGIXML_SOURCE_DIR:PATH=$PUGIXML_SRC\$" build/wasm/CMakeCache.txt; then
  emcmake cmake -S web-worker -B build/wasm -G Ninja -DPROTOBUF_SOURCE_DIR="$PROTOBUF_SRC" \
    -DPROTOBUF_LITE_LIBRARY="$PROTOBUF_LITE" -DPUGIXML_SOURCE_DIR="$PUGIXML_SRC" >/dev/null
fi
cmake --build build/wasm "${jobs[@]}"

# Sources to bundle: web-worker/src, the generated messages, the wasm glue.
STAGE=build/web-src
rm -rf "$STAGE"
mkdir -p "$STAGE/gen" "$STAGE/core"
cp web-worker/src/*.js "$STAGE/"
cp build/wasm/cloudkit_core.mjs build/wasm/wasm_tests.mjs "$STAGE/core/"
cp web-worker/tests/wasm_tests_worker.js "$STAGE/"
mapfile -t protos < <(cd proto && find . -name '*.proto' -printf '%P\n'; cd ../web-worker/proto && find . -name '*.proto' -printf '%P\n')
protoc --plugin=protoc-gen-es=web-worker/node_modules/.bin/protoc-gen-es --es_out="$STAGE/gen" \
  --es_opt=target=js,import_extension=js -I proto -I web-worker/proto "${protos[@]}"

OUT=build/web
rm -rf "$OUT"
mkdir -p "$OUT"
ESBUILD=web-worker/node_modules/.bin/esbuild
common=(--bundle --format=esm --platform=browser --target=es2022 --minify --sourcemap
        --external:fs --external:path)
NODE_PATH=$ROOT/web-worker/node_modules "$ESBUILD" "$STAGE/cloudkit.js" --outfile="$OUT/cloudkit.js" "${common[@]}" --log-level=warning
NODE_PATH=$ROOT/web-worker/node_modules "$ESBUILD" "$STAGE/worker.js" --outfile="$OUT/worker.js" "${common[@]}" --log-level=warning
cp build/wasm/cloudkit_core.wasm "$OUT/"

# What the browser tests load besides the bundle: the wasm test suite.
TESTS_OUT=build/web-tests
rm -rf "$TESTS_OUT"
mkdir -p "$TESTS_OUT"
NODE_PATH=$ROOT/web-worker/node_modules "$ESBUILD" "$STAGE/wasm_tests_worker.js" --outfile="$TESTS_OUT/wasm_tests_worker.js" \
  "${common[@]}" --log-level=warning
cp build/wasm/wasm_tests.wasm "$TESTS_OUT/"
# The declarations stand alone (plain result shapes): no generated types ship.
cp web-worker/src/cloudkit.d.ts "$OUT/"
cat > "$OUT/package.json" <<JSON
{
  "name": "cloudkit-web",
  "version": "$(sed -n 's/^project(cloudkit VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)",
  "description": "CloudKit Runtime in the browser: the cloudkitd actors in Web Workers",
  "type": "module",
  "main": "cloudkit.js",
  "module": "cloudkit.js",
  "types": "cloudkit.d.ts",
  "exports": { ".": { "types": "./cloudkit.d.ts", "default": "./cloudkit.js" }, "./worker.js": "./worker.js" },
  "files": ["cloudkit.js", "cloudkit.js.map", "worker.js", "worker.js.map", "cloudkit_core.wasm", "cloudkit.d.ts"],
  "sideEffects": false
}
JSON
log "bundle in $OUT: $(stat -c %s "$OUT/cloudkit_core.wasm") bytes of wasm ($(gzip -9c "$OUT/cloudkit_core.wasm" | wc -c) gzipped)"
