//! Bench inputs built from the repository's own text (`datasets/`), so that the benches run
//! without `../shared`. Nothing here is timed.

// Each bench uses only some of these helpers.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::path::PathBuf;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    let path = repo().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("bench input {}: {e}", path.display()))
}

/// `(id, text)` of every document of our annotated corpus, file by file, in file order.
pub fn own_documents() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for file in [
        "datasets/documents.jsonl",
        "datasets/neutral.jsonl",
        "datasets/pairs.jsonl",
    ] {
        for (n, line) in read(file).lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{file}:{}: {e}", n + 1));
            let id = v["id"].as_str().expect("string id").to_string();
            let text = v["text"].as_str().expect("string text").to_string();
            out.push((id, text));
        }
    }
    out
}

/// A short news article (~0.8 KB): `datasets/examples/withdrawal.txt`.
pub fn short_article() -> String {
    read("datasets/examples/withdrawal.txt")
}

/// A long article (≥ 10,000 bytes): the documents of `datasets/documents.jsonl` in file order,
/// as paragraphs separated by a blank line, until the text reaches 10,000 bytes.
pub fn long_article() -> String {
    let mut text = String::new();
    for (_, doc) in own_documents() {
        if text.len() >= 10_000 {
            break;
        }
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&doc);
    }
    text
}

/// A JSONL batch `{"id","text"}` of at least `min_bytes`: every document of our corpus, repeated
/// (ids suffixed `-rN`) until the size is reached.
pub fn batch_jsonl(min_bytes: usize) -> String {
    let docs = own_documents();
    let mut out = String::new();
    for round in 0.. {
        for (id, text) in &docs {
            out.push_str(&json!({"id": format!("{id}-r{round}"), "text": text}).to_string());
            out.push('\n');
        }
        if out.len() >= min_bytes {
            break;
        }
    }
    out
}
