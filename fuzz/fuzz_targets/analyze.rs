//! Arbitrary bytes → UTF-8 → analysis with the embedded default model: never an error or a
//! panic, and the report keeps the offset contract (see `invariants.rs`).
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
    let report = Analyzer::new(model(), Options::default())
        .analyze(text)
        .expect("analysis of valid UTF-8 succeeds");
    invariants::check(text, &report);
});
