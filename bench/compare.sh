#!/usr/bin/env bash
# Side-by-side throughput and peak memory: `slant batch` against scikit-learn pipelines
# (a token-level LogisticRegression span tagger and a TF-IDF sentence classifier with word
# features, and with word + character features), all on the same JSONL input, in one run.
# See bench/README.md.
#
#   bench/compare.sh [--size-mb 4] [--runs 3] [--data DIR] [--input FILE] [--jobs N]
#                    [--span-vectorizer hash|dict] [--sentence-features both|word|word+char]
#                    [--no-build] [--keep]
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: bench/compare.sh [options]
  --size-mb N    size of the benchmark input in MB (default 4; rows are repeated to reach it)
  --runs N       timed runs per tool, the median is reported (default 3)
  --data DIR     the shared corpora (default: ../shared/datasets next to the repository);
                 PTC train and BABE train train the scikit-learn models, PTC dev and BABE dev
                 score them, PTC dev is the input
  --input FILE   JSONL with "text" (and "id") per row to replicate instead of the PTC dev articles
  --jobs N       workers of the parallel slant run (default: nproc)
  --span-vectorizer hash|dict
                 features of the scikit-learn span tagger: FeatureHasher (default, faster) or
                 DictVectorizer (a fitted vocabulary)
  --sentence-features both|word|word+char
                 which scikit-learn sentence classifiers to time: TF-IDF of word 1-2-grams,
                 TF-IDF of word 1-2-grams + char_wb 2-5-grams, or both (default)
  --no-build     do not run `cargo build --release` (use $SLANT or the existing binary)
  --keep         keep the temporary folder (input, outputs, models, timings)
Environment: SLANT (slant binary), PYTHON (interpreter for the virtualenv, default python3),
CARGO_TARGET_DIR (where cargo builds), VENV (default bench/.venv).
USAGE
}

die() { echo "compare.sh: $*" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
size_mb=4
runs=3
data="$repo/../shared/datasets"
input=""
jobs=$(nproc)
build=1
keep=0
span_vectorizer=hash
sentence_features=both
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mb) size_mb=${2:?--size-mb needs a value}; shift 2 ;;
    --runs) runs=${2:?--runs needs a value}; shift 2 ;;
    --data) data=${2:?--data needs a value}; shift 2 ;;
    --input) input=${2:?--input needs a value}; shift 2 ;;
    --jobs) jobs=${2:?--jobs needs a value}; shift 2 ;;
    --span-vectorizer) span_vectorizer=${2:?--span-vectorizer needs a value}; shift 2 ;;
    --sentence-features) sentence_features=${2:?--sentence-features needs a value}; shift 2 ;;
    --no-build) build=0; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[[ "$size_mb" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--size-mb must be a number, got '$size_mb'"
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer, got '$runs'"
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "--jobs must be a positive integer, got '$jobs'"
case "$span_vectorizer" in hash|dict) ;; *) die "--span-vectorizer is hash or dict, got '$span_vectorizer'" ;; esac
case "$sentence_features" in
  both) sentence_kinds=(word word+char) ;;
  word|word+char) sentence_kinds=("$sentence_features") ;;
  *) die "--sentence-features is both, word or word+char, got '$sentence_features'" ;;
esac

# The corpora: the scikit-learn models always train on them; the input comes from them unless
# --input is given.
[ -d "$data" ] || die "no corpora at $data: put ../shared/datasets next to the repository or pass --data DIR"
for f in ptc/train.jsonl babe/train.jsonl ptc/dev.jsonl babe/dev.jsonl; do
  [ -f "$data/$f" ] || die "missing $data/$f (see the README of the shared datasets)"
done
if [ -z "$input" ]; then
  input="$data/ptc/dev.jsonl"
fi
[ -f "$input" ] || die "no input file $input"
data=$(cd "$data" && pwd)
input=$(cd "$(dirname "$input")" && pwd)/$(basename "$input")

[ -x /usr/bin/time ] || die "needs GNU time at /usr/bin/time (Debian: apt-get install time)"
python=${PYTHON:-python3}
command -v "$python" >/dev/null || die "no $python (set PYTHON)"

# Everything single-threaded on the Python side (numpy/scipy BLAS, OpenMP).
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 VECLIB_MAXIMUM_THREADS=1 \
  NUMEXPR_NUM_THREADS=1

