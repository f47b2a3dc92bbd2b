//! Batch scoring of JSONL (an edge module: reads a stream, writes a stream).
//!
//! One output row per input row, in input order: `{"id", ...report}` or, when a row cannot be
//! scored, `{"id"?, "line", "error"}`; the batch always goes on. Rows are read and scored in
//! bounded chunks, in parallel on the current rayon pool, so memory stays flat.

use crate::analyze::Analyzer;
use crate::error::{Error, Result};
use rayon::prelude::*;
use serde_json::Value;
use std::io::{BufRead, Write};

/// Rows scored together (memory is bounded by this many documents).
pub const CHUNK_ROWS: usize = 512;

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
pub fn score_line(analyzer: &Analyzer, line_no: usize, raw: &[u8]) -> (String, bool) {
    let err = |id: Option<&Value>, msg: String| {
        let mut o = serde_json::Map::new();
        if let Some(id) = id {
            o.insert("id".into(), id.clone());
        }
        o.insert("line".into(), Value::from(line_no));
        o.insert("error".into(), Value::from(msg));
        (Value::Object(o).to_string(), false)
    };
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
            let id_json = id.map_or("null".to_string(), |v| v.to_string());
            // `body` starts with '{': splice the id in as the first field.
            (format!("{{\"id\":{id_json},{}", &body[1..]), true)
        }
        Err(e) => err(id, e.to_string()),
    }
}

/// Scores every JSONL row of `input` into `output` on `jobs` worker threads (default: all cores).
pub fn run(
    analyzer: &Analyzer,
    mut input: impl BufRead,
    mut output: impl Write,
    jobs: Option<usize>,
) -> Result<BatchSummary> {
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(j) = jobs {
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
        let mut chunk: Vec<(usize, Vec<u8>)> = Vec::with_capacity(CHUNK_ROWS);
        while chunk.len() < CHUNK_ROWS {
            let mut buf = Vec::new();
            let n = input.read_until(b'\n', &mut buf)?;
            if n == 0 {
                break;
            }
            summary.bytes += n as u64;
            line_no += 1;
            while buf.last().is_some_and(|&b| b == b'\n' || b == b'\r') {
                buf.pop();
            }
            chunk.push((line_no, buf));
        }
        if chunk.is_empty() {
            break;
        }
        let out: Vec<(String, bool)> = pool.install(|| {
            chunk
                .par_iter()
                .map(|(no, raw)| score_line(analyzer, *no, raw))
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
