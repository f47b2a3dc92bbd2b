#!/usr/bin/env bash
# A/B of two slant builds on the same input, run alternately (A B A B …) so that a machine
# whose speed drifts (other processes, frequency) affects both alike. Prints each build's
# median and minimum wall and CPU (user+sys) seconds and peak RSS from /usr/bin/time, and the
# median of the per-pair ratios A/B (below 1: A is faster). Checks that both wrote the same
# output.
#
#   bench/ab.sh OLD_BINARY NEW_BINARY INPUT.jsonl [PAIRS] [JOBS]
#
# e.g. (after building the old commit into /tmp/old with `cargo build --release`):
#   bench/ab.sh /tmp/old/release/slant target/release/slant bench.jsonl 21 1
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,12p' "$0" >&2; exit 2; }
a=$1 b=$2 input=$3 pairs=${4:-15} jobs=${5:-1}
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time; Debian: apt-get install time)" >&2; exit 2; }
for x in "$a" "$b"; do [ -x "$x" ] || { echo "not executable: $x" >&2; exit 2; }; done
[ -r "$input" ] || { echo "cannot read $input" >&2; exit 2; }
command -v python3 >/dev/null || { echo "needs python3" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() { # run NAME BINARY: one timed run, appending "wall cpu rss_kb" to $work/NAME
  /usr/bin/time -o "$work/t" -f "%e %U %S %M" "$2" batch --input "$input" --output "$work/out.$1" \
    --jobs "$jobs" 2>/dev/null >/dev/null
  awk '{ printf "%s %.3f %s\n", $1, $2 + $3, $4 }' "$work/t" >> "$work/$1"
}
# One warm-up run each (page cache, binary), not counted.
run warm "$a"; run warm "$b"
for _ in $(seq "$pairs"); do run A "$a"; run B "$b"; done
cmp -s "$work/out.A" "$work/out.B" || echo "warning: the two builds wrote different output" >&2
python3 - "$work/A" "$work/B" "$a" "$b" "$input" "$jobs" <<'PY'
import statistics as st, sys
fa, fb, a, b, inp, jobs = sys.argv[1:]
A = [list(map(float, l.split())) for l in open(fa)]
B = [list(map(float, l.split())) for l in open(fb)]
print(f"input {inp}, --jobs {jobs}, {len(A)} pairs run alternately (after one warm-up each)")
for name, rows, path in (("A", A, a), ("B", B, b)):
    w, c, m = zip(*rows)
    print(f"{name} {path}: wall median {st.median(w):.3f} s (min {min(w):.3f}), "
          f"cpu median {st.median(c):.3f} s (min {min(c):.3f}), peak RSS {max(m) / 1024:.1f} MB")
rw = [x[0] / y[0] for x, y in zip(A, B) if y[0] > 0]
rc = [x[1] / y[1] for x, y in zip(A, B) if y[1] > 0]
print(f"A/B per pair: wall median {st.median(rw):.3f} (min {min(rw):.3f}, max {max(rw):.3f}), "
      f"cpu median {st.median(rc):.3f} (min {min(rc):.3f}, max {max(rc):.3f})")
PY
