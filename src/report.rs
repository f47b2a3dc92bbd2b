//! Stage 6, report: the JSON-serialisable result of analysing one document.
//!
//! Contract (stable; other tools depend on it): `start`/`end` are Unicode code-point offsets
//! (the SemEval convention), `byte_start`/`byte_end` UTF-8 byte offsets, and every `text` is
//! exactly the original text they cover.

use serde::{Deserialize, Serialize};

/// The analysis of one document.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    /// Calibrated probability that the document uses loaded framing (0.5 is the boundary).
    pub score: f32,
    /// `loaded` when `score >= 0.5`, else `neutral`.
    pub label: Label,
    /// Every sentence with its calibrated score.
    pub sentences: Vec<SentenceReport>,
    /// Every flagged span, in text order.
    pub spans: Vec<SpanReport>,
    /// The model that produced the report.
    pub model: ModelInfo,
}

/// Document label.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    /// Score at or above 0.5.
    Loaded,
    /// Score below 0.5.
    Neutral,
}

impl Label {
    /// The label of a document score.
    pub fn of(score: f32) -> Label {
        if score >= 0.5 {
            Label::Loaded
        } else {
            Label::Neutral
        }
    }

    /// Lower-case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Label::Loaded => "loaded",
            Label::Neutral => "neutral",
        }
    }
}

/// One sentence.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SentenceReport {
    /// Code-point offset of the first character.
    pub start: usize,
    /// Code-point offset one past the last character.
    pub end: usize,
    /// Byte offset of the first byte.
    pub byte_start: usize,
    /// Byte offset one past the last byte.
    pub byte_end: usize,
    /// Calibrated probability that the sentence contains loaded framing.
    pub score: f32,
}

/// One flagged span.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SpanReport {
    /// Code-point offset of the first character.
    pub start: usize,
    /// Code-point offset one past the last character.
    pub end: usize,
    /// Byte offset of the first byte.
    pub byte_start: usize,
    /// Byte offset one past the last byte.
    pub byte_end: usize,
    /// Exactly the original text covered.
    pub text: String,
    /// Mean span-head probability of the span's tokens.
    pub score: f32,
    /// Most likely of the 14 PTC techniques.
    pub technique: String,
    /// Probability of that technique.
    pub technique_score: f32,
    /// The words inside the span that drive its score, strongest first.
    pub evidence: Vec<Evidence>,
}

/// A word that drives a span's score.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Evidence {
    /// Code-point offset of the first character.
    pub start: usize,
    /// Code-point offset one past the last character.
    pub end: usize,
    /// Byte offset of the first byte.
    pub byte_start: usize,
    /// Byte offset one past the last byte.
    pub byte_end: usize,
    /// Exactly the original text of the word.
    pub text: String,
    /// Its contribution to the span head's logit: the summed weights of the features that
    /// describe this word at its own position.
    pub weight: f32,
}

/// Name and version of the model behind a report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ModelInfo {
    /// Model name.
    pub name: String,
    /// Model version.
    pub version: String,
}
