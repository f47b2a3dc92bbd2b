//! Batch scoring of JSONL (an edge module: reads a stream, writes a stream).
//!
//! One output row per input row, in input order: `{"id", ...other input fields, ...report}` or,
//! when a row cannot be scored, `{"id"?, "line", "error"}`; the batch always goes on. Input
//! fields other than `text` (outlet, date, url, …) pass through untouched so results can be
//! joined; one whose name is also a report field (`score`, `label`, `sentences`, `spans`,
//! `model`) is kept as `input.NAME`. Rows are read and scored in chunks bounded in rows and in
//! bytes, in parallel on the current rayon pool, so memory stays flat.
//!
//! [`run_with`] adds fault tolerance without any signal or file code: a cancellation flag stops
//! the run between rows and leaves whole rows for a prefix of the input (output is flushed after
//! every chunk), and a checkpoint (the output of an interrupted run, cut to its whole rows with
//! [`complete_len`]) is checked against the input and resumed so that the final output is
//! byte-identical to an uninterrupted run's.

use crate::analyze::Analyzer;
use crate::error::{Error, Result};
use crate::report::{Label, Report};
use rayon::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, Read, Seek, SeekFrom, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Most rows scored together.
pub const CHUNK_ROWS: usize = 512;

/// Input bytes after which a chunk takes no more rows. A chunk's memory (its lines, their
/// reports, their output) grows with its text, not with its row count: 512 news articles are
/// ~3 MB, but 512 rows near `--max-bytes` would be gigabytes. A row this large or larger is
/// scored alone.
pub const CHUNK_BYTES: u64 = 8 * 1024 * 1024;

/// True when a chunk of `rows` rows and `bytes` input bytes takes no further row.
fn chunk_full(rows: usize, bytes: u64) -> bool {
    rows >= CHUNK_ROWS || bytes >= CHUNK_BYTES
}

/// Default limit on one input line, in bytes.
pub const DEFAULT_MAX_BYTES: usize = 10 * 1024 * 1024;

/// Report fields; an input field of the same name passes through as `input.NAME`.
const REPORT_FIELDS: [&str; 5] = ["score", "label", "sentences", "spans", "model"];

/// Counts of a finished batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchSummary {
    /// Input rows (non-empty lines count; an empty line is an error row too).
    pub rows: usize,
    /// Rows scored.
    pub ok: usize,
    /// Error rows written.
    pub errors: usize,
    /// Input bytes read.
    pub bytes: u64,
    /// Per-value aggregates of the `summary_field` (empty without one); rows without the field
    /// count under `(missing)`.
    pub groups: BTreeMap<String, GroupStats>,
    /// Input rows skipped because the checkpoint being resumed already holds them (see
    /// [`Control::resume`]); they are not counted in `rows`, `ok`, `errors` or `groups`.
    pub resumed: usize,
    /// Input bytes of the `resumed` rows.
    pub resumed_bytes: u64,
    /// The run stopped early because its cancellation flag was set (see [`Control::cancel`]):
    /// the output holds the rows of the first `resumed + rows` input lines, each one whole.
    pub cancelled: bool,
}

impl BatchSummary {
    fn add(&mut self, row: &Row, field: Option<&str>) {
        self.rows += 1;
        let report = match &row.result {
            Ok(r) => r,
            Err(_) => {
                self.errors += 1;
                return;
            }
        };
        self.ok += 1;
        let Some(field) = field else { return };
        let key = match row.fields.get(field) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => "(missing)".to_string(),
            Some(other) => other.to_string(),
        };
        let g = self.groups.entry(key).or_default();
        g.docs += 1;
        g.score_sum += report.score as f64;
        g.loaded += (report.label == Label::Loaded) as usize;
        g.spans += report.spans.len();
        for s in &report.spans {
            *g.techniques
                .entry(s.technique_name().to_string())
                .or_default() += 1;
        }
    }
}

