//! Stage 4b, scores: the fitted heads over a sentence's tokens (sentence and span heads) and
//! over a candidate span (technique head).
//!
//! A head's score is written once, generic over a [`FeatureLookup`]: the stage that turns the
//! features a feature function emits ([`crate::features`]) into the head's columns. Two
//! lookups exist: [`ByName`], which names each feature and finds the name in the head's index
//! (the reference, and what training does), and the compiled tables of
//! [`crate::compiled::CompiledHeads`] (what analysis does). Both give the same columns in the
//! same order, so the same floats.

use crate::compiled::CompiledHeads;
use crate::error::Result;
use crate::features::{
    sentence_features, span_features, span_technique_features, unit_row, Emit, FeatureIndex, Found,
    Named, RepeatCounter, SentenceContext,
};
use crate::lexicon::is_function_word;
use crate::model::{sigmoid, Model};
use crate::report::Technique;
use crate::tokens::{tokenize, Token};
use std::ops::Range;

/// The heads of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Head {
    Sentence,
    Span,
    Technique,
}

impl Head {
    /// The head's stored names in `model`.
    fn index(self, model: &Model) -> &FeatureIndex {
        match self {
            Head::Sentence => &model.sentence.vectorizer.index,
            Head::Span => &model.span.index,
            Head::Technique => &model.technique.index,
        }
    }
}

/// The stage between features and scores: the column of each emitted feature in a head.
pub(crate) trait FeatureLookup {
    /// The emitter that calls `out(column, anchor)` for each stored feature.
    type Emitter<'a, F: FnMut(u32, Option<i8>) + 'a>: Emit
    where
        Self: 'a;

    /// What the emitter needs per token (word-table indices), appended to `out`.
    fn ids(&self, tokens: &[Token], out: &mut Vec<u32>);

    /// An emitter for `head`'s features of `tokens` (with their [`FeatureLookup::ids`]).
    fn emitter<'a, F: FnMut(u32, Option<i8>) + 'a>(
        &'a self,
        head: Head,
        tokens: &'a [Token],
        ids: &'a [u32],
        out: F,
    ) -> Self::Emitter<'a, F>;

    /// The lexicon bits of token `i`.
    fn lex(&self, tokens: &[Token], ids: &[u32], i: usize) -> u32;
}

/// The reference lookup: each feature named and found by name in the head's index.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ByName<'m>(pub &'m Model);

impl FeatureLookup for ByName<'_> {
    type Emitter<'a, F: FnMut(u32, Option<i8>) + 'a>
        = Named<'a, Found<'a, F>>
    where
        Self: 'a;

    fn ids(&self, _tokens: &[Token], _out: &mut Vec<u32>) {}

    fn emitter<'a, F: FnMut(u32, Option<i8>) + 'a>(
        &'a self,
        head: Head,
        tokens: &'a [Token],
        _ids: &'a [u32],
        out: F,
    ) -> Self::Emitter<'a, F> {
        let index = head.index(self.0);
        Named::new(tokens, &self.0.lexicon, Found { index, out })
    }

    fn lex(&self, tokens: &[Token], _ids: &[u32], i: usize) -> u32 {
        tokens.get(i).map_or(0, |t| self.0.lexicon.bits_of(t))
    }
}

/// Reusable buffers of the heads.
#[derive(Debug, Default)]
pub(crate) struct HeadScratch {
    cols: Vec<u32>,
    /// The technique head's columns as a bitmap (all clear between spans): read out in order,
    /// they are sorted and distinct without a sort (measured: the sort was a tenth of the
    /// technique head).
    seen: Vec<u64>,
    distinct: Vec<u32>,
    row: crate::features::SparseRow,
    counts: Vec<(u32, f32)>,
    ctx: SentenceContext,
    lex: Vec<u32>,
    joined: String,
}

/// Calibrated logit of the sentence head for a sentence's tokens: the TF-IDF row of its
/// features ([`crate::features::Vectorizer::weight`] of their counts) through the linear head.
pub(crate) fn sentence_logit_of<L: FeatureLookup>(
    model: &Model,
    lookup: &L,
    tokens: &[Token],
    ids: &[u32],
    s: &mut HeadScratch,
) -> f32 {
    s.cols.clear();
    let cols = &mut s.cols;
    sentence_features(
        tokens,
        &mut lookup.emitter(Head::Sentence, tokens, ids, |c, _| cols.push(c)),
    );
    s.cols.sort_unstable();
    s.counts.clear();
    for &c in &s.cols {
        match s.counts.last_mut() {
            Some(l) if l.0 == c => l.1 += 1.0,
            _ => s.counts.push((c, 1.0)),
        }
    }
    let raw = tfidf_logit(
        &model.sentence.vectorizer,
        &model.sentence.head,
        &mut s.counts,
    );
    let c = model.sentence.calibration;
    c.a * raw + c.b
}

