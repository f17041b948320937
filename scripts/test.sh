#!/usr/bin/env bash
# Builds pocketmind and runs the whole test suite (ctest), then the same suite under
# AddressSanitizer + UndefinedBehaviorSanitizer. Tests that need ../shared/fixtures skip
# with a message when it is absent.
#   scripts/test.sh            # release build + sanitizer build
#   scripts/test.sh --fast     # release build only
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

run_suite() {  # build_dir, extra cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" --timeout 900
}

run_suite build
if [ "${1:-}" != "--fast" ]; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite build-asan -DPM_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
