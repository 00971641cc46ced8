#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang (ASan+UBSan) and runs each one
# for SECONDS over a copy of its seed corpus.
#   bash fuzz/run.sh SECONDS [BUILD_DIR]     (BUILD_DIR: ./build-fuzz)
#   XMSG_FUZZ_JOBS=2 bash fuzz/run.sh 300    two harnesses at a time
#   XMSG_FUZZ_ONLY=fuzz_omemo bash fuzz/run.sh 300   one harness only
# Needs clang, libclang-rt-14-dev (libFuzzer), cmake, pkg-config and the
# library's -dev packages; installs nothing. The repository is only read:
# the corpus grows, logs and crash files land under BUILD_DIR/fuzz-run/.
# Exit status: 0 when every harness ran clean, 1 when one failed, 2 on a
# usage or build error.
set -uo pipefail

FUZZERS=(fuzz_params_json fuzz_message_json fuzz_stanza fuzz_redact fuzz_xml
    fuzz_scram)
# fuzz_omemo: only in a build with OMEMO (libomemo-c found).
OMEMO_FUZZER=fuzz_omemo

usage()
{
    echo "usage: $0 SECONDS [BUILD_DIR]" >&2
    exit 2
}

[ $# -ge 1 ] && [ $# -le 2 ] || usage
secs=$1
[[ $secs =~ ^[1-9][0-9]*$ ]] || usage
top=$(cd "$(dirname "$0")/.." && pwd)
build=${2:-$top/build-fuzz}
jobs=${XMSG_FUZZ_JOBS:-1}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || usage

build_fuzzers()
{
    cmake -S "$top" -B "$build" -DCMAKE_C_COMPILER=clang \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXMSG_FUZZ=ON \
        -DXMSG_SANITIZE=ON -DXMSG_TESTS=OFF >"$build/cmake.log" 2>&1 &&
        cmake --build "$build" --target fuzzers -j "$(nproc 2>/dev/null ||
            echo 2)" >>"$build/cmake.log" 2>&1
}

# Runs one harness; its verdict goes to RUN/NAME/verdict.
run_one()
{
    local name=$1 dir=$run/$1 rc
    local bin=$build/fuzz/$name dict=()

    rm -rf "$dir"
    mkdir -p "$dir/corpus" "$dir/artifacts"
    cp -R "$top/fuzz/corpus/$name/." "$dir/corpus/"
    [ -f "$top/fuzz/$name.dict" ] && dict=(-dict="$top/fuzz/$name.dict")
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
        "$bin" -max_total_time="$secs" -max_len=65536 -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
        -artifact_prefix="$dir/artifacts/" "$dir/corpus" \
        >"$dir/log" 2>&1
    rc=$?
    echo "$rc" >"$dir/verdict"
}

report_one()
{
    local name=$1 dir=$run/$1 rc runs crash

    rc=$(cat "$dir/verdict" 2>/dev/null || echo 99)
    crash=$(find "$dir/artifacts" -type f \
        \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
        -o -name 'oom-*' \) 2>/dev/null | head -n 1)
    if [ "$rc" = 0 ] && [ -z "$crash" ]; then
        runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$dir/log" | tail -n 1)
        echo "ok - $name (${runs:-?} runs)"
        return 0
    fi
    echo "FAIL - $name ${crash:-(exit $rc, no crash file)} (log: $dir/log)"
    return 1
}

if ! command -v clang >/dev/null; then
    echo "clang not found (apt-get install clang libclang-rt-14-dev)" >&2
    exit 2
fi
mkdir -p "$build" || exit 2
if ! build_fuzzers; then
    tail -n 30 "$build/cmake.log" >&2
    echo "build failed (log: $build/cmake.log)" >&2
    exit 2
fi
[ -x "$build/fuzz/$OMEMO_FUZZER" ] && FUZZERS+=("$OMEMO_FUZZER")
for name in "${FUZZERS[@]}"; do
    if [ ! -x "$build/fuzz/$name" ]; then
        echo "$build/fuzz/$name was not built (is CMAKE_C_COMPILER clang?)" >&2
        exit 2
    fi
done

if [ -n "${XMSG_FUZZ_ONLY:-}" ]; then
    [ -x "$build/fuzz/$XMSG_FUZZ_ONLY" ] || usage
    FUZZERS=("$XMSG_FUZZ_ONLY")
fi
run=$build/fuzz-run
mkdir -p "$run"
running=0
for name in "${FUZZERS[@]}"; do
    run_one "$name" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait

passed=0
failed=0
for name in "${FUZZERS[@]}"; do
    if report_one "$name"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