/// Span-head probability of every token of a sentence of probability `prob` (into `probs`),
/// and per token the summed weight of its own-word features (into `own`): the features
/// generated at that token that describe its own word at its own position (identity, suffix,
/// shape, lexicon lists, the bigrams centred on it, its interaction with the sentence score).
/// A context feature (the token seen as the neighbour of another) explains that other token's
/// score, not why this word is loaded: measured on BABE dev, own-position evidence finds the
/// annotated biased word first in 50% of Biased sentences, all-anchor evidence in 41%.
#[allow(clippy::too_many_arguments)]
pub(crate) fn span_scores<L: FeatureLookup>(
    model: &Model,
    lookup: &L,
    tokens: &[Token],
    ids: &[u32],
    prob: f32,
    s: &mut HeadScratch,
    probs: &mut Vec<f32>,
    own: &mut Vec<f32>,
) {
    s.lex.clear();
    s.lex
        .extend((0..tokens.len()).map(|i| lookup.lex(tokens, ids, i)));
    let lex = &s.lex;
    s.ctx.reset(tokens, |i| lex[i], prob);
    probs.clear();
    own.clear();
    let head = &model.span.head;
    for i in 0..tokens.len() {
        let mut mine = 0.0f32;
        // `Iterator::sum` of `f32` folds from `-0.0` (adding `-0.0` to any float leaves it
        // unchanged, and an empty sum is `-0.0`): the sum the model's training used.
        let mut sum = -0.0f32;
        let add = |c: u32, anchor: Option<i8>| {
            let w = head.weight(c);
            sum += w;
            if anchor == Some(0) {
                mine += w;
            }
        };
        span_features(
            tokens,
            i,
            &s.ctx,
            &mut lookup.emitter(Head::Span, tokens, ids, add),
        );
        probs.push(sigmoid(head.bias + sum));
        own.push(mine);
    }
}

/// Probabilities of the technique head for the span at token range `range` of `tokens` (a
/// document's tokens: the span's context may cross sentences, as gold spans do in training),
/// whose words occur `repeats` times in the document. Empty when `range` is empty or not
/// within `tokens`.
pub(crate) fn technique_probabilities_of<L: FeatureLookup>(
    model: &Model,
    lookup: &L,
    tokens: &[Token],
    ids: &[u32],
    range: Range<usize>,
    repeats: usize,
    s: &mut HeadScratch,
) -> Vec<f32> {
    if range.start >= range.end || range.end > tokens.len() {
        return Vec::new();
    }
    s.cols.clear();
    {
        let (seen, words) = (&mut s.seen, &mut s.cols);
        let mut e = lookup.emitter(Head::Technique, tokens, ids, |c, _| {
            let w = c as usize / 64;
            if w >= seen.len() {
                seen.resize(w + 1, 0);
            }
            if seen[w] == 0 {
                words.push(w as u32);
            }
            seen[w] |= 1 << (c % 64);
        });
        span_technique_features(tokens, range, repeats, &mut s.joined, &mut e);
    }
    // Read out each bitmap word touched, in ascending order, clearing it.
    s.cols.sort_unstable();
    s.distinct.clear();
    for &w in &s.cols {
        let mut bits = std::mem::take(&mut s.seen[w as usize]);
        while bits != 0 {
            s.distinct.push(w * 64 + bits.trailing_zeros());
            bits &= bits - 1;
        }
    }
    unit_row(&s.distinct, &mut s.row);
    model.technique.head.probabilities(&s.row)
}

/// The compiled lookup: the tables of [`CompiledHeads`], with the model's names for what they
/// cannot hold.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Compiled<'a> {
    pub heads: &'a CompiledHeads,
    pub model: &'a Model,
}

