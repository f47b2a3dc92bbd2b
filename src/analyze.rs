//! The pipeline, end to end: text → sentences → tokens → features → scores → spans → report.
//! Pure: text in, report out.
//!
//! [`Analyzer::run`] is the one driver: it reads a document in paragraph-aligned chunks, and
//! for each sentence of a chunk tokenises it, scores it with the sentence head, scores its
//! tokens with the span head (above the decoding gate) and decodes its spans; once a chunk is
//! read, the technique head names each span's technique (its features see the chunk's tokens:
//! the words around the span and how often its words recur). What it finds goes to a
//! [`ReportSink`]: the [`Report`] collects it; JSON and SemEval writers stream it.

use crate::compiled::CompiledHeads;
use crate::error::{Error, Result};
use crate::features::RepeatCounter;
use crate::model::{sigmoid, Model};
use crate::report::{Evidence, Label, ModelInfo, Report, SentenceReport, SpanReport};
use crate::scores::{
    best_of, can_be_evidence, sentence_logit_of, span_scores, technique_probabilities_of,
    FeatureLookup, HeadScratch,
};
use crate::sentences;
use crate::spans::{decode, span_score, DecodeParams};
use crate::text::ForwardChars;
use crate::tokens::Token;
use std::ops::Range;
use std::sync::Arc;

/// How many evidence words a span reports at most.
pub const MAX_EVIDENCE: usize = 5;

/// The longest chunk of a document analysed at once, in bytes. A longer document is cut into
/// chunks at a line break (else at a space) so that memory stays flat however long it is; the
/// technique head's context and repeat counts are then those of the chunk.
pub const CHUNK_BYTES: usize = 1 << 20;

/// Documents longer than this are written as JSON in three passes (document score; sentences;
/// spans) instead of from a collected [`Report`], so that memory does not grow with the report.
pub const STREAM_JSON_BYTES: usize = 8 << 20;

/// Analysis options.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Options {
    /// Overrides the model's span threshold (`high`; `low` scales with it).
    pub threshold: Option<f32>,
}

/// Where [`Analyzer::run`] puts what it finds, in text order: every sentence, then (after the
/// sentences of its chunk) every span. A sink that does not want spans saves the span and
/// technique heads.
pub trait ReportSink {
    /// Whether spans are wanted (when not, [`ReportSink::span`] is never called).
    fn wants_spans(&self) -> bool {
        true
    }
    /// Whether sentences are wanted.
    fn wants_sentences(&self) -> bool {
        true
    }
    /// A sentence and its score.
    fn sentence(&mut self, sentence: &SentenceReport) -> Result<()>;
    /// A flagged span, with its technique and evidence.
    fn span(&mut self, span: SpanReport) -> Result<()>;
}

impl ReportSink for Report {
    fn sentence(&mut self, sentence: &SentenceReport) -> Result<()> {
        self.sentences.push(sentence.clone());
        Ok(())
    }

    fn span(&mut self, span: SpanReport) -> Result<()> {
        self.spans.push(span);
        Ok(())
    }
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

    /// Analyses one document.
    pub fn analyze(&self, text: &str) -> Result<Report> {
        let mut report = Report {
            score: 0.0,
            label: Label::Neutral,
            sentences: Vec::new(),
            spans: Vec::new(),
            model: self.model_info(),
        };
        report.score = self.run(text, &mut report)?;
        report.label = Label::of(report.score);
        Ok(report)
    }

    /// Runs the pipeline over `text`, handing each sentence and span to `sink`, and returns
    /// the document score.
    pub fn run(&self, text: &str, sink: &mut impl ReportSink) -> Result<f32> {
        let lookup = crate::scores::Compiled {
            heads: &self.heads,
            model: self.model,
        };
        self.run_with(&lookup, text, sink)
    }

