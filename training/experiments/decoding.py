"""Span decoding and sentence selection on PTC dev, from the shipped model's probabilities.

    cargo run --release --example dump_token_probs -- ../shared/datasets/ptc/dev.jsonl /tmp/devprobs.jsonl
    python training/experiments/decoding.py /tmp/devprobs.jsonl

Prints: the SI F1 of the shipped decoding (reproduces `slant eval`); the best clause-level
hybrid decoding (the issue's recipe: in a loaded sentence, one span from the first to the last
clause whose mean token probability clears a bar); two oracles that separate sentence selection
from localisation inside a sentence; and sentence context features (length, article, neighbours,
token maxima) stacked on the sentence score, 2-fold cross-validated over articles, with the SI
F1 the best decoding reaches on the re-scored sentences; and how good sentence selection would
have to be for SI 0.45 (gold sentences' logits shifted until SI crosses it).
"""
import itertools
import json
import math
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

DOCS = [json.loads(l) for l in open(sys.argv[1] if len(sys.argv) > 1 else '/tmp/devprobs.jsonl')]
SHIPPED = dict(high=0.45, low=0.225, gap=2, mt=1, gate=0.35, span=0.5)
BREAKS = {',', ';', ':', '—', '–', '(', ')', '"', '“', '”', "'", '‘', '’'}


def merge(rs):
    out = []
    for a, b in sorted(rs):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def si(preds):
    """The SemEval-2020 Task 11 SI metric, as `eval::si_score`."""
    ps = pr = 0.0
    ns = nt = 0
    for d, p in zip(DOCS, preds):
        P, G = merge(p), merge([list(g) for g in d['gold']])
        ns, nt = ns + len(P), nt + len(G)
        for s in P:
            for t in G:
                o = min(s[1], t[1]) - max(s[0], t[0])
                if o > 0:
                    ps += o / (s[1] - s[0])
                    pr += o / (t[1] - t[0])
    P, R = (ps / ns if ns else 0), (pr / nt if nt else 0)
    return round(2 * P * R / (P + R) if P + R else 0, 4), round(P, 4), round(R, 4)


def trim(toks, a, b, mt):
    while a < b and toks[a][2]:
        a += 1
    while b > a and toks[b - 1][2]:
        b -= 1
    return (a, b) if b > a and b - a >= max(mt, 1) else None


def hysteresis(toks, p, P):
    n, out, i = len(p), [], 0
    while i < n:
        if p[i] < P['low']:
            i += 1
            continue
        st, end, j = i, i + 1, i + 1
        while j < n:
            if p[j] >= P['low']:
                end, j = j + 1, j + 1
            else:
                k = j
                while k < n and p[k] < P['low'] and k - j < P['gap']:
                    k += 1
                if k < n and p[k] >= P['low'] and k - j <= P['gap']:
                    j = k
                else:
                    break
        i = end
        if any(q >= P['high'] for q in p[st:end]):
            r = trim(toks, st, end, P['mt'])
            if r:
                out.append(r)
    return out


def shipped(s, P):
    """`spans::decode`."""
    toks, p = s['toks'], s['p']
    if not toks or s['prob'] < P['gate']:
        return []
    if s['prob'] >= P['span']:
        idx = [i for i, q in enumerate(p) if q >= P['low']]
        r = idx and trim(toks, idx[0], idx[-1] + 1, P['mt'])
        return [r] if r else []
    return hysteresis(toks, p, P)


def clauses(toks):
    out, st = [], 0
    for i, t in enumerate(toks):
        if t[2] and t[3] in BREAKS:
            if i > st:
                out.append((st, i))
            st = i + 1
    if st < len(toks):
        out.append((st, len(toks)))
    return out


def clause_hybrid(s, P):
    toks, p = s['toks'], s['p']
    if not toks or s['prob'] < P['gate']:
        return []
    if s['prob'] >= P['span']:
        cl = [c for c in clauses(toks) if sum(p[c[0]:c[1]]) / (c[1] - c[0]) > P['cm']]
        r = cl and trim(toks, cl[0][0], cl[-1][1], P['mt'])
        return [r] if r else []
    return hysteresis(toks, p, P)


def run(decoder, P, keep=lambda d, s: True):
    preds = []
    for d in DOCS:
        out = []
        for s in d['sents']:
            if s['toks'] and keep(d, s):
                out += [[s['toks'][a][0], s['toks'][b - 1][1]] for a, b in decoder(s, P)]
        preds.append(out)
    return si(preds)


