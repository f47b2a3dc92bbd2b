//! Stage 4b, scores: run the fitted heads over a document's sentences and tokens.

use crate::error::Result;
use crate::features::{
    binary_unit_row, technique_features, token_features, Lookup, RepeatCounter, SentenceContext,
};
use crate::lexicon::is_function_word;
use crate::model::{sigmoid, Model};
use crate::tokens::{tokenize, Token};
use std::ops::Range;

/// One sentence with its tokens and scores.
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
    let logit = sentence_logit(model, &tokens);
    let prob = sigmoid(logit);
    let token_probs = token_probabilities(model, &tokens, prob);
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
    let row = model.sentence.vectorizer.transform(tokens, &model.lexicon);
    let c = model.sentence.calibration;
    c.a * model.sentence.head.logit(&row) + c.b
}

/// Span-head probability of every token of a sentence.
pub fn token_probabilities(model: &Model, tokens: &[Token], sentence_prob: f32) -> Vec<f32> {
    let ctx = SentenceContext::new(tokens, &model.lexicon, sentence_prob);
    let mut look = Lookup::new(&model.span.index);
    let head = &model.span.head;
    (0..tokens.len())
        .map(|i| {
            look.clear();
            token_features(tokens, i, &model.lexicon, &ctx, &mut look);
            let z = head.bias
                + look
                    .found
                    .iter()
                    .map(|&(c, _, v)| head.weight(c) * v)
                    .sum::<f32>();
            sigmoid(z)
        })
        .collect()
}

/// Per-token evidence for a span (token range `span` of a sentence): for each token in the span,
/// the summed span-head weight of the features generated at that token that describe its own
/// word (identity, suffix, shape, lexicon lists, the bigrams centred on it, its interaction with
/// the sentence score). Returned as
/// (token index, weight) for the span's content words only: punctuation and function words
/// ([`crate::lexicon::FUNCTION_WORDS`]) are never evidence.
pub fn evidence(
    model: &Model,
    tokens: &[Token],
    sentence_prob: f32,
    span: Range<usize>,
) -> Vec<(usize, f32)> {
    let ctx = SentenceContext::new(tokens, &model.lexicon, sentence_prob);
    let mut look = Lookup::new(&model.span.index);
    let mut weight = vec![0.0f32; span.len()];
    for i in span.clone() {
        look.clear();
        token_features(tokens, i, &model.lexicon, &ctx, &mut look);
        for &(c, anchor, v) in &look.found {
            // Only features about token i's own word at its own position: a context feature
            // (token i seen as the neighbour of another token) explains that other token's
            // score, not why word i is loaded. Measured on BABE dev, own-position evidence finds
            // the annotated biased word first in 50% of Biased sentences, all-anchor evidence in 41%.
            if anchor != Some(0) {
                continue;
            }
            weight[i - span.start] += model.span.head.weight(c) * v;
        }
    }
    weight
        .into_iter()
        .enumerate()
        .map(|(k, w)| (span.start + k, w))
        .filter(|&(j, _)| !tokens[j].is_punct() && !is_function_word(&tokens[j].norm))
        .collect()
}

/// Probabilities of the technique head for a span given as a token range of the document's
/// tokens `doc_tokens`.
pub fn technique_probabilities(
    model: &Model,
    doc_tokens: &[Token],
    range: Range<usize>,
    repeats: &RepeatCounter,
) -> Vec<f32> {
    if range.start >= range.end || range.end > doc_tokens.len() {
        return Vec::new();
    }
    let head = &model.technique;
    let mut look = Lookup::new(&head.index);
    let n = repeats.count(&doc_tokens[range.clone()]);
    technique_features(doc_tokens, range, &model.lexicon, n, &mut look);
    let row = binary_unit_row(look.found.iter().map(|x| x.0));
    head.head.probabilities(&row)
}

/// The most likely technique of a span and its probability (empty name when the model has none).
pub fn best_technique(
    model: &Model,
    doc_tokens: &[Token],
    range: Range<usize>,
    repeats: &RepeatCounter,
) -> (String, f32) {
    best_of(
        model,
        &technique_probabilities(model, doc_tokens, range, repeats),
    )
}

/// Reusable buffers of the analysis fast path (one per document being analysed; `analyze`
/// keeps them per thread between documents).
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// Tokens of the current sentence.
    pub tokens: Vec<Token>,
    /// Word-table info of each token of the current sentence.
    pub infos: Vec<crate::compiled::WordInfo>,
    cols: Vec<u32>,
    counts: Vec<(u32, f32)>,
    ctx: SentenceContext,
    /// Span-head probability of each token of the current sentence.
    pub probs: Vec<f32>,
    /// Per token: the summed weight of its own-word features (what [`evidence`] computes).
    pub own: Vec<f32>,
}

