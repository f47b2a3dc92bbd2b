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

use slant::Model;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (input, output) = match (args.next(), args.next()) {
        (Some(i), Some(o)) => (i, o),
        _ => return Err("usage: dump_token_probs PTC_DEV_JSONL OUT_JSONL".into()),
    };
    let docs = slant::corpus::read_ptc(std::path::Path::new(&input))?;
    let model = Model::embedded()?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(output)?);
    slant::train::write_token_probabilities(&model, &docs, &mut out)?;
    Ok(())
}