    /// [`Analyzer::run`] with the features found through `lookup` (the compiled heads, or by
    /// name in tests: the same report).
    pub(crate) fn run_with<L: FeatureLookup>(
        &self,
        lookup: &L,
        text: &str,
        sink: &mut impl ReportSink,
    ) -> Result<f32> {
        let model = self.model;
        let mut chars = ForwardChars::new(text);
        let mut scratch = HeadScratch::default();
        // The chunk's tokens and their lookup ids; per sentence, its token scores.
        let (mut tokens, mut ids) = (Vec::<Token>::new(), Vec::<u32>::new());
        let (mut probs, mut own) = (Vec::new(), Vec::new());
        // The chunk's spans, waiting for their technique: report and document token range.
        let mut pending: Vec<(SpanReport, Range<usize>)> = Vec::new();
        let mut max_logit: Option<f32> = None;
        for chunk in chunks(text, CHUNK_BYTES) {
            tokens.clear();
            ids.clear();
            // About one token per five bytes of news text: room for the chunk's tokens at once.
            tokens.reserve(chunk.len() / 5);
            ids.reserve(chunk.len() / 5);
            for r in sentences::split(&text[chunk.clone()]) {
                let r = chunk.start + r.start..chunk.start + r.end;
                let first = tokens.len();
                crate::tokens::tokenize_into(text, r.clone(), &mut tokens)?;
                lookup.ids(&tokens[first..], &mut ids);
                let (toks, tok_ids) = (&tokens[first..], ids.get(first..).unwrap_or(&[]));
                let logit = sentence_logit_of(model, lookup, toks, tok_ids, &mut scratch);
                if !logit.is_nan() {
                    max_logit = Some(max_logit.map_or(logit, |m| m.max(logit)));
                }
                let prob = sigmoid(logit);
                let start = chars.at(r.start);
                if sink.wants_sentences() {
                    sink.sentence(&SentenceReport {
                        start,
                        end: chars.at(r.end),
                        byte_start: r.start,
                        byte_end: r.end,
                        score: prob,
                    })?;
                }
                if !sink.wants_spans() || prob < self.decode.sentence_gate {
                    continue;
                }
                let cp = |b: usize| chars.from(r.start, start, b);
                span_scores(
                    model,
                    lookup,
                    toks,
                    tok_ids,
                    prob,
                    &mut scratch,
                    &mut probs,
                    &mut own,
                );
                for sr in decode(toks, &probs, prob, &self.decode) {
                    let (bs, be) = (toks[sr.start].start, toks[sr.end - 1].end);
                    let weights = sr
                        .clone()
                        .filter(|&j| can_be_evidence(&toks[j]))
                        .map(|j| (j, own[j]));
                    let span = SpanReport {
                        start: cp(bs),
                        end: cp(be),
                        byte_start: bs,
                        byte_end: be,
                        text: text[bs..be].to_string(),
                        score: span_score(&probs, &sr),
                        technique: None,
                        technique_score: 0.0,
                        evidence: top_evidence(text, toks, cp, weights),
                    };
                    pending.push((span, first + sr.start..first + sr.end));
                }
            }
            if pending.is_empty() {
                continue;
            }
            let repeats = RepeatCounter::new(&tokens);
            for (mut span, r) in pending.drain(..) {
                let n = repeats.count(&tokens[r.clone()]);
                let probs =
                    technique_probabilities_of(model, lookup, &tokens, &ids, r, n, &mut scratch);
                (span.technique, span.technique_score) = best_of(model, &probs);
                sink.span(span)?;
            }
        }
        Ok(model.document.calibrated(max_logit))
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
    /// of the [`Report`]) to `w`. A document longer than [`STREAM_JSON_BYTES`] is streamed in
    /// three passes, without its report: one for the document score (first in the JSON), one
    /// writing the sentences, one writing the spans.
    pub fn write_json(&self, text: &str, w: &mut impl std::io::Write) -> Result<()> {
        self.write_json_with(text, w, STREAM_JSON_BYTES)
    }

    /// [`Analyzer::write_json`], streaming documents longer than `stream_above` bytes.
    pub(crate) fn write_json_with<W: std::io::Write>(
        &self,
        text: &str,
        w: &mut W,
        stream_above: usize,
    ) -> Result<()> {
        let mut out = String::new();
        if text.len() <= stream_above {
            crate::json::report(&mut out, &self.analyze(text)?);
            return w.write_all(out.as_bytes()).map_err(Error::Stream);
        }
        let score = self.run(text, &mut JsonSink::<W>::new(None, false))?;
        crate::json::report_head(&mut out, score);
        w.write_all(out.as_bytes()).map_err(Error::Stream)?;
        for spans in [false, true] {
            let mut sink = JsonSink::new(Some(&mut *w), spans);
            self.run(text, &mut sink)?;
            sink.flush()?;
            w.write_all(if spans { b"" } else { b"],\"spans\":[" })
                .map_err(Error::Stream)?;
        }
        out.clear();
        crate::json::report_end(&mut out, &self.model_info());
        w.write_all(out.as_bytes()).map_err(Error::Stream)
    }

    /// Writes the SemEval lines of [`Analyzer::analyze`]`(text)` (those of
    /// [`crate::render::semeval`]: `article_id`, with the technique when `techniques`, and the
    /// span's code-point offsets, one span a line) to `w`, as the spans are found.
    pub fn write_semeval(
        &self,
        text: &str,
        article_id: &str,
        techniques: bool,
        w: &mut impl std::io::Write,
    ) -> Result<()> {
        let mut sink = SemevalSink {
            w,
            article_id,
            techniques,
            line: String::new(),
        };
        self.run(text, &mut sink).map(|_| ())
    }

    fn model_info(&self) -> ModelInfo {
        ModelInfo {
            name: self.model.card.name.clone(),
            version: self.model.card.version.clone(),
        }
    }
}

/// The byte ranges of the chunks of `text` of at most `max` bytes (see [`CHUNK_BYTES`]): each
/// cut after the last line break of the chunk's second half, else after its last space, else
/// at a character boundary.
fn chunks(text: &str, max: usize) -> impl Iterator<Item = Range<usize>> + '_ {
    let max = max.max(8);
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= text.len() {
            // An empty text is one empty chunk (no sentences either way).
            return (start == 0 && text.is_empty()).then(|| {
                start = 1;
                0..0
            });
        }
        let rest = &text.as_bytes()[start..];
        let mut end = if rest.len() <= max {
            text.len()
        } else {
            let window = &rest[max / 2..max];
            let cut = memchr::memrchr(b'\n', window)
                .or_else(|| window.iter().rposition(|b| b.is_ascii_whitespace()))
                .map(|i| start + max / 2 + i + 1);
            cut.unwrap_or(start + max)
        };
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let r = start..end;
        start = end;
        Some(r)
    })
}

