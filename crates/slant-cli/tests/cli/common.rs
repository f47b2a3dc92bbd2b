//! Helpers shared by the integration tests.
#![allow(dead_code)]

use slant::{Analyzer, Model, Options, Report};
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

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

/// The embedded default model, loaded once per test binary.
pub fn model() -> &'static Model {
    static M: OnceLock<Model> = OnceLock::new();
    M.get_or_init(|| Model::embedded().expect("embedded model loads"))
}

/// Analyses `text` with the default model.
pub fn analyze(text: &str) -> Report {
    Analyzer::new(model(), Options::default())
        .analyze(text)
        .expect("analysis succeeds")
}

/// Asserts every offset in a report indexes `text` exactly (bytes and code points).
pub fn assert_offsets(text: &str, r: &Report) {
    let cp = |byte: usize| text[..byte].chars().count();
    for s in &r.sentences {
        assert!(text.is_char_boundary(s.byte_start) && text.is_char_boundary(s.byte_end));
        assert_eq!((s.start, s.end), (cp(s.byte_start), cp(s.byte_end)));
        assert!((0.0..=1.0).contains(&s.score));
    }
    let mut last_end = 0;
    for sp in &r.spans {
        assert_eq!(&text[sp.byte_start..sp.byte_end], sp.text, "span text");
        assert_eq!(
            (sp.start, sp.end),
            (cp(sp.byte_start), cp(sp.byte_end)),
            "code points"
        );
        let by_chars: String = text
            .chars()
            .skip(sp.start)
            .take(sp.end - sp.start)
            .collect();
        assert_eq!(by_chars, sp.text, "code-point slice");
        assert!(sp.byte_start >= last_end, "spans sorted and disjoint");
        last_end = sp.byte_end;
        assert_eq!(sp.text.trim(), sp.text, "no edge whitespace");
        assert!((0.0..=1.0).contains(&sp.score) && (0.0..=1.0).contains(&sp.technique_score));
        for e in &sp.evidence {
            assert_eq!(&text[e.byte_start..e.byte_end], e.text);
            assert_eq!((e.start, e.end), (cp(e.byte_start), cp(e.byte_end)));
            assert!(
                sp.byte_start <= e.byte_start && e.byte_end <= sp.byte_end,
                "evidence inside span"
            );
            assert!(e.weight > 0.0);
        }
    }
    assert!((0.0..=1.0).contains(&r.score));
}

/// Texts of the flagged spans.
pub fn flagged(r: &Report) -> Vec<&str> {
    r.spans.iter().map(|s| s.text.as_str()).collect()
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
