#!/usr/bin/env bash
# One 100 MB document on a single line (no newline anywhere): `slant analyze` must finish without
# a panic; prints wall time and peak RSS. Not part of the tests or CI (it takes a while).
#
#   cargo build --release && bench/huge_line.sh [SIZE_MB] [ptc]
#
# By default the line repeats one loaded sentence (few distinct word sequences); with `ptc` it is
# real news text: the PTC train articles from ../shared/datasets joined with spaces and repeated
# (many distinct spans of every length, the harder case for repeat counting).
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-100}
source_text=${2:-sentence}
bin=${SLANT:-target/release/slant}
file=/tmp/slant-huge-line-${mb}mb.txt
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time; Debian: apt-get install time)" >&2; exit 2; }

# Ordinary news prose with loaded words, repeated without a single newline.
sentence='The chaotic withdrawal was a humiliating fiasco, and critics called the planners reckless cowards who abandoned loyal partners. '
need=$((mb * 1000 * 1000))
python3 - "$file" "$need" "$sentence" "$source_text" <<'PY'
import json, sys
path, need, s, source = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode(), sys.argv[4]
if source == "ptc":
    with open("../shared/datasets/ptc/train.jsonl", encoding="utf-8") as f:
        s = " ".join(json.loads(l)["text"].replace("\r", " ").replace("\n", " ") for l in f).encode() + b" "
with open(path, "wb") as f:
    # Cut on a character boundary.
    f.write((s * (need // len(s) + 1))[:need].decode("utf-8", "ignore").encode())
PY
echo "document: $file, $(stat -c %s "$file") bytes, $(wc -l < "$file") newlines"

log=$(mktemp)
status=0
/usr/bin/time -v "$bin" analyze "$file" --format json > /dev/null 2> "$log" || status=$?
grep -E 'Elapsed \(wall clock\)|Maximum resident set size|Exit status|terminated by signal' "$log"
if grep -q panicked "$log"; then
  echo "PANIC:" >&2
  cat "$log" >&2
  status=101
fi
rm -f "$log" "$file"
exit "$status"