/// The JSON writer of [`Analyzer::write_json`]'s streaming passes: sentences, or spans, joined
/// by commas (neither when `w` is `None`: the pass that only computes the score).
struct JsonSink<'w, W> {
    w: Option<&'w mut W>,
    spans: bool,
    n: usize,
    out: String,
}

impl<'w, W: std::io::Write> JsonSink<'w, W> {
    fn new(w: Option<&'w mut W>, spans: bool) -> Self {
        JsonSink {
            w,
            spans,
            n: 0,
            out: String::new(),
        }
    }

    fn item(&mut self, write: impl FnOnce(&mut String)) -> Result<()> {
        if self.n > 0 {
            self.out.push(',');
        }
        self.n += 1;
        write(&mut self.out);
        if self.out.len() >= 1 << 14 {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if let Some(w) = self.w.as_mut() {
            w.write_all(self.out.as_bytes()).map_err(Error::Stream)?;
        }
        self.out.clear();
        Ok(())
    }
}

impl<W: std::io::Write> ReportSink for JsonSink<'_, W> {
    fn wants_spans(&self) -> bool {
        self.w.is_some() && self.spans
    }

    fn wants_sentences(&self) -> bool {
        self.w.is_some() && !self.spans
    }

    fn sentence(&mut self, s: &SentenceReport) -> Result<()> {
        self.item(|out| crate::json::sentence(out, s))
    }

    fn span(&mut self, s: SpanReport) -> Result<()> {
        self.item(|out| crate::json::span(out, &s))
    }
}

/// The SemEval writer of [`Analyzer::write_semeval`].
struct SemevalSink<'a, W> {
    w: &'a mut W,
    article_id: &'a str,
    techniques: bool,
    line: String,
}

