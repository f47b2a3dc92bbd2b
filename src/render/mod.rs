//! Stage 7, renderers: a [`Report`] as a highlighted terminal report ([`terminal`]), a
//! self-contained HTML page ([`html`](mod@html)), JSON, or SemEval submission lines.
//!
//! Every renderer is pure: a report and the text it was computed from in, a `String` out. No
//! renderer panics on any report: spans and sentences whose offsets do not index the text (out
//! of range, not on character boundaries, overlapping an earlier one) are left out of the
//! highlighted text, and scores that are not finite are drawn as 0.

pub mod html;
pub mod terminal;

use crate::corpus::TECHNIQUES;
use crate::report::{Report, SentenceReport, SpanReport};
use std::fmt::Write as _;

pub use html::{html, page, HtmlOptions, IndexError, IndexRow};
pub use terminal::{text, text_with, ColorChoice, TextOptions};

/// Output formats of `slant analyze`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human-readable report: the document score, the text with flagged spans highlighted and
    /// a footnote per span (colour when the output is a terminal).
    Text,
    /// The JSON report (one object).
    Json,
    /// SemEval-2020 Task 11 lines: `id TAB start TAB end` (code points), or with techniques
    /// `id TAB technique TAB start TAB end` as the official TC scorer reads them.
    Semeval,
    /// One self-contained HTML page (inline CSS, JS and SVG; no external requests).
    Html,
}

/// The report as one JSON object.
pub fn json(report: &Report) -> String {
    serde_json::to_string(report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// SemEval lines for one article.
pub fn semeval(report: &Report, article_id: &str, techniques: bool) -> String {
    let mut o = String::new();
    for s in &report.spans {
        semeval_line(&mut o, article_id, s, techniques);
    }
    o
}

/// Appends the SemEval line of one span to `o` (see [`semeval`]).
pub fn semeval_line(o: &mut String, article_id: &str, s: &SpanReport, techniques: bool) {
    if techniques {
        let _ = writeln!(
            o,
            "{article_id}\t{}\t{}\t{}",
            s.technique_name(),
            s.start,
            s.end
        );
    } else {
        let _ = writeln!(o, "{article_id}\t{}\t{}", s.start, s.end);
    }
}

/// Colours of one technique: a light highlight for the background of its spans, a darker
/// border/accent, and the nearest xterm-256 colour to the highlight for terminals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TechniqueStyle {
    /// Position in [`TECHNIQUES`], or `TECHNIQUES.len()` for a technique the palette does not know.
    pub index: usize,
    /// CSS colour of the highlight (light, for dark text on it).
    pub highlight: &'static str,
    /// CSS colour of the accent (underline, legend border).
    pub accent: &'static str,
    /// xterm-256 colour number of the highlight.
    pub ansi256: u8,
}

/// One row per entry of [`TECHNIQUES`] (same order), then the style of an unknown technique.
pub(crate) const PALETTE: [(&str, &str, u8); 15] = [
    ("#b9dcff", "#2f6fb0", 153), // Appeal_to_Authority
    ("#ffb8b0", "#c0392b", 217), // Appeal_to_fear-prejudice
    ("#e5c6f5", "#8e44ad", 183), // Bandwagon,Reductio_ad_hitlerum
    ("#d5d8dc", "#5d6d7e", 252), // Black-and-White_Fallacy
    ("#c8ebc0", "#3f8f3a", 151), // Causal_Oversimplification
    ("#a8e6f0", "#16879b", 117), // Doubt
    ("#ffd3a5", "#cf6d17", 223), // Exaggeration,Minimisation
    ("#f5b7cf", "#b03a6b", 218), // Flag-Waving
    ("#fff07a", "#a68b00", 228), // Loaded_Language
    ("#ffc2ee", "#b0368f", 219), // Name_Calling,Labeling
    ("#bff0dc", "#1e8a62", 158), // Repetition
    ("#e8d5b0", "#8a6a2e", 187), // Slogans
    ("#cdd0ff", "#4b53b5", 189), // Thought-terminating_Cliches
    ("#b3ece6", "#1f8076", 152), // Whataboutism,Straw_Men,Red_Herring
    ("#e0e0e0", "#666666", 254), // anything else
];

/// The colours of a technique (by its official name).
pub fn technique_style(technique: &str) -> TechniqueStyle {
    let index = TECHNIQUES
        .iter()
        .position(|t| *t == technique)
        .unwrap_or(TECHNIQUES.len());
    let (highlight, accent, ansi256) = PALETTE[index.min(PALETTE.len() - 1)];
    TechniqueStyle {
        index,
        highlight,
        accent,
        ansi256,
    }
}

/// A technique's official name made readable: `Name_Calling,Labeling` → `Name Calling, Labeling`.
pub fn technique_label(technique: &str) -> String {
    technique.replace('_', " ").replace(',', ", ")
}

/// Every technique of `spans` with its number of spans, most frequent first (ties: by name).
pub fn technique_counts<'a>(
    spans: impl IntoIterator<Item = &'a SpanReport>,
) -> Vec<(String, usize)> {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for s in spans {
        *counts.entry(s.technique_name()).or_default() += 1;
    }
    let mut v: Vec<(String, usize)> = counts
        .into_iter()
        .map(|(t, n)| (t.to_string(), n))
        .collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// A score made drawable: clamped to [0, 1], and 0 when it is not finite.
pub(crate) fn unit(x: f32) -> f32 {
    if x.is_finite() {
        x.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// A number for display: two decimals, `NaN`/`inf` shown as `n/a`.
pub(crate) fn num(x: f32) -> String {
    if x.is_finite() {
        format!("{x:.2}")
    } else {
        "n/a".into()
    }
}

/// An evidence weight for display: signed, two decimals.
pub(crate) fn weight(x: f32) -> String {
    if x.is_finite() {
        format!("{x:+.2}")
    } else {
        "n/a".into()
    }
}

/// Is `r` a non-empty byte range of `doc` on character boundaries?
fn indexes(doc: &str, start: usize, end: usize) -> bool {
    start < end && end <= doc.len() && doc.is_char_boundary(start) && doc.is_char_boundary(end)
}

/// The spans of `report` that can be drawn over `doc`, in text order, each with its footnote
/// number (1-based, in text order): in range, on character boundaries, not overlapping an
/// earlier one.
pub(crate) fn drawable_spans<'r>(report: &'r Report, doc: &str) -> Vec<&'r SpanReport> {
    let mut v: Vec<&SpanReport> = report
        .spans
        .iter()
        .filter(|s| indexes(doc, s.byte_start, s.byte_end))
        .collect();
    v.sort_by_key(|s| (s.byte_start, s.byte_end));
    let mut out: Vec<&SpanReport> = Vec::with_capacity(v.len());
    for s in v {
        if out.last().is_none_or(|p| p.byte_end <= s.byte_start) {
            out.push(s);
        }
    }
    out
}

/// The sentences of `report` that can be drawn over `doc`, in text order, with their index in
/// `report.sentences`.
pub(crate) fn drawable_sentences<'r>(
    report: &'r Report,
    doc: &str,
) -> Vec<(usize, &'r SentenceReport)> {
    let mut v: Vec<(usize, &SentenceReport)> = report
        .sentences
        .iter()
        .enumerate()
        .filter(|(_, s)| indexes(doc, s.byte_start, s.byte_end))
        .collect();
    v.sort_by_key(|(_, s)| (s.byte_start, s.byte_end));
    let mut out: Vec<(usize, &SentenceReport)> = Vec::with_capacity(v.len());
    for s in v {
        if out.last().is_none_or(|p| p.1.byte_end <= s.1.byte_start) {
            out.push(s);
        }
    }
    out
}