def best(decoder, grid):
    keys = list(grid)
    return max(((run(decoder, dict(zip(keys, v)) | {'mt': 1}), dict(zip(keys, v)))
                for v in itertools.product(*grid.values())), key=lambda r: r[0])


def has_gold(d, s):
    a, b = s['toks'][0][0], s['toks'][-1][1]
    return any(min(b, g[1]) > max(a, g[0]) for g in d['gold'])


def logit(p):
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


print('shipped decoding', run(shipped, SHIPPED))
print('clause hybrid (best of grid)', best(clause_hybrid, dict(
    span=[0.4, 0.5, 0.6, 0.7], cm=[0.1, 0.15, 0.2, 0.25, 0.3, 0.35], high=[0.35, 0.45, 0.55],
    low=[0.225], gap=[1, 2], gate=[0.2, 0.35])))
print('oracle: whole sentence iff it overlaps gold',
      run(lambda s, P: [trim(s['toks'], 0, len(s['toks']), 1)] if trim(s['toks'], 0, len(s['toks']), 1) else [],
          SHIPPED, has_gold))
print('oracle: shipped decoding only in sentences that overlap gold',
      run(lambda s, P: shipped(dict(s, prob=max(s['prob'], 0.36)), P), SHIPPED, has_gold))

rows, y, art = [], [], []
for di, d in enumerate(DOCS):
    S = [s for s in d['sents'] if s['toks']]
    L = [logit(s['prob']) for s in S]
    for i, s in enumerate(S):
        words = sum(1 for t in s['toks'] if not t[2])
        top = sorted(s['p'])
        rows.append([L[i], (sum(L) - L[i]) / max(len(L) - 1, 1), L[i - 1] if i else np.mean(L),
                     L[i + 1] if i + 1 < len(L) else np.mean(L), math.log1p(words), i / len(S),
                     logit(top[-1]), logit(top[-2] if len(top) > 1 else top[-1]),
                     np.mean([logit(q) for q in s['p']])])
        y.append(has_gold(d, s))
        art.append(di)
X, y, art = np.array(rows), np.array(y), np.array(art)
print('sentence AUC (has a gold span), shipped score %.4f' % roc_auc_score(y, X[:, 0]))
for name, cols in [('calibrated score only', [0]), ('+ length', [0, 4]),
                   ('+ length, article mean, neighbours, position', [0, 1, 2, 3, 4, 5]),
                   ('+ all and token max / 2nd / mean', list(range(9)))]:
    prob = np.zeros(len(y))
    for fold in range(2):
        tr = art % 2 != fold
        m = LogisticRegression(C=10).fit(X[tr][:, cols], y[tr])
        prob[~tr] = m.predict_proba(X[~tr][:, cols])[:, 1]
    k = 0
    for d in DOCS:
        for s in d['sents']:
            if s['toks']:
                s['prob'] = float(prob[k])
                k += 1
    print('context stack: %s: CV AUC %.4f, best SI' % (name, roc_auc_score(y, prob)), best(shipped, dict(
        span=[0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 2], high=[0.35, 0.45, 0.55], low=[0.175, 0.225, 0.29],
        gap=[1, 2], gate=[0.2, 0.3, 0.35, 0.4, 0.5])))

# How good must sentence selection be? Shift the logit of every sentence that overlaps gold by
# `alpha` (token probabilities unchanged), re-tune decoding, and see where SI crosses 0.45.
ORIG = [json.loads(l) for l in open(sys.argv[1] if len(sys.argv) > 1 else '/tmp/devprobs.jsonl')]
for alpha in [0.0, 0.5, 1.0, 1.5]:
    labels, scores = [], []
    for d, o in zip(DOCS, ORIG):
        for s, so in zip(d['sents'], o['sents']):
            if s['toks']:
                g = has_gold(d, s)
                lg = logit(so['prob']) + (alpha if g else 0.0)
                s['prob'] = 1 / (1 + math.exp(-lg))
                labels.append(g)
                scores.append(lg)
    print('gold sentences shifted by %.1f: sentence AUC %.3f, best SI' % (alpha, roc_auc_score(labels, scores)),
          best(shipped, dict(span=[0.4, 0.5, 0.6, 0.7, 2], high=[0.35, 0.45, 0.55], low=[0.225], gap=[2],
                             gate=[0.2, 0.35, 0.5])))
