//! Stage 4a, the model: hyper-parameters → validated hyper-parameters → fitted heads, in the
//! manner of linfa.
//!
//! Fitting is done by `linfa-logistic` on dense `f32` matrices (one per head, built from the
//! selected feature columns only). The fitted weights are then kept as plain vectors so that
//! analysis scores a document with sparse dot products and never densifies anything.
//! Serialisation (header, format version, checksum) lives in [`crate::model_file`].

use crate::error::{Error, Result};
use crate::features::{FeatureIndex, SparseRow, Vectorizer};
use crate::lexicon::Lexicon;
use crate::spans::DecodeParams;
use linfa::prelude::*;
use linfa_logistic::{LogisticRegression, MultiLogisticRegression};
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Hyper-parameters of one logistic head (unvalidated).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogisticParams {
    /// L2 penalty (linfa's `alpha`; the loss is a sum over rows, so this is like 1/C).
    pub alpha: f32,
    /// Maximum L-BFGS iterations.
    pub max_iterations: u64,
    /// Stop when the gradient norm falls below this.
    pub gradient_tolerance: f32,
}

impl Default for LogisticParams {
    fn default() -> Self {
        LogisticParams {
            alpha: 1.0,
            max_iterations: 100,
            gradient_tolerance: 1e-4,
        }
    }
}

/// Validated [`LogisticParams`]; the only way to reach a fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidLogisticParams(LogisticParams);

impl LogisticParams {
    /// Checks the parameters: finite, non-negative penalty, at least one iteration.
    pub fn check(self) -> Result<ValidLogisticParams> {
        if !self.alpha.is_finite() || self.alpha < 0.0 {
            return Err(Error::InvalidParams(format!(
                "alpha must be finite and >= 0, got {}",
                self.alpha
            )));
        }
        if self.max_iterations == 0 {
            return Err(Error::InvalidParams(
                "max_iterations must be at least 1".into(),
            ));
        }
        if !self.gradient_tolerance.is_finite() || self.gradient_tolerance <= 0.0 {
            return Err(Error::InvalidParams(format!(
                "gradient_tolerance must be finite and > 0, got {}",
                self.gradient_tolerance
            )));
        }
        Ok(ValidLogisticParams(self))
    }
}

/// Builds a dense matrix from sparse rows (used only at training time).
pub fn densify(rows: &[SparseRow], n_cols: usize) -> Array2<f32> {
    let mut x = Array2::<f32>::zeros((rows.len(), n_cols));
    for (r, row) in rows.iter().enumerate() {
        for &(c, v) in row {
            if (c as usize) < n_cols {
                x[[r, c as usize]] += v;
            }
        }
    }
    x
}

/// A fit needs at least one row and one label per row.
fn check_rows(x: &Array2<f32>, n_labels: usize) -> Result<()> {
    if x.nrows() != n_labels || x.nrows() == 0 {
        return Err(Error::NoData(format!(
            "{} rows for {} labels",
            x.nrows(),
            n_labels
        )));
    }
    Ok(())
}

impl ValidLogisticParams {
    /// The parameters.
    pub fn params(&self) -> &LogisticParams {
        &self.0
    }

    /// Fits a binary head on a dense matrix; `y[i]` is true for the positive class.
    pub fn fit_binary(&self, x: &Array2<f32>, y: &[bool]) -> Result<LinearHead> {
        check_rows(x, y.len())?;
        if y.iter().all(|&v| v) || y.iter().all(|&v| !v) {
            return Err(Error::NoData("binary head needs both classes".into()));
        }
        let p = self.0;
        let ds = DatasetBase::new(x.view(), Array1::from(y.to_vec()));
        let fitted = LogisticRegression::default()
            .alpha(p.alpha)
            .max_iterations(p.max_iterations)
            .gradient_tolerance(p.gradient_tolerance)
            .with_intercept(true)
            .fit(&ds)
            .map_err(|e| Error::Fit(e.to_string()))?;
        // linfa's "positive" label is the more frequent class; orient weights towards `true`.
        let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
        Ok(LinearHead {
            weights: fitted.params().iter().map(|w| w * sign).collect(),
            bias: fitted.intercept() * sign,
        })
    }

