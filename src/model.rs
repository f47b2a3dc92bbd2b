//! Stage 4a, the model: the fitted heads (made by [`crate::fit`], hyper-parameters →
//! validated hyper-parameters → fitted heads, in the manner of linfa), kept as plain vectors so
//! that analysis scores a document with sparse dot products and never densifies anything.
//! Serialisation (header, format version, checksum) lives in [`crate::model_file`].

use crate::features::{FeatureIndex, Vectorizer};
use crate::lexicon::Lexicon;
use crate::spans::DecodeParams;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A fitted binary logistic head: `logit = w · x + b`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LinearHead {
    /// One weight per feature column.
    pub weights: Vec<f32>,
    /// Intercept.
    pub bias: f32,
}

impl LinearHead {
    /// Logit of a sparse row (unknown columns are ignored).
    pub fn logit(&self, row: &[(u32, f32)]) -> f32 {
        self.bias
            + row
                .iter()
                .map(|&(c, v)| self.weights.get(c as usize).copied().unwrap_or(0.0) * v)
                .sum::<f32>()
    }

    /// Weight of one column (0 when out of range).
    pub fn weight(&self, col: u32) -> f32 {
        self.weights.get(col as usize).copied().unwrap_or(0.0)
    }
}

/// A fitted multinomial head (softmax over classes).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MultiHead {
    /// Class names.
    pub classes: Vec<String>,
    /// Row-major `n_features × n_classes`.
    pub weights: Vec<f32>,
    /// One intercept per class.
    pub bias: Vec<f32>,
}

impl MultiHead {
    /// Class probabilities of a sparse row.
    pub fn probabilities(&self, row: &[(u32, f32)]) -> Vec<f32> {
        let mut z = self.bias.clone();
        match <&mut [f32; 14]>::try_from(z.as_mut_slice()) {
            // The 14 PTC techniques: a fixed-size sum the compiler unrolls (measured: the
            // technique head's largest cost, halved), each class summed in the same order.
            Ok(z14) if self.classes.len() == 14 => accumulate(z14, &self.weights, row),
            _ => {
                let k = self.classes.len();
                for &(c, v) in row {
                    let base = c as usize * k;
                    if let Some(ws) = self.weights.get(base..base + k) {
                        for (zi, w) in z.iter_mut().zip(ws) {
                            *zi += w * v;
                        }
                    }
                }
            }
        }
        softmax(&mut z);
        z
    }
}

/// `z += v · weights[c]` for each `(c, v)` of `row` in order (rows of `K` weights; rows out of
/// range are skipped).
#[inline(always)]
fn accumulate<const K: usize>(out: &mut [f32; K], weights: &[f32], row: &[(u32, f32)]) {
    let mut z = *out;
    for &(c, v) in row {
        let base = c as usize * K;
        if let Some(Ok(ws)) = weights.get(base..base + K).map(<&[f32; K]>::try_from) {
            for i in 0..K {
                z[i] += ws[i] * v;
            }
        }
    }
    *out = z;
}

/// Softmax in place; uniform when any value is NaN or the largest is not finite.
fn softmax(z: &mut [f32]) {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !max.is_finite() || z.iter().any(|v| v.is_nan()) {
        let n = z.len().max(1) as f32;
        z.iter_mut().for_each(|v| *v = 1.0 / n);
        return;
    }
    let mut sum = 0.0;
    for v in z.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    z.iter_mut().for_each(|v| *v /= sum);
}

/// The logistic function, safe for any finite or infinite input.
pub fn sigmoid(x: f32) -> f32 {
    if x.is_nan() {
        return 0.5;
    }
    1.0 / (1.0 + (-x).exp())
}

/// Platt scaling: `P = sigmoid(a · logit + b)`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Platt {
    /// Slope.
    pub a: f32,
    /// Offset.
    pub b: f32,
}

impl Default for Platt {
    fn default() -> Self {
        Platt { a: 1.0, b: 0.0 }
    }
}

impl Platt {
    /// Calibrated probability of a raw logit.
    pub fn apply(&self, logit: f32) -> f32 {
        sigmoid(self.a * logit + self.b)
    }
}

/// Sentence head: TF-IDF features → P(sentence contains loaded framing).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SentenceHead {
    /// Fitted TF-IDF vocabulary.
    pub vectorizer: Vectorizer,
    /// Logistic weights.
    pub head: LinearHead,
    /// Calibration of the logit (fitted on dev sentences).
    pub calibration: Platt,
}

