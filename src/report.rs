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
    /// Most likely of the 14 PTC techniques (`None` only for a model without a technique
    /// head; serialised as its SemEval name, or `""`).
    #[serde(with = "technique_name")]
    pub technique: Option<Technique>,
    /// Probability of that technique.
    pub technique_score: f32,
    /// The words inside the span that drive its score, strongest first.
    pub evidence: Vec<Evidence>,
}

impl SpanReport {
    /// The technique's SemEval name (`""` for none).
    pub fn technique_name(&self) -> &'static str {
        self.technique.map_or("", Technique::as_str)
    }
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

/// The 14 propaganda techniques of SemEval-2020 Task 11 (PTC), in the order of the task's
/// list; serialised as their SemEval names (`Loaded_Language`, `Name_Calling,Labeling`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Technique {
    /// `Appeal_to_Authority`.
    AppealToAuthority,
    /// `Appeal_to_fear-prejudice`.
    AppealToFearPrejudice,
    /// `Bandwagon,Reductio_ad_hitlerum`.
    BandwagonReductioAdHitlerum,
    /// `Black-and-White_Fallacy`.
    BlackAndWhiteFallacy,
    /// `Causal_Oversimplification`.
    CausalOversimplification,
    /// `Doubt`.
    Doubt,
    /// `Exaggeration,Minimisation`.
    ExaggerationMinimisation,
    /// `Flag-Waving`.
    FlagWaving,
    /// `Loaded_Language`.
    LoadedLanguage,
    /// `Name_Calling,Labeling`.
    NameCallingLabeling,
    /// `Repetition`.
    Repetition,
    /// `Slogans`.
    Slogans,
    /// `Thought-terminating_Cliches`.
    ThoughtTerminatingCliches,
    /// `Whataboutism,Straw_Men,Red_Herring`.
    WhataboutismStrawMenRedHerring,
}

impl Technique {
    /// Every technique, in the task's order.
    pub const ALL: [Technique; 14] = [
        Technique::AppealToAuthority,
        Technique::AppealToFearPrejudice,
        Technique::BandwagonReductioAdHitlerum,
        Technique::BlackAndWhiteFallacy,
        Technique::CausalOversimplification,
        Technique::Doubt,
        Technique::ExaggerationMinimisation,
        Technique::FlagWaving,
        Technique::LoadedLanguage,
        Technique::NameCallingLabeling,
        Technique::Repetition,
        Technique::Slogans,
        Technique::ThoughtTerminatingCliches,
        Technique::WhataboutismStrawMenRedHerring,
    ];

    /// The SemEval name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Technique::AppealToAuthority => "Appeal_to_Authority",
            Technique::AppealToFearPrejudice => "Appeal_to_fear-prejudice",
            Technique::BandwagonReductioAdHitlerum => "Bandwagon,Reductio_ad_hitlerum",
            Technique::BlackAndWhiteFallacy => "Black-and-White_Fallacy",
            Technique::CausalOversimplification => "Causal_Oversimplification",
            Technique::Doubt => "Doubt",
            Technique::ExaggerationMinimisation => "Exaggeration,Minimisation",
            Technique::FlagWaving => "Flag-Waving",
            Technique::LoadedLanguage => "Loaded_Language",
            Technique::NameCallingLabeling => "Name_Calling,Labeling",
            Technique::Repetition => "Repetition",
            Technique::Slogans => "Slogans",
            Technique::ThoughtTerminatingCliches => "Thought-terminating_Cliches",
            Technique::WhataboutismStrawMenRedHerring => "Whataboutism,Straw_Men,Red_Herring",
        }
    }

    /// The technique of a SemEval name.
    pub fn from_name(name: &str) -> Option<Technique> {
        Technique::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

impl std::fmt::Display for Technique {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Serde of a span's technique as its SemEval name, the empty string for none (a model
/// without a technique head).
mod technique_name {
    use super::Technique;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<Technique>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(t.map_or("", Technique::as_str))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Technique>, D::Error> {
        let name = String::deserialize(d)?;
        match name.as_str() {
            "" => Ok(None),
            n => Technique::from_name(n)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom(format!("unknown technique {n:?}"))),
        }
    }
}