    /// Fits a multinomial head; `y[i]` is a class index below `n_classes`.
    pub fn fit_multi(&self, x: &Array2<f32>, y: &[usize], classes: &[String]) -> Result<MultiHead> {
        check_rows(x, y.len())?;
        let p = self.0;
        let ds = DatasetBase::new(x.view(), Array1::from(y.to_vec()));
        let fitted = MultiLogisticRegression::default()
            .alpha(p.alpha)
            .max_iterations(p.max_iterations)
            .gradient_tolerance(p.gradient_tolerance)
            .with_intercept(true)
            .fit(&ds)
            .map_err(|e| Error::Fit(e.to_string()))?;
        let n_features = x.ncols();
        let n_classes = classes.len();
        // Classes absent from `y` keep a very low bias so they are never predicted.
        let mut weights = vec![0.0f32; n_features * n_classes];
        let mut bias = vec![-30.0f32; n_classes];
        for (k, &class) in fitted.classes().iter().enumerate() {
            if class >= n_classes {
                return Err(Error::Fit(format!("class index {class} out of range")));
            }
            bias[class] = fitted.intercept()[k];
            for f in 0..n_features {
                weights[f * n_classes + class] = fitted.params()[[f, k]];
            }
        }
        Ok(MultiHead {
            classes: classes.to_vec(),
            weights,
            bias,
        })
    }
}

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
    /// Fits the scaling on raw logits and labels (linfa-logistic on one feature).
    pub fn fit(logits: &[f32], y: &[bool]) -> Result<Platt> {
        let x = Array2::from_shape_vec((logits.len(), 1), logits.to_vec())
            .map_err(|e| Error::Fit(e.to_string()))?;
        let head = LogisticParams {
            alpha: 1e-3,
            max_iterations: 200,
            gradient_tolerance: 1e-6,
        }
        .check()?
        .fit_binary(&x, y)?;
        Ok(Platt {
            a: head.weights[0],
            b: head.bias,
        })
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_params_are_rejected_before_fit() {
        let bad = LogisticParams {
            alpha: -1.0,
            ..Default::default()
        };
        assert!(bad.check().is_err());
        let bad = LogisticParams {
            max_iterations: 0,
            ..Default::default()
        };
        assert!(bad.check().is_err());
        assert!(LogisticParams::default().check().is_ok());
    }

    #[test]
    fn binary_fit_is_oriented_to_true_even_when_true_is_the_majority() {
        // feature 0 marks the positive class; positives are the majority.
        let rows: Vec<SparseRow> = (0..30)
            .map(|i| {
                if i % 3 == 0 {
                    vec![(1, 1.0)]
                } else {
                    vec![(0, 1.0)]
                }
            })
            .collect();
        let y: Vec<bool> = (0..30).map(|i| i % 3 != 0).collect();
        let x = densify(&rows, 2);
        let head = LogisticParams::default()
            .check()
            .unwrap()
            .fit_binary(&x, &y)
            .unwrap();
        assert!(head.logit(&[(0, 1.0)]) > 0.0);
        assert!(head.logit(&[(1, 1.0)]) < 0.0);
    }

    #[test]
    fn multi_fit_predicts_its_classes() {
        let rows: Vec<SparseRow> = (0..30).map(|i| vec![((i % 3) as u32, 1.0)]).collect();
        let y: Vec<usize> = (0..30).map(|i| i % 3).collect();
        let classes: Vec<String> = vec!["a".into(), "b".into(), "c".into(), "never".into()];
        let head = LogisticParams::default()
            .check()
            .unwrap()
            .fit_multi(&densify(&rows, 3), &y, &classes)
            .unwrap();
        for k in 0..3u32 {
            let p = head.probabilities(&[(k, 1.0)]);
            let best = p
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .unwrap()
                .0;
            assert_eq!(best, k as usize);
            assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        }
    }

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