/// Span head: token features → P(token lies inside a loaded/propaganda span).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SpanHead {
    /// Fitted feature vocabulary.
    pub index: FeatureIndex,
    /// Logistic weights (intercept already corrected for negative subsampling).
    pub head: LinearHead,
    /// How token probabilities become spans (tuned on PTC dev).
    pub decode: DecodeParams,
}

/// Technique head: span features → one of the 14 PTC techniques.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TechniqueHead {
    /// Fitted feature vocabulary.
    pub index: FeatureIndex,
    /// Multinomial weights.
    pub head: MultiHead,
}

/// Document head: sentence logits → calibrated P(document uses loaded framing).
///
/// The document score is the Platt-calibrated logit of the document's most loaded sentence:
/// `P = sigmoid(a · max_i logit_i + b)`, fitted by linfa-logistic on dev documents. It is
/// monotone in every sentence score and explained by one sentence. Richer pools were tried and
/// rejected: the sentence count mostly separated long PTC articles (nearly all positive) from
/// one-sentence BABE items, and max + mean-of-top-3 got weights of opposite sign (collinear),
/// so a long neutral article scored as loaded.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct DocumentHead {
    /// Calibration of the maximum sentence logit.
    pub calibration: Platt,
}

impl DocumentHead {
    /// The pooled document logit: the maximum sentence logit (`None` without sentences).
    pub fn pooled(sentence_logits: &[f32]) -> Option<f32> {
        sentence_logits
            .iter()
            .copied()
            .filter(|x| !x.is_nan())
            .reduce(f32::max)
    }

    /// Calibrated document probability; 0 for a document without sentences.
    pub fn probability(&self, sentence_logits: &[f32]) -> f32 {
        self.calibrated(Self::pooled(sentence_logits))
    }

    /// Calibrated document probability of a pooled logit ([`DocumentHead::pooled`]); 0 for
    /// a document without sentences.
    pub fn calibrated(&self, pooled: Option<f32>) -> f32 {
        pooled.map_or(0.0, |m| self.calibration.apply(m))
    }
}

/// Facts about a fitted model: what went in and how it scored.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ModelCard {
    /// Model name, e.g. `default`.
    pub name: String,
    /// Model version (the crate version that trained it, plus a suffix).
    pub version: String,
    /// Data sources that went into training.
    pub trained_on: Vec<String>,
    /// The training configuration, as TOML.
    pub config: String,
    /// Dev metrics measured right after training.
    pub metrics: BTreeMap<String, f64>,
}

/// A fitted slant model: all heads plus the lexicon their features use.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Model {
    /// Model card.
    pub card: ModelCard,
    /// Cue lexicons used by every head's features.
    pub lexicon: Lexicon,
    /// Sentence head.
    pub sentence: SentenceHead,
    /// Span head.
    pub span: SpanHead,
    /// Technique head.
    pub technique: TechniqueHead,
    /// Document head.
    pub document: DocumentHead,
}

/// Reads the postcard encoding of a [`Model`] in order: the fast decoder of model files.
///
/// `postcard::from_bytes::<Model>` goes through serde for every feature name and every weight.
/// This reads the same bytes by the same rules, field by field in declaration order, and takes
/// the two large parts in bulk: feature names straight into a [`FeatureIndex`] (the UTF-8 check
/// and the hash in one pass over each name) and weight vectors as runs of 4-byte little-endian
/// floats. The small parts (card, lexicon, calibrations, decoding parameters, class names) go
/// through serde (`postcard::take_from_bytes`). The outcome is `postcard::from_bytes`'s, the
/// same model or the same error, for any input; the `model_file` tests compare the two on the
/// default model, on every input of the fuzz corpus and on damaged payloads. A field added to a
/// model struct must be added here too: the struct literals below name every field.
pub(crate) fn decode(payload: &[u8]) -> postcard::Result<Model> {
    let mut w = Wire { rest: payload };
    let card: ModelCard = w.take()?;
    let lexicon: Lexicon = w.take()?;
    let index = w.index()?;
    let idf = w.floats()?;
    let head = w.linear_head()?;
    let calibration: Platt = w.take()?;
    let sentence = SentenceHead {
        vectorizer: Vectorizer { index, idf },
        head,
        calibration,
    };
    let index = w.index()?;
    let head = w.linear_head()?;
    let decode: DecodeParams = w.take()?;
    let span = SpanHead {
        index,
        head,
        decode,
    };
    let index = w.index()?;
    let classes: Vec<String> = w.take()?;
    let weights = w.floats()?;
    let bias = w.floats()?;
    let technique = TechniqueHead {
        index,
        head: MultiHead {
            classes,
            weights,
            bias,
        },
    };
    let document: DocumentHead = w.take()?;
    Ok(Model {
        card,
        lexicon,
        sentence,
        span,
        technique,
        document,
    })
}

