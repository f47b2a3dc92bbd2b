//! The pipeline, end to end: text → sentences → tokens → features → scores → spans → report.
//! Pure: text in, report out.

use crate::compiled::CompiledHeads;
use crate::error::Result;
use crate::features::RepeatCounter;
use crate::lexicon::is_function_word;
use crate::model::Model;
use crate::report::{Evidence, Label, ModelInfo, Report, SentenceReport, SpanReport};
use crate::scores::{
    best_of, score_sentence, score_sentence_fast, technique_probabilities_n, ScoredSentence,
    Scratch,
};
use crate::sentences;
use crate::spans::{decode, span_score, DecodeParams};
use crate::text::CharOffsets;
use crate::tokens::Token;
use compact_str::CompactString;
use rustc_hash::FxHashMap;
use std::ops::Range;
use std::sync::Arc;

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
    heads: Arc<CompiledHeads>,
}

impl<'m> Analyzer<'m> {
    /// An analyzer over `model` with `options`.
    pub fn new(model: &'m Model, options: Options) -> Self {
        let mut decode = model.span.decode;
        if let Some(t) = options.threshold {
            decode = decode.with_threshold(t);
        }
        Analyzer {
            model,
            decode,
            heads: Arc::new(CompiledHeads::new(model)),
        }
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
    ///
    /// Sentences are scored one at a time through the precomputed lookups of the heads (same
    /// scores as [`Analyzer::score`], bit for bit); a sentence's tokens are dropped once its spans
    /// and their evidence are known. What the technique head needs from the whole document (the
    /// words around a span, repeats of its words) is kept as one word id and shape per token.
    pub fn analyze(&self, text: &str) -> Result<Report> {
        let model = self.model;
        let offsets = CharOffsets::bytes_to_chars_only(text);
        let cp = |b: usize| offsets.char_of_byte(text, b);
        let mut scratch = Scratch::default();
        let mut doc = DocWords::default();
        let mut logits = Vec::new();
        let mut sentences = Vec::new();
        let mut spans = Vec::new();
        // Per span: its token range in the document.
        let mut pending: Vec<Range<usize>> = Vec::new();
        for r in sentences::split(text) {
            let (logit, prob) =
                score_sentence_fast(model, &self.heads, text, r.clone(), &mut scratch)?;
            logits.push(logit);
            sentences.push(SentenceReport {
                start: cp(r.start),
                end: cp(r.end),
                byte_start: r.start,
                byte_end: r.end,
                score: prob,
            });
            let tokens = &scratch.tokens;
            let first = doc.len();
            doc.extend(tokens);
            for sr in decode(tokens, &scratch.probs, prob, &self.decode) {
                let (bs, be) = (tokens[sr.start].start, tokens[sr.end - 1].end);
                let mut ev: Vec<Evidence> = sr
                    .clone()
                    .map(|j| (j, scratch.own[j]))
                    .filter(|&(j, _)| !tokens[j].is_punct() && !is_function_word(&tokens[j].norm))
                    .filter(|&(_, w)| w > 0.0)
                    .map(|(j, w)| {
                        let t = &tokens[j];
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
                spans.push(SpanReport {
                    start: cp(bs),
                    end: cp(be),
                    byte_start: bs,
                    byte_end: be,
                    text: text[bs..be].to_string(),
                    score: span_score(&scratch.probs, &sr),
                    technique: String::new(),
                    technique_score: 0.0,
                    evidence: ev,
                });
                pending.push(first + sr.start..first + sr.end);
            }
        }
        // Technique features see the whole document's tokens (context may cross sentences,
        // exactly as in training, where gold spans can).
        if !pending.is_empty() {
            let repeats = doc.repeat_counter();
            let mut buf = Vec::new();
            for (span, r) in spans.iter_mut().zip(pending) {
                // The span and two tokens either side: all that technique features read.
                let lo = r.start.saturating_sub(2);
                let hi = (r.end + 2).min(doc.len());
                doc.tokens(lo..hi, &mut buf);
                let n = repeats.count_ids(&doc.word_ids(r.clone()));
                let probs = technique_probabilities_n(model, &buf, r.start - lo..r.end - lo, n);
                let (technique, technique_score) = best_of(model, &probs);
                span.technique = technique;
                span.technique_score = technique_score;
            }
        }
        let score = model.document.probability(&logits);
        Ok(Report {
            score,
            label: Label::of(score),
            sentences,
            spans,
            model: ModelInfo {
                name: model.card.name.clone(),
                version: model.card.version.clone(),
            },
        })
    }

    /// Analyses one document the reference way: every sentence scored by the generic feature
    /// functions ([`Analyzer::score`]), all tokens kept. [`Analyzer::analyze`] gives the same
    /// report; this is kept to prove it (tests).
    pub fn analyze_reference(&self, text: &str) -> Result<Report> {
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
        use crate::scores::{best_technique, evidence};
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

/// The document's tokens as far as the technique head needs them: per token the id of its
/// normalised form (equal forms, equal ids) and its shape.
#[derive(Debug, Default)]
struct DocWords {
    /// Hash of a normalised form → its id (confirmed against `forms`; forms sharing a hash
    /// fall back to `spill`).
    ids: std::collections::HashMap<u64, u32, crate::hashing::PassThroughBuild>,
    spill: FxHashMap<CompactString, u32>,
    /// Per id: a token with that normalised form (offsets unused).
    forms: Vec<Token>,
    /// Per token: id and shape.
    seq: Vec<(u32, &'static str)>,
}

impl DocWords {
    fn len(&self) -> usize {
        self.seq.len()
    }

    fn extend(&mut self, tokens: &[Token]) {
        for t in tokens {
            let id = match self.ids.get(&t.key.0) {
                Some(&id) if self.forms[id as usize].norm == t.norm => id,
                Some(_) => match self.spill.get(t.norm.as_str()) {
                    Some(&id) => id,
                    None => {
                        let id = self.forms.len() as u32;
                        self.spill.insert(t.norm.clone(), id);
                        self.forms.push(t.clone());
                        id
                    }
                },
                None => {
                    let id = self.forms.len() as u32;
                    self.ids.insert(t.key.0, id);
                    self.forms.push(t.clone());
                    id
                }
            };
            self.seq.push((id, t.shape));
        }
    }

    /// Tokens `r` rebuilt (normalised form and shape; offsets 0), into `out`.
    fn tokens(&self, r: Range<usize>, out: &mut Vec<Token>) {
        out.clear();
        out.extend(self.seq[r].iter().map(|&(id, shape)| {
            let mut t = self.forms[id as usize].clone();
            t.shape = shape;
            t
        }));
    }

    /// Ids of the non-punctuation tokens of `r`.
    fn word_ids(&self, r: Range<usize>) -> Vec<u32> {
        self.seq[r]
            .iter()
            .filter(|x| x.1 != "p")
            .map(|x| x.0)
            .collect()
    }

    fn repeat_counter(&self) -> RepeatCounter {
        let seq = self.seq.iter().filter(|x| x.1 != "p").map(|x| x.0).collect();
        RepeatCounter::from_ids(seq, self.forms.len())
    }
}
