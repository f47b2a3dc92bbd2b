//! The pipeline, end to end: text → sentences → tokens → features → scores → spans → report.
//! Pure: text in, report out.

use crate::compiled::{CompiledHeads, TechWord, TokenWords};
use crate::error::Result;
use crate::features::{RepeatCounter, StreamedRepeats};
use crate::lexicon::is_function_word;
use crate::model::Model;
use crate::report::{Evidence, Label, ModelInfo, Report, SentenceReport, SpanReport};
use crate::scores::{
    best_of, prepare_fast, score_sentence, sentence_head_fast, span_head_fast,
    technique_probabilities_fast, ScoredSentence, Scratch, TechniqueBuffers,
};
use crate::sentences;
use crate::spans::{decode, span_score, DecodeParams};
use crate::text::{CharOffsets, ForwardChars};
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
    /// scores as [`Analyzer::analyze_reference`], bit for bit); a sentence's tokens are dropped
    /// once its spans and their evidence are known. What the technique head needs from the whole
    /// document (the words around a span, repeats of its words) is kept as one word id and shape
    /// per token.
    pub fn analyze(&self, text: &str) -> Result<Report> {
        let model = self.model;
        let mut chars = ForwardChars::new(text);
        let mut buffers = DocBuffers::for_text(text);
        let DocBuffers { scratch, doc } = &mut buffers;
        let ranges = sentences::split(text);
        let mut logits = Vec::with_capacity(ranges.len());
        let mut sentences = Vec::with_capacity(ranges.len());
        let mut spans = Vec::new();
        // Per span: its token range in the document.
        let mut pending: Vec<Range<usize>> = Vec::new();
        for r in ranges {
            let (logit, prob) = sentence_head_fast(model, &self.heads, text, r.clone(), scratch)?;
            logits.push(logit);
            let (start, end) = (chars.at(r.start), chars.at(r.end));
            sentences.push(SentenceReport {
                start,
                end,
                byte_start: r.start,
                byte_end: r.end,
                score: prob,
            });
            let first = doc.len();
            doc.extend(&self.heads, &scratch.tokens, &scratch.infos);
            if self.gated(prob) {
                continue;
            }
            span_head_fast(model, &self.heads, prob, scratch);
            let cp = |b: usize| chars.from(r.start, start, b);
            self.sentence_spans(text, cp, scratch, prob, |span, sr| {
                spans.push(span);
                pending.push(first + sr.start..first + sr.end);
            });
        }
        // Technique features see the whole document's tokens (context may cross sentences,
        // exactly as in training, where gold spans can).
        if !pending.is_empty() {
            let repeats = doc.repeat_counter();
            let mut buf = TechniqueBuffers::for_document();
            let mut queries = Sequences::default();
            for r in &pending {
                doc.word_ids(r.clone(), &mut buf.words);
                queries.push(buf.words.iter().copied());
            }
            repeats.prepare(queries.iter());
            for (span, r) in spans.iter_mut().zip(pending) {
                (span.technique, span.technique_score) = self.technique(doc, &repeats, r, &mut buf);
            }
            buf.done();
        }
        buffers.done();
        let score = model.document.probability(&logits);
        Ok(Report {
            score,
            label: Label::of(score),
            sentences,
            spans,
            model: self.model_info(),
        })
    }

    /// Analyses many documents in parallel on the current rayon pool, yielding one result per
    /// document **in input order**. The input is consumed lazily, [`MANY_CHUNK`] documents at a
    /// time, so memory stays bounded by one chunk of documents and reports however long the
    /// iterator is (a file of millions of articles can be streamed through it). To choose the
    /// number of threads, call it inside `rayon::ThreadPool::install`.
    ///
    /// ```
    /// use slant::{Analyzer, Model, Options};
    ///
    /// let model = Model::embedded()?;
    /// let analyzer = Analyzer::new(&model, Options::default());
    /// let docs = ["A calm, factual note.", "", "They called it a shameful, disgraceful betrayal!"];
    /// let reports: Vec<_> = analyzer.analyze_many(docs).collect::<Result<_, _>>()?;
    /// assert_eq!(reports.len(), 3);
    /// assert_eq!(reports[1].spans.len(), 0);
    /// # Ok::<(), slant::Error>(())
    /// ```
    pub fn analyze_many<I>(&self, docs: I) -> AnalyzeMany<'_, 'm, I::IntoIter>
    where
        I: IntoIterator,
        I::Item: AsRef<str> + Send,
    {
        AnalyzeMany {
            analyzer: self,
            docs: docs.into_iter(),
            ready: std::collections::VecDeque::new(),
        }
    }

    /// Writes the JSON of [`Analyzer::analyze`]`(text)` (byte for byte what `serde_json` makes
    /// of the [`Report`]) to `w` without holding the report: a first pass over the sentences
    /// computes the sentence scores (the document score comes first in the JSON) and the
    /// document's word ids, a second pass scores tokens and writes each span as it is decoded.
    /// Memory is a few bytes per token and per sentence, whatever the size of the report.
    ///
    /// A document longer than [`LEAN_BYTES`] keeps even less: no word id per token either. Its
    /// sentences are read once more instead (four passes: sentence scores and word numbering;
    /// the spans' word sequences; one pass that counts their repeats as the words stream by,
    /// [`StreamedRepeats`]; the spans written), so that memory is the text, a few bytes per
    /// sentence and per span word, and the document's vocabulary. The output is the same.
    pub fn write_json(&self, text: &str, w: &mut impl std::io::Write) -> Result<()> {
        self.write_json_with(text, w, LEAN_BYTES)
    }

    /// [`Analyzer::write_json`], taking the lean path for documents longer than `lean_above`
    /// bytes (tests take it for every document).
    pub(crate) fn write_json_with(
        &self,
        text: &str,
        w: &mut impl std::io::Write,
        lean_above: usize,
    ) -> Result<()> {
        if text.len() > lean_above {
            return self.write_json_lean(text, w);
        }
        let model = self.model;
        let io = |e: std::io::Error| crate::error::Error::io("<output>", e);
        let offsets = CharOffsets::bytes_to_chars_only(text);
        let mut scratch = Scratch::default();
        let mut doc = DocWords::for_text(text);
        let ranges = sentences::split(text);
        let mut logits = Vec::with_capacity(ranges.len());
        let mut counts = Vec::with_capacity(ranges.len());
        for r in &ranges {
            let (logit, _) = sentence_head_fast(model, &self.heads, text, r.clone(), &mut scratch)?;
            logits.push(logit);
            counts.push(scratch.tokens.len());
            doc.extend(&self.heads, &scratch.tokens, &scratch.infos);
        }
        let mut out = String::new();
        let mut head_cp = |b: usize| offsets.char_of_byte(text, b);
        self.write_json_head(&mut head_cp, &ranges, &logits, &mut out, w)?;
        let repeats = doc.repeat_counter();
        let mut buf = TechniqueBuffers::for_document();
        let passes = SpanPasses {
            text,
            ranges: &ranges,
            logits: &logits,
            counts: &counts,
        };
        if repeats.word_count() > RepeatCounter::ON_DEMAND_WORDS {
            // A long document: register the spans' word sequences first (one more pass over
            // the sentences above the gate), so that repeat counting keeps memory in proportion
            // to the spans rather than to the document.
            let mut queries = Sequences::default();
            self.above_gate(&passes, &mut scratch, |first, prob, scratch| {
                for sr in decode(&scratch.tokens, &scratch.probs, prob, &self.decode) {
                    doc.word_ids(first + sr.start..first + sr.end, &mut buf.words);
                    queries.push(buf.words.iter().copied());
                }
                Ok(())
            })?;
            repeats.prepare(queries.iter());
        }
        let mut n = 0usize;
        self.above_gate(&passes, &mut scratch, |first, prob, scratch| {
            let mut failed = None;
            let cp = |b: usize| offsets.char_of_byte(text, b);
            self.sentence_spans(text, cp, scratch, prob, |mut span, sr| {
                if failed.is_some() {
                    return;
                }
                let dr = first + sr.start..first + sr.end;
                (span.technique, span.technique_score) =
                    self.technique(&doc, &repeats, dr, &mut buf);
                out.clear();
                if n > 0 {
                    out.push(',');
                }
                crate::json::span(&mut out, &span);
                if let Err(e) = w.write_all(out.as_bytes()) {
                    failed = Some(e);
                }
                n += 1;
            });
            failed.map_or(Ok(()), |e| Err(io(e)))
        })?;
        buf.done();
        self.write_json_tail(w)
    }

    /// The JSON report up to its spans: the document score and label, and the sentences
    /// (`out` is a reusable buffer).
    fn write_json_head(
        &self,
        cp: &mut dyn FnMut(usize) -> usize,
        ranges: &[Range<usize>],
        logits: &[f32],
        out: &mut String,
        w: &mut impl std::io::Write,
    ) -> Result<()> {
        let io = |e: std::io::Error| crate::error::Error::io("<output>", e);
        let json = |e: serde_json::Error| io(std::io::Error::from(e));
        let score = self.model.document.probability(logits);
        w.write_all(b"{\"score\":").map_err(io)?;
        serde_json::to_writer(&mut *w, &score).map_err(json)?;
        w.write_all(b",\"label\":").map_err(io)?;
        serde_json::to_writer(&mut *w, &Label::of(score)).map_err(json)?;
        w.write_all(b",\"sentences\":[").map_err(io)?;
        out.clear();
        for (k, (r, &logit)) in ranges.iter().zip(logits).enumerate() {
            if k > 0 {
                out.push(',');
            }
            let s = SentenceReport {
                start: cp(r.start),
                end: cp(r.end),
                byte_start: r.start,
                byte_end: r.end,
                score: crate::model::sigmoid(logit),
            };
            crate::json::sentence(out, &s);
            if out.len() >= 1 << 14 {
                w.write_all(out.as_bytes()).map_err(io)?;
                out.clear();
            }
        }
        w.write_all(out.as_bytes()).map_err(io)?;
        w.write_all(b"],\"spans\":[").map_err(io)
    }

    /// The end of the JSON report, after its spans.
    fn write_json_tail(&self, w: &mut impl std::io::Write) -> Result<()> {
        let io = |e: std::io::Error| crate::error::Error::io("<output>", e);
        let json = |e: serde_json::Error| io(std::io::Error::from(e));
        w.write_all(b"],\"model\":").map_err(io)?;
        serde_json::to_writer(&mut *w, &self.model_info()).map_err(json)?;
        w.write_all(b"}").map_err(io)
    }

    /// The lean path of [`Analyzer::write_json`] (see there): no per-token state is kept; the
    /// technique head's context is read off the sentences themselves (re-tokenised when a span
    /// reaches into a neighbour) and repeats are counted by [`StreamedRepeats`].
    fn write_json_lean(&self, text: &str, w: &mut impl std::io::Write) -> Result<()> {
        let mut sink = JsonSink {
            analyzer: self,
            w,
            out: String::new(),
            spans: 0,
        };
        self.stream_lean(text, &mut sink)?;
        self.write_json_tail(sink.w)
    }

    /// The passes of the lean path (see [`Analyzer::write_json`]): `sink` gets the sentences
    /// with their logits once they are all scored, then every span, in order.
    fn stream_lean(&self, text: &str, sink: &mut impl LeanSink) -> Result<()> {
        let model = self.model;
        let mut scratch = Scratch::default();
        // Numbering only: no sequence is kept.
        let mut doc = DocWords::default();
        let ranges = sentences::split(text);
        let mut logits = Vec::with_capacity(ranges.len());
        let mut has_tokens = Vec::with_capacity(ranges.len());
        // Occurrences of each word id, and the number of words (punctuation left out, as the
        // repeat counter does).
        let mut word_counts: Vec<usize> = Vec::new();
        let mut words = 0usize;
        for r in &ranges {
            let (logit, _) = sentence_head_fast(model, &self.heads, text, r.clone(), &mut scratch)?;
            logits.push(logit);
            has_tokens.push(!scratch.tokens.is_empty());
            doc.number(&self.heads, &scratch.tokens, &scratch.infos, |id, punct| {
                if !punct {
                    let id = id as usize;
                    if word_counts.len() <= id {
                        word_counts.resize(id + 1, 0);
                    }
                    word_counts[id] += 1;
                    words += 1;
                }
            });
        }
        word_counts.resize(doc.forms().max(word_counts.len()), 0);
        // Code-point offsets are counted forward (the sentences come in order; a span's
        // offsets from its sentence's start), with no table of the text.
        let mut chars = ForwardChars::new(text);
        sink.sentences(&mut |b| chars.at(b), &ranges, &logits)?;
        let mut chars = ForwardChars::new(text);
        // The spans' word sequences, in the order they are written below.
        let mut streamed = StreamedRepeats::new(word_counts, words);
        let mut ids = Vec::new();
        self.each_above_gate(text, &ranges, &logits, &mut scratch, |_, prob, scratch| {
            for sr in decode(&scratch.tokens, &scratch.probs, prob, &self.decode) {
                ids.clear();
                let (tokens, infos) = (&scratch.tokens[sr.clone()], &scratch.infos[sr]);
                doc.number(&self.heads, tokens, infos, |id, punct| {
                    if !punct {
                        ids.push(id);
                    }
                });
                streamed.add(&ids);
            }
            Ok(())
        })?;
        streamed.plan();
        // Every word of the document, once more, through the counter.
        for r in &ranges {
            prepare_fast(&self.heads, text, r.clone(), &mut scratch)?;
            doc.number(&self.heads, &scratch.tokens, &scratch.infos, |id, punct| {
                if !punct {
                    streamed.push(id);
                }
            });
        }
        let mut repeats = streamed.counts();
        let mut buf = TechniqueBuffers::for_document();
        let (mut near, mut context, mut words) = (Vec::new(), Vec::new(), Vec::new());
        let written =
            self.each_above_gate(text, &ranges, &logits, &mut scratch, |k, prob, scratch| {
                let r = &ranges[k];
                let mut failed = None;
                let start = chars.at(r.start);
                let cp = |b: usize| chars.from(r.start, start, b);
                let neighbours = Neighbours {
                    text,
                    ranges: &ranges,
                    has_tokens: &has_tokens,
                    sentence: k,
                };
                self.sentence_spans(text, cp, scratch, prob, |mut span, sr| {
                    if failed.is_some() {
                        return;
                    }
                    let repeat = repeats.next().unwrap_or(1);
                    let at = neighbours.context(&scratch.tokens, sr, &mut context, &mut near);
                    // The technique word of each token, found once per word of the document.
                    buf.words.clear();
                    doc.number(&self.heads, &context, &[], |id, _| buf.words.push(id));
                    if buf.known.len() < doc.forms() {
                        buf.known.resize(doc.forms(), false);
                        buf.doc_words.resize(doc.forms(), TechWord::UNKNOWN);
                    }
                    words.clear();
                    for (t, &id) in context.iter().zip(&buf.words) {
                        let id = id as usize;
                        if let (Some(known), Some(w)) =
                            (buf.known.get_mut(id), buf.doc_words.get_mut(id))
                        {
                            if !*known {
                                *w = self.heads.technique_word(model, t.piece());
                                *known = true;
                            }
                            words.push(*w);
                        } else {
                            words.push(self.heads.technique_word(model, t.piece()));
                        }
                    }
                    let view = TokenWords::from_parts(&context, &words);
                    let probs = technique_probabilities_fast(
                        model,
                        &self.heads,
                        &view,
                        at,
                        repeat,
                        &mut buf.scratch,
                        &mut buf.probs,
                    );
                    (span.technique, span.technique_score) = best_of(model, probs);
                    if let Err(e) = sink.span(&span) {
                        failed = Some(e);
                    }
                });
                failed.map_or(Ok(()), Err)
            });
        buf.done();
        written
    }

    /// Writes the SemEval lines of [`Analyzer::analyze`]`(text)` (those of
    /// [`crate::render::semeval`]: `article_id`, with the technique when `techniques`, and the
    /// span's code-point offsets, one span a line) to `w`. A document longer than [`LEAN_BYTES`]
    /// is streamed as on the lean path of [`Analyzer::write_json`], without its report.
    pub fn write_semeval(
        &self,
        text: &str,
        article_id: &str,
        techniques: bool,
        w: &mut impl std::io::Write,
    ) -> Result<()> {
        self.write_semeval_with(text, article_id, techniques, w, LEAN_BYTES)
    }

    /// [`Analyzer::write_semeval`], streaming documents longer than `lean_above` bytes.
    pub(crate) fn write_semeval_with(
        &self,
        text: &str,
        article_id: &str,
        techniques: bool,
        w: &mut impl std::io::Write,
        lean_above: usize,
    ) -> Result<()> {
        let io = |e: std::io::Error| crate::error::Error::io("<output>", e);
        if text.len() > lean_above {
            let mut sink = SemevalSink {
                w,
                article_id,
                techniques,
                line: String::new(),
            };
            return self.stream_lean(text, &mut sink);
        }
        let report = self.analyze(text)?;
        w.write_all(crate::render::semeval(&report, article_id, techniques).as_bytes())
            .map_err(io)
    }

    /// True when a sentence of probability `prob` is below the decoding gate: it yields no
    /// span (see [`decode`]), so its token scores are never needed.
    fn gated(&self, prob: f32) -> bool {
        prob < self.decode.sentence_gate
    }

    /// One pass of `write_json` over the sentences at or above the decoding gate: each is
    /// tokenised and scored by the span head again, then `f` gets the index of its first token
    /// in the document, its probability, and the scratch with its tokens and token scores.
    fn above_gate(
        &self,
        p: &SpanPasses<'_>,
        scratch: &mut Scratch,
        mut f: impl FnMut(usize, f32, &Scratch) -> Result<()>,
    ) -> Result<()> {
        // Index of the first token of sentence `seen`.
        let (mut first, mut seen) = (0, 0);
        self.each_above_gate(p.text, p.ranges, p.logits, scratch, |k, prob, scratch| {
            first += p.counts.get(seen..k).map_or(0, |c| c.iter().sum::<usize>());
            seen = k;
            f(first, prob, scratch)
        })
    }

    /// Each sentence of `ranges` at or above the decoding gate (its probability from its
    /// sentence-head logit in `logits`), tokenised and scored by the span head again: `f` gets
    /// its index, its probability and the scratch with its tokens and token scores.
    fn each_above_gate(
        &self,
        text: &str,
        ranges: &[Range<usize>],
        logits: &[f32],
        scratch: &mut Scratch,
        mut f: impl FnMut(usize, f32, &Scratch) -> Result<()>,
    ) -> Result<()> {
        for (k, (r, &logit)) in ranges.iter().zip(logits).enumerate() {
            let prob = crate::model::sigmoid(logit);
            if !self.gated(prob) {
                prepare_fast(&self.heads, text, r.clone(), scratch)?;
                span_head_fast(self.model, &self.heads, prob, scratch);
                f(k, prob, scratch)?;
            }
        }
        Ok(())
    }

    fn model_info(&self) -> ModelInfo {
        ModelInfo {
            name: self.model.card.name.clone(),
            version: self.model.card.version.clone(),
        }
    }

    /// Decodes the spans of the sentence whose tokens and token scores are in `scratch` and
    /// calls `f` with each span's report (technique not yet set) and its token range.
    fn sentence_spans(
        &self,
        text: &str,
        cp: impl Fn(usize) -> usize,
        scratch: &Scratch,
        prob: f32,
        mut f: impl FnMut(SpanReport, Range<usize>),
    ) {
        let tokens = &scratch.tokens;
        for sr in decode(tokens, &scratch.probs, prob, &self.decode) {
            let (bs, be) = (tokens[sr.start].start, tokens[sr.end - 1].end);
            let ev = top_evidence(
                text,
                tokens,
                &cp,
                sr.clone()
                    .map(|j| (j, scratch.own[j]))
                    .filter(|&(j, _)| !tokens[j].is_punct() && !is_function_word(&tokens[j].norm)),
            );
            let span = SpanReport {
                start: cp(bs),
                end: cp(be),
                byte_start: bs,
                byte_end: be,
                text: text[bs..be].to_string(),
                score: span_score(&scratch.probs, &sr),
                technique: String::new(),
                technique_score: 0.0,
                evidence: ev,
            };
            f(span, sr);
        }
    }

    /// The technique of the span at document tokens `r`.
    fn technique(
        &self,
        doc: &DocWords,
        repeats: &RepeatCounter,
        r: Range<usize>,
        buf: &mut TechniqueBuffers,
    ) -> (String, f32) {
        // The span and two tokens either side: all that technique features read.
        let lo = r.start.saturating_sub(2);
        let hi = (r.end + 2).min(doc.len());
        doc.technique_words(self.model, &self.heads, lo..hi, buf);
        doc.word_ids(r.clone(), &mut buf.words);
        let n = repeats.count_ids(&buf.words);
        let view = DocWindow {
            doc,
            lo,
            hi,
            words: &buf.doc_words,
        };
        let probs = technique_probabilities_fast(
            self.model,
            &self.heads,
            &view,
            r.start - lo..r.end - lo,
            n,
            &mut buf.scratch,
            &mut buf.probs,
        );
        best_of(self.model, probs)
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
                let ev = top_evidence(
                    text,
                    &s.tokens,
                    cp,
                    evidence(self.model, &s.tokens, s.prob, r.clone()).into_iter(),
                );
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

/// Index of a `Token::shape` value in [`SHAPES`] (the six values differ in first byte or length).
#[inline]
fn shape_code(shape: &str) -> u8 {
    match (shape.as_bytes().first(), shape.len()) {
        (Some(b'p'), _) => 0,
        (Some(b'X'), 2) => 1,
        (Some(b'X'), _) => 2,
        (Some(b'x'), _) => 3,
        (Some(b'0'), _) => 4,
        _ => 5,
    }
}

/// Every value of `Token::shape`; `shapes` stores an index into it.
#[cfg(test)]
const SHAPES: [&str; 6] = ["p", "Xx", "X", "x", "0", "o"];
const PUNCT: u8 = 0;
/// The code of `X` (all caps).
const ALL_CAPS: u8 = 2;

/// The document's tokens as far as the technique head needs them: per token the id of its
/// normalised form (equal forms, equal ids, numbered in order of first occurrence) and its
/// shape.
#[derive(Debug, Default)]
struct DocWords {
    /// Id in the word table of `CompiledHeads` → id here, for the words in that table (no
    /// string to hash or compare: the table already told equal words apart).
    known: KnownIds,
    /// For the other words: hash of a normalised form → its id (confirmed against `forms`;
    /// forms sharing a hash fall back to `spill`).
    ids: std::collections::HashMap<u64, u32, crate::hashing::PassThroughBuild>,
    spill: FxHashMap<CompactString, u32>,
    /// Per id: a token with that normalised form (offsets unused).
    forms: Vec<Token>,
    /// Per token: id, and shape (index into `SHAPES`).
    ids_seq: Vec<u32>,
    shapes: Vec<u8>,
}

impl DocWords {
    /// Empty, with room for a text of `text.len()` bytes (about one token per five bytes and one
    /// distinct word per twenty, capped), so that the tables rarely grow.
    fn for_text(text: &str) -> Self {
        let mut doc = DocWords::default();
        doc.reset_for(text);
        doc
    }

    /// Empties the tables for a text of `text.len()` bytes, keeping their memory (as
    /// [`DocWords::for_text`] sizes it).
    fn reset_for(&mut self, text: &str) {
        let tokens = (text.len() / 5).min(1 << 20);
        let words = (text.len() / 20).min(1 << 16);
        // Distinct words of the word table run at about one per ten bytes in news text.
        self.known.reset((text.len() / 10).min(1 << 16));
        self.ids.clear();
        self.spill.clear();
        self.forms.clear();
        self.ids_seq.clear();
        self.shapes.clear();
        self.ids_seq.reserve(tokens);
        self.shapes.reserve(tokens);
        self.forms.reserve(words);
        // Words outside the word table are about one in ten.
        self.ids.reserve(words / 8);
    }

    /// Whether the tables are small enough to be kept for the next document (at most about
    /// 1 MB: those of a document of up to about 160 KB, as [`DocWords::reset_for`] sizes them).
    fn worth_keeping(&self) -> bool {
        self.ids_seq.capacity() <= 1 << 16
            && self.forms.capacity() <= 1 << 13
            && self.known.slots.len() <= 1 << 14
    }

    fn len(&self) -> usize {
        self.ids_seq.len()
    }

    /// Appends a sentence's tokens, whose infos in the word table of `heads` are `infos` (looked
    /// up again for tokens beyond `infos`, so that a word always takes the same path).
    fn extend(
        &mut self,
        heads: &CompiledHeads,
        tokens: &[Token],
        infos: &[crate::compiled::WordInfo],
    ) {
        // Both sequences grow by `tokens.len()`: `extend` over slice iterators reserves once
        // and writes without a capacity check per token.
        self.shapes
            .extend(tokens.iter().map(|t| shape_code(t.shape)));
        let DocWords {
            known,
            ids,
            spill,
            forms,
            ids_seq,
            ..
        } = self;
        ids_seq.extend(
            tokens
                .iter()
                .enumerate()
                .map(|(i, t)| doc_id(heads, known, ids, spill, forms, t, infos.get(i))),
        );
    }

    /// The ids of a sentence's tokens, numbered as [`DocWords::extend`] numbers them, without
    /// keeping them: `f(id, is punctuation)` for each token in order.
    fn number(
        &mut self,
        heads: &CompiledHeads,
        tokens: &[Token],
        infos: &[crate::compiled::WordInfo],
        mut f: impl FnMut(u32, bool),
    ) {
        let DocWords {
            known,
            ids,
            spill,
            forms,
            ..
        } = self;
        for (i, t) in tokens.iter().enumerate() {
            f(
                doc_id(heads, known, ids, spill, forms, t, infos.get(i)),
                t.is_punct(),
            );
        }
    }

    /// Number of distinct normalised forms numbered so far.
    fn forms(&self) -> usize {
        self.forms.len()
    }

    /// Ids of the non-punctuation tokens of `r`, into `out`.
    fn word_ids(&self, r: Range<usize>, out: &mut Vec<u32>) {
        out.clear();
        let pairs = self.ids_seq[r.clone()].iter().zip(&self.shapes[r]);
        out.extend(pairs.filter(|x| *x.1 != PUNCT).map(|x| *x.0));
    }

    /// Makes sure `buf.doc_words` holds the technique word of every word id of tokens `r`
    /// (each id is looked up once per document).
    fn technique_words(
        &self,
        model: &Model,
        heads: &CompiledHeads,
        r: Range<usize>,
        buf: &mut TechniqueBuffers,
    ) {
        if buf.known.len() < self.forms.len() {
            buf.known.resize(self.forms.len(), false);
            buf.doc_words
                .resize(self.forms.len(), crate::compiled::TechWord::UNKNOWN);
        }
        for &id in self.ids_seq.get(r).unwrap_or_default() {
            let id = id as usize;
            if let (Some(known), Some(w), Some(t)) = (
                buf.known.get_mut(id),
                buf.doc_words.get_mut(id),
                self.forms.get(id),
            ) {
                if !*known {
                    *w = heads.technique_word(model, t.piece());
                    *known = true;
                }
            }
        }
    }

    fn repeat_counter(&self) -> RepeatCounter {
        let pairs = self.ids_seq.iter().zip(&self.shapes);
        let seq = pairs.filter(|x| *x.1 != PUNCT).map(|x| *x.0).collect();
        RepeatCounter::from_ids(seq, self.forms.len())
    }
}

/// The document id of token `t` (whose word-table info is `info` when at hand): through the
/// word-table id for a word of the table, else by its normalised form; new forms are numbered
/// next and kept in `forms`.
#[inline]
fn doc_id(
    heads: &CompiledHeads,
    known: &mut KnownIds,
    ids: &mut std::collections::HashMap<u64, u32, crate::hashing::PassThroughBuild>,
    spill: &mut FxHashMap<CompactString, u32>,
    forms: &mut Vec<Token>,
    t: &Token,
    info: Option<&crate::compiled::WordInfo>,
) -> u32 {
    let table_id = match info {
        Some(info) => info.table_id(),
        None => heads.info(t.piece()).table_id(),
    };
    match table_id {
        Some(k) => {
            let next = forms.len() as u32;
            let id = known.get_or_insert(k, next);
            if id == next {
                forms.push(t.clone());
            }
            id
        }
        None => other_id(ids, spill, forms, t),
    }
}

/// Tokens `lo..hi` of a document as the technique head reads them (`words`: the technique
/// word of each word id, see [`DocWords::technique_words`]).
struct DocWindow<'a> {
    doc: &'a DocWords,
    lo: usize,
    hi: usize,
    words: &'a [crate::compiled::TechWord],
}