# 1. slant, release build.
if [ -n "${SLANT:-}" ]; then
  slant=$SLANT
else
  if [ "$build" = 1 ]; then
    (cd "$repo" && cargo build --release --quiet) || die "cargo build --release failed"
  fi
  slant=${CARGO_TARGET_DIR:-$repo/target}/release/slant
  case "$slant" in /*) ;; *) slant=$repo/$slant ;; esac
fi
[ -x "$slant" ] || die "no slant binary at $slant (build it, or set SLANT)"

# 2. The virtualenv with the pinned scikit-learn.
venv=${VENV:-$here/.venv}
if [ ! -x "$venv/bin/python" ]; then
  echo "creating $venv" >&2
  "$python" -m venv "$venv" || die "cannot create a virtualenv at $venv (Debian: apt-get install python3-venv)"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" \
  || die "pip install -r bench/requirements.txt failed"
py=$venv/bin/python

tmp=$(mktemp -d "${TMPDIR:-/tmp}/slant-compare.XXXXXX")
if [ "$keep" = 1 ]; then
  echo "keeping $tmp" >&2
else
  trap 'rm -rf "$tmp"' EXIT
fi

# 3. The benchmark input: {"id","text"} rows of $input, repeated (ids suffixed -rN) until
# the size is reached.
"$py" - "$input" "$tmp/input.jsonl" "$size_mb" <<'PY'
import json, sys
src, dst, mb = sys.argv[1], sys.argv[2], float(sys.argv[3])
rows = []
with open(src, encoding="utf-8") as f:
    for n, line in enumerate(f, 1):
        if line.strip():
            r = json.loads(line)
            if not isinstance(r.get("text"), str):
                sys.exit(f"{src}:{n}: no string field 'text'")
            rows.append((str(r.get("id", n)), r["text"]))
if not rows:
    sys.exit(f"{src}: no rows")
need, size, k = int(mb * 1_000_000), 0, 0
with open(dst, "w", encoding="utf-8") as out:
    while size < need:
        for i, text in rows:
            line = json.dumps({"id": f"{i}-r{k}", "text": text}, ensure_ascii=False) + "\n"
            out.write(line)
            size += len(line.encode("utf-8"))
            if size >= need:
                break
        k += 1
PY
bytes=$(stat -c %s "$tmp/input.jsonl")
rows=$(wc -l < "$tmp/input.jsonl")
echo "input: $rows rows, $bytes bytes, from $input" >&2

# 4. Train the scikit-learn models and score them on PTC dev / BABE dev (not timed).
echo "training the scikit-learn span tagger (PTC train, $span_vectorizer features) ..." >&2
(cd "$here" && "$py" sklearn_span_tagger.py train --data "$data" --model "$tmp/span.pkl" \
  --vectorizer "$span_vectorizer")
(cd "$here" && "$py" sklearn_span_tagger.py eval --data "$data" --model "$tmp/span.pkl") \
  > "$tmp/quality.jsonl"
for k in "${sentence_kinds[@]}"; do
  echo "training the scikit-learn sentence classifier ($k features, PTC + BABE train) ..." >&2
  (cd "$here" && "$py" sklearn_sentence_clf.py train --data "$data" --features "$k" \
    --model "$tmp/sent.$k.pkl")
  (cd "$here" && "$py" sklearn_sentence_clf.py eval --data "$data" --model "$tmp/sent.$k.pkl") \
    >> "$tmp/quality.jsonl"
done

# 5. Timed runs, round-robin so that load from other processes spreads over every tool.
tools=(slant_jobs1 "slant_jobs$jobs" sklearn_span_tagger)
for k in "${sentence_kinds[@]}"; do tools+=("sklearn_sentence_clf_$k"); done
# The command of tool $1, writing $tmp/out.$1.jsonl, as words in the array `cmd`.
command_of() {
  case "$1" in
    slant_jobs*) cmd=("$slant" batch --input "$tmp/input.jsonl" --output "$tmp/out.$1.jsonl"
                      --jobs "${1#slant_jobs}") ;;
    sklearn_span_tagger) cmd=("$py" "$here/sklearn_span_tagger.py" predict --model "$tmp/span.pkl"
                              --input "$tmp/input.jsonl" --output "$tmp/out.$1.jsonl") ;;
    sklearn_sentence_clf_*) cmd=("$py" "$here/sklearn_sentence_clf.py" predict
                                 --model "$tmp/sent.${1#sklearn_sentence_clf_}.pkl"
                                 --input "$tmp/input.jsonl" --output "$tmp/out.$1.jsonl") ;;
  esac
}
for t in "${tools[@]}"; do command_of "$t"; echo "$t: ${cmd[*]}" >&2; done
: > "$tmp/timings.tsv"
for r in $(seq 1 "$runs"); do
  for t in "${tools[@]}"; do
    command_of "$t"
    rm -f "$tmp/out.$t.jsonl"
    /usr/bin/time -f '%e %M %U %S' -o "$tmp/time.txt" "${cmd[@]}" 2> "$tmp/stderr.$t" \
      || { cat "$tmp/stderr.$t" >&2; die "$t failed (run $r)"; }
    out_rows=$(wc -l < "$tmp/out.$t.jsonl")
    [ "$out_rows" = "$rows" ] || die "$t wrote $out_rows lines for $rows input rows"
    read -r wall kb user sys < "$tmp/time.txt"
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    predict_s=$(grep -o '"predict_s": [0-9.]*' "$tmp/stderr.$t" | awk '{print $2}' || true)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$r" "$wall" "$kb" "${predict_s:--}" "$cpu" >> "$tmp/timings.tsv"
    echo "run $r  $t  ${wall}s wall  ${cpu}s CPU  $((kb / 1024)) MB" >&2
  done
done

# 6. The table: medians, MB/s (input bytes / wall time, 1 MB = 10^6 bytes), ratios.
"$py" - "$tmp/timings.tsv" "$bytes" "$rows" "$runs" "$jobs" "$tmp/quality.jsonl" <<'PY'
import json, statistics, sys
path, nbytes, rows, runs, jobs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
walls, rss, pred, cpu = {}, {}, {}, {}
for line in open(path):
    tool, _run, wall, kb, p, c = line.rstrip("\n").split("\t")
    cpu.setdefault(tool, []).append(float(c))
    walls.setdefault(tool, []).append(float(wall))
    rss.setdefault(tool, []).append(int(kb) / 1024)
    if p != "-":
        pred.setdefault(tool, []).append(float(p))
mb = nbytes / 1e6
med = {t: statistics.median(v) for t, v in walls.items()}
speed = {t: mb / max(w, 1e-9) for t, w in med.items()}
peak = {t: max(v) for t, v in rss.items()}
print(f"\ninput: {rows} rows, {mb:.2f} MB; median of {runs} runs; whole process under /usr/bin/time"
      " (wall, user+sys CPU, peak RSS)\n")
print("| tool | median wall s | MB/s | median CPU s | MB per CPU s | peak RSS MB | MB/s of the predict loop only |")
print("|---|---:|---:|---:|---:|---:|---:|")
for t in walls:
    loop = f"{mb / statistics.median(pred[t]):.2f}" if t in pred else "(same)"
    c = statistics.median(cpu[t])
    print(f"| {t} | {med[t]:.2f} | {speed[t]:.2f} | {c:.2f} | {mb / max(c, 1e-9):.2f} | {peak[t]:.0f} | {loop} |")
eff = {t: mb / max(statistics.median(v), 1e-9) for t, v in cpu.items()}
loop = {t: mb / max(statistics.median(v), 1e-9) for t, v in pred.items()}
print("\n| ratio (slant / scikit-learn) | throughput (wall) | MB per CPU s | peak RSS |"
      " throughput, slant whole process / scikit-learn predict loop only |")
print("|---|---:|---:|---:|---:|")
for s in [t for t in walls if t.startswith("slant")]:
    for k in [t for t in walls if t.startswith("sklearn")]:
        print(f"| {s} / {k} | {speed[s] / speed[k]:.2f}× | {eff[s] / eff[k]:.2f}× |"
              f" {peak[s] / peak[k]:.2f}× | {speed[s] / loop[k]:.2f}× |")
print("\nquality of the scikit-learn models (not timed; PTC dev, BABE dev):\n")
for line in open(sys.argv[6]):
    q = json.loads(line)
    print("- " + q.pop("tool") + ": " + ", ".join(f"{k} {v}" for k, v in q.items()))
PY
