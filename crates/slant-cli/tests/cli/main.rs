//! The binary's tests, one test binary: the real `slant` executable run on our examples and
//! datasets (every subcommand and format, exit codes, bad input, signals and `--resume`).

mod common;

mod bad_input;
mod cli;
mod faults;
mod render_cli;