impl DocWindow<'_> {
    /// Word id of token `i` of the window.
    #[inline]
    fn id(&self, i: usize) -> Option<usize> {
        let j = self.lo + i;
        if j < self.hi {
            self.doc.ids_seq.get(j).map(|&id| id as usize)
        } else {
            None
        }
    }
}

impl crate::compiled::TechniqueTokens for DocWindow<'_> {
    fn len(&self) -> usize {
        self.hi - self.lo
    }

    #[inline]
    fn word(&self, i: usize) -> crate::compiled::TechWord {
        self.id(i)
            .and_then(|id| self.words.get(id))
            .copied()
            .unwrap_or_default()
    }

    #[inline]
    fn norm(&self, i: usize) -> &str {
        self.id(i)
            .and_then(|id| self.doc.forms.get(id))
            .map_or("", |t| t.norm.as_str())
    }

    #[inline]
    fn caps(&self, i: usize) -> bool {
        let j = self.lo + i;
        j < self.hi && self.doc.shapes.get(j) == Some(&ALL_CAPS)
    }
}

/// Id of a word that is not in the word table: found by the hash of its normalised form
/// (confirmed against `forms`), or numbered next.
fn other_id(
    ids: &mut std::collections::HashMap<u64, u32, crate::hashing::PassThroughBuild>,
    spill: &mut FxHashMap<CompactString, u32>,
    forms: &mut Vec<Token>,
    t: &Token,
) -> u32 {
    match ids.get(&t.key.0) {
        Some(&id) if forms[id as usize].norm == t.norm => id,
        Some(_) => match spill.get(t.norm.as_str()) {
            Some(&id) => id,
            None => {
                let id = forms.len() as u32;
                spill.insert(t.norm.clone(), id);
                forms.push(t.clone());
                id
            }
        },
        None => {
            let id = forms.len() as u32;
            ids.insert(t.key.0, id);
            forms.push(t.clone());
            id
        }
    }
}

