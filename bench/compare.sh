#!/usr/bin/env bash
# pocketmind beside a peer built outside this tree from its public source, on the same synthetic
# model files, with the ratio pocketmind / peer per type. Prints a markdown table; --json one
# JSON object per type.
#   bench/compare.sh llama PEER_BUILD_DIR [--threads N] [--reps N] [--only REGEX] [--peer-args ARGS] [--json]
#     llama.cpp (or a fork such as ik_llama.cpp): its llama-bench (PEER_BUILD_DIR/bin/llama-bench or
#     PEER_BUILD_DIR/llama-bench) runs `-m MODEL -t N -p 128 -n 64 -r REPS -o json ARGS` beside
#     `pocketmind bench -p 128 -n 64` on Qwen2.5-0.5B-shaped GGUF files: pp128 and tg64. For a
#     llama.cpp source without its tools, bench/peers/llama_cpp_bench.c built as DIR/llama-bench
#     measures as llama-bench does (see its header). ARGS: extra llama-bench options, split on
#     spaces (ik_llama.cpp: "-rtr 1" repacks the weights at load, as pocketmind does).
#   bench/compare.sh rwkv RWKV_CPP_DIR [--threads N] [--tokens N] [--only REGEX] [--json]
#     rwkv.cpp (an rwkv.cpp source tree, built: rwkv.h in it, librwkv in RWKV_CPP_DIR/build):
#     bench/peers/rwkv_cpp_tg.c is compiled against it and generates one token at a time beside
#     `pocketmind bench -p 0 -n N` on RWKV-7 1.5B-shaped .bin files.
# Models are written once to $PM_BENCH_MODELS (default /tmp/pocketmind-bench), the files
# bench/models.sh uses. Needs jq.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() { sed -n 2,17p "$0"; }
[ $# -ge 1 ] && case $1 in -h|--help) usage; exit 0 ;; esac
[ $# -ge 2 ] || { usage >&2; exit 2; }
peer_kind=$1 peer_dir=$2
shift 2
threads=2 reps=3 tokens=64 json=0 only=. peer_args=
while [ $# -gt 0 ]; do
  case $1 in
    --json) json=1 ;;
    --threads) threads=$2; shift ;;
    --reps) reps=$2; shift ;;
    --tokens) tokens=$2; shift ;;
    --only) only=$2; shift ;;
    --peer-args) peer_args=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
bin=build/pocketmind
[ -x "$bin" ] || { echo "compare.sh: build pocketmind first (cmake --build build)" >&2; exit 1; }
command -v jq >/dev/null || { echo "compare.sh: needs jq (apt-get install jq)" >&2; exit 1; }
dir=${PM_BENCH_MODELS:-/tmp/pocketmind-bench}
mkdir -p "$dir"

case $peer_kind in
  llama)
    peer=
    for p in "$peer_dir/bin/llama-bench" "$peer_dir/llama-bench"; do
      [ -x "$p" ] && { peer=$p; break; }
    done
    [ -n "$peer" ] || { echo "compare.sh: no llama-bench in $peer_dir (or $peer_dir/bin)" >&2; exit 1; }
    types="q4_0 q8_0 q4_K_M f16" shape=qwen2.5-0.5b ext=gguf
    header="| type | pocketmind pp128 | peer pp128 | ratio | pocketmind tg64 | peer tg64 | ratio |"
    ;;
  rwkv)
    [ -f "$peer_dir/rwkv.h" ] || { echo "compare.sh: no rwkv.h in $peer_dir" >&2; exit 1; }
    peer=$(mktemp -d)/rwkv_cpp_tg
    trap 'rm -rf "$(dirname "$peer")"' EXIT
    cc -O2 bench/peers/rwkv_cpp_tg.c -I "$peer_dir" -L "$peer_dir/build" -Wl,-rpath,"$peer_dir/build" -lrwkv \
      -lm -lpthread -lstdc++ -fopenmp -o "$peer"
    types="q4_0 q8_0 q5_1 f16" shape=rwkv7-1.5b ext=bin
    header="| type | pocketmind tg t/s | rwkv.cpp tg t/s | ratio |"
    ;;
  *) echo "compare.sh: the peer is llama or rwkv, not '$peer_kind'" >&2; exit 2 ;;
esac

[ $json = 1 ] || { echo "$header"; echo "$header" | sed 's/[^|]*|/---|/g; s/^---//'; }
for type in $types; do
  [[ $type =~ $only ]] || continue
  model=$dir/$shape-$type.$ext
  [ -f "$model" ] || "$bin" synth --shape "$shape" --type "$type" -o "$model" >/dev/null
  if [ "$peer_kind" = llama ]; then
    ours=$("$bin" bench -m "$model" -p 128 -n 64 -t "$threads" -r "$reps" --json)
    # shellcheck disable=SC2086  # ARGS is split on purpose
    theirs=$("$peer" -m "$model" -t "$threads" -p 128 -n 64 -r "$reps" -o json $peer_args 2>/dev/null) ||
      { echo "compare.sh: $peer failed on $model" >&2; exit 1; }
    row=$(jq -n --argjson o "$ours" --argjson t "$theirs" --arg type "$type" '
      ($t | map(select(.n_prompt > 0 and .n_gen == 0))[0].avg_ts) as $tpp |
      ($t | map(select(.n_gen > 0 and .n_prompt == 0))[0].avg_ts) as $ttg |
      {type: $type, pp_tokens_per_s: $o.pp_tokens_per_s, peer_pp_tokens_per_s: $tpp,
       pp_ratio: ($o.pp_tokens_per_s / $tpp), tg_tokens_per_s: $o.tg_tokens_per_s,
       peer_tg_tokens_per_s: $ttg, tg_ratio: ($o.tg_tokens_per_s / $ttg)}')
    line='"| \(.type) | \(.pp_tokens_per_s|r) | \(.peer_pp_tokens_per_s|r) | \(.pp_ratio|x)x | \(.tg_tokens_per_s|r) | \(.peer_tg_tokens_per_s|r) | \(.tg_ratio|x)x |"'
  else
    ours=$("$bin" bench -m "$model" -p 0 -n "$tokens" -t "$threads" -r 1 --json)
    theirs=$("$peer" "$model" "$threads" "$tokens")
    row=$(jq -n --argjson o "$ours" --argjson t "$theirs" --arg type "$type" \
      '{type: $type, tg_tokens_per_s: $o.tg_tokens_per_s, peer_tg_tokens_per_s: $t.tg_tokens_per_s,
        tg_ratio: ($o.tg_tokens_per_s / $t.tg_tokens_per_s)}')
    line='"| \(.type) | \(.tg_tokens_per_s|r) | \(.peer_tg_tokens_per_s|r) | \(.tg_ratio|x)x |"'
  fi
  if [ $json = 1 ]; then
    echo "$row" | jq -c .
  else
    echo "$row" | jq -r "def r: . * 10 | round / 10; def x: . * 100 | round / 100; $line"
  fi
done
