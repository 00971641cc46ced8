#!/usr/bin/env bash
# The test command: installs dependencies, builds with warnings as errors,
# runs every test with ctest (ctest fixtures start and stop the throw-away
# Prosody and ejabberd servers, also when tests fail), with the whole suite
# again under ASan+UBSan and each fuzz harness for 12 s as tests
# "asan_build" + "sanitizers" and "fuzz" of the same ctest run. ctest runs
# them side by side (-j6): the tests of one server take turns
# (RESOURCE_LOCK), each pass has servers of its own. Ends with the time of each pass and ctest's summary.
#   bash tests/run.sh                    everything
#   XMSG_SKIP_DEPS=1 bash tests/run.sh   without apt-get
#   XMSG_QUICK=1 bash tests/run.sh       without the sanitizer and fuzz passes
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${XMSG_BUILD_DIR:-$top/build}
jobs=$(nproc 2>/dev/null || echo 2)
t0=$SECONDS

[ -n "${XMSG_SKIP_DEPS:-}" ] || bash "$top/tests/lab/deps.sh"
t_deps=$((SECONDS - t0))

extra=ON
[ -z "${XMSG_QUICK:-}" ] || extra=OFF
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DXMSG_WERROR=ON -DXMSG_TESTS=ON -DXMSG_CI_EXTRA="$extra"
cmake --build "$build" -j "$jobs"
t_build=$((SECONDS - t0 - t_deps))

cd "$build"
set +e
ctest --output-on-failure --timeout 600 -j "${XMSG_CTEST_JOBS:-6}" "$@" 2>&1 | tee "$build/ctest.log"
rc=${PIPESTATUS[0]}
set -e
t_tests=$((SECONDS - t0 - t_deps - t_build))

# The time of a test of this run, in whole seconds (0 when it did not run).
test_secs() {
  awk -v n="$1" '$0 ~ "Test +#[0-9]+: " n " " {
    for (i = 1; i < NF; i++) if ($(i + 1) == "sec") s = $i } END { printf "%d", s }' \
    "$build/ctest.log"
}
san=$(($(test_secs asan_build) + $(test_secs sanitizers))) fuzz=$(test_secs fuzz)
echo
echo "Time of each pass (s; the three test passes run side by side):"
printf '  %-26s %5d\n' dependencies "$t_deps" build "$t_build" \
  "tests, all passes (wall)" "$t_tests" "  sanitizers (ASan+UBSan)" "$san" \
  "  fuzz" "$fuzz" total "$((SECONDS - t0))"
# ctest's summary closes the run.
echo
sed -n '/tests passed, /,$p' "$build/ctest.log"
exit "$rc"
