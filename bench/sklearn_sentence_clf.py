#!/usr/bin/env python3
"""Baseline sentence classifier for bench/compare.sh: TF-IDF (word 1-2 grams + character 2-5
grams) and LogisticRegression (scikit-learn), trained on PTC train sentences (positive when a
span-identification gold span overlaps the sentence) and BABE train sentences (positive when
Biased).

    sklearn_sentence_clf.py train   --data ../shared/datasets --model sent.pkl
    sklearn_sentence_clf.py predict --model sent.pkl --input in.jsonl --output out.jsonl

`predict` splits every document into sentences and writes one JSON line per input row:
{"id", "score", "label", "sentences": [{"start","end","score"}]}, offsets in code points; the
document score is its most loaded sentence's probability (as in slant), label "loaded" at 0.5.
"""

import argparse
import os
import pickle
import sys
import time

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from sklearn_common import predict_file, read_jsonl, sentences, tokenize


def sentence_ranges(text):
    """Code-point (start, end) of each sentence of `text`."""
    tokens = tokenize(text)
    return [(tokens[a][0], tokens[b - 1][1]) for a, b in sentences(text, tokens)]


def training_sentences(data, corpora):
    texts, labels = [], []
    if "ptc" in corpora:
        path = os.path.join(data, "ptc", "train.jsonl")
        if not os.path.isfile(path):
            sys.exit(f"missing {path} (PTC train; see ../shared/datasets/README.md)")
        for row in read_jsonl(path):
            gold = row.get("si_spans") or row["spans"]
            for start, end in sentence_ranges(row["text"]):
                texts.append(row["text"][start:end])
                labels.append(int(any(s["start"] < end and s["end"] > start for s in gold)))
    if "babe" in corpora:
        path = os.path.join(data, "babe", "train.jsonl")
        if not os.path.isfile(path):
            sys.exit(f"missing {path} (BABE train; see ../shared/datasets/README.md)")
        for row in read_jsonl(path):
            texts.append(row["text"])
            labels.append(int(row["label"] == "Biased"))
    return texts, labels


def train(args):
    started = time.perf_counter()
    texts, labels = training_sentences(args.data, args.corpora.split("+"))
    features = FeatureUnion([
        ("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)),
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                 min_df=2)),
    ])
    x = features.fit_transform(texts)
    clf = LogisticRegression(C=args.c, max_iter=1000)
    clf.fit(x, labels)
    with open(args.model, "wb") as f:
        pickle.dump({"features": features, "clf": clf}, f)
    print(f"sentence classifier: {len(labels)} sentences ({sum(labels)} positive), "
          f"{x.shape[1]} columns, trained in {time.perf_counter() - started:.1f} s",
          file=sys.stderr)


def predict(args):
    with open(args.model, "rb") as f:
        m = pickle.load(f)
    features, clf = m["features"], m["clf"]

    def predict_chunk(rows):
        ranges = [sentence_ranges(row["text"]) for row in rows]
        texts = [row["text"][a:b] for row, rs in zip(rows, ranges) for a, b in rs]
        probs = clf.predict_proba(features.transform(texts))[:, 1] if texts else []
        out, k = [], 0
        for row, rs in zip(rows, ranges):
            p = [round(float(v), 4) for v in probs[k:k + len(rs)]]
            k += len(rs)
            score = max(p, default=0.0)
            out.append({
                "id": row["id"],
                "score": score,
                "label": "loaded" if score >= 0.5 else "neutral",
                "sentences": [{"start": a, "end": b, "score": s} for (a, b), s in zip(rs, p)],
            })
        return out

    predict_file(args.input, args.output, args.chunk_docs, predict_chunk, "sklearn_sentence_clf")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="fit on PTC and BABE train (not timed by compare.sh)")
    t.add_argument("--data", required=True, help="the ../shared/datasets folder")
    t.add_argument("--model", required=True, help="where to write the pickled model")
    t.add_argument("--corpora", choices=["ptc+babe", "ptc", "babe"], default="ptc+babe")
    t.add_argument("--c", type=float, default=4.0, help="inverse regularisation strength")
    p = sub.add_parser("predict", help="score every {id,text} row of --input (timed)")
    p.add_argument("--model", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--chunk-docs", type=int, default=16,
                   help="documents vectorised and predicted together (memory vs. call overhead)")
    args = ap.parse_args()
    train(args) if args.cmd == "train" else predict(args)


if __name__ == "__main__":
    main()