/// One scored (or failed) input row.
#[derive(Debug, Clone)]
pub struct Row {
    /// 1-based input line number.
    pub line: usize,
    /// The row's `id`, when it has one.
    pub id: Option<Value>,
    /// Input fields other than `id` and `text`, in input order.
    pub fields: serde_json::Map<String, Value>,
    /// The report, or why the row could not be scored.
    pub result: std::result::Result<Report, String>,
}

/// An input line parsed as far as scoring needs.
struct Input {
    id: Option<Value>,
    fields: serde_json::Map<String, Value>,
    doc: String,
}

/// Parses one input line (see [`score_row`]); a line that cannot be scored gives its `id` (when
/// it has one) and why.
fn parse_line(raw: &[u8], max_bytes: usize) -> std::result::Result<Input, (Option<Value>, String)> {
    if raw.len() > max_bytes {
        return Err((None, too_long(raw.len() as u64, max_bytes)));
    }
    let text = match std::str::from_utf8(raw) {
        Ok(t) => t,
        Err(e) => return Err((None, format!("invalid UTF-8 at byte {}", e.valid_up_to()))),
    };
    if text.trim().is_empty() {
        return Err((None, "empty line".into()));
    }
    let v: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return Err((None, format!("malformed JSON: {e}"))),
    };
    let Value::Object(all) = v else {
        return Err((None, "missing field `text`".into()));
    };
    let (mut id, mut doc) = (None, None);
    let mut fields = serde_json::Map::new();
    for (k, val) in all {
        match k.as_str() {
            "id" => id = Some(val),
            "text" => doc = Some(val),
            _ => {
                fields.insert(k, val);
            }
        }
    }
    match doc {
        None => Err((id, "missing field `text`".into())),
        Some(Value::String(doc)) => Ok(Input { id, fields, doc }),
        Some(_) => Err((id, "field `text` is not a string".into())),
    }
}

/// Scores one input line. A line longer than `max_bytes` fails without being parsed.
pub fn score_row(analyzer: &Analyzer, line: usize, raw: &[u8], max_bytes: usize) -> Row {
    match parse_line(raw, max_bytes) {
        Ok(input) => Row {
            line,
            result: analyzer.analyze(&input.doc).map_err(|e| e.to_string()),
            id: input.id,
            fields: input.fields,
        },
        Err((id, msg)) => Row {
            line,
            id,
            fields: Default::default(),
            result: Err(msg),
        },
    }
}

/// Output formats of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BatchFormat {
    /// One JSON object per input row: `{"id", ...fields, ...report}` or `{"id"?, "line", "error"}`.
    #[default]
    Jsonl,
    /// A header, then one tab-separated line per input row:
    /// `id, line, score, label, spans, techniques (Name:count;…), error`.
    Tsv,
    /// SemEval-2020 Task 11 lines, one per span: `id TAB start TAB end` (code points), with the
    /// technique between id and start when `techniques` is set. Failed rows write nothing.
    Semeval {
        /// Add the technique column.
        techniques: bool,
    },
}

impl BatchFormat {
    /// The header line written before the rows, if the format has one.
    pub fn header(&self) -> Option<&'static str> {
        match self {
            BatchFormat::Tsv => Some("id\tline\tscore\tlabel\tspans\ttechniques\terror"),
            _ => None,
        }
    }
}