/// The buffers of one document's analysis ([`Analyzer::analyze`]): each thread keeps those of
/// its last document for its next one, so that a batch does not allocate and grow them again
/// for every document.
#[derive(Debug, Default)]
struct DocBuffers {
    scratch: Scratch,
    doc: DocWords,
}

thread_local! {
    static DOC_BUFFERS: std::cell::RefCell<DocBuffers> =
        std::cell::RefCell::new(DocBuffers::default());
}

impl DocBuffers {
    /// This thread's buffers, emptied for `text` (new ones when another analysis on this
    /// thread holds them).
    fn for_text(text: &str) -> Self {
        let mut b: DocBuffers = DOC_BUFFERS
            .try_with(|b| b.try_borrow_mut().map(|mut b| std::mem::take(&mut *b)))
            .ok()
            .and_then(|b| b.ok())
            .unwrap_or_default();
        b.doc.reset_for(text);
        b
    }

    /// Gives the buffers back to this thread for its next document (unless they grew large).
    fn done(self) {
        if self.doc.worth_keeping() {
            let _ = DOC_BUFFERS.try_with(|b| {
                if let Ok(mut b) = b.try_borrow_mut() {
                    *b = self;
                }
            });
        }
    }
}

/// Word-table id → document id: open addressing with linear probing, a slot holding key (high
/// half) and value (low half) of a `u64`. A free slot is `u64::MAX`, which no entry equals: a
/// document id is below the number of distinct words, never `u32::MAX`.
#[derive(Debug, Default)]
struct KnownIds {
    slots: Vec<u64>,
    /// `64 - log2(slots.len())`: the hash keeps the top bits of a Fibonacci product.
    shift: u32,
    len: usize,
}

