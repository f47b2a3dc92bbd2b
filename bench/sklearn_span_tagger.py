#!/usr/bin/env python3
"""Baseline span tagger for bench/compare.sh: token-level LogisticRegression over CRF-style
feature dicts (scikit-learn), trained on the PTC train span-identification gold.

    sklearn_span_tagger.py train   --data ../shared/datasets --model span.pkl
    sklearn_span_tagger.py predict --model span.pkl --input in.jsonl --output out.jsonl

`predict` writes one JSON line per input row: {"id", "spans": [{"start","end","text","score"}]},
offsets in code points. A span is a maximal run of tokens whose probability is >= --threshold;
its score is the tokens' mean probability. Everything after loading the model (JSON parsing,
tokenisation, features, vectorising, prediction, decoding, writing) is part of `predict`.
"""

import argparse
import functools
import json
import os
import pickle
import sys
import time

from sklearn.feature_extraction import DictVectorizer, FeatureHasher
from sklearn.linear_model import LogisticRegression

from sklearn_common import predict_file, read_jsonl, sentences, tokenize


@functools.lru_cache(maxsize=1 << 16)  # a Python loop per character; words repeat (Zipf)
def shape(word):
    """Collapsed character classes: "Obama" -> "Xx", "G20" -> "Xd", "--" -> "-"."""
    out = []
    for ch in word:
        c = "X" if ch.isupper() else "x" if ch.islower() else "d" if ch.isdigit() else ch
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)


