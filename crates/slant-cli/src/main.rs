//! The `slant` command line: parse arguments, call the library, map errors to exit codes.
//! Exit 0 on success, 1 when `slant eval` falls below a quality floor, 2 on any error, 130/143
//! when `slant batch` is stopped by SIGINT/SIGTERM (its rows so far are kept for `--resume`).

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use slant::render::{self, Format};
use slant::{Analyzer, Model, Options};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod analyze;
mod batch;
mod eval;
mod train;

#[derive(Parser)]
#[command(
    name = "slant",
    version,
    about = "Find loaded framing and propaganda techniques in news text",
    after_help = "Examples:
  slant analyze datasets/examples/withdrawal.txt
  slant analyze article.txt --format json
  cat article.txt | slant analyze - --format semeval --id 111 --techniques
  slant batch --input articles.jsonl --output scored.jsonl --jobs 2
  slant train --config training/default.toml --out models/default.slant
  slant eval --data ../shared/datasets
  slant model info models/default.slant"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Text,
    Json,
    Semeval,
    Html,
}

#[derive(Clone, Copy, ValueEnum)]
enum BatchFormatArg {
    Jsonl,
    Tsv,
    Semeval,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse one document and print its report.
    #[command(
        after_help = "Examples:\n  slant analyze article.txt\n  slant analyze article.txt --context 1 --color always | less -R\n  slant analyze article.txt --format html > report.html\n  slant analyze - --format json < article.txt\n  slant analyze scraped.txt --lossy   # invalid UTF-8 becomes U+FFFD, with a warning"
    )]
    Analyze(analyze::Args),
    /// Score JSONL rows `{"id", "text", ...}`: one output row per input row, in order.
    #[command(
        after_help = "Examples:\n  slant batch --input in.jsonl --output out.jsonl --jobs 2\n  slant batch --input in.jsonl --output out.jsonl --html-dir report/\n  slant batch --input in.jsonl --output out.jsonl --resume   # after Ctrl-C, a kill or a crash"
    )]
    Batch(batch::Args),
    /// Train a model from the corpora (needs `../shared/datasets`; build with `--features blas`).
    #[command(
        after_help = "Example:\n  cargo run --release --features blas -- train --config training/default.toml --out models/default.slant"
    )]
    Train(train::Args),
    /// Evaluate a model: SI P/R/F1 on PTC dev, macro-F1/AUC on BABE dev, our held-out data.
    #[command(
        after_help = "Examples:\n  slant eval --data ../shared/datasets --min-si-f1 0.30\n  slant eval --data datasets   # only our own held-out documents and pairs"
    )]
    Eval(eval::Args),
    /// Model files.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// Old name of `slant model info`.
    #[command(hide = true)]
    ModelInfo {
        /// A model file (default: the embedded model).
        path: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ModelCommand {
    /// Print a model's card (name, version, data, metrics, features, configuration); a file that
    /// is not a valid slant model is an error.
    #[command(
        after_help = "Examples:\n  slant model info                       # the embedded model\n  slant model info models/default.slant"
    )]
    Info {
        /// A model file (default: the embedded model).
        path: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("slant: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn load_model(path: Option<&Path>) -> Result<Model> {
    match path {
        Some(p) => Model::load(p).with_context(|| format!("cannot load model {}", p.display())),
        None => Model::embedded().context("the embedded default model is unusable"),
    }
}

fn check_threshold(t: Option<f32>) -> Result<()> {
    if let Some(t) = t {
        if !(0.0..=1.0).contains(&t) {
            bail!("--threshold must be in [0, 1], got {t}");
        }
    }
    Ok(())
}

/// How many leading bytes are searched for a NUL byte to call a file binary (as ripgrep does).
const BINARY_SNIFF: usize = 8 * 1024;

/// The SemEval article id of a document read from `path`: its file name without extension and
/// without a leading `article` (PTC's `article111.txt` is `111`), or `stdin`.
fn semeval_id(path: Option<&Path>) -> String {
    path.and_then(|p| p.file_stem())
        .map(|s| {
            s.to_string_lossy()
                .trim_start_matches("article")
                .to_string()
        })
        .unwrap_or_else(|| "stdin".into())
}

/// Reads the document to analyse. A NUL byte in the first 8 KiB marks a binary file, which is
/// refused. Invalid UTF-8 is refused too, unless `lossy`, which replaces it with U+FFFD and
/// prints one warning naming the first bad byte.
fn read_document(path: Option<&Path>, lossy: bool) -> Result<(String, String)> {
    let (name, bytes) = match path {
        None => ("<stdin>".to_string(), read_stdin()?),
        Some(p) if p.as_os_str() == "-" => ("<stdin>".to_string(), read_stdin()?),
        Some(p) => (
            p.display().to_string(),
            std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?,
        ),
    };
    let head = &bytes[..bytes.len().min(BINARY_SNIFF)];
    if let Some(at) = head.iter().position(|&b| b == 0) {
        bail!("{name}: binary file (NUL byte at offset {at}), not analysed");
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            if !lossy {
                bail!("{name}: not valid UTF-8 (first bad byte at offset {at}); --lossy replaces invalid bytes with U+FFFD");
            }
            eprintln!(
                "slant: warning: {name}: not valid UTF-8 (first bad byte at offset {at}), invalid bytes replaced with U+FFFD"
            );
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        }
    };
    Ok((name, text))
}

fn read_stdin() -> Result<Vec<u8>> {
    let mut b = Vec::new();
    std::io::stdin()
        .read_to_end(&mut b)
        .context("cannot read standard input")?;
    Ok(b)
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Analyze(args) => analyze::run(args),
        Command::Batch(args) => batch::run(args),
        Command::Train(args) => train::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Model {
            command: ModelCommand::Info { path },
        }
        | Command::ModelInfo { path } => {
            let model = load_model(path.as_deref())?;
            let (source, bytes) = match &path {
                Some(p) => (
                    p.display().to_string(),
                    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
                ),
                None => (
                    "embedded".to_string(),
                    slant::model_file::embedded_bytes().len() as u64,
                ),
            };
            write_stdout(&model_card(&model, &source, bytes))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The `slant model info` text: the file, then the model card and the model's shape.
fn model_card(model: &Model, source: &str, bytes: u64) -> String {
    let c = &model.card;
    let mut o = format!(
        "file     {source} ({bytes} bytes, format version {})\nname     {}\nversion  {}\ntrained on:\n",
        slant::model_file::FORMAT_VERSION,
        c.name,
        c.version
    );
    for t in &c.trained_on {
        o.push_str(&format!("  - {t}\n"));
    }
    o.push_str("metrics:\n");
    for (k, v) in &c.metrics {
        o.push_str(&format!("  {k:<28} {v:.4}\n"));
    }
    o.push_str(&format!(
        "features: sentence {}, span {}, technique {}; lexicon words {} in lists {:?}\n",
        model.sentence.vectorizer.index.len(),
        model.span.index.len(),
        model.technique.index.len(),
        model.lexicon.len(),
        model.lexicon.names()
    ));
    o.push_str(&format!(
        "decoding: {:?}\nconfiguration:\n{}",
        model.span.decode, c.config
    ));
    o
}

fn to_format(f: FormatArg) -> Format {
    match f {
        FormatArg::Text => Format::Text,
        FormatArg::Json => Format::Json,
        FormatArg::Semeval => Format::Semeval,
        FormatArg::Html => Format::Html,
    }
}

fn write_stdout(s: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`slant analyze x | head`) is not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e).context("cannot write to standard output"),
    }
}