impl KnownIds {
    const FREE: u64 = u64::MAX;

    /// Room for `n` entries at load one half.
    fn with_capacity(n: usize) -> Self {
        let slots = (2 * n).next_power_of_two().max(16);
        KnownIds {
            slots: vec![Self::FREE; slots],
            shift: 64 - slots.trailing_zeros(),
            len: 0,
        }
    }

    /// Empty, with room for `n` entries at load one half (the slots are reused when there are
    /// as many).
    fn reset(&mut self, n: usize) {
        let slots = (2 * n).next_power_of_two().max(16);
        if self.slots.len() == slots {
            self.slots.fill(Self::FREE);
            self.len = 0;
        } else {
            *self = KnownIds::with_capacity(n);
        }
    }

    #[inline]
    fn slot(&self, k: u32) -> usize {
        ((k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// The value of `k`, or `next` once inserted as its value.
    #[inline]
    fn get_or_insert(&mut self, k: u32, next: u32) -> u32 {
        if self.slots.is_empty() {
            *self = KnownIds::with_capacity(8);
        }
        let mask = self.slots.len() - 1;
        let mut i = self.slot(k);
        loop {
            let s = self.slots[i];
            if s == Self::FREE {
                self.slots[i] = (u64::from(k) << 32) | u64::from(next);
                self.len += 1;
                if 2 * self.len > self.slots.len() {
                    self.grow();
                }
                return next;
            }
            if (s >> 32) as u32 == k {
                return s as u32;
            }
            i = (i + 1) & mask;
        }
    }

    /// Doubles the table.
    #[cold]
    fn grow(&mut self) {
        let old = std::mem::take(&mut self.slots);
        let mut new = KnownIds::with_capacity(old.len());
        let mask = new.slots.len() - 1;
        for s in old.into_iter().filter(|&s| s != Self::FREE) {
            let mut i = new.slot((s >> 32) as u32);
            while new.slots[i] != Self::FREE {
                i = (i + 1) & mask;
            }
            new.slots[i] = s;
        }
        new.len = self.len;
        *self = new;
    }
}

/// What the lean path of [`Analyzer::write_json`] hands its output to.
trait LeanSink {
    /// The sentences (byte ranges, with `cp` giving the code-point offset of a byte offset,
    /// asked in increasing order) and their sentence-head logits, before any span (nothing to
    /// do for a format that lists spans only).
    fn sentences(
        &mut self,
        _cp: &mut dyn FnMut(usize) -> usize,
        _ranges: &[Range<usize>],
        _logits: &[f32],
    ) -> Result<()> {
        Ok(())
    }
    /// The next span, complete.
    fn span(&mut self, span: &SpanReport) -> Result<()>;
}

/// The JSON report up to its spans' closing bracket.
struct JsonSink<'a, 'm, W> {
    analyzer: &'a Analyzer<'m>,
    w: &'a mut W,
    out: String,
    spans: usize,
}

impl<W: std::io::Write> LeanSink for JsonSink<'_, '_, W> {
    fn sentences(
        &mut self,
        cp: &mut dyn FnMut(usize) -> usize,
        ranges: &[Range<usize>],
        logits: &[f32],
    ) -> Result<()> {
        self.analyzer
            .write_json_head(cp, ranges, logits, &mut self.out, self.w)
    }

    fn span(&mut self, span: &SpanReport) -> Result<()> {
        self.out.clear();
        if self.spans > 0 {
            self.out.push(',');
        }
        crate::json::span(&mut self.out, span);
        self.spans += 1;
        write_output(self.w, &self.out)
    }
}

/// SemEval lines, one per span.
struct SemevalSink<'a, W> {
    w: &'a mut W,
    article_id: &'a str,
    techniques: bool,
    line: String,
}

impl<W: std::io::Write> LeanSink for SemevalSink<'_, W> {
    fn span(&mut self, span: &SpanReport) -> Result<()> {
        self.line.clear();
        crate::render::semeval_line(&mut self.line, self.article_id, span, self.techniques);
        write_output(self.w, &self.line)
    }
}

/// Writes `s` to the output of a [`LeanSink`].
fn write_output(w: &mut impl std::io::Write, s: &str) -> Result<()> {
    w.write_all(s.as_bytes())
        .map_err(|e| crate::error::Error::io("<output>", e))
}

/// Documents longer than this take the lean path of [`Analyzer::write_json`] (8 MiB: below it,
/// the per-token state of the usual path is a few tens of megabytes at most).
pub const LEAN_BYTES: usize = 8 << 20;

/// A sentence of a document among its neighbours, for the technique head's context on the lean
/// path of `write_json`: the tokens of a span and of up to two tokens either side, across
/// sentence bounds as [`DocWords::tokens`] gives them.
struct Neighbours<'a> {
    text: &'a str,
    ranges: &'a [Range<usize>],
    /// Per sentence: whether it has a token.
    has_tokens: &'a [bool],
    sentence: usize,
}

