#!/usr/bin/env bash
# The test command: installs dependencies, builds with warnings as errors,
# runs every test with ctest (ctest fixtures start and stop the throw-away
# Prosody and ejabberd servers, also when tests fail), then the whole suite
# again under ASan+UBSan and each fuzz harness for 60 s (as tests "sanitizers"
# and "fuzz" of the same ctest run).
#   bash tests/run.sh                    everything
#   XMSG_SKIP_DEPS=1 bash tests/run.sh   without apt-get
#   XMSG_QUICK=1 bash tests/run.sh       without the sanitizer and fuzz passes
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${XMSG_BUILD_DIR:-$top/build}
jobs=$(nproc 2>/dev/null || echo 2)

[ -n "${XMSG_SKIP_DEPS:-}" ] || bash "$top/tests/lab/deps.sh"

extra=ON
[ -z "${XMSG_QUICK:-}" ] || extra=OFF
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DXMSG_WERROR=ON -DXMSG_TESTS=ON -DXMSG_CI_EXTRA="$extra"
cmake --build "$build" -j "$jobs"
cd "$build"
ctest --output-on-failure --timeout 600 "$@"
