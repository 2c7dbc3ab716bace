#!/usr/bin/env bash
# sdk.out_of_tree: out_of_tree.sh BUILD_DIR TEMPLATE_DIR WORK_PARENT
# Every step is bounded in time; the server listens on 127.0.0.1 only and is stopped by its PID.
set -euo pipefail
BUILD=$1 TEMPLATE=$2 PARENT=$3
CMAKE=${CMAKE:-cmake} CTEST=${CTEST:-ctest}
mkdir -p "$PARENT"
W=$(mktemp -d "$PARENT/oot.XXXXXX")
PID=
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID" 2>/dev/null || true; fi
  rm -rf "$W"
}
trap cleanup EXIT
step() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

step "install to $W/prefix"
timeout 120 "$CMAKE" --install "$BUILD" --prefix "$W/prefix" > "$W/install.log" || {
  cat "$W/install.log"; fail "cmake --install"; }
P=$W/prefix
LIBDIR=
for d in "$P"/lib*/pkgconfig "$P"/lib/*/pkgconfig; do
  if [ -f "$d/elizad-sdk.pc" ]; then LIBDIR=${d#"$P"/}; LIBDIR=${LIBDIR%/pkgconfig}; break; fi
done
[ -n "$LIBDIR" ] || fail "no elizad-sdk.pc under $P/lib*"
for f in bin/elizad include/elizad/plugin.h include/elizad/testkit.h \
         "$LIBDIR/libelizad-testkit.a" "$LIBDIR/pkgconfig/elizad-sdk.pc" \
         "$LIBDIR/pkgconfig/elizad-testkit.pc" "$LIBDIR/cmake/ElizadSdk/ElizadSdkConfig.cmake" \
         "$LIBDIR/cmake/ElizadSdk/ElizadSdkConfigVersion.cmake" \
         "$LIBDIR/cmake/ElizadSdk/ElizadPlugin.cmake"; do
  [ -e "$P/$f" ] || fail "not installed: $f"
done
ls "$P/$LIBDIR/elizad/plugins/"ez_*.so > /dev/null 2>&1 || fail "no plugin in $LIBDIR/elizad/plugins"

step "pkg-config: plugindir and a plugin built with plain cc"
export PKG_CONFIG_PATH="$P/$LIBDIR/pkgconfig"
got=$(realpath -m "$(pkg-config --variable=plugindir elizad-sdk)")
[ "$got" = "$(realpath -m "$P/$LIBDIR/elizad/plugins")" ] || fail "plugindir is $got"
[ "$(pkg-config --variable=abi_major elizad-sdk)" = 1 ] || fail "abi_major"
SAN_FLAGS=()
# shellcheck disable=SC2054 # the commas belong to the flags
if [ "${EZ_SANITIZE:-0}" = 1 ]; then SAN_FLAGS=(-fsanitize=address,undefined -fno-omit-frame-pointer); fi
ZDEFS=("-Wl,-z,defs")
[ "${EZ_SANITIZE:-0}" = 1 ] && ZDEFS=()
# shellcheck disable=SC2046
timeout 60 cc -std=c11 -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden "${SAN_FLAGS[@]}" \
  $(pkg-config --cflags elizad-sdk) -o "$W/ez_hello_pc.so" "$TEMPLATE/hello.c" \
  "$TEMPLATE/hello_routes.c" $(pkg-config --libs elizad-sdk) "${ZDEFS[@]}" || fail "cc with pkg-config"
exported=$(nm -D --defined-only "$W/ez_hello_pc.so" | awk '$2 ~ /^[A-Z]$/ && $2 != "A" && $3 !~ /^__(odr_)?asan/ {print $3}' | sort -u)
[ "$exported" = ez_plugin_v1 ] || fail "the plugin exports more than ez_plugin_v1: $exported"

step "configure + build the template out of tree (find_package(ElizadSdk 1))"
CFG=(-DCMAKE_PREFIX_PATH="$P" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS="-Werror ${SAN_FLAGS[*]}")
if [ "${EZ_SANITIZE:-0}" = 1 ]; then
  CFG+=(-DEZ_SANITIZE=ON -DCMAKE_EXE_LINKER_FLAGS="${SAN_FLAGS[*]}"
        -DCMAKE_MODULE_LINKER_FLAGS="${SAN_FLAGS[*]}")
fi
timeout 120 "$CMAKE" -S "$TEMPLATE" -B "$W/hello" "${CFG[@]}" > "$W/configure.log" 2>&1 || {
  cat "$W/configure.log"; fail "configure the template"; }
timeout 180 "$CMAKE" --build "$W/hello" -j2 > "$W/build.log" 2>&1 || {
  cat "$W/build.log"; fail "build the template"; }
[ -f "$W/hello/ez_hello.so" ] || fail "no ez_hello.so in the template build"

step "the template's own unit test (ctest in the template build)"
timeout 120 "$CTEST" --test-dir "$W/hello" --output-on-failure || fail "template unit test"

step "elizad --check-plugin on the built plugin"
out=$(timeout 20 "$P/bin/elizad" --check-plugin "$W/hello/ez_hello.so" 2>&1) || {
  echo "$out"; fail "--check-plugin"; }
echo "$out" | grep -q hello || { echo "$out"; fail "--check-plugin does not name hello"; }
echo "$out" | grep -q greeting || { echo "$out"; fail "--check-plugin does not list greeting"; }

step "start the installed elizad with hello from the template build"
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=
for _ in $(seq 1 50); do
  cand=$((20000 + RANDOM % 40000))
  if port_free "$cand"; then PORT=$cand; break; fi
done
[ -n "$PORT" ] || fail "no free port"
mkdir -p "$W/data"
GREETING="Bonjour from the SDK test"
cat > "$W/elizad.conf" <<CONF
server: {
  host = "127.0.0.1";
  port = $PORT;
  data_dir = "$W/data";
  plugin_dir = "$W/hello";
};
plugins = [ "hello" ];
hello: {
  greeting = "$GREETING";
};
CONF
env -u ELIZA_SERVER_AUTH_TOKEN -u SERVER_PORT -u SERVER_HOST -u ELIZAD_PLUGIN_DIR \
  "$P/bin/elizad" --config "$W/elizad.conf" > "$W/elizad.log" 2>&1 &
PID=$!
ok=0
for _ in $(seq 1 150); do
  kill -0 "$PID" 2>/dev/null || { cat "$W/elizad.log"; fail "elizad exited during start"; }
  if curl -s -m 1 -o /dev/null "http://127.0.0.1:$PORT/healthz"; then ok=1; break; fi
  sleep 0.1
done
[ $ok = 1 ] || { cat "$W/elizad.log"; fail "elizad did not answer in 15 s"; }

step "GET /api/hello answers with the configured greeting"
body=$(curl -s -m 5 -w '\n%{http_code}' "http://127.0.0.1:$PORT/api/hello?name=CI")
code=${body##*$'\n'}
body=${body%$'\n'*}
echo "$body"
[ "$code" = 200 ] || fail "GET /api/hello: HTTP $code"
case "$body" in
  *"\"message\":\"$GREETING, CI!\""*"\"messagesSeen\":0"*) ;;
  *) fail "unexpected body" ;;
esac
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  -d '{}' "http://127.0.0.1:$PORT/api/hello")
# another method on a known /api path: the official server's 404 (server.method_not_allowed_405)
[ "$code" = 404 ] || fail "POST /api/hello: HTTP $code, want 404"

step "graceful stop"
kill -TERM "$PID"
rc=0
for _ in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$PID" 2>/dev/null; then cat "$W/elizad.log"; fail "elizad still running 10 s after SIGTERM"; fi
wait "$PID" || rc=$?
PID=
[ "$rc" = 0 ] || { cat "$W/elizad.log"; fail "elizad exited with $rc"; }
echo "sdk.out_of_tree: ok"
