//! The pipeline, end to end: text → sentences → tokens → features → scores → spans → report.
//! Pure: text in, report out.

use crate::error::Result;
use crate::features::RepeatCounter;
use crate::model::Model;
use crate::report::{Evidence, Label, ModelInfo, Report, SentenceReport, SpanReport};
use crate::scores::{best_technique, evidence, score_sentence, ScoredSentence};
use crate::sentences;
use crate::spans::{decode, span_score, DecodeParams};
use crate::text::CharOffsets;
use crate::tokens::Token;
use std::ops::Range;

/// How many evidence words a span reports at most.
pub const MAX_EVIDENCE: usize = 5;

/// Analysis options.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Options {
    /// Overrides the model's span threshold (`high`; `low` scales with it).
    pub threshold: Option<f32>,
}

/// Analyses documents with one model.
#[derive(Debug, Clone)]
pub struct Analyzer<'m> {
    model: &'m Model,
    decode: DecodeParams,
}

impl<'m> Analyzer<'m> {
    /// An analyzer over `model` with `options`.
    pub fn new(model: &'m Model, options: Options) -> Self {
        let mut decode = model.span.decode;
        if let Some(t) = options.threshold {
            decode = decode.with_threshold(t);
        }
        Analyzer { model, decode }
    }

    /// The model in use.
    pub fn model(&self) -> &Model {
        self.model
    }

    /// Scores every sentence of `text` (stages 1–4).
    pub fn score(&self, text: &str) -> Result<Vec<ScoredSentence>> {
        sentences::split(text)
            .into_iter()
            .map(|r| score_sentence(self.model, text, r))
            .collect()
    }

    /// Decodes the spans of scored sentences (stage 5): (sentence index, token range).
    pub fn spans(&self, scored: &[ScoredSentence]) -> Vec<(usize, Range<usize>)> {
        let mut out = Vec::new();
        for (k, s) in scored.iter().enumerate() {
            for r in decode(&s.tokens, &s.token_probs, s.prob, &self.decode) {
                out.push((k, r));
            }
        }
        out
    }

    /// Analyses one document.
    pub fn analyze(&self, text: &str) -> Result<Report> {
        let scored = self.score(text)?;
        let spans = self.spans(&scored);
        Ok(self.report(text, &scored, &spans))
    }

    /// Builds the report (stage 6).
    fn report(
        &self,
        text: &str,
        scored: &[ScoredSentence],
        spans: &[(usize, Range<usize>)],
    ) -> Report {
        let offsets = CharOffsets::new(text);
        let cp = |b: usize| offsets.char_of_byte(text, b);
        let logits: Vec<f32> = scored.iter().map(|s| s.logit).collect();
        let score = self.model.document.probability(&logits);
        let sentences = scored
            .iter()
            .map(|s| SentenceReport {
                start: cp(s.range.start),
                end: cp(s.range.end),
                byte_start: s.range.start,
                byte_end: s.range.end,
                score: s.prob,
            })
            .collect();
        // Technique features see the whole document's tokens (context may cross sentences,
        // exactly as in training, where gold spans can).
        let doc_tokens: Vec<Token> = if spans.is_empty() {
            Vec::new()
        } else {
            scored
                .iter()
                .flat_map(|s| s.tokens.iter().cloned())
                .collect()
        };
        let mut first_token = Vec::with_capacity(scored.len());
        let mut n = 0;
        for s in scored {
            first_token.push(n);
            n += s.tokens.len();
        }
        let repeats = RepeatCounter::new(&doc_tokens);
        let spans = spans
            .iter()
            .map(|(k, r)| {
                let s = &scored[*k];
                let (bs, be) = (s.tokens[r.start].start, s.tokens[r.end - 1].end);
                let doc_range = (first_token[*k] + r.start)..(first_token[*k] + r.end);
                let (technique, technique_score) =
                    best_technique(self.model, &doc_tokens, doc_range, &repeats);
                let mut ev: Vec<Evidence> = evidence(self.model, &s.tokens, s.prob, r.clone())
                    .into_iter()
                    .filter(|&(_, w)| w > 0.0)
                    .map(|(j, w)| {
                        let t = &s.tokens[j];
                        Evidence {
                            start: cp(t.start),
                            end: cp(t.end),
                            byte_start: t.start,
                            byte_end: t.end,
                            text: text[t.start..t.end].to_string(),
                            weight: w,
                        }
                    })
                    .collect();
                ev.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.start.cmp(&b.start)));
                ev.truncate(MAX_EVIDENCE);
                SpanReport {
                    start: cp(bs),
                    end: cp(be),
                    byte_start: bs,
                    byte_end: be,
                    text: text[bs..be].to_string(),
                    score: span_score(&s.token_probs, r),
                    technique,
                    technique_score,
                    evidence: ev,
                }
            })
            .collect();
        Report {
            score,
            label: Label::of(score),
            sentences,
            spans,
            model: ModelInfo {
                name: self.model.card.name.clone(),
                version: self.model.card.version.clone(),
            },
        }
    }
}
