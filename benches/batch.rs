//! Batch scoring through the public API: `slant::batch::run` over an in-memory JSONL of our own
//! documents (~300 KB), JSONL out into memory, with 1 worker and with every core.
//!
//! `cargo bench --bench batch` (criterion; throughput in bytes of JSONL input).

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use slant::batch::{run, BatchOptions};
use slant::{Analyzer, Model, Options};
use std::hint::black_box;

const MIN_BYTES: usize = 300_000;

fn batch(c: &mut Criterion) {
    let model = Model::embedded().expect("embedded model");
    let analyzer = Analyzer::new(&model, Options::default());
    let input = common::batch_jsonl(MIN_BYTES);
    let rows = input.lines().count();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut out = Vec::with_capacity(input.len() * 8);

    let mut group = c.benchmark_group("batch");
    group.throughput(Throughput::Bytes(input.len() as u64));
    // One iteration scores hundreds of KB: keep the sample count at criterion's minimum.
    group.sample_size(10);
    let mut jobs = vec![1];
    if cores > 1 {
        jobs.push(cores);
    }
    for j in jobs {
        let options = BatchOptions {
            jobs: Some(j),
            ..BatchOptions::default()
        };
        // Check once, outside the timing, that every row is scored.
        out.clear();
        let summary =
            run(&analyzer, input.as_bytes(), &mut out, &options, &mut |_| {}).expect("batch runs");
        assert_eq!((summary.rows, summary.ok), (rows, rows), "every row scores");
        group.bench_function(format!("jsonl_{}KB_jobs{j}", input.len() / 1000), |b| {
            b.iter(|| {
                out.clear();
                run(
                    &analyzer,
                    black_box(input.as_bytes()),
                    &mut out,
                    &options,
                    &mut |_| {},
                )
                .expect("batch runs")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, batch);
criterion_main!(benches);
