//! Stage 5, spans: token probabilities → flagged spans.
//!
//! Hysteresis decoding: a span is a run of tokens whose probability is at least `low`, bridging
//! gaps of up to `max_gap` tokens, that contains at least one token at or above `high`.
//! Punctuation is trimmed from both edges, so a span never starts or ends on a comma, quote or
//! dash. Sentences whose calibrated score is below `sentence_gate` yield no span.

use crate::tokens::Token;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Decoding thresholds (tuned on PTC dev by `slant train`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DecodeParams {
    /// A span must contain a token with probability ≥ `high`.
    pub high: f32,
    /// Tokens with probability ≥ `low` extend a span.
    pub low: f32,
    /// Longest run of weaker tokens bridged inside one span.
    pub max_gap: usize,
    /// Fewest tokens a span may have after trimming.
    pub min_tokens: usize,
    /// Sentences scoring below this yield no span.
    pub sentence_gate: f32,
    /// Sentences scoring at or above this yield ONE span, from the first to the last token with
    /// probability ≥ `low` (values above 1 switch this off). The SI metric credits a prediction
    /// for every gold span it covers, so in a clearly loaded sentence one wide span beats several
    /// fragments.
    pub sentence_span: f32,
}

impl Default for DecodeParams {
    fn default() -> Self {
        DecodeParams {
            high: 0.5,
            low: 0.35,
            max_gap: 1,
            min_tokens: 1,
            sentence_gate: 0.0,
            sentence_span: 2.0,
        }
    }
}

impl DecodeParams {
    /// The same parameters with `high` set to `threshold` and `low` scaled along with it.
    pub fn with_threshold(self, threshold: f32) -> Self {
        let t = threshold.clamp(0.0, 1.0);
        let ratio = if self.high > 0.0 {
            self.low / self.high
        } else {
            1.0
        };
        DecodeParams {
            high: t,
            low: (t * ratio).min(t),
            ..self
        }
    }
}

/// Decodes spans of one sentence; returns token index ranges (end exclusive), sorted.
pub fn decode(
    tokens: &[Token],
    probs: &[f32],
    sentence_prob: f32,
    p: &DecodeParams,
) -> Vec<Range<usize>> {
    let n = tokens.len().min(probs.len());
    let mut out = Vec::new();
    if n == 0 || sentence_prob < p.sentence_gate {
        return out;
    }
    if sentence_prob >= p.sentence_span {
        let first = probs[..n].iter().position(|&q| q >= p.low);
        let last = probs[..n].iter().rposition(|&q| q >= p.low);
        if let (Some(a), Some(b)) = (first, last) {
            if let Some(r) = trim_punct(tokens, a, b + 1, p.min_tokens) {
                out.push(r);
            }
        }
        return out;
    }
    let mut i = 0;
    while i < n {
        if probs[i] < p.low {
            i += 1;
            continue;
        }
        // Grow a run from i, bridging short gaps.
        let start = i;
        let mut end = i + 1;
        let mut j = i + 1;
        while j < n {
            if probs[j] >= p.low {
                end = j + 1;
                j += 1;
            } else {
                let mut k = j;
                while k < n && probs[k] < p.low && k - j < p.max_gap {
                    k += 1;
                }
                if k < n && probs[k] >= p.low && k - j <= p.max_gap {
                    j = k;
                } else {
                    break;
                }
            }
        }
        i = end;
        if !probs[start..end].iter().any(|&q| q >= p.high) {
            continue;
        }
        if let Some(r) = trim_punct(tokens, start, end, p.min_tokens) {
            out.push(r);
        }
    }
    out
}

/// Trims punctuation tokens from both edges; `None` when fewer than `min_tokens` remain.
fn trim_punct(
    tokens: &[Token],
    mut a: usize,
    mut b: usize,
    min_tokens: usize,
) -> Option<Range<usize>> {
    while a < b && tokens[a].is_punct() {
        a += 1;
    }
    while b > a && tokens[b - 1].is_punct() {
        b -= 1;
    }
    (b > a && b - a >= min_tokens.max(1)).then_some(a..b)
}

/// Mean probability of a token range (0 for an empty range).
pub fn span_score(probs: &[f32], r: &Range<usize>) -> f32 {
    let s = &probs[r.start.min(probs.len())..r.end.min(probs.len())];
    if s.is_empty() {
        0.0
    } else {
        s.iter().sum::<f32>() / s.len() as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::tokenize;

    fn run(text: &str, probs: &[f32], p: DecodeParams) -> Vec<String> {
        let toks = tokenize(text, 0..text.len()).unwrap();
        assert_eq!(toks.len(), probs.len(), "test setup");
        decode(&toks, probs, 1.0, &p)
            .into_iter()
            .map(|r| text[toks[r.start].start..toks[r.end - 1].end].to_string())
            .collect()
    }

    #[test]
    fn table() {
        let d = DecodeParams::default();
        let cases: Vec<(&str, Vec<f32>, Vec<&str>)> = vec![
            ("a b c d", vec![0.1, 0.9, 0.4, 0.1], vec!["b c"]),
            ("a b c d", vec![0.1, 0.4, 0.4, 0.1], vec![]),
            ("a b c d e", vec![0.9, 0.1, 0.6, 0.1, 0.1], vec!["a b c"]),
            ("a b c d e", vec![0.9, 0.1, 0.1, 0.6, 0.1], vec!["a", "d"]),
            ("\" bad , \"", vec![0.9, 0.9, 0.9, 0.9], vec!["bad"]),
            (", ,", vec![0.9, 0.9], vec![]),
        ];
        for (text, probs, want) in cases {
            assert_eq!(run(text, &probs, d), want, "{text} {probs:?}");
        }
    }

    #[test]
    fn gate_and_threshold() {
        let toks = tokenize("a b", 0..3).unwrap();
        let p = DecodeParams {
            sentence_gate: 0.5,
            ..Default::default()
        };
        assert!(decode(&toks, &[0.9, 0.9], 0.2, &p).is_empty());
        let whole = DecodeParams {
            sentence_span: 0.8,
            ..Default::default()
        };
        let toks4 = tokenize("a b c d", 0..7).unwrap();
        // In a sentence above `sentence_span`, one span from the first to the last token ≥ low,
        // even with no token ≥ high and a gap wider than max_gap.
        assert_eq!(
            decode(&toks4, &[0.4, 0.1, 0.1, 0.4], 0.9, &whole),
            vec![0..4]
        );
        assert!(decode(&toks4, &[0.4, 0.1, 0.1, 0.4], 0.7, &whole).is_empty());
        let t = DecodeParams::default().with_threshold(0.95);
        assert!(decode(&toks, &[0.9, 0.9], 1.0, &t).is_empty());
        assert!(
            decode(&toks, &[0.9], 1.0, &t).is_empty(),
            "length mismatch is safe"
        );
    }
}
