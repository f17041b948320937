#!/usr/bin/env bash
# pocketmind beside a llama.cpp build (or a fork such as ik_llama.cpp) on the same synthetic GGUF
# files: prompt processing of 128 tokens (pp128) and generation of 64 (tg64), tokens/s, and the
# ratio pocketmind / peer per type. Prints a markdown table; --json one JSON object per type.
#   bench/compare.sh PEER_BUILD_DIR [--threads N] [--reps N] [--only REGEX] [--json]
# PEER_BUILD_DIR: a llama.cpp build made outside this tree from its public source; its
# llama-bench (PEER_BUILD_DIR/bin/llama-bench or PEER_BUILD_DIR/llama-bench) is run as
#   llama-bench -m MODEL -t N -p 128 -n 64 -r REPS -o json
# Models (Qwen2.5-0.5B shape, `pocketmind synth`) are written once to $PM_BENCH_MODELS
# (default /tmp/pocketmind-bench), the same files bench/models.sh uses. Needs jq.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() { sed -n 2,10p "$0"; }
[ $# -ge 1 ] || { usage >&2; exit 2; }
case $1 in -h|--help) usage; exit 0 ;; esac
peer_dir=$1; shift
threads=2 reps=3 json=0 only=.
while [ $# -gt 0 ]; do
  case $1 in
    --json) json=1 ;;
    --threads) threads=$2; shift ;;
    --reps) reps=$2; shift ;;
    --only) only=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
bin=build/pocketmind
[ -x "$bin" ] || { echo "compare.sh: build pocketmind first (cmake --build build)" >&2; exit 1; }
peer=
for p in "$peer_dir/bin/llama-bench" "$peer_dir/llama-bench"; do
  [ -x "$p" ] && { peer=$p; break; }
done
[ -n "$peer" ] || { echo "compare.sh: no llama-bench in $peer_dir (or $peer_dir/bin)" >&2; exit 1; }
command -v jq >/dev/null || { echo "compare.sh: needs jq (apt-get install jq)" >&2; exit 1; }
dir=${PM_BENCH_MODELS:-/tmp/pocketmind-bench}
mkdir -p "$dir"

[ $json = 1 ] || {
  echo "| type | pocketmind pp128 | peer pp128 | ratio | pocketmind tg64 | peer tg64 | ratio |"
  echo "|---|---|---|---|---|---|---|"
}
for type in q4_0 q8_0 q4_K_M f16; do
  [[ $type =~ $only ]] || continue
  model=$dir/qwen2.5-0.5b-$type.gguf
  [ -f "$model" ] || "$bin" synth --shape qwen2.5-0.5b --type "$type" -o "$model" >/dev/null
  ours=$("$bin" bench -m "$model" -p 128 -n 64 -t "$threads" -r "$reps" --json)
  theirs=$("$peer" -m "$model" -t "$threads" -p 128 -n 64 -r "$reps" -o json 2>/dev/null) ||
    { echo "compare.sh: $peer failed on $model" >&2; exit 1; }
  row=$(jq -n --argjson o "$ours" --argjson t "$theirs" --arg type "$type" '
    ($t | map(select(.n_prompt > 0 and .n_gen == 0))[0].avg_ts) as $tpp |
    ($t | map(select(.n_gen > 0 and .n_prompt == 0))[0].avg_ts) as $ttg |
    {type: $type, pp_tokens_per_s: $o.pp_tokens_per_s, peer_pp_tokens_per_s: $tpp,
     pp_ratio: ($o.pp_tokens_per_s / $tpp), tg_tokens_per_s: $o.tg_tokens_per_s,
     peer_tg_tokens_per_s: $ttg, tg_ratio: ($o.tg_tokens_per_s / $ttg)}')
  if [ $json = 1 ]; then
    echo "$row" | jq -c .
  else
    echo "$row" | jq -r 'def r: . * 10 | round / 10; def x: . * 100 | round / 100;
      "| \(.type) | \(.pp_tokens_per_s|r) | \(.peer_pp_tokens_per_s|r) | \(.pp_ratio|x)x | \(.tg_tokens_per_s|r) | \(.peer_tg_tokens_per_s|r) | \(.tg_ratio|x)x |"'
  fi
done
