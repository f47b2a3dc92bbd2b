//! Replays the cargo-fuzz corpus (`fuzz/corpus/<target>/`) and the saved findings
//! (`fuzz/regressions/<target>/`) through the same checks as the fuzz targets, so that CI re-checks
//! every input the fuzzer kept without needing cargo-fuzz or a nightly compiler.
//!
//! `cargo test --release --test it fuzz_corpus -- --ignored` rewrites the hand-made seeds of the
//! `model_load` target (small models built from the default one; see `model_seeds`).

use slant::model_file::{frame, from_bytes, to_bytes, HEADER_LEN};
use slant::{Analyzer, Options};
use std::path::{Path, PathBuf};

/// The texts the `model_load` target analyses with every model that loads.
const TEXTS: [&str; 3] = [
    "The council met on Monday. Critics called it a shameful, reckless betrayal!",
    "",
    "Officials said the chaotic withdrawal was a humiliating fiasco 👍🏽 for e\u{301}veryone.",
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// Every file of `fuzz/corpus/<target>` and `fuzz/regressions/<target>`, with its name.
fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for kind in ["corpus", "regressions"] {
        let Ok(dir) = std::fs::read_dir(fuzz_dir().join(kind).join(target)) else {
            continue;
        };
        for entry in dir {
            let path = entry.unwrap().path();
            if path.is_file() {
                out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// What the `model_load` target does with one input.
fn load_and_use(data: &[u8]) {
    let _ = from_bytes(data);
    let payload = data.get(HEADER_LEN..).unwrap_or_default();
    if let Ok(model) = from_bytes(&frame(payload)) {
        let analyzer = Analyzer::new(&model, Options::default());
        for text in TEXTS {
            if let Ok(report) = analyzer.analyze(text) {
                crate::common::assert_offsets(text, &report);
            }
        }
    }
}

/// Hand-made seeds of the `model_load` target: two small valid models, and truncated, flipped
/// and header-only copies of the default model file (4 KB of it, not the 1.4 MB whole).
fn model_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let full = slant::model_file::embedded_bytes();
    let head = full[..HEADER_LEN + 4096].to_vec();
    let mut flipped = head.clone();
    for at in [9, 13, 21, 40, 300, 2000, 4000] {
        flipped[at] ^= 0x5A;
    }
    vec![
        (
            "seed-pruned-64",
            to_bytes(&crate::common::model().pruned(64)).unwrap(),
        ),
        (
            "seed-pruned-8",
            to_bytes(&crate::common::model().pruned(8)).unwrap(),
        ),
        ("seed-truncated-4k", head),
        ("seed-flipped-4k", flipped),
        ("seed-header-only", full[..HEADER_LEN].to_vec()),
    ]
}

#[test]
fn model_seeds_load_and_flag_spans() {
    let seeds = model_seeds();
    for (name, bytes) in &seeds[..2] {
        let m = from_bytes(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(bytes.len() < 20_000, "{name}: {} bytes", bytes.len());
        let r = Analyzer::new(&m, Options::default())
            .analyze(TEXTS[0])
            .unwrap();
        crate::common::assert_offsets(TEXTS[0], &r);
    }
    for (name, bytes) in &seeds[2..] {
        assert!(from_bytes(bytes).is_err(), "{name} loads");
    }
    for (_, bytes) in &seeds {
        load_and_use(bytes);
    }
}

#[test]
fn analyze_corpus_keeps_the_report_contract() {
    let inputs = inputs("analyze");
    assert!(!inputs.is_empty(), "no fuzz/corpus/analyze");
    let model = crate::common::model();
    let analyzer = Analyzer::new(model, Options::default());
    let mut texts = 0;
    for (name, data) in &inputs {
        let Ok(text) = std::str::from_utf8(data) else {
            continue;
        };
        texts += 1;
        let report = analyzer
            .analyze(text)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        crate::common::assert_offsets(text, &report);
    }
    assert!(texts > 0);
    eprintln!("analyze: {} inputs, {texts} valid UTF-8", inputs.len());
}

#[test]
fn model_load_corpus_never_panics() {
    let inputs = inputs("model_load");
    assert!(!inputs.is_empty(), "no fuzz/corpus/model_load");
    for (_, data) in &inputs {
        load_and_use(data);
    }
    eprintln!("model_load: {} inputs", inputs.len());
}

#[test]
#[ignore = "writes fuzz/corpus/model_load/seed-*; run by hand"]
fn write_model_seeds() {
    let dir = fuzz_dir().join("corpus/model_load");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in model_seeds() {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}
