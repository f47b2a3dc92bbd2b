//! Batch scoring of JSONL (an edge module: reads a stream, writes a stream).
//!
//! One output row per input row, in input order: `{"id", ...other input fields, ...report}` or,
//! when a row cannot be scored, `{"id"?, "line", "error"}`; the batch always goes on. Input
//! fields other than `text` (outlet, date, url, …) pass through untouched so results can be
//! joined; one whose name is also a report field (`score`, `label`, `sentences`, `spans`,
//! `model`) is kept as `input.NAME`. Rows are read and scored in bounded chunks, in parallel on
//! the current rayon pool, so memory stays flat.

use crate::analyze::Analyzer;
use crate::error::{Error, Result};
use crate::report::{Label, Report};
use rayon::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};

/// Rows scored together (memory is bounded by this many documents).
pub const CHUNK_ROWS: usize = 512;

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
            *g.techniques.entry(s.technique.clone()).or_default() += 1;
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

/// Scores one input line. A line longer than `max_bytes` fails without being parsed.
pub fn score_row(analyzer: &Analyzer, line: usize, raw: &[u8], max_bytes: usize) -> Row {
    let fail = |id: Option<&Value>, msg: String| Row {
        line,
        id: id.cloned(),
        fields: Default::default(),
        result: Err(msg),
    };
    if raw.len() > max_bytes {
        return fail(None, too_long(raw.len() as u64, max_bytes));
    }
    let text = match std::str::from_utf8(raw) {
        Ok(t) => t,
        Err(e) => return fail(None, format!("invalid UTF-8 at byte {}", e.valid_up_to())),
    };
    if text.trim().is_empty() {
        return fail(None, "empty line".into());
    }
    let v: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return fail(None, format!("malformed JSON: {e}")),
    };
    let id = v.get("id");
    let doc = match v.get("text") {
        None => return fail(id, "missing field `text`".into()),
        Some(Value::String(d)) => d,
        Some(_) => return fail(id, "field `text` is not a string".into()),
    };
    let mut fields = serde_json::Map::new();
    if let Value::Object(all) = &v {
        for (k, val) in all {
            if k != "id" && k != "text" {
                fields.insert(k.clone(), val.clone());
            }
        }
    }
    Row {
        line,
        id: id.cloned(),
        fields,
        result: analyzer.analyze(doc).map_err(|e| e.to_string()),
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
        *counts.entry(s.technique.as_str()).or_default() += 1;
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
        let body = match serde_json::to_string(report) {
            Ok(b) => b,
            Err(e) => {
                return error_row(
                    self.id.as_ref(),
                    self.line,
                    format!("cannot serialise report: {e}"),
                )
            }
        };
        // `body` starts with '{': splice the id and the pass-through fields in first.
        let mut head = String::from("{\"id\":");
        head.push_str(
            &self
                .id
                .as_ref()
                .map_or("null".to_string(), |v| v.to_string()),
        );
        for (k, val) in &self.fields {
            let name = if REPORT_FIELDS.contains(&k.as_str()) {
                format!("input.{k}")
            } else {
                k.clone()
            };
            head.push(',');
            head.push_str(&Value::from(name).to_string());
            head.push(':');
            head.push_str(&val.to_string());
        }
        head.push(',');
        head.push_str(&body[1..]);
        head
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
                    format!("{id}\t{}\t{}\t{}", s.technique, s.start, s.end)
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
        let (n, done) = match available.iter().position(|&b| b == b'\n') {
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

/// Scores every JSONL row of `input` into `output` (see [`BatchOptions`]). `progress` is called
/// after each chunk with the counts so far.
pub fn run(
    analyzer: &Analyzer,
    mut input: impl BufRead,
    mut output: impl Write,
    options: &BatchOptions,
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
    if let Some(h) = options.format.header() {
        output.write_all(h.as_bytes())?;
        output.write_all(b"\n")?;
    }
    let mut line_no = 0usize;
    loop {
        let mut chunk: Vec<(usize, Line)> = Vec::with_capacity(CHUNK_ROWS);
        while chunk.len() < CHUNK_ROWS {
            let (n, line) = read_line_bounded(&mut input, options.max_bytes)?;
            if n == 0 {
                break;
            }
            summary.bytes += n;
            line_no += 1;
            chunk.push((line_no, line));
        }
        if chunk.is_empty() {
            break;
        }
        let out: Vec<Row> = pool.install(|| {
            chunk
                .par_iter()
                .map(|(no, line)| match line {
                    Line::Bytes(raw) => score_row(analyzer, *no, raw, options.max_bytes),
                    Line::TooLong(len) => Row {
                        line: *no,
                        id: None,
                        fields: Default::default(),
                        result: Err(too_long(*len, options.max_bytes)),
                    },
                })
                .collect()
        });
        for row in out {
            summary.add(&row, options.summary_field.as_deref());
            let text = row.render(options.format);
            if !text.is_empty() {
                output.write_all(text.as_bytes())?;
                output.write_all(b"\n")?;
            }
        }
        progress(&summary);
    }
    output.flush()?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
