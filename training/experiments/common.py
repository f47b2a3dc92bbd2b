"""Shared by the feature experiments: paths, cue lexicons, the regex tokenizer and the token
normalisation (lower case, digits to 0, typographic quotes to ASCII), mirroring slant's heads."""
import collections
import json
import os
import re

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
D = os.environ.get('SLANT_DATA', os.path.join(ROOT, '..', 'shared', 'datasets')) + '/'

lex = collections.defaultdict(set)
for l in open(D + 'lexicons/lexicons.jsonl'):
    d = json.loads(l)
    if d['n_tokens'] == 1:
        lex[d['entry'].lower()].add(d['lexicon'])
mpqa = collections.defaultdict(set)
for l in open(D + 'lexicons/mpqa_subjclues.jsonl'):
    d = json.loads(l)
    mpqa[d['word'].lower()].add(d['type'] + '_' + d['priorpolarity'])

TOK = re.compile(r"\w+|[^\w\s]")


def norm(s):
    s = s.lower()
    s = re.sub(r'[0-9]', '0', s)
    return s.replace('\u2019', "'").replace('\u2018', "'").replace('\u201c', '"').replace('\u201d', '"')