/// The rest of a postcard payload, read front to back.
struct Wire<'a> {
    rest: &'a [u8],
}

impl<'a> Wire<'a> {
    /// Any value, through serde.
    fn take<T: Deserialize<'a>>(&mut self) -> postcard::Result<T> {
        let (value, rest) = postcard::take_from_bytes(self.rest)?;
        self.rest = rest;
        Ok(value)
    }

    /// The next `n` bytes.
    #[inline]
    fn bytes(&mut self, n: usize) -> postcard::Result<&'a [u8]> {
        if n > self.rest.len() {
            return Err(postcard::Error::DeserializeUnexpectedEnd);
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    /// A length: postcard's varint of a `usize`, with its checks (at most as many 7-bit groups as
    /// a `usize` needs, and no bits beyond it in the last one).
    #[inline(always)]
    fn len(&mut self) -> postcard::Result<usize> {
        // Nearly every length is below 128: one byte.
        if let Some((&b, rest)) = self.rest.split_first() {
            if b < 0x80 {
                self.rest = rest;
                return Ok(usize::from(b));
            }
        }
        self.long_len()
    }

    /// [`Wire::len`] of a varint of more than one byte (or at the end of the input).
    fn long_len(&mut self) -> postcard::Result<usize> {
        const MAX: usize = (usize::BITS as usize).div_ceil(7);
        const LAST: u8 = (1 << (usize::BITS % 7)) - 1;
        let mut out = 0usize;
        for i in 0..MAX {
            let (&b, rest) = self
                .rest
                .split_first()
                .ok_or(postcard::Error::DeserializeUnexpectedEnd)?;
            self.rest = rest;
            out |= usize::from(b & 0x7F) << (7 * i);
            if b & 0x80 == 0 {
                if i == MAX - 1 && b > LAST {
                    return Err(postcard::Error::DeserializeBadVarint);
                }
                return Ok(out);
            }
        }
        Err(postcard::Error::DeserializeBadVarint)
    }

    /// A `Vec<f32>`: its length, then 4 little-endian bytes per float.
    fn floats(&mut self) -> postcard::Result<Vec<f32>> {
        let n = self.len()?;
        let bytes = self.bytes(
            n.checked_mul(4)
                .ok_or(postcard::Error::DeserializeUnexpectedEnd)?,
        )?;
        let (floats, _) = bytes.as_chunks::<4>();
        Ok(floats.iter().map(|&b| f32::from_le_bytes(b)).collect())
    }

    /// A [`LinearHead`].
    fn linear_head(&mut self) -> postcard::Result<LinearHead> {
        let weights = self.floats()?;
        let bias: f32 = self.take()?;
        Ok(LinearHead { weights, bias })
    }

    /// A [`FeatureIndex`], serialised as its list of names: the count, then each name's length
    /// and bytes. Each name is checked and hashed as it is read, in order, so the first error is
    /// the one serde would meet.
    fn index(&mut self) -> postcard::Result<FeatureIndex> {
        let n = self.len()?;
        // Room for exactly the names that follow (a look-ahead that stops at the first
        // malformed or missing name, whose error the reading below then meets).
        let mut ahead = Wire { rest: self.rest };
        let (mut names, mut total) = (0usize, 0usize);
        while names < n {
            let Ok(len) = ahead.len() else { break };
            if ahead.bytes(len).is_err() {
                break;
            }
            names += 1;
            total += len;
        }
        let mut index = FeatureIndex::with_capacity(names, total);
        for _ in 0..n {
            let len = self.len()?;
            let name = self.bytes(len)?;
            if !index.push_bytes(name) {
                return Err(postcard::Error::DeserializeBadUtf8);
            }
        }
        Ok(index.finish())
    }
}

/// Keeps the `k` columns of largest absolute weight (`weight(col)` over `n` columns).
fn top_columns(n: usize, k: usize, weight: impl Fn(usize) -> f32) -> Vec<usize> {
    let mut cols: Vec<usize> = (0..n).collect();
    cols.sort_by(|&a, &b| weight(b).abs().total_cmp(&weight(a).abs()).then(a.cmp(&b)));
    cols.truncate(k);
    cols.sort();
    cols
}