impl Neighbours<'_> {
    /// The tokens of sentence `k`, into `out` (false when they cannot be had).
    fn tokens_of(&self, k: usize, out: &mut Vec<Token>) -> bool {
        out.clear();
        self.ranges
            .get(k)
            .is_some_and(|r| crate::tokens::tokenize_into(self.text, r.clone(), out).is_ok())
    }

    /// Writes into `out` the tokens of `span` (a token range of `tokens`, the sentence's
    /// tokens) with up to two tokens before and after it in the document, tokenising neighbour
    /// sentences into `near` when the span is within two tokens of its sentence's ends; returns
    /// where the span lies in `out`.
    fn context(
        &self,
        tokens: &[Token],
        span: Range<usize>,
        out: &mut Vec<Token>,
        near: &mut Vec<Token>,
    ) -> Range<usize> {
        out.clear();
        // Before: from earlier sentences (the nearest first), then from this one.
        let mut before = 2usize.saturating_sub(span.start);
        let mut k = self.sentence;
        let mut earlier: Vec<Token> = Vec::new();
        while before > 0 && k > 0 {
            k -= 1;
            if !self.has_tokens.get(k).copied().unwrap_or(false) {
                continue;
            }
            if !self.tokens_of(k, near) {
                break;
            }
            let take = before.min(near.len());
            earlier.splice(0..0, near[near.len() - take..].iter().cloned());
            before -= take;
        }
        out.extend(earlier);
        let lo = span.start.saturating_sub(2);
        let hi = (span.end + 2).min(tokens.len());
        out.extend(tokens[lo..hi].iter().cloned());
        let at = out.len() - (hi - lo) + (span.start - lo);
        let at = at..at + span.len();
        // After: from later sentences.
        let mut after = (span.end + 2).saturating_sub(tokens.len());
        let mut k = self.sentence;
        while after > 0 && k + 1 < self.ranges.len() {
            k += 1;
            if !self.has_tokens.get(k).copied().unwrap_or(false) {
                continue;
            }
            if !self.tokens_of(k, near) {
                break;
            }
            let take = after.min(near.len());
            out.extend(near[..take].iter().cloned());
            after -= take;
        }
        at
    }
}