/// The analysis fast path, stage one: tokens (left in `scratch`) and the sentence head's
/// calibrated logit and probability, the same as [`sentence_logit`] over [`score_sentence`]'s
/// tokens, bit for bit, through the precomputed lookups of `heads`.
pub(crate) fn sentence_head_fast(
    model: &Model,
    heads: &crate::compiled::CompiledHeads,
    text: &str,
    range: Range<usize>,
    scratch: &mut Scratch,
) -> Result<(f32, f32)> {
    prepare_fast(heads, text, range, scratch)?;
    let s = scratch;
    // Sentence head: the TF-IDF row of `Vectorizer::transform`.
    s.cols.clear();
    heads.sentence_columns(model, &s.tokens, &s.infos, &mut s.cols);
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
    let logit = c.a * raw + c.b;
    Ok((logit, sigmoid(logit)))
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

/// Tokenizes the sentence `range` of `text` into `scratch`, with each token's word info.
pub(crate) fn prepare_fast(
    heads: &crate::compiled::CompiledHeads,
    text: &str,
    range: Range<usize>,
    scratch: &mut Scratch,
) -> Result<()> {
    scratch.tokens.clear();
    crate::tokens::tokenize_into(text, range, &mut scratch.tokens)?;
    heads.infos(&scratch.tokens, &mut scratch.infos);
    Ok(())
}

/// The analysis fast path, stage two: span-head probabilities ([`token_probabilities`]) and
/// evidence weights (what [`evidence`] sums) of the tokens in `scratch`, for a sentence of
/// probability `prob`.
pub(crate) fn span_head_fast(
    model: &Model,
    heads: &crate::compiled::CompiledHeads,
    prob: f32,
    scratch: &mut Scratch,
) {
    let s = scratch;
    s.ctx.lex.clear();
    s.ctx.lex.extend(s.infos.iter().map(|i| i.lex));
    s.ctx.reset_context(&s.tokens);
    s.ctx.sentence_prob = prob;
    s.probs.clear();
    s.own.clear();
    let head = &model.span.head;
    for i in 0..s.tokens.len() {
        let mut own = 0.0f32;
        // `Iterator::sum` of `f32` folds from `-0.0` (adding `-0.0` to any float leaves it
        // unchanged, and an empty sum is `-0.0`): the same sum as over the collected weights.
        let mut sum = -0.0f32;
        heads.span_features(model, &s.tokens, &s.infos, i, &s.ctx, |c, anchor| {
            let w = head.weight(c) * 1.0;
            sum += w;
            if anchor == Some(0) {
                own += w;
            }
        });
        let z = head.bias + sum;
        s.probs.push(sigmoid(z));
        s.own.push(own);
    }
}

/// Reusable buffers of [`technique_probabilities_fast`].
#[derive(Debug, Default)]
pub(crate) struct TechniqueBuffers {
    /// Word ids of the span (for the repeat count).
    pub words: Vec<u32>,
    /// Per word id of the document: its technique word, once `known` says it was found (both
    /// empty at the start of a document).
    pub doc_words: Vec<crate::compiled::TechWord>,
    pub known: Vec<bool>,
    pub scratch: crate::compiled::TechniqueScratch,
    pub probs: Vec<f32>,
}

thread_local! {
    /// Each thread's technique buffers, kept from one document to the next (so that the column
    /// bitmap is made once per thread rather than once per document).
    static TECHNIQUE_BUFFERS: std::cell::RefCell<TechniqueBuffers> =
        std::cell::RefCell::new(TechniqueBuffers::default());
}

impl TechniqueBuffers {
    /// Per-document tables above this many word ids are not kept for the next document.
    const KEEP_WORDS: usize = 1 << 16;

    /// Buffers for one document: this thread's, as its last document left them (see
    /// [`TechniqueBuffers::done`]), or new ones.
    pub(crate) fn for_document() -> Self {
        TECHNIQUE_BUFFERS
            .try_with(|b| b.try_borrow_mut().map(|mut b| std::mem::take(&mut *b)))
            .ok()
            .and_then(|b| b.ok())
            .unwrap_or_default()
    }

    /// Gives the buffers back to this thread for its next document, without the words of this
    /// one.
    pub(crate) fn done(mut self) {
        if self.doc_words.capacity() > Self::KEEP_WORDS {
            self.doc_words = Vec::new();
            self.known = Vec::new();
        }
        self.doc_words.clear();
        self.known.clear();
        let _ = TECHNIQUE_BUFFERS.try_with(|b| {
            if let Ok(mut b) = b.try_borrow_mut() {
                *b = self;
            }
        });
    }
}

/// [`technique_probabilities`] of the span at `range` of `view` (a window of the document's
/// tokens with their technique words) with its repeat count already known, through the
/// precomputed lookups of `heads`: the same columns
/// ([`crate::compiled::CompiledHeads::technique_columns`]) and the same sums, bit for bit.
/// Empty when `range` is empty or not inside the view.
pub(crate) fn technique_probabilities_fast<'b>(
    model: &Model,
    heads: &crate::compiled::CompiledHeads,
    view: &impl crate::compiled::TechniqueTokens,
    range: Range<usize>,
    repeats: usize,
    scratch: &mut crate::compiled::TechniqueScratch,
    probs: &'b mut Vec<f32>,
) -> &'b [f32] {
    probs.clear();
    if range.start >= range.end || range.end > view.len() {
        return probs;
    }
    heads.technique_probabilities_of(model, view, range, repeats, scratch, probs);
    probs
}