impl FeatureLookup for Compiled<'_> {
    type Emitter<'a, F: FnMut(u32, Option<i8>) + 'a>
        = crate::compiled::Columns<'a, F>
    where
        Self: 'a;

    fn ids(&self, tokens: &[Token], out: &mut Vec<u32>) {
        self.heads.words.ids(tokens, out);
    }

    #[inline]
    fn emitter<'a, F: FnMut(u32, Option<i8>) + 'a>(
        &'a self,
        head: Head,
        tokens: &'a [Token],
        ids: &'a [u32],
        out: F,
    ) -> Self::Emitter<'a, F> {
        let index = head.index(self.model);
        let head = match head {
            Head::Sentence => &self.heads.sentence,
            Head::Span => &self.heads.span,
            Head::Technique => &self.heads.technique,
        };
        crate::compiled::Columns {
            head,
            index,
            words: &self.heads.words,
            tokens,
            ids,
            out,
        }
    }

    #[inline]
    fn lex(&self, _tokens: &[Token], ids: &[u32], i: usize) -> u32 {
        ids.get(i).map_or(0, |&id| self.heads.words.lex_of(id))
    }
}

/// One sentence with its tokens and scores (training and evaluation, by name).
#[derive(Debug, Clone)]
pub struct ScoredSentence {
    /// Byte range in the original text.
    pub range: Range<usize>,
    /// Tokens (byte offsets into the original text).
    pub tokens: Vec<Token>,
    /// Calibrated logit of the sentence head.
    pub logit: f32,
    /// Calibrated probability that the sentence contains loaded framing.
    pub prob: f32,
    /// Span-head probability for each token.
    pub token_probs: Vec<f32>,
}

/// Scores one sentence (`range` of `text`) with the sentence and span heads.
pub fn score_sentence(model: &Model, text: &str, range: Range<usize>) -> Result<ScoredSentence> {
    let tokens = tokenize(text, range.clone())?;
    Ok(score_tokens(model, range, tokens))
}

/// Scores an already tokenised sentence (byte range `range`) with the sentence and span heads.
pub fn score_tokens(model: &Model, range: Range<usize>, tokens: Vec<Token>) -> ScoredSentence {
    let mut s = HeadScratch::default();
    let logit = sentence_logit_of(model, &ByName(model), &tokens, &[], &mut s);
    let prob = sigmoid(logit);
    let (mut token_probs, mut own) = (Vec::new(), Vec::new());
    span_scores(
        model,
        &ByName(model),
        &tokens,
        &[],
        prob,
        &mut s,
        &mut token_probs,
        &mut own,
    );
    ScoredSentence {
        range,
        tokens,
        logit,
        prob,
        token_probs,
    }
}

/// Calibrated logit of the sentence head for a sentence's tokens.
pub fn sentence_logit(model: &Model, tokens: &[Token]) -> f32 {
    sentence_logit_of(
        model,
        &ByName(model),
        tokens,
        &[],
        &mut HeadScratch::default(),
    )
}

/// True for a token that can be evidence: neither punctuation nor a function word
/// ([`crate::lexicon::FUNCTION_WORDS`]).
pub(crate) fn can_be_evidence(t: &Token) -> bool {
    !t.is_punct() && !is_function_word(&t.norm)
}

/// Per-token evidence for a span (token range `span` of a sentence): (token index, own-word
/// weight, see [`span_scores`]) of the span's tokens that [`can_be_evidence`].
pub fn evidence(
    model: &Model,
    tokens: &[Token],
    sentence_prob: f32,
    span: Range<usize>,
) -> Vec<(usize, f32)> {
    let (mut probs, mut own) = (Vec::new(), Vec::new());
    let mut s = HeadScratch::default();
    span_scores(
        model,
        &ByName(model),
        tokens,
        &[],
        sentence_prob,
        &mut s,
        &mut probs,
        &mut own,
    );
    span.filter(|&j| tokens.get(j).is_some_and(can_be_evidence))
        .map(|j| (j, own[j]))
        .collect()
}

/// The most likely technique of a span (token range `range` of the document's tokens) and its
/// probability (empty name when the model has none).
pub fn best_technique(
    model: &Model,
    doc_tokens: &[Token],
    range: Range<usize>,
    repeats: &RepeatCounter,
) -> (Option<Technique>, f32) {
    let n = match doc_tokens.get(range.clone()) {
        Some(span) => repeats.count(span),
        None => 0,
    };
    let mut s = HeadScratch::default();
    let probs =
        technique_probabilities_of(model, &ByName(model), doc_tokens, &[], range, n, &mut s);
    best_of(model, &probs)
}

