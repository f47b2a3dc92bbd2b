#!/usr/bin/env python3
"""Baseline sentence classifier for bench/compare.sh: TF-IDF and LogisticRegression
(scikit-learn), trained on PTC train sentences (positive when a span-identification gold span
overlaps the sentence) and BABE train sentences (positive when Biased).

    sklearn_sentence_clf.py train   --data ../shared/datasets --model sent.pkl [--features word+char]
    sklearn_sentence_clf.py predict --model sent.pkl --input in.jsonl --output out.jsonl

Features (`--features`, fixed at training): `word` (default), TF-IDF of word 1-2-grams, the usual
"TF-IDF + LogisticRegression" sentence classifier; `word+char`, the same plus `char_wb` 2-5-grams,
more accurate and about 4x slower to vectorise (sklearn's character n-gram analyzer is a Python
loop over every n-gram of every word).

`predict` splits every document into sentences and writes one JSON line per input row:
{"id", "score", "label", "sentences": [{"start","end","score"}]}, offsets in code points; the
document score is its most loaded sentence's probability (as in slant), label "loaded" at 0.5.
"""

import argparse
import json
import os
import pickle
import sys
import time

from sklearn_common import predict_file, read_jsonl, sentence_spans as sentence_ranges


def training_sentences(data, corpora, split="train"):
    """Sentences and 0/1 labels of the `split` of the corpora."""
    texts, labels = [], []
    if "ptc" in corpora:
        path = os.path.join(data, "ptc", f"{split}.jsonl")
        if not os.path.isfile(path):
            sys.exit(f"missing {path} (PTC {split}; see ../shared/datasets/README.md)")
        for row in read_jsonl(path):
            gold = row.get("si_spans") or row["spans"]
            for start, end in sentence_ranges(row["text"]):
                texts.append(row["text"][start:end])
                labels.append(int(any(s["start"] < end and s["end"] > start for s in gold)))
    if "babe" in corpora:
        path = os.path.join(data, "babe", f"{split}.jsonl")
        if not os.path.isfile(path):
            sys.exit(f"missing {path} (BABE {split}; see ../shared/datasets/README.md)")
        for row in read_jsonl(path):
            texts.append(row["text"])
            labels.append(int(row["label"] == "Biased"))
    return texts, labels


def train(args):
    # Imported here: `predict` gets the classes it needs from the pickle.
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion

    started = time.perf_counter()
    texts, labels = training_sentences(args.data, args.corpora.split("+"))
    word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    if args.features == "word":
        features = word
    else:
        features = FeatureUnion([
            ("word", word),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                     min_df=2)),
        ])
    x = features.fit_transform(texts)
    clf = LogisticRegression(C=args.c, max_iter=1000)
    clf.fit(x, labels)
    with open(args.model, "wb") as f:
        pickle.dump({"features": features, "clf": clf, "kind": args.features}, f)
    print(f"sentence classifier ({args.features}): {len(labels)} sentences "
          f"({sum(labels)} positive), {x.shape[1]} columns, trained in "
          f"{time.perf_counter() - started:.1f} s", file=sys.stderr)


def predict(args):
    with open(args.model, "rb") as f:
        m = pickle.load(f)
    features, clf = m["features"], m["clf"]

    def predict_chunk(rows):
        # Every sentence of the chunk's documents in one transform / predict_proba call.
        ranges = [sentence_ranges(row["text"]) for row in rows]
        texts = [row["text"][a:b] for row, rs in zip(rows, ranges) for a, b in rs]
        probs = clf.predict_proba(features.transform(texts))[:, 1].round(4).tolist() \
            if texts else []
        out, k = [], 0
        for row, rs in zip(rows, ranges):
            p = probs[k:k + len(rs)]
            k += len(rs)
            score = max(p, default=0.0)
            out.append({
                "id": row["id"],
                "score": score,
                "label": "loaded" if score >= 0.5 else "neutral",
                "sentences": [{"start": a, "end": b, "score": s} for (a, b), s in zip(rs, p)],
            })
        return out

    predict_file(args.input, args.output, args.chunk_docs, predict_chunk,
                 f"sklearn_sentence_clf ({m.get('kind', 'word+char')})")


def evaluate(args):
    """Sentence ROC-AUC and macro-F1 at 0.5 on PTC dev sentences and on BABE dev (not timed)."""
    from sklearn.metrics import f1_score, roc_auc_score

    with open(args.model, "rb") as f:
        m = pickle.load(f)
    scores = {"tool": f"sklearn_sentence_clf ({m.get('kind', 'word+char')})"}
    for corpus in ("ptc", "babe"):
        texts, labels = training_sentences(args.data, [corpus], split="dev")
        p = m["clf"].predict_proba(m["features"].transform(texts))[:, 1]
        scores[f"{corpus}_dev_auc"] = round(roc_auc_score(labels, p), 3)
        scores[f"{corpus}_dev_macro_f1"] = round(f1_score(labels, p >= 0.5, average="macro"), 3)
    print(json.dumps(scores))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="fit on PTC and BABE train (not timed by compare.sh)")
    t.add_argument("--data", required=True, help="the ../shared/datasets folder")
    t.add_argument("--model", required=True, help="where to write the pickled model")
    t.add_argument("--corpora", choices=["ptc+babe", "ptc", "babe"], default="ptc+babe")
    t.add_argument("--features", choices=["word", "word+char"], default="word",
                   help="TF-IDF of word 1-2-grams (default), or also of char_wb 2-5-grams "
                        "(more accurate, about 4x slower to vectorise)")
    t.add_argument("--c", type=float, default=4.0, help="inverse regularisation strength")
    p = sub.add_parser("predict", help="score every {id,text} row of --input (timed)")
    p.add_argument("--model", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--chunk-docs", type=int, default=16,
                   help="documents vectorised and predicted together (memory vs. call overhead)")
    e = sub.add_parser("eval", help="sentence AUC and macro-F1 on PTC dev and BABE dev")
    e.add_argument("--data", required=True, help="the ../shared/datasets folder")
    e.add_argument("--model", required=True)
    args = ap.parse_args()
    {"train": train, "predict": predict, "eval": evaluate}[args.cmd](args)


if __name__ == "__main__":
    main()
