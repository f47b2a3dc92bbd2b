#!/usr/bin/env bash
# One 100 MB document on a single line (no newline anywhere): `slant analyze` must finish without
# a panic; prints wall time and peak RSS. Not part of the tests or CI (it takes a while).
#
#   cargo build --release && bench/huge_line.sh [SIZE_MB]
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-100}
bin=${SLANT:-target/release/slant}
file=/tmp/slant-huge-line-${mb}mb.txt
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time; Debian: apt-get install time)" >&2; exit 2; }

# Ordinary news prose with loaded words, repeated without a single newline.
sentence='The chaotic withdrawal was a humiliating fiasco, and critics called the planners reckless cowards who abandoned loyal partners. '
need=$((mb * 1000 * 1000))
python3 - "$file" "$need" "$sentence" <<'PY'
import sys
path, need, s = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
with open(path, "wb") as f:
    f.write((s * (need // len(s) + 1))[:need])
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
