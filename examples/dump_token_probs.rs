//! Writes the shipped model's sentence and token probabilities for the PTC dev articles as JSONL,
//! for the decoding experiments in `training/experiments/decoding.py`.
//!
//! ```sh
//! cargo run --release --example dump_token_probs -- ../shared/datasets/ptc/dev.jsonl /tmp/devprobs.jsonl
//! ```
//!
//! One row per article: `id`, `gold` (merged-or-not gold SI spans as `[start, end]` code points)
//! and `sents`, each with `prob` (calibrated sentence probability), `p` (span-head probability
//! per token) and `toks` (`[start, end, is_punct, text]`, code points).

use serde_json::json;
use slant::text::CharOffsets;
use slant::{Analyzer, Model, Options};
use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (input, output) = match (args.next(), args.next()) {
        (Some(i), Some(o)) => (i, o),
        _ => return Err("usage: dump_token_probs PTC_DEV_JSONL OUT_JSONL".into()),
    };
    let docs = slant::corpus::read_ptc(std::path::Path::new(&input))?;
    let model = Model::embedded()?;
    let analyzer = Analyzer::new(&model, Options::default());
    let mut out = std::io::BufWriter::new(std::fs::File::create(output)?);
    for d in &docs {
        let offsets = CharOffsets::new(&d.text);
        let ch = |b: usize| offsets.char_of_byte(&d.text, b);
        let scored = slant::sentences::split(&d.text)
            .into_iter()
            .map(|r| slant::scores::score_sentence(analyzer.model(), &d.text, r))
            .collect::<Result<Vec<_>, _>>()?;
        let sents: Vec<_> = scored
            .iter()
            .map(|s| {
                let toks: Vec<_> = s
                    .tokens
                    .iter()
                    .map(|t| {
                        json!([
                            ch(t.start),
                            ch(t.end),
                            t.is_punct(),
                            &d.text[t.start..t.end]
                        ])
                    })
                    .collect();
                json!({"prob": s.prob, "p": s.token_probs, "toks": toks})
            })
            .collect();
        let gold: Vec<[usize; 2]> = slant::eval::gold_chars(d)
            .iter()
            .map(|r| [r.start, r.end])
            .collect();
        writeln!(out, "{}", json!({"id": d.id, "gold": gold, "sents": sents}))?;
    }
    Ok(())
}
