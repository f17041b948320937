#!/usr/bin/env bash
# Builds pocketmind and runs the whole test suite (ctest), then the same suite under
# AddressSanitizer + UndefinedBehaviorSanitizer. Tests that need ../shared/fixtures skip
# with a message when it is absent.
#   scripts/test.sh            # release build, fuzzers, sanitizer build, aarch64 under qemu
#   scripts/test.sh --fast     # release build only
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

phase() {  # prints what comes next and how long the script has run (CI logs show where time goes)
  printf '== [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"
}

# ctest --timeout 300: the slowest test takes about a minute under a sanitizer or qemu, so a hang
# fails after 5 minutes instead of holding CI.
run_suite() {  # build_dir, extra cmake args...
  local dir=$1; shift
  phase "build $dir"
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
  phase "tests in $dir"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" --timeout 300
}

run_suite build
if [ "${1:-}" != "--fast" ]; then
  # The sanitizer build (ASan + UBSan) runs the whole suite again and, built with clang, also
  # holds the libFuzzer targets: a short run over each parser, starting from a seed corpus.
  # -O1 with line tables only (-g1): the usual sanitizer setting, file:line in every report, and
  # a quarter less compile time than -O2 -g. No benchmark programs here.
  sanitize_args=(-DPM_SANITIZE=ON -DPM_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
                 "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG")
  if command -v clang++ >/dev/null 2>&1; then
    sanitize_args+=(-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DPM_BUILD_FUZZERS=ON)
  else
    echo "clang++ not found: the sanitizer build uses the default compiler and skips the fuzz targets"
  fi
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite build-asan "${sanitize_args[@]}"
  phase "fuzzing"
  for fuzzer in build-asan/fuzz/*_fuzz; do
    [ -x "$fuzzer" ] || continue
    name=$(basename "$fuzzer")
    corpus=build-asan/corpus-$name
    mkdir -p "$corpus"
    cp -n fuzz/seeds/"${name%_fuzz}"/* "$corpus"/ 2>/dev/null || true
    echo "fuzzing $name for 15 s"
    "$fuzzer" -max_total_time=15 -max_len=65536 -print_final_stats=0 "$corpus" 2>&1 | tail -n 2
  done
fi

if [ "${1:-}" != "--fast" ]; then
  # ARM64 (what phones run): cross-compiled, run under qemu-user on a CPU model with dotprod and
  # i8mm ("max") and on one without ("cortex-a53"), so that every ARM code path is exercised.
  if command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 && command -v qemu-aarch64 >/dev/null 2>&1; then
    phase "build build-arm64"
    cmake -S . -B build-arm64 -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake >/dev/null
    # (static linking makes glibc warn about dlopen/getaddrinfo: noise, so the log is shown on failure only)
    if ! cmake --build build-arm64 -j"$jobs" > build-arm64/build.log 2>&1; then
      cat build-arm64/build.log
      exit 1
    fi
    # The 300 MB synthetic-model test runs natively above; under emulation it only costs time.
    phase "aarch64 tests under qemu (-cpu max: NEON, dotprod, i8mm)"
    QEMU_CPU=max ctest --test-dir build-arm64 --output-on-failure -j"$jobs" --timeout 300 -E "SynthWrites"
    # Without dotprod / i8mm only the kernel tables differ: rerun what goes through them (kernels,
    # model conformance, sessions, embeddings), not the store, grammar and template suites.
    phase "aarch64 tests under qemu (-cpu cortex-a53: NEON only), kernel-dependent tests"
    QEMU_CPU=cortex-a53 ctest --test-dir build-arm64 --output-on-failure -j"$jobs" --timeout 300 -E "SynthWrites" \
      -R "Quant|Ops|Dequant|Fp16|Logits|Rwkv|Bert|Session|Concurrent|Model|Memory|Robustness|Gguf|Sampler"
  else
    echo "aarch64 cross toolchain or qemu-aarch64 missing: skipping the ARM tests (scripts/setup.sh installs them)"
  fi
fi
phase "done"