/// What the span passes of `write_json` read from its first pass: the sentences, their
/// sentence-head logits and token counts.
struct SpanPasses<'a> {
    text: &'a str,
    ranges: &'a [Range<usize>],
    logits: &'a [f32],
    counts: &'a [usize],
}

/// Word-id sequences stored end to end (one allocation for all the spans of a document).
#[derive(Default)]
struct Sequences {
    words: Vec<u32>,
    ends: Vec<usize>,
}

impl Sequences {
    fn push(&mut self, words: impl IntoIterator<Item = u32>) {
        self.words.extend(words);
        self.ends.push(self.words.len());
    }

    fn iter(&self) -> impl Iterator<Item = &[u32]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(a, &b)| &self.words[a..b])
    }
}

/// The span's evidence words: tokens with a positive weight, strongest first (ties by position),
/// at most [`MAX_EVIDENCE`]. `weights` are (token index, weight) pairs; `cp` maps a byte offset to
/// its code-point offset. The strongest are chosen before any report is built (token order is
/// position order, so ties are broken by token index).
fn top_evidence(
    text: &str,
    tokens: &[Token],
    cp: impl Fn(usize) -> usize,
    weights: impl Iterator<Item = (usize, f32)>,
) -> Vec<Evidence> {
    let mut top: Vec<(usize, f32)> = weights
        .filter(|&(_, w)| w > 0.0)
        .filter(|&(j, _)| {
            tokens
                .get(j)
                .is_some_and(|t| text.get(t.start..t.end).is_some())
        })
        .collect();
    top.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    top.truncate(MAX_EVIDENCE);
    top.into_iter()
        .filter_map(|(j, w)| {
            let t = tokens.get(j)?;
            Some(Evidence {
                start: cp(t.start),
                end: cp(t.end),
                byte_start: t.start,
                byte_end: t.end,
                text: text.get(t.start..t.end)?.to_string(),
                weight: w,
            })
        })
        .collect()
}

