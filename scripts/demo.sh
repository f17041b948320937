#!/usr/bin/env bash
# Sets up, builds, and runs the main job: the demo phone's data ingested into a private store
# and searched (Chinese and English), then text generation from a GGUF model.
#   scripts/demo.sh [MODEL.gguf] ["prompt"]
# Without MODEL it uses a fixture model from ../shared/fixtures when present.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target pocketmind

# The user's own data: a synthetic phone's messages, calendar, contacts and notes (data/demo).
db=$(mktemp -d)
trap 'rm -rf "$db"' EXIT
echo "== pocketmind ingest --db $db data/demo/*"
./build/pocketmind ingest --db "$db" --now 2026-11-21T09:00:00+08:00 -q \
  data/demo/phone.jsonl data/demo/calendar.ics data/demo/contacts.vcf data/demo/notes
for q in "妈妈上周发的消息" "火锅店的收据" "meeting with Alice next week"; do
  echo "== pocketmind search --now 2026-11-21T09:00:00+08:00 --k 3 \"$q\""
  ./build/pocketmind search --db "$db" --now 2026-11-21T09:00:00+08:00 --k 3 "$q"
done

model=${1:-}
prompt=${2:-"Remind me to call Mom at 6:30 tomorrow."}
if [ -z "$model" ]; then
  for candidate in ../shared/fixtures/gguf/qwen2-bpe-tiny-f16.gguf ../shared/fixtures/gguf/llama-spm-tiny-q8_0.gguf; do
    if [ -f "$candidate" ]; then model=$candidate; break; fi
  done
fi
if [ -z "$model" ]; then
  cat <<'MSG'
pocketmind is built: ./build/pocketmind
No model given and no fixture models found in ../shared/fixtures.
Point it at any GGUF model (Qwen2.5 / Qwen3 / Llama-3.2 / Mistral), for example:
  scripts/demo.sh ~/models/qwen2.5-0.5b-instruct-q8_0.gguf "What is the capital of France?"
  ./build/pocketmind chat -m ~/models/qwen2.5-0.5b-instruct-q8_0.gguf
MSG
  exit 0
fi
echo "== pocketmind info -m $model"
./build/pocketmind info -m "$model"
echo "== pocketmind run -m $model -p \"$prompt\" -n 32 --seed 42"
echo "(fixture models have random weights: the text is meaningless, the arithmetic is real)"
./build/pocketmind run -m "$model" -p "$prompt" -n 32 --seed 42
