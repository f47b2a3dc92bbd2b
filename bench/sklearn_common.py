"""Shared by the two scikit-learn baselines of bench/compare.sh: reading JSONL, a regex
tokenizer and sentence splitter with code-point offsets, and the timed prediction loop.

Offsets are Python `str` indices (Unicode code points), the convention of slant's `start`/`end`.
"""

import json
import re
import sys
import time

# Words (with inner hyphens/apostrophes) or single non-space, non-word characters.
TOKEN = re.compile(r"\w+(?:[-'’]\w+)*|[^\w\s]")
SENTENCE_END = {".", "!", "?"}
# The same sentences as `sentences(text, tokenize(text))`, in one pass of one regex: the tokens
# cover every non-space character and . ! ? are always tokens of their own, so a sentence runs
# from a non-space character to the next . ! ? (included) or to the last non-space character
# before a line break. For callers that need the sentences but not the tokens.
SENTENCE = re.compile(r"[^\s.!?](?:[^.!?\n]*[^\s.!?])?(?:[^\S\n]*[.!?])?|[.!?]")


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as e:
                    sys.exit(f"{path}:{n}: malformed JSON: {e}")


def tokenize(text):
    """[(start, end, surface)] of the tokens of `text`."""
    return [(m.start(), m.end(), m.group()) for m in TOKEN.finditer(text)]


def sentences(text, tokens):
    """Token index ranges of the sentences: a sentence ends after . ! ? or at a line break."""
    out, begin = [], 0
    for i, (start, _end, surface) in enumerate(tokens):
        if i > begin and "\n" in text[tokens[i - 1][1]:start]:
            out.append((begin, i))
            begin = i
        if surface in SENTENCE_END:
            out.append((begin, i + 1))
            begin = i + 1
    if begin < len(tokens):
        out.append((begin, len(tokens)))
    return out


def sentence_spans(text):
    """Code-point (start, end) of each sentence of `text` (the `sentences` of its tokens)."""
    return [m.span() for m in SENTENCE.finditer(text)]


def predict_file(path_in, path_out, chunk_docs, predict_chunk, tool):
    """Reads `path_in` ({"id","text"} rows) in chunks of `chunk_docs` documents, calls
    `predict_chunk(rows) -> [output dict]` on each and writes one JSON line per input row.
    Prints the in-process prediction time to stderr (the caller times the whole process)."""
    started = time.perf_counter()
    docs = nbytes = 0
    with open(path_in, "rb") as fin, open(path_out, "w", encoding="utf-8") as fout:
        chunk = []

        def flush():
            for row in predict_chunk(chunk):
                fout.write(json.dumps(row, ensure_ascii=False))
                fout.write("\n")
            chunk.clear()

        for line in fin:
            nbytes += len(line)
            docs += 1
            row = json.loads(line)
            chunk.append({"id": row.get("id"), "text": row["text"]})
            if len(chunk) == chunk_docs:
                flush()
        if chunk:
            flush()
    elapsed = time.perf_counter() - started
    print(json.dumps({"tool": tool, "docs": docs, "bytes": nbytes,
                      "predict_s": round(elapsed, 3)}), file=sys.stderr)