fn id_text(id: &Option<Value>) -> String {
    match id {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// Tab-free, newline-free text for a TSV or SemEval cell.
fn cell(s: &str) -> String {
    s.replace(['\t', '\n', '\r'], " ")
}

/// Technique counts of a report, most frequent first (ties by name).
pub fn technique_counts(report: &Report) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &report.spans {
        *counts.entry(s.technique_name()).or_default() += 1;
    }
    let mut v: Vec<(String, usize)> = counts
        .into_iter()
        .map(|(k, n)| (k.to_string(), n))
        .collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

impl Row {
    /// True when the row was scored.
    pub fn is_ok(&self) -> bool {
        self.result.is_ok()
    }

    /// The row in `format` (no trailing newline; may be empty for SemEval).
    pub fn render(&self, format: BatchFormat) -> String {
        match format {
            BatchFormat::Jsonl => self.jsonl(),
            BatchFormat::Tsv => self.tsv(),
            BatchFormat::Semeval { techniques } => self.semeval(techniques),
        }
    }

    /// The JSONL form.
    pub fn jsonl(&self) -> String {
        let report = match &self.result {
            Ok(r) => r,
            Err(msg) => return error_row(self.id.as_ref(), self.line, msg.clone()),
        };
        // The id and the pass-through fields first, then the report's fields.
        let mut out = String::with_capacity(256 + 96 * report.sentences.len());
        out.push_str("{\"id\":");
        match &self.id {
            Some(v) => out.push_str(&v.to_string()),
            None => out.push_str("null"),
        }
        for (k, val) in &self.fields {
            out.push(',');
            if REPORT_FIELDS.contains(&k.as_str()) {
                crate::json::string(&mut out, &format!("input.{k}"));
            } else {
                crate::json::string(&mut out, k);
            }
            out.push(':');
            out.push_str(&val.to_string());
        }
        out.push(',');
        crate::json::report_tail(&mut out, report);
        out
    }

    fn tsv(&self) -> String {
        let id = cell(&id_text(&self.id));
        match &self.result {
            Ok(r) => {
                let t: Vec<String> = technique_counts(r)
                    .into_iter()
                    .map(|(k, n)| format!("{k}:{n}"))
                    .collect();
                format!(
                    "{id}\t{}\t{:.4}\t{}\t{}\t{}\t",
                    self.line,
                    r.score,
                    r.label.as_str(),
                    r.spans.len(),
                    t.join(";")
                )
            }
            Err(msg) => format!("{id}\t{}\t\t\t\t\t{}", self.line, cell(msg)),
        }
    }

    fn semeval(&self, techniques: bool) -> String {
        let Ok(r) = &self.result else {
            return String::new();
        };
        let id = cell(&id_text(&self.id));
        let lines: Vec<String> = r
            .spans
            .iter()
            .map(|s| {
                if techniques {
                    format!("{id}\t{}\t{}\t{}", s.technique_name(), s.start, s.end)
                } else {
                    format!("{id}\t{}\t{}", s.start, s.end)
                }
            })
            .collect();
        lines.join("\n")
    }
}

/// Aggregates of the rows sharing one value of the `--summary` field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupStats {
    /// Rows scored.
    pub docs: usize,
    /// Sum of document scores (mean = sum / docs).
    pub score_sum: f64,
    /// Rows labelled loaded.
    pub loaded: usize,
    /// Flagged spans.
    pub spans: usize,
    /// Spans per technique.
    pub techniques: BTreeMap<String, usize>,
}

impl GroupStats {
    /// Mean document score (0 without rows).
    pub fn mean_score(&self) -> f64 {
        if self.docs == 0 {
            0.0
        } else {
            self.score_sum / self.docs as f64
        }
    }
}

/// The error row `{"id"?, "line", "error"}`.
fn error_row(id: Option<&Value>, line_no: usize, msg: String) -> String {
    let mut o = serde_json::Map::new();
    if let Some(id) = id {
        o.insert("id".into(), id.clone());
    }
    o.insert("line".into(), Value::from(line_no));
    o.insert("error".into(), Value::from(msg));
    Value::Object(o).to_string()
}

fn too_long(len: u64, max_bytes: usize) -> String {
    format!("line of {len} bytes is over the limit of {max_bytes} (--max-bytes)")
}

/// One input line: its bytes (line end removed), or only its length when over the limit.
enum Line {
    Bytes(Vec<u8>),
    TooLong(u64),
}

/// Reads one line, keeping at most `max_bytes` of it in memory: a longer line is consumed to its
/// end and reported by length only. Returns the bytes consumed (0 at end of input).
fn read_line_bounded(input: &mut impl BufRead, max_bytes: usize) -> std::io::Result<(u64, Line)> {
    let mut buf = Vec::new();
    let mut total = 0u64;
    let mut over = false;
    loop {
        let available = input.fill_buf()?;
        if available.is_empty() {
            break;
        }
        let (n, done) = match memchr::memchr(b'\n', available) {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if !over {
            // Two extra bytes leave room for a CRLF ending on a line of exactly max_bytes.
            if buf.len() + n > max_bytes.saturating_add(2) {
                over = true;
                buf = Vec::new();
            } else {
                buf.extend_from_slice(&available[..n]);
            }
        }
        total += n as u64;
        input.consume(n);
        if done {
            break;
        }
    }
    if over {
        return Ok((total, Line::TooLong(total)));
    }
    while buf.last().is_some_and(|&b| b == b'\n' || b == b'\r') {
        buf.pop();
    }
    Ok((total, Line::Bytes(buf)))
}

/// Options of a batch run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOptions {
    /// Worker threads (`None`: all cores).
    pub jobs: Option<usize>,
    /// Longest input line scored, in bytes; longer lines become error rows.
    pub max_bytes: usize,
    /// Output format.
    pub format: BatchFormat,
    /// Input field to aggregate by (see [`BatchSummary::groups`]).
    pub summary_field: Option<String>,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            jobs: None,
            max_bytes: DEFAULT_MAX_BYTES,
            format: BatchFormat::Jsonl,
            summary_field: None,
        }
    }
}

