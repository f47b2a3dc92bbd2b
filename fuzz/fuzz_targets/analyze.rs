//! Arbitrary bytes → UTF-8 → analysis with the embedded default model: never an error or a
//! panic, the report keeps the offset contract (see `invariants.rs`), and the streamed JSON
//! writer produces the same bytes as the serialised report.
#![no_main]

mod invariants;

use libfuzzer_sys::fuzz_target;
use slant::{Analyzer, Model, Options};
use std::sync::OnceLock;

fn model() -> &'static Model {
    static M: OnceLock<Model> = OnceLock::new();
    M.get_or_init(|| Model::embedded().expect("the embedded model loads"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let analyzer = Analyzer::new(model(), Options::default());
    let report = analyzer
        .analyze(text)
        .expect("analysis of valid UTF-8 succeeds");
    invariants::check(text, &report);
    // The streamed JSON (`analyze --format json`) is byte for byte the serialised report.
    let mut streamed = Vec::new();
    analyzer
        .write_json(text, &mut streamed)
        .expect("streaming the JSON of valid UTF-8 succeeds");
    let json = serde_json::to_vec(&report).expect("a report serialises");
    assert_eq!(streamed, json, "streamed JSON differs from the report");
});
