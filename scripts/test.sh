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
  # libFuzzer targets (need clang): a short run over each parser, starting from a seed corpus.
  if command -v clang++ >/dev/null 2>&1; then
    cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
      -DCMAKE_CXX_COMPILER=clang++ -DPM_BUILD_FUZZERS=ON -DPM_BUILD_TESTS=OFF >/dev/null
    cmake --build build-fuzz -j"$jobs"
    for fuzzer in build-fuzz/fuzz/*_fuzz; do
      name=$(basename "$fuzzer")
      corpus=build-fuzz/corpus-$name
      mkdir -p "$corpus"
      cp -n fuzz/seeds/"${name%_fuzz}"/* "$corpus"/ 2>/dev/null || true
      echo "fuzzing $name for 20 s"
      "$fuzzer" -max_total_time=20 -max_len=65536 -print_final_stats=0 "$corpus" 2>&1 | tail -n 2
    done
  else
    echo "clang++ not found: skipping the fuzz targets"
  fi
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite build-asan -DPM_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
