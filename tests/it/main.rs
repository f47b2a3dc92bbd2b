//! The library's integration tests, one test binary: the public API (`Model`, `Analyzer`,
//! `Report`, renderers, batch) on our datasets, the corpora when present, edge cases and
//! arbitrary input. The binary's tests are in `crates/slant-cli/tests/cli`.

mod common;

mod analysis;
mod datasets;
mod fuzz_corpus;
mod model;
mod offsets;
mod properties;
mod render;
