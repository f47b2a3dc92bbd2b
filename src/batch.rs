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
use rayon::prelude::*;
use serde_json::Value;
use std::io::{BufRead, Write};

/// Rows scored together (memory is bounded by this many documents).
pub const CHUNK_ROWS: usize = 512;

/// Default limit on one input line, in bytes.
pub const DEFAULT_MAX_BYTES: usize = 10 * 1024 * 1024;

/// Report fields; an input field of the same name passes through as `input.NAME`.
const REPORT_FIELDS: [&str; 5] = ["score", "label", "sentences", "spans", "model"];

/// Counts of a finished batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchSummary {
    /// Input rows (non-empty lines count; an empty line is an error row too).
    pub rows: usize,
    /// Rows scored.
    pub ok: usize,
    /// Error rows written.
    pub errors: usize,
    /// Input bytes read.
    pub bytes: u64,
}

/// Scores one input line; returns the output JSON line (without newline) and whether it succeeded.
/// A line longer than `max_bytes` becomes an error row without being parsed.
pub fn score_line(
    analyzer: &Analyzer,
    line_no: usize,
    raw: &[u8],
    max_bytes: usize,
) -> (String, bool) {
    let err = |id: Option<&Value>, msg: String| (error_row(id, line_no, msg), false);
    if raw.len() > max_bytes {
        return err(None, too_long(raw.len() as u64, max_bytes));
    }
    let text = match std::str::from_utf8(raw) {
        Ok(t) => t,
        Err(e) => return err(None, format!("invalid UTF-8 at byte {}", e.valid_up_to())),
    };
    if text.trim().is_empty() {
        return err(None, "empty line".into());
    }
    let v: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return err(None, format!("malformed JSON: {e}")),
    };
    let id = v.get("id");
    let Some(doc) = v.get("text") else {
        return err(id, "missing field `text`".into());
    };
    let Some(doc) = doc.as_str() else {
        return err(id, "field `text` is not a string".into());
    };
    match analyzer.analyze(doc) {
        Ok(report) => {
            let body = match serde_json::to_string(&report) {
                Ok(b) => b,
                Err(e) => return err(id, format!("cannot serialise report: {e}")),
            };
            // `body` starts with '{': splice the id and the pass-through fields in first.
            let mut head = String::from("{\"id\":");
            head.push_str(&id.map_or("null".to_string(), |v| v.to_string()));
            if let Value::Object(fields) = &v {
                for (k, val) in fields {
                    if k == "id" || k == "text" {
                        continue;
                    }
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
            }
            head.push(',');
            head.push_str(&body[1..]);
            (head, true)
        }
        Err(e) => err(id, e.to_string()),
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOptions {
    /// Worker threads (`None`: all cores).
    pub jobs: Option<usize>,
    /// Longest input line scored, in bytes; longer lines become error rows.
    pub max_bytes: usize,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            jobs: None,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

/// Scores every JSONL row of `input` into `output` (see [`BatchOptions`]).
pub fn run(
    analyzer: &Analyzer,
    mut input: impl BufRead,
    mut output: impl Write,
    options: BatchOptions,
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
        let out: Vec<(String, bool)> = pool.install(|| {
            chunk
                .par_iter()
                .map(|(no, line)| match line {
                    Line::Bytes(raw) => score_line(analyzer, *no, raw, options.max_bytes),
                    Line::TooLong(len) => (
                        error_row(None, *no, too_long(*len, options.max_bytes)),
                        false,
                    ),
                })
                .collect()
        });
        for (line, ok) in out {
            summary.rows += 1;
            if ok {
                summary.ok += 1;
            } else {
                summary.errors += 1;
            }
            output.write_all(line.as_bytes())?;
            output.write_all(b"\n")?;
        }
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