/// The score of the sentence that contains `span`, if one does.
pub(crate) fn sentence_score_of(report: &Report, span: &SpanReport) -> Option<f32> {
    let holds = |x: &SentenceReport| x.byte_start <= span.byte_start && span.byte_end <= x.byte_end;
    // Reports list sentences in text order: look there first, then (a hand-made report) anywhere.
    let k = report
        .sentences
        .partition_point(|x| x.byte_start <= span.byte_start);
    k.checked_sub(1)
        .and_then(|k| report.sentences.get(k))
        .filter(|x| holds(x))
        .or_else(|| report.sentences.iter().find(|x| holds(x)))
        .map(|x| x.score)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::*;

    pub(crate) fn report() -> Report {
        Report {
            score: 0.8,
            label: Label::Loaded,
            sentences: vec![SentenceReport {
                start: 0,
                end: 12,
                byte_start: 0,
                byte_end: 15,
                score: 0.9,
            }],
            spans: vec![SpanReport {
                start: 0,
                end: 5,
                byte_start: 0,
                byte_end: 8,
                text: "Zoë’s".into(),
                score: 0.7,
                technique: Some(crate::report::Technique::LoadedLanguage),
                technique_score: 0.6,
                evidence: vec![],
            }],
            model: ModelInfo {
                name: "m".into(),
                version: "1".into(),
            },
        }
    }

    #[test]
    fn semeval_lines() {
        assert_eq!(semeval(&report(), "42", false), "42\t0\t5\n");
        assert_eq!(
            semeval(&report(), "42", true),
            "42\tLoaded_Language\t0\t5\n"
        );
    }

    #[test]
    fn json_has_contract_fields() {
        let v: serde_json::Value = serde_json::from_str(&json(&report())).unwrap();
        for k in ["score", "label", "sentences", "spans", "model"] {
            assert!(v.get(k).is_some(), "{k}");
        }
        for k in [
            "start",
            "end",
            "byte_start",
            "byte_end",
            "text",
            "score",
            "technique",
            "technique_score",
            "evidence",
        ] {
            assert!(v["spans"][0].get(k).is_some(), "{k}");
        }
    }

    #[test]
    fn every_technique_has_its_own_colour() {
        let mut seen = std::collections::BTreeSet::new();
        for t in TECHNIQUES {
            let s = technique_style(t);
            assert!(s.index < TECHNIQUES.len());
            assert!(seen.insert(s.highlight), "{t} shares a colour");
        }
        assert_eq!(technique_style("no such").index, TECHNIQUES.len());
        assert_eq!(
            technique_label("Name_Calling,Labeling"),
            "Name Calling, Labeling"
        );
    }

    #[test]
    fn undrawable_spans_are_left_out() {
        let doc = "Zoë’s x y z.";
        let mut r = report();
        let mut bad = r.spans[0].clone();
        bad.byte_start = 3; // inside `ë`
        bad.byte_end = 5;
        r.spans.push(bad);
        let mut out_of_range = r.spans[0].clone();
        out_of_range.byte_start = 10;
        out_of_range.byte_end = 99;
        r.spans.push(out_of_range);
        let mut overlapping = r.spans[0].clone();
        overlapping.byte_start = 1;
        overlapping.byte_end = 9;
        r.spans.push(overlapping);
        assert_eq!(drawable_spans(&r, doc).len(), 1);
        assert_eq!(drawable_sentences(&r, doc).len(), 1);
        assert_eq!(num(f32::NAN), "n/a");
        assert_eq!(unit(f32::INFINITY), 0.0);
        assert_eq!(unit(1.5), 1.0);
    }
}
