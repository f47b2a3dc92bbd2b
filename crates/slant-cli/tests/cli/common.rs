//! Helpers of the binary's tests: the real executable, and the library tests' helpers (model,
//! analysis, the report contract).
#![allow(dead_code)]

#[path = "../../../../tests/it/common.rs"]
mod library;
pub use library::*;

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// The workspace root (where `datasets/`, `models/` and the examples are).
pub const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The real `slant` binary, run in the workspace root.
pub fn slant_command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_slant"));
    cmd.current_dir(ROOT);
    cmd
}

/// Runs the real binary with `args`, feeding `stdin` (or nothing), and collects its output.
pub fn slant(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = slant_command();
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("binary runs");
    if let Some(input) = stdin {
        // The binary may exit before reading its input (argument errors): a broken pipe is fine.
        let _ = child.stdin.take().unwrap().write_all(input);
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().unwrap()
}
/// The `text` of every row of our own `datasets/*.jsonl`, then of the given files under
/// `../shared/datasets` (e.g. `"ptc/dev.jsonl"`) when that folder exists (a note is printed when
/// it does not, so the corpus tests still run on a machine without it).
pub fn corpus_texts(shared_files: &[&str]) -> Vec<String> {
    let root = std::path::Path::new(ROOT);
    let mut files: Vec<_> = std::fs::read_dir(root.join("datasets"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let shared = root.join("../shared/datasets");
    if shared.is_dir() {
        files.extend(shared_files.iter().map(|f| shared.join(f)));
    } else {
        eprintln!("note: ../shared/datasets is absent; the corpus test covers datasets/ only");
    }
    let mut texts = Vec::new();
    for f in files.iter().filter(|f| f.exists()) {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            if line.trim().is_empty() {
                continue;
            }
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            texts.push(v["text"].as_str().unwrap_or_default().to_string());
        }
    }
    texts
}
