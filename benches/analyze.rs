//! Per-document hot path through the public API: `Analyzer::analyze` on a short and a long
//! article of our own text, and loading the embedded default model.
//!
//! `cargo bench --bench analyze` (criterion; throughput in bytes of input text, or of the model
//! file for the load).

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use slant::{Analyzer, Model, Options};
use std::hint::black_box;

fn analyze(c: &mut Criterion) {
    let model = Model::embedded().expect("embedded model");
    let analyzer = Analyzer::new(&model, Options::default());
    let mut group = c.benchmark_group("analyze");
    for (name, text) in [
        ("short", common::short_article()),
        ("long", common::long_article()),
    ] {
        // Fail loudly rather than time an error path.
        analyzer.analyze(&text).expect("bench text analyses");
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(format!("{name}_{}B", text.len()), |b| {
            b.iter(|| analyzer.analyze(black_box(&text)).expect("analyse"))
        });
    }
    group.finish();
}

fn model_load(c: &mut Criterion) {
    let path = common::repo().join("models/default.slant");
    let bytes = std::fs::metadata(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .len();
    let mut group = c.benchmark_group("model");
    group.throughput(Throughput::Bytes(bytes));
    // Decoding ~1.4 MB of postcard plus CRC takes milliseconds: fewer samples keep the run short.
    group.sample_size(20);
    group.bench_function("load_embedded", |b| {
        b.iter(|| Model::embedded().expect("embedded model"))
    });
    group.finish();
}

criterion_group!(benches, analyze, model_load);
criterion_main!(benches);
