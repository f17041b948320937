#!/usr/bin/env bash
# pocketmind beside rwkv.cpp on the same RWKV-7 1.5B-shaped files (random weights, rwkv.cpp's .bin
# format, written by `pocketmind synth --shape rwkv7-1.5b`): generation tokens/s, one token at a
# time, per type, and the ratio. Prints a markdown table; --json one JSON object per type.
#   bench/compare_rwkv.sh RWKV_CPP_DIR [--threads N] [--tokens N] [--only REGEX] [--json]
# RWKV_CPP_DIR: an rwkv.cpp source tree built outside this one (rwkv.h in it, librwkv.so or
# librwkv.a in RWKV_CPP_DIR/build); bench/peers/rwkv_cpp_tg.c is compiled against it.
# Models are written once to $PM_BENCH_MODELS (default /tmp/pocketmind-bench). Needs jq.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() { sed -n 2,9p "$0"; }
[ $# -ge 1 ] || { usage >&2; exit 2; }
case $1 in -h|--help) usage; exit 0 ;; esac
peer_dir=$1; shift
threads=2 tokens=64 json=0 only=.
while [ $# -gt 0 ]; do
  case $1 in
    --json) json=1 ;;
    --threads) threads=$2; shift ;;
    --tokens) tokens=$2; shift ;;
    --only) only=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compare_rwkv.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
bin=build/pocketmind
[ -x "$bin" ] || { echo "compare_rwkv.sh: build pocketmind first (cmake --build build)" >&2; exit 1; }
[ -f "$peer_dir/rwkv.h" ] || { echo "compare_rwkv.sh: no rwkv.h in $peer_dir" >&2; exit 1; }
command -v jq >/dev/null || { echo "compare_rwkv.sh: needs jq (apt-get install jq)" >&2; exit 1; }
driver=$(mktemp -d)/rwkv_cpp_tg
trap 'rm -rf "$(dirname "$driver")"' EXIT
cc -O2 bench/peers/rwkv_cpp_tg.c -I "$peer_dir" -L "$peer_dir/build" -Wl,-rpath,"$peer_dir/build" -lrwkv \
  -lm -lpthread -lstdc++ -fopenmp -o "$driver"
dir=${PM_BENCH_MODELS:-/tmp/pocketmind-bench}
mkdir -p "$dir"

[ $json = 1 ] || {
  echo "| type | pocketmind tg t/s | rwkv.cpp tg t/s | ratio |"
  echo "|---|---|---|---|"
}
for type in q4_0 q8_0 q5_1 f16; do
  [[ $type =~ $only ]] || continue
  model=$dir/rwkv7-1.5b-$type.bin
  [ -f "$model" ] || "$bin" synth --shape rwkv7-1.5b --type "$type" -o "$model" >/dev/null
  ours=$("$bin" bench -m "$model" -p 0 -n "$tokens" -t "$threads" -r 1 --json)
  theirs=$("$driver" "$model" "$threads" "$tokens")
  row=$(jq -n --argjson o "$ours" --argjson t "$theirs" --arg type "$type" \
    '{type: $type, tg_tokens_per_s: $o.tg_tokens_per_s, peer_tg_tokens_per_s: $t.tg_tokens_per_s,
      tg_ratio: ($o.tg_tokens_per_s / $t.tg_tokens_per_s)}')
  if [ $json = 1 ]; then
    echo "$row" | jq -c .
  else
    echo "$row" | jq -r 'def r: . * 10 | round / 10; def x: . * 100 | round / 100;
      "| \(.type) | \(.tg_tokens_per_s|r) | \(.peer_tg_tokens_per_s|r) | \(.tg_ratio|x)x |"'
  fi
done