/// The most likely technique and its probability from the head's probabilities.
pub(crate) fn best_of(model: &Model, probs: &[f32]) -> (String, f32) {
    match probs.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)) {
        Some((i, p)) => (
            model
                .technique
                .head
                .classes
                .get(i)
                .cloned()
                .unwrap_or_default(),
            *p,
        ),
        None => (String::new(), 0.0),
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
        let mut rng = crate::test_rng::XorShift::new(0x9e37_79b9_7f4a_7c15);
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

    /// A thread's buffers come back for its next document without the last document's words.
    #[test]
    fn technique_buffers_come_back_without_the_words_of_the_last_document() {
        let mut b = TechniqueBuffers::for_document();
        b.known.resize(10, true);
        b.doc_words.resize(10, crate::compiled::TechWord::UNKNOWN);
        b.probs.reserve(100);
        b.done();
        let b = TechniqueBuffers::for_document();
        assert!(b.known.is_empty() && b.doc_words.is_empty());
        assert!(b.probs.capacity() >= 100, "kept");
        // A big table is not kept.
        let mut big = b;
        big.known.resize(TechniqueBuffers::KEEP_WORDS + 1, true);
        big.doc_words
            .resize(TechniqueBuffers::KEEP_WORDS + 1, Default::default());
        big.done();
        let b = TechniqueBuffers::for_document();
        assert!(b.doc_words.capacity() <= TechniqueBuffers::KEEP_WORDS);
        // Two at once: the second is new.
        let other = TechniqueBuffers::for_document();
        assert_eq!(other.probs.capacity(), 0);
        b.done();
        other.done();
    }

    /// The fast technique head gives every class probability of the generic one, bit for bit.
    #[test]
    fn fast_technique_probabilities_equal_the_generic_ones() {
        let model = Model::embedded().unwrap();
        let heads = crate::compiled::CompiledHeads::new(&model);
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/documents.jsonl"),
        )
        .unwrap();
        let mut b = TechniqueBuffers::default();
        let mut words = Vec::new();
        let mut compared = 0;
        for line in text.lines().take(20) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let doc = v["text"].as_str().unwrap_or_default();
            let tokens = tokenize(doc, 0..doc.len()).unwrap();
            let view = crate::compiled::TokenWords::new(&model, &heads, &tokens, &mut words);
            let n = tokens.len();
            for start in (0..n).step_by(3) {
                for end in [start, start + 1, start + 4, start + 15, n + 1] {
                    let repeats = 1 + end % 3;
                    let mut look = Lookup::new(&model.technique.index);
                    let want = if start >= end || end > n {
                        Vec::new()
                    } else {
                        technique_features(&tokens, start..end, &model.lexicon, repeats, &mut look);
                        let row = binary_unit_row(look.found.iter().map(|x| x.0));
                        model.technique.head.probabilities(&row)
                    };
                    let got = technique_probabilities_fast(
                        &model,
                        &heads,
                        &view,
                        start..end,
                        repeats,
                        &mut b.scratch,
                        &mut b.probs,
                    );
                    let bits = |p: &[f32]| p.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(got), bits(&want), "{start}..{end} of {doc:?}");
                    compared += 1;
                }
            }
        }
        assert!(compared > 500, "{compared}");
    }
}