/// `head.logit(&vectorizer.weight(counts))` without building the row: the counts are
/// replaced by their weights in place, with the same operations in the same order (each
/// `Iterator::sum` of `f32` is a fold from `-0.0`, written out as such), so the same float bit
/// for bit.
fn tfidf_logit(
    vectorizer: &crate::features::Vectorizer,
    head: &crate::model::LinearHead,
    counts: &mut [(u32, f32)],
) -> f32 {
    let mut sq = -0.0f32;
    for x in counts.iter_mut() {
        let idf = vectorizer.idf.get(x.0 as usize).copied().unwrap_or(1.0);
        // A term seen once (most are) weighs `(1 + ln 1) · idf`, and `ln 1` is exactly 0 (IEEE
        // 754), so that is `idf` itself without the call to `ln`.
        x.1 = if x.1 == 1.0 {
            idf
        } else {
            (1.0 + x.1.max(1.0).ln()) * idf
        };
        sq += x.1 * x.1;
    }
    let norm = sq.sqrt();
    let mut dot = -0.0f32;
    for x in counts.iter_mut() {
        if norm > 0.0 {
            x.1 /= norm;
        }
        dot += head.weights.get(x.0 as usize).copied().unwrap_or(0.0) * x.1;
    }
    head.bias + dot
}

