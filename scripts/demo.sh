#!/usr/bin/env bash
# Sets up, builds, and runs the main job, a tour: the demo phone's data ingested into a private
# store and searched (Chinese and English); questions answered from it with cited records; the
# weather/headphones automation parsed, saved and simulated over a week; a call summarized; then
# text generation from a GGUF model.
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
now=2026-11-21T09:00:00+08:00
for q in "妈妈上周发的消息" "火锅店的收据" "meeting with Alice next week"; do
  echo "== pocketmind search --now $now --k 3 \"$q\""
  ./build/pocketmind search --db "$db" --now "$now" --k 3 "$q"
done

# The assistant without a model: grounded extractive answers citing record ids, and saying so
# when nothing relevant exists.
for q in "我的牙医预约是什么时候？" "When is my dentist appointment?" "房东说房租涨到多少？" "When is my piano lesson?"; do
  echo "== pocketmind ask --now $now \"$q\""
  ./build/pocketmind ask --db "$db" --now "$now" "$q"
done

# Automations from plain language: parsed, validated and confirmed, saved, then simulated over a
# week on a virtual clock (with the headphones connecting on Wednesday evening).
request="每周一到周五早上6点半播报当天天气。戴上蓝牙耳机的时候，就播放收藏的歌曲，并把手机设为静音模式"
echo "== pocketmind automation parse --now 2026-11-24T09:00:00+08:00 \"$request\""
./build/pocketmind automation parse --now 2026-11-24T09:00:00+08:00 "$request"
./build/pocketmind automation add --db "$db" --now 2026-11-24T09:00:00+08:00 --yes "$request"
events=$(mktemp)
echo '{"time": "2026-11-25T19:10:00+08:00", "event": "headphones.connected"}' > "$events"
echo "== pocketmind automation simulate --from 2026-11-23T00:00:00+08:00 --to 2026-11-30T00:00:00+08:00 --tz Asia/Shanghai"
./build/pocketmind automation simulate --db "$db" --from 2026-11-23T00:00:00+08:00 --to 2026-11-30T00:00:00+08:00 \
  --tz Asia/Shanghai --events "$events"
rm -f "$events"

# A call transcript turned into a summary with action items (and reminders, when asked).
echo "== pocketmind summarize-call data/demo/calls/landlord-zh.txt --now $now"
./build/pocketmind summarize-call data/demo/calls/landlord-zh.txt --now "$now"

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
Point it at any GGUF chat model (Qwen2.5-0.5B/1.5B-Instruct, Qwen3, Llama-3.2, Mistral) or an
RWKV-7 World model for generative answers, for example:
  scripts/demo.sh ~/models/qwen2.5-1.5b-instruct-q4_k_m.gguf "What is the capital of France?"
  ./build/pocketmind ask --db DIR -m ~/models/qwen2.5-1.5b-instruct-q4_k_m.gguf "我的牙医预约是什么时候？"
  ./build/pocketmind chat -m ~/models/qwen2.5-1.5b-instruct-q4_k_m.gguf
  ./build/pocketmind serve --db DIR -m ~/models/qwen2.5-1.5b-instruct-q4_k_m.gguf --port 8080
MSG
  exit 0
fi
echo "== pocketmind info -m $model"
./build/pocketmind info -m "$model"
echo "== pocketmind run -m $model -p \"$prompt\" -n 32 --seed 42"
echo "(fixture models have random weights: the text is meaningless, the arithmetic is real)"
./build/pocketmind run -m "$model" -p "$prompt" -n 32 --seed 42