def sentence_features(words):
    """One feature dict per token of a sentence (`words`: the surfaces): the word and its
    neighbours at ±1 and ±2, the two bigrams through it, shape, prefix and suffix, position."""
    lower = [w.lower() for w in words]
    n = len(words)
    padded = ["<s2>", "<s1>"] + lower + ["</s1>", "</s2>"]
    feats = []
    for i, w in enumerate(lower):
        p = i + 2
        f = {
            "bias": 1.0,
            "w0=" + w: 1.0,
            "w-1=" + padded[p - 1]: 1.0,
            "w+1=" + padded[p + 1]: 1.0,
            "w-2=" + padded[p - 2]: 1.0,
            "w+2=" + padded[p + 2]: 1.0,
            "b-1=" + padded[p - 1] + "|" + w: 1.0,
            "b+1=" + w + "|" + padded[p + 1]: 1.0,
            "shape=" + shape(words[i]): 1.0,
            "suf3=" + w[-3:]: 1.0,
            "pre3=" + w[:3]: 1.0,
            "pos=" + str(5 * i // n): 1.0,
        }
        if i == 0:
            f["first"] = 1.0
        if i == n - 1:
            f["last"] = 1.0
        feats.append(f)
    return feats


def document_features(text):
    """(tokens, feature dicts) of a document, sentence by sentence."""
    tokens = tokenize(text)
    feats = []
    for a, b in sentences(text, tokens):
        feats.extend(sentence_features([t[2] for t in tokens[a:b]]))
    return tokens, feats


def make_vectorizer(kind):
    if kind == "dict":
        return DictVectorizer()
    return FeatureHasher(n_features=2**21, input_type="dict", alternate_sign=False)


def labelled_tokens(data, split):
    """Feature dicts and 0/1 labels (inside a gold span or not) of the tokens of PTC `split`."""
    path = os.path.join(data, "ptc", f"{split}.jsonl")
    if not os.path.isfile(path):
        sys.exit(f"missing {path} (PTC {split}; see ../shared/datasets/README.md)")
    feats, labels = [], []
    for row in read_jsonl(path):
        gold = row.get("si_spans") or row["spans"]
        inside = [False] * (len(row["text"]) + 1)
        for s in gold:
            for k in range(s["start"], s["end"]):
                inside[k] = True
        tokens, f = document_features(row["text"])
        feats.extend(f)
        labels.extend(int(any(inside[t[0]:t[1]])) for t in tokens)
    return feats, labels


def train(args):
    started = time.perf_counter()
    feats, labels = labelled_tokens(args.data, "train")
    vec = make_vectorizer(args.vectorizer)
    x = vec.fit_transform(feats) if args.vectorizer == "dict" else vec.transform(feats)
    clf = LogisticRegression(C=args.c, max_iter=300)  # lbfgs: accepts 64-bit sparse indices
    clf.fit(x, labels)
    with open(args.model, "wb") as f:
        pickle.dump({"vectorizer": vec, "clf": clf, "kind": args.vectorizer}, f)
    print(f"span tagger: {len(labels)} tokens ({sum(labels)} inside spans), {x.shape[1]} columns, "
          f"{args.vectorizer} vectoriser, trained in {time.perf_counter() - started:.1f} s",
          file=sys.stderr)


def predict(args):
    with open(args.model, "rb") as f:
        m = pickle.load(f)
    vec, clf = m["vectorizer"], m["clf"]

    def predict_chunk(rows):
        per_doc, all_feats = [], []
        for row in rows:
            tokens, f = document_features(row["text"])
            per_doc.append(tokens)
            all_feats.extend(f)
        probs = clf.predict_proba(vec.transform(all_feats))[:, 1] if all_feats else []
        out, k = [], 0
        for row, tokens in zip(rows, per_doc):
            p = probs[k:k + len(tokens)]
            k += len(tokens)
            spans, i = [], 0
            while i < len(tokens):
                if p[i] < args.threshold:
                    i += 1
                    continue
                j = i
                while j < len(tokens) and p[j] >= args.threshold:
                    j += 1
                start, end = tokens[i][0], tokens[j - 1][1]
                spans.append({"start": start, "end": end, "text": row["text"][start:end],
                              "score": round(float(p[i:j].mean()), 4)})
                i = j
            out.append({"id": row["id"], "spans": spans})
        return out

    predict_file(args.input, args.output, args.chunk_docs, predict_chunk, "sklearn_span_tagger")


def evaluate(args):
    """Token ROC-AUC and token F1 at --threshold on PTC dev (not timed)."""
    from sklearn.metrics import f1_score, roc_auc_score

    with open(args.model, "rb") as f:
        m = pickle.load(f)
    feats, labels = labelled_tokens(args.data, "dev")
    p = m["clf"].predict_proba(m["vectorizer"].transform(feats))[:, 1]
    print(json.dumps({"tool": f"sklearn_span_tagger ({m['kind']})",
                      "ptc_dev_token_auc": round(roc_auc_score(labels, p), 3),
                      "ptc_dev_token_f1": round(f1_score(labels, p >= args.threshold), 3)}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="fit on PTC train (not timed by compare.sh)")
    t.add_argument("--data", required=True, help="the ../shared/datasets folder")
    t.add_argument("--model", required=True, help="where to write the pickled model")
    t.add_argument("--vectorizer", choices=["hash", "dict"], default="hash",
                   help="FeatureHasher (2^21 columns; the faster, smaller one at prediction) or "
                        "DictVectorizer (a fitted vocabulary, like slant's feature index)")
    t.add_argument("--c", type=float, default=1.0, help="inverse regularisation strength")
    p = sub.add_parser("predict", help="tag every {id,text} row of --input (timed)")
    p.add_argument("--model", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--threshold", type=float, default=0.5)
    p.add_argument("--chunk-docs", type=int, default=16,
                   help="documents vectorised and predicted together (memory vs. call overhead)")
    e = sub.add_parser("eval", help="token AUC and F1 on PTC dev")
    e.add_argument("--data", required=True, help="the ../shared/datasets folder")
    e.add_argument("--model", required=True)
    e.add_argument("--threshold", type=float, default=0.5)
    args = ap.parse_args()
    {"train": train, "predict": predict, "eval": evaluate}[args.cmd](args)


if __name__ == "__main__":
    main()
