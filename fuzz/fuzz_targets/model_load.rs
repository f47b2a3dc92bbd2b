//! Arbitrary bytes as a model file: loading returns `Ok` or `Err`, never panics. Each input is
//! tried twice: as it is (header checks), and with a correct header in front of everything after
//! the first 24 bytes, so that mutated payloads reach decoding and validation. A model that loads
//! must then analyse text without panicking and keep the report contract.
#![no_main]

mod invariants;

use libfuzzer_sys::fuzz_target;
use slant::model_file::{frame, from_bytes, HEADER_LEN};
use slant::{Analyzer, Options};

const TEXTS: [&str; 3] = [
    "The council met on Monday. Critics called it a shameful, reckless betrayal!",
    "",
    "Officials said the chaotic withdrawal was a humiliating fiasco 👍🏽 for e\u{301}veryone.",
];

fuzz_target!(|data: &[u8]| {
    let _ = from_bytes(data);
    let payload = data.get(HEADER_LEN..).unwrap_or_default();
    if let Ok(model) = from_bytes(&frame(payload)) {
        let analyzer = Analyzer::new(&model, Options::default());
        for text in TEXTS {
            if let Ok(report) = analyzer.analyze(text) {
                invariants::check(text, &report);
            }
        }
    }
});