/// Documents taken from the input per parallel step of [`Analyzer::analyze_many`].
pub const MANY_CHUNK: usize = 256;

/// Iterator returned by [`Analyzer::analyze_many`]: one `Result<Report>` per input document, in
/// input order.
#[derive(Debug)]
pub struct AnalyzeMany<'a, 'm, I> {
    analyzer: &'a Analyzer<'m>,
    docs: I,
    ready: std::collections::VecDeque<Result<Report>>,
}

impl<I> Iterator for AnalyzeMany<'_, '_, I>
where
    I: Iterator,
    I::Item: AsRef<str> + Send,
{
    type Item = Result<Report>;

    fn next(&mut self) -> Option<Result<Report>> {
        if self.ready.is_empty() {
            use rayon::prelude::*;
            let chunk: Vec<I::Item> = self.docs.by_ref().take(MANY_CHUNK).collect();
            let analyzer = self.analyzer;
            self.ready = chunk
                .into_par_iter()
                .map(|d| analyzer.analyze(d.as_ref()))
                .collect::<Vec<_>>()
                .into();
        }
        self.ready.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The buffers a thread keeps from one document to the next change no report: each of our
    /// documents analysed after others (a long one among them, whose tables are too big to be
    /// kept, and a short one) gives what it gives on a thread of its own, with new buffers.
    #[test]
    fn buffers_kept_between_documents_change_no_report() {
        let model = Model::embedded().unwrap();
        let analyzer = Analyzer::new(&model, Options::default());
        let data = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/documents.jsonl"),
        )
        .unwrap();
        let mut texts: Vec<String> = data
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v.get("text")?.as_str().map(str::to_string))
            .collect();
        assert!(texts.len() >= 20);
        let joined = texts.join("\n\n");
        let long = joined.repeat(400_000 / joined.len() + 1);
        assert!(long.len() > 400_000, "its tables are not kept");
        texts.insert(7, long);
        texts.insert(9, "Shameful!".to_string());
        let alone = |t: &String| {
            std::thread::scope(|s| s.spawn(|| analyzer.analyze(t).unwrap()).join().unwrap())
        };
        for (i, t) in texts.iter().enumerate() {
            let after_others = analyzer.analyze(t).unwrap();
            assert_eq!(after_others, alone(t), "document {i}");
        }
        // The buffers come back after use, and a nested analysis (the buffers taken) gets new
        // ones.
        let held = DocBuffers::for_text("x");
        assert!(held.doc.forms.capacity() > 0, "kept from the last document");
        let d = &held.doc;
        assert!(d.forms.is_empty() && d.ids_seq.is_empty() && d.ids.is_empty());
        assert_eq!(analyzer.analyze(&texts[0]).unwrap(), alone(&texts[0]));
        held.done();
    }

    /// The lean paths of `write_json` and `write_semeval` write the same bytes as the usual
    /// ones: on our own
    /// documents one by one, on all of them joined into one long document (more words than the
    /// repeat counter indexes on demand, spans reaching across sentences and paragraphs), and on
    /// edge cases (no sentence, sentences without tokens at the ends, CRLF, emoji, a span at
    /// the very start and end).
    #[test]
    fn lean_json_equals_the_usual_json() {
        let model = Model::embedded().unwrap();
        let analyzer = Analyzer::new(&model, Options::default());
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets");
        let mut texts: Vec<String> = Vec::new();
        for name in ["documents.jsonl", "neutral.jsonl", "pairs.jsonl"] {
            let data = std::fs::read_to_string(dir.join(name)).unwrap();
            for line in data.lines().filter(|l| !l.trim().is_empty()) {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                for key in ["text", "loaded", "neutral"] {
                    if let Some(t) = v.get(key).and_then(|t| t.as_str()) {
                        texts.push(t.to_string());
                    }
                }
            }
        }
        assert!(texts.len() > 100, "{}", texts.len());
        let mut joined = texts.join("\n\n");
        while joined.split_whitespace().count() <= 2 * RepeatCounter::ON_DEMAND_WORDS {
            joined = format!("{joined}\r\n{joined}");
        }
        texts.push(joined);
        for edge in [
            "",
            " \n ",
            "Shameful betrayal! Reckless cowards!",
            "\u{201c}Disgraceful,\u{201d} they said. 😡 Reckless, chaotic, humiliating fiasco.\r\n\r\n…",
            "!!! ... Critics called the chaotic withdrawal a shameful betrayal. ??",
        ] {
            texts.push(edge.to_string());
        }
        for text in &texts {
            let (mut usual, mut lean) = (Vec::new(), Vec::new());
            analyzer
                .write_json_with(text, &mut usual, usize::MAX)
                .unwrap();
            analyzer.write_json_with(text, &mut lean, 0).unwrap();
            assert!(
                usual == lean,
                "{}…",
                text.chars().take(80).collect::<String>()
            );
            for techniques in [true, false] {
                let (mut usual, mut lean) = (Vec::new(), Vec::new());
                analyzer
                    .write_semeval_with(text, "7", techniques, &mut usual, usize::MAX)
                    .unwrap();
                analyzer
                    .write_semeval_with(text, "7", techniques, &mut lean, 0)
                    .unwrap();
                assert!(
                    usual == lean,
                    "semeval of {}…",
                    text.chars().take(80).collect::<String>()
                );
            }
        }
        let long = texts.iter().map(|t| t.len()).max().unwrap_or(0);
        assert!(long > 100_000, "{long}");
    }

    /// The word-table id map keeps the first value of every key through its growth.
    #[test]
    fn known_ids_keep_first_values_through_growth() {
        for start in [0, 1, 16, 1000] {
            let mut m = KnownIds::with_capacity(start);
            let keys: Vec<u32> = (0..5000u32)
                .map(|i| i.wrapping_mul(2_654_435_761) % 7919)
                .chain([u32::MAX, 0, u32::MAX - 1])
                .collect();
            let mut want: std::collections::HashMap<u32, u32> = Default::default();
            for &k in &keys {
                let next = want.len() as u32;
                let expect = *want.entry(k).or_insert(next);
                assert_eq!(m.get_or_insert(k, next), expect);
            }
            assert_eq!(m.len, want.len());
            assert!(2 * m.len <= m.slots.len());
        }
        let mut empty = KnownIds::default();
        assert_eq!(empty.get_or_insert(7, 0), 0);
        assert_eq!(empty.get_or_insert(7, 1), 0);
    }

    /// Document word ids number the distinct normalised forms in order of first occurrence,
    /// whether a word is found in the word table or not, and with or without the sentence's
    /// infos at hand.
    #[test]
    fn shape_codes_index_the_shapes() {
        for (k, shape) in SHAPES.iter().enumerate() {
            assert_eq!(shape_code(shape) as usize, k);
        }
        assert_eq!(SHAPES[PUNCT as usize], "p");
        assert_eq!(SHAPES[ALL_CAPS as usize], "X");
    }

    #[test]
    fn document_word_ids_number_forms_in_order_of_first_occurrence() {
        let model = Model::embedded().unwrap();
        let heads = CompiledHeads::new(&model);
        let text = "The shameful betrayal, the SHAMEFUL Zqxwv and zqxwv! Ñandú ñandú 2024 1999 \
                    “quoted” \"quoted\" e\u{301} é — the end.";
        for with_infos in [true, false] {
            let mut doc = DocWords::for_text(text);
            let mut infos = Vec::new();
            let mut all = Vec::new();
            for r in sentences::split(text) {
                let tokens = crate::tokens::tokenize(text, r).unwrap();
                heads.infos(&tokens, &mut infos);
                let given: &[crate::compiled::WordInfo] = if with_infos { &infos } else { &[] };
                doc.extend(&heads, &tokens, given);
                all.extend(tokens);
            }
            let mut first: std::collections::HashMap<&str, u32> = Default::default();
            let want: Vec<u32> = all
                .iter()
                .map(|t| {
                    let next = first.len() as u32;
                    *first.entry(t.norm.as_str()).or_insert(next)
                })
                .collect();
            assert_eq!(doc.ids_seq, want);
            for (t, &id) in all.iter().zip(&doc.ids_seq) {
                assert_eq!(doc.forms[id as usize].norm, t.norm);
            }
            assert!(doc.known.len > 3 && doc.known.len < first.len());
        }
    }
}