/// How a run starts and when it stops early (see [`run_with`]). The default runs the whole input
/// from its first row, as [`run`] does.
#[derive(Default)]
pub struct Control<'a> {
    /// Checked before each row is scored. Once it is true no further row is scored: the rows
    /// already scored that follow on from the last written row are written and flushed, and the
    /// run returns with [`BatchSummary::cancelled`] set. The output then holds whole rows only,
    /// for a prefix of the input. (The binary sets it from SIGINT/SIGTERM; the library has no
    /// signal code.)
    pub cancel: Option<&'a AtomicBool>,
    /// The output an earlier, interrupted run wrote for the same input and options, ending with a
    /// whole row (see [`complete_len`]). Its rows are checked against the first input rows (the
    /// `line` of error rows, the `id` and the pass-through fields of every row; the `id` and
    /// `line` columns in TSV); on a mismatch the run fails with [`Error::Resume`] before writing
    /// anything. Otherwise those input rows are skipped, the header is not written again, and the
    /// rows that follow are written to `output`, which should append to the same file. The
    /// SemEval format cannot be resumed (it has no row per input line).
    pub resume: Option<&'a mut dyn BufRead>,
}

/// Length of the longest prefix of `file` that ends with a newline: the whole rows of a checkpoint
/// whose writer was killed in the middle of a row. Truncating the file to this length drops the
/// torn row. Reads backwards from the end in blocks, so a large checkpoint is not read whole.
pub fn complete_len(file: &mut (impl Read + Seek)) -> std::io::Result<u64> {
    const BLOCK: u64 = 64 * 1024;
    let mut end = file.seek(SeekFrom::End(0))?;
    let mut buf = vec![0u8; BLOCK as usize];
    while end > 0 {
        let start = end.saturating_sub(BLOCK);
        let n = (end - start) as usize;
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut buf[..n])?;
        if let Some(i) = buf[..n].iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// An `id` as rows carry it: a JSON `null` is the same as no id.
fn some_id(id: Option<&Value>) -> Option<&Value> {
    id.filter(|v| !v.is_null())
}

fn shown(id: Option<&Value>) -> String {
    some_id(id).map_or("no id".to_string(), |v| format!("id {v}"))
}

/// Checks checkpoint row `no` (without its newline) against input line `no`.
fn check_done_row(
    format: BatchFormat,
    no: usize,
    done: &[u8],
    input: &Line,
    max_bytes: usize,
) -> std::result::Result<(), String> {
    let parsed = match input {
        Line::Bytes(raw) => parse_line(raw, max_bytes),
        Line::TooLong(_) => Err((None, String::new())),
    };
    let want_id = match &parsed {
        Ok(i) => i.id.as_ref(),
        Err((id, _)) => id.as_ref(),
    };
    let text = std::str::from_utf8(done).map_err(|_| "is not UTF-8".to_string())?;
    match format {
        BatchFormat::Jsonl => {
            let row: serde_json::Map<String, Value> =
                serde_json::from_str(text).map_err(|e| format!("is not a JSON object ({e})"))?;
            let got_id = row.get("id");
            if some_id(got_id) != some_id(want_id) {
                return Err(format!(
                    "has {}, input line {no} has {}",
                    shown(got_id),
                    shown(want_id)
                ));
            }
            // A scored row has the report's `score`; an input field of that name is `input.score`.
            if row.contains_key("score") {
                let Ok(input) = &parsed else {
                    return Err(format!("is a scored row, input line {no} cannot be scored"));
                };
                for (k, v) in &input.fields {
                    let name = if REPORT_FIELDS.contains(&k.as_str()) {
                        format!("input.{k}")
                    } else {
                        k.clone()
                    };
                    if row.get(&name) != Some(v) {
                        return Err(format!("field `{name}` differs from input line {no}"));
                    }
                }
            } else {
                let line = row.get("line").and_then(Value::as_u64);
                if line != Some(no as u64) || !row.contains_key("error") {
                    return Err(format!(
                        "is neither a scored row nor the error row of line {no}"
                    ));
                }
            }
        }
        BatchFormat::Tsv => {
            let mut cols = text.split('\t');
            let (id, line) = (cols.next().unwrap_or(""), cols.next().unwrap_or(""));
            if line != no.to_string() {
                return Err(format!("has line {line:?}"));
            }
            let want = cell(&id_text(&want_id.cloned()));
            if id != want {
                return Err(format!("has id {id:?}, input line {no} has {want:?}"));
            }
        }
        BatchFormat::Semeval { .. } => return Err("SemEval output cannot be resumed".into()),
    }
    Ok(())
}

/// Reads the rows of a checkpoint, checks each against the next input line (consumed) and counts
/// them in `summary.resumed`. Returns false for an empty checkpoint (no header either). See
/// [`Control::resume`].
fn skip_done(
    checkpoint: &mut dyn BufRead,
    input: &mut impl BufRead,
    options: &BatchOptions,
    summary: &mut BatchSummary,
) -> Result<bool> {
    if let BatchFormat::Semeval { .. } = options.format {
        return Err(Error::Resume(
            "SemEval output has no row per input line; resume needs jsonl or tsv".into(),
        ));
    }
    let mut done = Vec::new();
    let mut rows = 0usize;
    let mut first = true;
    loop {
        done.clear();
        if checkpoint.read_until(b'\n', &mut done)? == 0 {
            break;
        }
        if done.pop() != Some(b'\n') {
            return Err(Error::Resume(
                "the checkpoint ends in a torn row (truncate it to its whole rows first)".into(),
            ));
        }
        if done.last() == Some(&b'\r') {
            done.pop();
        }
        if std::mem::take(&mut first) {
            if let Some(h) = options.format.header() {
                if done != h.as_bytes() {
                    return Err(Error::Resume(
                        "the checkpoint does not start with the TSV header".into(),
                    ));
                }
                continue;
            }
        }
        let (n, line) = read_line_bounded(input, options.max_bytes)?;
        if n == 0 {
            return Err(Error::Resume(format!(
                "the checkpoint has more rows than the input has lines ({rows})"
            )));
        }
        rows += 1;
        check_done_row(options.format, rows, &done, &line, options.max_bytes).map_err(|m| {
            Error::Resume(format!(
                "checkpoint row {rows} {m}: it was not written for this input (or these options)"
            ))
        })?;
        summary.resumed_bytes += n;
    }
    summary.resumed = rows;
    Ok(!first)
}

/// Scores every JSONL row of `input` into `output` (see [`BatchOptions`]). `progress` is called
/// after each chunk with the counts so far.
pub fn run(
    analyzer: &Analyzer,
    input: impl BufRead,
    output: impl Write,
    options: &BatchOptions,
    progress: &mut dyn FnMut(&BatchSummary),
) -> Result<BatchSummary> {
    run_with(
        analyzer,
        input,
        output,
        options,
        Control::default(),
        progress,
    )
}

/// [`run`] with a cancellation flag and a checkpoint to resume from (see [`Control`]). Output is
/// flushed after every chunk (at most [`CHUNK_ROWS`] rows, about [`CHUNK_BYTES`] of input), so a run that is killed leaves whole rows
/// and at most one torn last row behind.
pub fn run_with(
    analyzer: &Analyzer,
    mut input: impl BufRead,
    mut output: impl Write,
    options: &BatchOptions,
    control: Control<'_>,
    progress: &mut dyn FnMut(&BatchSummary),
) -> Result<BatchSummary> {
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(j) = options.jobs {
        if j == 0 {
            return Err(Error::InvalidParams("jobs must be at least 1".into()));
        }
        pool = pool.num_threads(j);
    }
    let pool = pool
        .build()
        .map_err(|e| Error::InvalidParams(format!("cannot start worker threads: {e}")))?;
    let mut summary = BatchSummary::default();
    let mut header_done = false;
    if let Some(checkpoint) = control.resume {
        // An empty checkpoint (killed before its header was written) still needs the header.
        header_done = skip_done(checkpoint, &mut input, options, &mut summary)?;
    }
    if let (Some(h), false) = (options.format.header(), header_done) {
        output.write_all(h.as_bytes())?;
        output.write_all(b"\n")?;
    }
    let cancelled = || control.cancel.is_some_and(|c| c.load(Ordering::Relaxed));
    let mut line_no = summary.resumed;
    loop {
        let mut chunk: Vec<(usize, u64, Line)> = Vec::with_capacity(CHUNK_ROWS);
        let mut chunk_bytes = 0;
        while !chunk_full(chunk.len(), chunk_bytes) {
            let (n, line) = read_line_bounded(&mut input, options.max_bytes)?;
            if n == 0 {
                break;
            }
            line_no += 1;
            if let Line::Bytes(_) = line {
                chunk_bytes += n;
            }
            chunk.push((line_no, n, line));
        }
        if chunk.is_empty() {
            break;
        }
        if cancelled() {
            summary.cancelled = true;
            break;
        }
        // Each row is scored and rendered on the pool; this thread only writes.
        let out: Vec<Option<(Row, String)>> = pool.install(|| {
            chunk
                .par_iter()
                .map(|(no, _, line)| {
                    if cancelled() {
                        return None;
                    }
                    let row = match line {
                        Line::Bytes(raw) => score_row(analyzer, *no, raw, options.max_bytes),
                        Line::TooLong(len) => Row {
                            line: *no,
                            id: None,
                            fields: Default::default(),
                            result: Err(too_long(*len, options.max_bytes)),
                        },
                    };
                    let text = row.render(options.format);
                    Some((row, text))
                })
                .collect()
        });
        // Rows are written in input order up to the first one left unscored by a cancellation.
        for (row, (_, n, _)) in out.into_iter().zip(&chunk) {
            let Some((row, text)) = row else {
                summary.cancelled = true;
                break;
            };
            summary.bytes += n;
            summary.add(&row, options.summary_field.as_deref());
            if !text.is_empty() {
                output.write_all(text.as_bytes())?;
                output.write_all(b"\n")?;
            }
        }
        output.flush()?;
        progress(&summary);
        if summary.cancelled {
            break;
        }
    }
    output.flush()?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_bounded_in_rows_and_in_bytes() {
        assert!(!chunk_full(0, 0));
        assert!(!chunk_full(CHUNK_ROWS - 1, CHUNK_BYTES - 1));
        assert!(chunk_full(CHUNK_ROWS, 0));
        // One row at the byte budget is scored alone.
        assert!(chunk_full(1, CHUNK_BYTES));
        assert!(chunk_full(2, CHUNK_BYTES + 1));
    }

    #[test]
    fn bounded_reader_keeps_short_lines_and_measures_long_ones() {
        let data = b"abc\r\n0123456789ABCDEF\nlast";
        let mut r = std::io::BufReader::with_capacity(4, &data[..]);
        let mut got = Vec::new();
        loop {
            let (n, line) = read_line_bounded(&mut r, 8).unwrap();
            if n == 0 {
                break;
            }
            got.push(match line {
                Line::Bytes(b) => String::from_utf8(b).unwrap(),
                Line::TooLong(len) => format!("too long: {len}"),
            });
        }
        assert_eq!(got, vec!["abc", "too long: 17", "last"]);
    }

    #[test]
    fn complete_len_finds_the_last_whole_row() {
        let len = |b: &[u8]| complete_len(&mut std::io::Cursor::new(b)).unwrap();
        assert_eq!(len(b""), 0);
        assert_eq!(len(b"torn"), 0);
        assert_eq!(len(b"a\nb\n"), 4);
        assert_eq!(len(b"a\nb\ntor"), 4);
        let mut big = b"first\n".to_vec();
        big.extend(std::iter::repeat_n(b'x', 200_000));
        assert_eq!(len(&big), 6);
    }

    fn rows(input: &str, control: Control<'_>) -> (String, BatchSummary) {
        let model = crate::Model::embedded().unwrap();
        let analyzer = Analyzer::new(&model, Default::default());
        let mut out = Vec::new();
        let options = BatchOptions {
            jobs: Some(1),
            ..Default::default()
        };
        let s = run_with(
            &analyzer,
            input.as_bytes(),
            &mut out,
            &options,
            control,
            &mut |_| {},
        )
        .unwrap();
        (String::from_utf8(out).unwrap(), s)
    }

    const INPUT: &str = "{\"id\":1,\"text\":\"A shameful betrayal.\"}\nnot json\n{\"id\":3,\"src\":\"x\",\"text\":\"The council met.\"}\n{\"id\":4}\n";

    #[test]
    fn a_set_cancel_flag_scores_nothing() {
        let flag = AtomicBool::new(true);
        let (out, s) = rows(
            INPUT,
            Control {
                cancel: Some(&flag),
                resume: None,
            },
        );
        assert!(s.cancelled && s.rows == 0 && out.is_empty(), "{s:?} {out}");
        let flag = AtomicBool::new(false);
        let (_, s) = rows(
            INPUT,
            Control {
                cancel: Some(&flag),
                resume: None,
            },
        );
        assert!(!s.cancelled && s.rows == 4);
    }

    #[test]
    fn resuming_every_prefix_gives_the_same_output() {
        let (full, _) = rows(INPUT, Control::default());
        let lines: Vec<&str> = full.split_inclusive('\n').collect();
        for k in 0..=lines.len() {
            let done = lines[..k].concat();
            let mut checkpoint = done.as_bytes();
            let (rest, s) = rows(
                INPUT,
                Control {
                    cancel: None,
                    resume: Some(&mut checkpoint),
                },
            );
            assert_eq!(s.resumed, k);
            assert_eq!(done + &rest, full, "resumed after {k} rows");
        }
        // A checkpoint row whose id differs, or a torn one, is refused.
        let other = full.replacen("\"id\":3", "\"id\":33", 1);
        for bad in [other.as_str(), &full[..full.len() - 2]] {
            let model = crate::Model::embedded().unwrap();
            let analyzer = Analyzer::new(&model, Default::default());
            let mut checkpoint = bad.as_bytes();
            let control = Control {
                cancel: None,
                resume: Some(&mut checkpoint),
            };
            let r = run_with(
                &analyzer,
                INPUT.as_bytes(),
                Vec::new(),
                &BatchOptions::default(),
                control,
                &mut |_| {},
            );
            assert!(matches!(r, Err(Error::Resume(_))), "{r:?}");
        }
    }
}