impl<W: std::io::Write> ReportSink for SemevalSink<'_, W> {
    fn wants_sentences(&self) -> bool {
        false
    }

    fn sentence(&mut self, _: &SentenceReport) -> Result<()> {
        Ok(())
    }

    fn span(&mut self, span: SpanReport) -> Result<()> {
        self.line.clear();
        crate::render::semeval_line(&mut self.line, self.article_id, &span, self.techniques);
        self.w
            .write_all(self.line.as_bytes())
            .map_err(Error::Stream)
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

    fn our_texts() -> Vec<String> {
        let mut texts = crate::test_support::corpus_texts(&[]);
        for edge in [
            "",
            " \n ",
            "Shameful betrayal! Reckless cowards!",
            "\u{201c}Disgraceful,\u{201d} they said. 😡 Reckless, chaotic, humiliating fiasco.\r\n\r\n…",
            "!!! ... Critics called the chaotic withdrawal a shameful betrayal. ??",
        ] {
            texts.push(edge.to_string());
        }
        texts
    }

    /// The report of `text` through the compiled heads equals the report through the lookup
    /// by name (the reference), as JSON (floats bit for bit).
    fn same_report(analyzer: &Analyzer, text: &str) -> usize {
        let model = analyzer.model;
        let mut want = Report {
            score: 0.0,
            label: Label::Neutral,
            sentences: Vec::new(),
            spans: Vec::new(),
            model: analyzer.model_info(),
        };
        want.score = analyzer
            .run_with(&crate::scores::ByName(model), text, &mut want)
            .unwrap();
        want.label = Label::of(want.score);
        let got = analyzer.analyze(text).unwrap();
        // Evidence is one content word of its span.
        for e in got.spans.iter().flat_map(|s| &s.evidence) {
            let t = crate::tokens::tokenize(text, e.byte_start..e.byte_end).unwrap();
            assert!(t.len() == 1 && can_be_evidence(&t[0]), "{e:?}");
        }
        assert_eq!(
            serde_json::to_string(&got).unwrap(),
            serde_json::to_string(&want).unwrap(),
            "{text:?}"
        );
        got.spans.len()
    }

    /// Same reports by name and compiled: our documents, edge cases, and the PTC and BABE
    /// corpora when `../shared/datasets` is present.
    #[test]
    fn compiled_report_equals_the_report_by_name() {
        let model = Model::embedded().unwrap();
        let analyzer = Analyzer::new(&model, Options::default());
        let mut texts = our_texts();
        texts.extend(crate::test_support::corpus_texts(&[
            "ptc/dev.jsonl",
            "babe/dev.jsonl",
            "ptc/train.jsonl",
        ]));
        let spans: usize = texts.iter().map(|t| same_report(&analyzer, t)).sum();
        assert!(spans > 50, "{spans}");
    }

    fn text_strategy() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let pieces = prop_oneof![
            Just("The shameful, reckless betrayal ".to_string()),
            Just("critics called the planners cowards. ".to_string()),
            Just("TOTALLY UNPRECEDENTED ".to_string()),
            Just("the the the ".to_string()),
            Just("\r\n".to_string()),
            Just("“quoted” ".to_string()),
            Just("\"very\" ".to_string()),
            Just("Mr. ".to_string()),
            Just("!!! ".to_string()),
            Just("2024 ".to_string()),
            Just("👨‍👩‍👧".to_string()),
            Just("e\u{301}".to_string()),
            Just("\u{200B}\u{FEFF}".to_string()),
            any::<char>().prop_map(|c| c.to_string()),
            "[a-zA-Z .,;:!?'\"-]{0,12}",
        ];
        prop::collection::vec(pieces, 0..60).prop_map(|v| v.concat())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

        /// Same reports by name and compiled on arbitrary text.
        #[test]
        fn compiled_report_equals_the_report_by_name_on_any_text(text in text_strategy()) {
            let model = Model::embedded().unwrap();
            same_report(&Analyzer::new(&model, Options::default()), &text);
        }
    }

    /// The streamed JSON is the JSON of the report, and SemEval lines are those of the
    /// report; a document of many chunks keeps its sentences and spans in order, within the
    /// text, and ends every chunk at a line break.
    #[test]
    fn streamed_outputs_equal_the_report() {
        let model = Model::embedded().unwrap();
        let analyzer = Analyzer::new(&model, Options::default());
        let mut texts = our_texts();
        let joined = texts.join("\n\n");
        texts.push(joined.repeat(2 * CHUNK_BYTES / joined.len() + 2));
        for text in &texts {
            let report = analyzer.analyze(text).unwrap();
            let (mut usual, mut streamed) = (Vec::new(), Vec::new());
            analyzer
                .write_json_with(text, &mut usual, usize::MAX)
                .unwrap();
            analyzer.write_json_with(text, &mut streamed, 0).unwrap();
            assert_eq!(usual, serde_json::to_vec(&report).unwrap());
            assert!(
                usual == streamed,
                "{}…",
                text.chars().take(80).collect::<String>()
            );
            for techniques in [true, false] {
                let mut lines = Vec::new();
                analyzer
                    .write_semeval(text, "7", techniques, &mut lines)
                    .unwrap();
                let want = crate::render::semeval(&report, "7", techniques);
                assert_eq!(String::from_utf8(lines).unwrap(), want);
            }
        }
        let long = texts.last().unwrap();
        let cuts: Vec<_> = chunks(long, CHUNK_BYTES).collect();
        assert!(cuts.len() >= 2, "{}", cuts.len());
        for c in &cuts[..cuts.len() - 1] {
            assert!(long[..c.end].ends_with('\n'));
            assert!(c.len() <= CHUNK_BYTES);
        }
    }

    /// Chunks cover the text in order, end on character boundaries, and cut at a line
    /// break, a space or (without either) the longest valid prefix.
    #[test]
    fn chunks_cover_the_text() {
        for (text, max) in [
            ("", 8),
            ("abc", 8),
            ("aaaaaaaaaaaaaaaaaaaaaaa", 8),
            ("ééééééééééééé", 9),
            ("one two three four five six", 10),
            ("line one\nline two\nline three\n", 12),
        ] {
            let cs: Vec<_> = chunks(text, max).collect();
            let mut at = 0;
            for c in &cs {
                assert_eq!(c.start, at);
                assert!(c.len() <= max.max(8));
                assert!(text.get(c.clone()).is_some());
                at = c.end;
            }
            assert_eq!(at, text.len(), "{text:?}");
        }
        let cs: Vec<_> = chunks("line one\nline two\nline three\n", 12).collect();
        assert_eq!(cs[0], 0..9);
    }
}
