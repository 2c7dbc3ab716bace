#!/bin/sh
# Runs elizad against a deliberately broken plugin (or config) and checks that it refuses to
# start with the expected exit code and one-line reason.
#   run_bad.sh start ELIZAD SODIR CODE PLUGINS EXTRA_CONF PATTERN...
#   run_bad.sh check ELIZAD SODIR CODE FILE.so - PATTERN...       (elizad --check-plugin)
# "-" stands for an empty PLUGINS or EXTRA_CONF.
# PLUGINS: comma-separated names; SODIR becomes server.plugin_dir. A PATTERN "a&&b" requires a
# and b on the same output line.
set -u
mode=$1 bin=$2 sodir=$3 want=$4 arg=$5 extra=$6
shift 6
[ "$arg" = - ] && arg=
[ "$extra" = - ] && extra=
tmp=$(mktemp -d /tmp/elizad-bad-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# the environment must not override what the test writes into the config
unset ELIZAD_PLUGIN_DIR SERVER_PORT SERVER_HOST ELIZA_DATA_DIR LOG_LEVEL
case $mode in
start)
    list=$(printf '%s' "$arg" | sed 's/[^,][^,]*/"&"/g; s/,/, /g')
    printf 'server: {\n  host = "127.0.0.1";\n  port = 0;\n  data_dir = "%s/data";\n  plugin_dir = "%s";\n};\nplugins = [ %s ];\n%s\n' \
        "$tmp" "$sodir" "$list" "$extra" >"$tmp/elizad.conf"
    timeout 20 "$bin" --config "$tmp/elizad.conf" >"$tmp/out" 2>&1
    code=$?
    ;;
check)
    timeout 20 "$bin" --check-plugin "$sodir/$arg" >"$tmp/out" 2>&1
    code=$?
    ;;
*)
    echo "unknown mode $mode"
    exit 2
    ;;
esac
fail=0
if [ "$code" != "$want" ]; then
    echo "FAIL: exit code $code, expected $want"
    fail=1
fi
for p in "$@"; do
    lines=$(cat "$tmp/out")
    rest=$p
    while [ -n "$rest" ]; do
        part=${rest%%&&*}
        lines=$(printf '%s\n' "$lines" | grep -F -- "$part")
        [ "$part" = "$rest" ] && rest= || rest=${rest#*&&}
    done
    if [ -z "$lines" ]; then
        echo "FAIL: no output line matches: $p"
        fail=1
    fi
done
if [ $fail -ne 0 ]; then
    echo "---- config ----"
    cat "$tmp/elizad.conf" 2>/dev/null
    echo "---- output ----"
    cat "$tmp/out"
    exit 1
fi
echo "ok: exit $code, reason: $(grep -F -- "${1%%&&*}" "$tmp/out" | head -1)"