/// The most likely technique and its probability from the head's probabilities.
pub(crate) fn best_of(model: &Model, probs: &[f32]) -> (Option<Technique>, f32) {
    match probs.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)) {
        Some((i, p)) => {
            let class = model.technique.head.classes.get(i);
            (class.and_then(|c| Technique::from_name(c)), *p)
        }
        None => (None, 0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Iterator::sum` of `f32` starts from `-0.0` on this toolchain (what `span_head_fast` and
    /// `tfidf_logit` write out by hand).
    /// `tfidf_logit` weighs a term seen once as `idf`, skipping `(1 + ln 1) · idf`: the same
    /// float only because `ln 1` is `+0.0` exactly.
    #[test]
    fn a_single_occurrence_weighs_its_idf() {
        let one = std::hint::black_box(1.0f32);
        assert_eq!(one.max(1.0).ln().to_bits(), 0.0f32.to_bits());
        for idf in [0.3f32, 1.0, 2.718_281_7, 7.25, 11.0] {
            assert_eq!(((1.0 + one.max(1.0).ln()) * idf).to_bits(), idf.to_bits());
        }
        let vectorizer = crate::features::Vectorizer {
            idf: vec![1.5, 2.25, 3.0],
            ..Default::default()
        };
        let head = crate::model::LinearHead {
            weights: vec![0.5, -1.25, 2.0],
            bias: 0.125,
        };
        // Against the formula written out for counts 1, 2 and 1.
        let mut counts = vec![(0, 1.0f32), (1, 2.0), (2, 1.0)];
        let w: Vec<f32> = [(1.5f32, 1.0f32), (2.25, 2.0), (3.0, 1.0)]
            .iter()
            .map(|&(idf, n)| (1.0 + n.max(1.0).ln()) * idf)
            .collect();
        let norm = w.iter().map(|x| x * x).sum::<f32>().sqrt();
        let dot: f32 = [0.5f32, -1.25, 2.0]
            .iter()
            .zip(&w)
            .map(|(h, x)| h * (x / norm))
            .sum();
        assert_eq!(
            tfidf_logit(&vectorizer, &head, &mut counts).to_bits(),
            (0.125 + dot).to_bits()
        );
    }

    #[test]
    fn float_sum_folds_from_negative_zero() {
        let empty: [f32; 0] = [];
        assert_eq!(
            std::hint::black_box(&empty).iter().sum::<f32>().to_bits(),
            (-0.0f32).to_bits()
        );
        let zeros = [0.0f32, -0.0];
        assert_eq!(
            zeros.iter().sum::<f32>().to_bits(),
            (-0.0f32 + 0.0 + -0.0).to_bits()
        );
    }

    /// `tfidf_logit` equals `LinearHead::logit` over `Vectorizer::weight`, bit for bit.
    #[test]
    fn tfidf_logit_equals_weight_then_logit() {
        let model = Model::embedded().unwrap();
        let v = &model.sentence.vectorizer;
        let head = &model.sentence.head;
        let n = v.idf.len() as u32;
        let mut rng = crate::test_support::XorShift::new(0x9e37_79b9_7f4a_7c15);
        let mut next = |m: u32| (rng.next() % m as u64) as u32;
        for len in 0..200usize {
            let mut counts: Vec<(u32, f32)> = (0..len)
                .map(|_| (next(n + 3), 1.0 + next(4) as f32))
                .collect();
            counts.sort_unstable_by_key(|x| x.0);
            counts.dedup_by_key(|x| x.0);
            let want = head.logit(&v.weight(&counts));
            let got = tfidf_logit(v, head, &mut counts);
            assert_eq!(got.to_bits(), want.to_bits(), "{len}");
        }
        // A head and idf of zeros and negative zeros (norm 0, empty rows, signed zeros).
        let zv = crate::features::Vectorizer {
            index: Default::default(),
            idf: vec![0.0, -0.0],
        };
        let zh = crate::model::LinearHead {
            weights: vec![-0.0, 0.0],
            bias: -0.0,
        };
        for counts in [
            vec![],
            vec![(0, 1.0)],
            vec![(1, 2.0)],
            vec![(0, 1.0), (1, 1.0)],
        ] {
            let want = zh.logit(&zv.weight(&counts));
            let mut c = counts.clone();
            assert_eq!(tfidf_logit(&zv, &zh, &mut c).to_bits(), want.to_bits());
        }
    }

    /// The compiled heads find the same columns, in the same order and with the same anchors,
    /// as the lookup by name (the technique head: the same set): every head, on our documents,
    /// the examples and the corpora when present.
    #[test]
    fn compiled_columns_equal_columns_by_name() {
        let model = Model::embedded().unwrap();
        let compiled = CompiledHeads::new(&model);
        let heads = Compiled {
            heads: &compiled,
            model: &model,
        };
        let by_name = ByName(&model);
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut docs: Vec<String> = std::fs::read_to_string(root.join("datasets/documents.jsonl"))
            .unwrap()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| Some(v["text"].as_str()?.to_string()))
            .collect();
        for f in ["withdrawal.txt", "mixed-scripts.txt", "crlf.txt"] {
            docs.push(std::fs::read_to_string(root.join("datasets/examples").join(f)).unwrap());
        }
        docs.push("Ünïcödé ÉLITES «quoted» — naïve façade, ２０２４ 🙂 a b".to_string());
        docs.extend(
            crate::test_support::corpus_texts(&["ptc/dev.jsonl", "babe/dev.jsonl"])
                .into_iter()
                .step_by(5),
        );
        // The columns and anchors a feature function emits into `$lookup`'s emitter `$e`.
        macro_rules! columns {
            ($lookup:expr, $head:expr, $tokens:expr, |$e:ident| $body:expr) => {{
                let mut ids = Vec::new();
                $lookup.ids($tokens, &mut ids);
                let mut found = Vec::new();
                {
                    let mut $e = $lookup.emitter($head, $tokens, &ids, |c, a| found.push((c, a)));
                    $body;
                }
                found
            }};
        }
        let mut compared = 0;
        for doc in &docs {
            let tokens = tokenize(doc, 0..doc.len()).unwrap();
            let n = tokens.len();
            let want = columns!(by_name, Head::Sentence, &tokens, |e| sentence_features(
                &tokens, &mut e
            ));
            let got = columns!(heads, Head::Sentence, &tokens, |e| sentence_features(
                &tokens, &mut e
            ));
            assert_eq!(got, want);
            let ctx = SentenceContext::new(&tokens, &model.lexicon, 0.73);
            for i in 0..n {
                let want = columns!(by_name, Head::Span, &tokens, |e| span_features(
                    &tokens, i, &ctx, &mut e
                ));
                let got = columns!(heads, Head::Span, &tokens, |e| span_features(
                    &tokens, i, &ctx, &mut e
                ));
                assert_eq!(got, want, "token {i} of {doc:?}");
            }
            for start in (0..n).step_by(3) {
                for end in [start + 1, start + 4, start + 15] {
                    let end = end.min(n);
                    let mut j = String::new();
                    let want = columns!(by_name, Head::Technique, &tokens, |e| {
                        span_technique_features(&tokens, start..end, 2, &mut j, &mut e)
                    });
                    let got = columns!(heads, Head::Technique, &tokens, |e| {
                        span_technique_features(&tokens, start..end, 2, &mut j, &mut e)
                    });
                    // The technique head's row is the set of its columns (see
                    // `technique_probabilities_of`): the n-grams come in another order.
                    let set = |mut v: Vec<(u32, Option<i8>)>| {
                        v.sort_unstable();
                        v.dedup();
                        v
                    };
                    assert_eq!(set(got), set(want), "{start}..{end} of {doc:?}");
                    compared += 1;
                }
            }
        }
        assert!(compared > 300, "{compared}");
    }
}