impl Model {
    /// This model cut down to the `k` heaviest features of each head and an empty lexicon: a
    /// few KB that still loads, validates and flags spans (the fuzzer's model seeds).
    pub fn pruned(&self, k: usize) -> Model {
        let mut m = self.clone();
        m.lexicon = Default::default();
        let names = |idx: &FeatureIndex| Vec::<String>::from(idx.clone());

        let s = &mut m.sentence;
        let all = names(&s.vectorizer.index);
        let keep = top_columns(all.len(), k, |c| s.head.weights[c]);
        s.vectorizer.index = keep
            .iter()
            .map(|&c| all[c].clone())
            .collect::<Vec<_>>()
            .into();
        s.vectorizer.idf = keep.iter().map(|&c| s.vectorizer.idf[c]).collect();
        s.head.weights = keep.iter().map(|&c| s.head.weights[c]).collect();

        let sp = &mut m.span;
        let all = names(&sp.index);
        let keep = top_columns(all.len(), k, |c| sp.head.weights[c]);
        sp.index = keep
            .iter()
            .map(|&c| all[c].clone())
            .collect::<Vec<_>>()
            .into();
        sp.head.weights = keep.iter().map(|&c| sp.head.weights[c]).collect();

        let t = &mut m.technique;
        let all = names(&t.index);
        let n = t.head.classes.len();
        let keep = top_columns(all.len(), k, |c| {
            t.head.weights[c * n..(c + 1) * n]
                .iter()
                .fold(0.0, |a, w| a + w.abs())
        });
        t.index = keep
            .iter()
            .map(|&c| all[c].clone())
            .collect::<Vec<_>>()
            .into();
        t.head.weights = keep
            .iter()
            .flat_map(|&c| t.head.weights[c * n..(c + 1) * n].to_vec())
            .collect();
        m.card.config = String::new();
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_and_document_head_are_safe() {
        assert_eq!(sigmoid(f32::NAN), 0.5);
        assert!(sigmoid(f32::INFINITY) <= 1.0);
        let d = DocumentHead::default();
        assert_eq!(d.probability(&[]), 0.0);
        assert!((d.probability(&[-1.0, 0.0]) - 0.5).abs() < 1e-6);
        assert!(d.probability(&[f32::NAN, 2.0]) > 0.8);
    }

    #[test]
    fn softmax_is_uniform_on_nan_or_infinite_logits() {
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let mut z = vec![0.5, bad, -1.0, 2.0];
            softmax(&mut z);
            if bad == f32::NEG_INFINITY {
                // −∞ is a valid logit: probability 0, the rest still sums to 1.
                assert_eq!(z[1], 0.0);
            } else {
                assert!(z.iter().all(|&p| p == 0.25), "{bad}: {z:?}");
            }
            assert!((z.iter().sum::<f32>() - 1.0).abs() < 1e-6, "{z:?}");
        }
    }

    /// The unrolled sum of 14 classes gives the floats of the plain loop over classes.
    #[test]
    fn probabilities_equal_the_plain_sum() {
        let mut rng = crate::test_support::XorShift::new(0x2545_F491_4F6C_DD1D);
        let mut next = move || rng.next();
        for k in [14usize, 3, 1] {
            let n_features = 500;
            let mut weight = || ((next() % 20_001) as f32 - 10_000.0) / 997.0;
            let head = MultiHead {
                classes: (0..k).map(|i| format!("c{i}")).collect(),
                weights: (0..n_features * k).map(|_| weight()).collect(),
                bias: (0..k).map(|_| weight()).collect(),
            };
            for trial in 0..200 {
                let n = (next() % 300) as usize;
                // Columns up to 520: a few beyond the weights, skipped by both.
                let cols = (0..n).map(|_| (next() % 520) as u32);
                let row = crate::features::binary_unit_row(cols);
                let mut want = head.bias.clone();
                for &(c, v) in &row {
                    for (i, z) in want.iter_mut().enumerate() {
                        if let Some(w) = head
                            .weights
                            .get(c as usize * k + i)
                            .filter(|_| (c as usize) < n_features)
                        {
                            *z += w * v;
                        }
                    }
                }
                softmax(&mut want);
                let bits = |p: &[f32]| p.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&head.probabilities(&row)),
                    bits(&want),
                    "k {k}, trial {trial}"
                );
            }
        }
    }
}
