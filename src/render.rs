//! Stage 7, renderers: a [`Report`] as readable text, JSON, or SemEval submission lines.

use crate::report::Report;
use std::fmt::Write as _;

/// Output formats of `slant analyze`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human-readable report.
    Text,
    /// The JSON report (one object).
    Json,
    /// SemEval-2020 Task 11 lines: `id TAB start TAB end` (code points), or with techniques
    /// `id TAB technique TAB start TAB end` as the official TC scorer reads them.
    Semeval,
}

/// Renders the human-readable report of one document.
pub fn text(report: &Report, source: &str, doc: &str) -> String {
    let mut o = String::new();
    let gauge_len = 20;
    let filled = ((report.score.clamp(0.0, 1.0) * gauge_len as f32).round()) as usize;
    let _ = writeln!(o, "{source}");
    let _ = writeln!(
        o,
        "  document score {:.2} [{}{}] {}",
        report.score,
        "#".repeat(filled),
        "-".repeat(gauge_len - filled),
        report.label.as_str()
    );
    let flagged = report.sentences.iter().filter(|s| s.score >= 0.5).count();
    let _ = writeln!(
        o,
        "  {} sentences ({} scored loaded), {} flagged spans; model {} {}",
        report.sentences.len(),
        flagged,
        report.spans.len(),
        report.model.name,
        report.model.version
    );
    for (i, s) in report.spans.iter().enumerate() {
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "  [{}] \"{}\"  (chars {}..{}, score {:.2})",
            i + 1,
            one_line(&s.text),
            s.start,
            s.end,
            s.score
        );
        let _ = writeln!(
            o,
            "      technique: {} ({:.2})",
            s.technique, s.technique_score
        );
        if !s.evidence.is_empty() {
            let ev: Vec<String> = s
                .evidence
                .iter()
                .map(|e| format!("{} {:+.2}", e.text, e.weight))
                .collect();
            let _ = writeln!(o, "      evidence:  {}", ev.join(", "));
        }
        if let Some(sent) = report
            .sentences
            .iter()
            .find(|x| x.byte_start <= s.byte_start && s.byte_end <= x.byte_end)
        {
            if let Some(ctx) = doc.get(sent.byte_start..sent.byte_end) {
                let _ = writeln!(
                    o,
                    "      sentence:  {} (score {:.2})",
                    clip(&one_line(ctx), 160),
                    sent.score
                );
            }
        }
    }
    if report.spans.is_empty() {
        let _ = writeln!(o, "\n  no span flagged");
    }
    o
}

/// The report as one JSON object.
pub fn json(report: &Report) -> String {
    serde_json::to_string(report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// SemEval lines for one article.
pub fn semeval(report: &Report, article_id: &str, techniques: bool) -> String {
    let mut o = String::new();
    for s in &report.spans {
        if techniques {
            let _ = writeln!(o, "{article_id}\t{}\t{}\t{}", s.technique, s.start, s.end);
        } else {
            let _ = writeln!(o, "{article_id}\t{}\t{}", s.start, s.end);
        }
    }
    o
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn clip(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max_chars).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::*;

    fn report() -> Report {
        Report {
            score: 0.8,
            label: Label::Loaded,
            sentences: vec![SentenceReport {
                start: 0,
                end: 12,
                byte_start: 0,
                byte_end: 13,
                score: 0.9,
            }],
            spans: vec![SpanReport {
                start: 0,
                end: 6,
                byte_start: 0,
                byte_end: 7,
                text: "Zoë’s".into(),
                score: 0.7,
                technique: "Loaded_Language".into(),
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
        assert_eq!(semeval(&report(), "42", false), "42\t0\t6\n");
        assert_eq!(
            semeval(&report(), "42", true),
            "42\tLoaded_Language\t0\t6\n"
        );
    }

    #[test]
    fn text_mentions_score_and_span() {
        let t = text(&report(), "doc.txt", "Zoë’s x y z.");
        assert!(t.contains("document score 0.80"));
        assert!(t.contains("Loaded_Language"));
        assert!(t.contains("loaded"));
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
}
