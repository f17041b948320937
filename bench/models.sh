#!/usr/bin/env bash
# Speed and memory of models of real shapes (random weights from `pocketmind synth`):
# prompt processing of 128 tokens (pp128) and generation of 64 (tg64), time to first token
# and peak RSS, next to the targets of issue #4. Prints a markdown table; --json prints one
# JSON object per model instead.
#   bench/models.sh [--json] [--threads N] [--reps N] [--only REGEX]
# Models are written once to $PM_BENCH_MODELS (default /tmp/pocketmind-bench, ~6 GB).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/pocketmind
dir=${PM_BENCH_MODELS:-/tmp/pocketmind-bench}
threads=2 reps=3 json=0 only=.
while [ $# -gt 0 ]; do
  case $1 in
    --json) json=1 ;;
    --threads) threads=$2; shift ;;
    --reps) reps=$2; shift ;;
    --only) only=$2; shift ;;
    -h|--help) sed -n 2,7p "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ -x "$bin" ] || { echo "build first: cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build" >&2; exit 1; }
mkdir -p "$dir"

# shape type target_pp target_tg (t/s at 2 threads; rwkv targets are 1.5x rwkv.cpp's tg)
cases=(
  "qwen2.5-0.5b q4_0 945 118"
  "qwen2.5-0.5b q8_0 756 96"
  "qwen2.5-0.5b q4_K_M 820 104"
  "qwen2.5-0.5b f16 489 36"
  "rwkv7-1.5b q4_0 - 33.3"
  "rwkv7-1.5b q8_0 - 32.4"
  "rwkv7-1.5b q5_1 - 25.7"
  "rwkv7-1.5b f16 - 18.5"
)
[ $json = 1 ] || {
  echo "| model | type | pp128 t/s | tg64 t/s | TTFT ms | peak RSS MiB | target pp / tg |"
  echo "|---|---|---|---|---|---|---|"
}
for c in "${cases[@]}"; do
  read -r shape type tpp ttg <<<"$c"
  [[ "$shape $type" =~ $only ]] || continue
  ext=gguf; [[ $shape == rwkv* ]] && ext=bin
  model=$dir/$shape-$type.$ext
  [ -f "$model" ] || "$bin" synth --shape "$shape" --type "$type" -o "$model" >/dev/null
  out=$("$bin" bench -m "$model" -p 128 -n 64 -t "$threads" -r "$reps" --json)
  if [ $json = 1 ]; then
    echo "$out" | jq -c --arg shape "$shape" --arg type "$type" '{shape: $shape, type: $type} + .'
  else
    echo "$out" | jq -r --arg shape "$shape" --arg type "$type" --arg t "$tpp / $ttg" \
      '"| \($shape) | \($type) | \(.pp_tokens_per_s|.*10|round/10) | \(.tg_tokens_per_s|.*10|round/10) | \(.ttft_ms|round) | \(.peak_rss_bytes/1048576|round) | \($t) |"'
  fi
done
