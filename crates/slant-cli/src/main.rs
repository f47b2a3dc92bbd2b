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
    Analyze {
        /// The document (UTF-8 text); `-` or nothing reads standard input.
        path: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: FormatArg,
        /// A model file instead of the embedded default model.
        #[arg(long)]
        model: Option<PathBuf>,
        /// Span threshold in [0, 1] (higher flags fewer, surer spans).
        #[arg(long)]
        threshold: Option<f32>,
        /// Article id for `--format semeval` (default: the file name without extension).
        #[arg(long)]
        id: Option<String>,
        /// Add the technique column to `--format semeval`.
        #[arg(long)]
        techniques: bool,
        /// Colour the text report: `auto` (when standard output is a terminal and `NO_COLOR` is
        /// unset or empty), `always` or `never`.
        #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
        color: String,
        /// Text report: show only the sentences with a flagged span and N sentences either side.
        #[arg(long, value_name = "N")]
        context: Option<usize>,
        /// Replace invalid UTF-8 with U+FFFD (one warning on stderr) instead of refusing the
        /// file. Binary files (a NUL byte in the first 8 KiB) are refused either way.
        #[arg(long)]
        lossy: bool,
    },
    /// Score JSONL rows `{"id", "text", ...}`: one output row per input row, in order.
    #[command(
        after_help = "Examples:\n  slant batch --input in.jsonl --output out.jsonl --jobs 2\n  slant batch --input in.jsonl --output out.jsonl --html-dir report/\n  slant batch --input in.jsonl --output out.jsonl --resume   # after Ctrl-C, a kill or a crash"
    )]
    Batch {
        /// Input JSONL file, or `-` for standard input.
        #[arg(long)]
        input: PathBuf,
        /// Output file, or `-`. Rows go to `OUTPUT.partial` (flushed after every chunk), which is
        /// renamed to OUTPUT on success. On SIGINT/SIGTERM the rows scored so far are kept in
        /// `OUTPUT.partial` (exit 130/143); `--resume` continues from there.
        #[arg(long)]
        output: PathBuf,
        /// Worker threads (default: all cores).
        #[arg(long)]
        jobs: Option<usize>,
        /// A model file instead of the embedded default model.
        #[arg(long)]
        model: Option<PathBuf>,
        /// Span threshold in [0, 1].
        #[arg(long)]
        threshold: Option<f32>,
        /// Longest input line scored, in bytes; a longer line becomes an error row (and is
        /// never held in memory whole).
        #[arg(long, value_name = "BYTES", default_value_t = slant::batch::DEFAULT_MAX_BYTES)]
        max_bytes: usize,
        /// Output format: `jsonl` (one report per row), `tsv` (a header, then one summary line
        /// per row) or `semeval` (one `id TAB start TAB end` line per span).
        #[arg(long, value_enum, default_value = "jsonl")]
        format: BatchFormatArg,
        /// Add the technique column to `--format semeval`.
        #[arg(long)]
        techniques: bool,
        /// Print per-value aggregates of this input field on stderr at the end (documents, mean
        /// score, share loaded, spans, top techniques), e.g. `--summary outlet`.
        #[arg(long, value_name = "FIELD")]
        summary: Option<String>,
        /// Also write one HTML page per scored row and an `index.html` ranking them by score
        /// into this folder (created when missing).
        #[arg(long, value_name = "DIR")]
        html_dir: Option<PathBuf>,
        /// Continue an interrupted run from `OUTPUT.partial`: a torn last row is dropped, the
        /// saved rows are checked against the first input rows (a mismatch is refused), and
        /// the remaining rows are appended. Without it an existing `OUTPUT.partial` is
        /// overwritten.
        #[arg(long)]
        resume: bool,
    },
    /// Train a model from the corpora (needs `../shared/datasets`; build with `--features blas`).
    #[command(
        after_help = "Example:\n  cargo run --release --features blas -- train --config training/default.toml --out models/default.slant"
    )]
    Train {
        /// Training configuration (TOML).
        #[arg(long, default_value = "training/default.toml")]
        config: PathBuf,
        /// Folder with ptc/, babe/ and lexicons/.
        #[arg(long, default_value = "../shared/datasets")]
        data: PathBuf,
        /// The project's own annotated documents.
        #[arg(long, default_value = "datasets")]
        own: PathBuf,
        /// Where to write the model.
        #[arg(long)]
        out: PathBuf,
    },
    /// Evaluate a model: SI P/R/F1 on PTC dev, macro-F1/AUC on BABE dev, our held-out data.
    #[command(
        after_help = "Examples:\n  slant eval --data ../shared/datasets --min-si-f1 0.30\n  slant eval --data datasets   # only our own held-out documents and pairs"
    )]
    Eval {
        /// Folder with ptc/dev.jsonl and babe/dev.jsonl, or a folder of our own *.jsonl documents.
        #[arg(long, default_value = "../shared/datasets")]
        data: PathBuf,
        /// The project's own annotated documents.
        #[arg(long, default_value = "datasets")]
        own: PathBuf,
        /// Ids of the PTC train articles held out for technique classification.
        #[arg(long, default_value = "training/tc_holdout_ids.txt")]
        tc_holdout: PathBuf,
        /// A model file instead of the embedded default model.
        #[arg(long)]
        model: Option<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Fail (exit 1) when PTC dev SI F1 is below this.
        #[arg(long)]
        min_si_f1: Option<f64>,
        /// Fail (exit 1) when BABE dev macro-F1 is below this.
        #[arg(long)]
        min_babe_macro_f1: Option<f64>,
        /// Fail (exit 1) when BABE dev AUC is below this.
        #[arg(long)]
        min_babe_auc: Option<f64>,
        /// Fail (exit 1) when TC micro-F1 on the hold-out articles is below this.
        #[arg(long)]
        min_tc_f1: Option<f64>,
        /// Fail (exit 1) when BABE dev biased-word top-1 is below this.
        #[arg(long)]
        min_biased_word_top1: Option<f64>,
    },
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
        Command::Analyze {
            path,
            format,
            model,
            threshold,
            id,
            techniques,
            color,
            context,
            lossy,
        } => {
            check_threshold(threshold)?;
            let model = load_model(model.as_deref())?;
            let (name, text) = read_document(path.as_deref(), lossy)?;
            let analyzer = Analyzer::new(&model, Options { threshold });
            let format = to_format(format);
            if matches!(format, Format::Json | Format::Semeval) {
                // Streamed: a report can be several times the size of its document.
                let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
                let written = if format == Format::Json {
                    analyzer
                        .write_json(&text, &mut out)
                        .and_then(|_| out.write_all(b"\n").map_err(slant::Error::Stream))
                } else {
                    let id = id.unwrap_or_else(|| semeval_id(path.as_deref()));
                    analyzer.write_semeval(&text, &id, techniques, &mut out)
                }
                .and_then(|_| out.flush().map_err(slant::Error::Stream));
                return match written {
                    Ok(()) => Ok(ExitCode::SUCCESS),
                    Err(slant::Error::Stream(source))
                        if source.kind() == std::io::ErrorKind::BrokenPipe =>
                    {
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => Err(e).with_context(|| format!("cannot analyse {name}")),
                };
            }
            let report = analyzer
                .analyze(&text)
                .with_context(|| format!("cannot analyse {name}"))?;
            let out = match format {
                Format::Text => {
                    use std::io::IsTerminal as _;
                    let choice = render::ColorChoice::parse(&color).unwrap_or_default();
                    let opts = render::TextOptions {
                        color: choice.enabled(
                            std::io::stdout().is_terminal(),
                            std::env::var_os("NO_COLOR").as_deref(),
                            std::env::var_os("TERM").as_deref(),
                        ),
                        width: render::terminal::width_for(
                            render::terminal::stdout_width(),
                            std::env::var("COLUMNS").ok().as_deref(),
                        ),
                        context,
                    };
                    render::text_with(&report, &name, &text, &opts)
                }
                Format::Html => render::html(&report, &name, &text),
                // Streamed above.
                Format::Json | Format::Semeval => String::new(),
            };
            write_stdout(&out)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Batch {
            input,
            output,
            jobs,
            model,
            threshold,
            max_bytes,
            format,
            techniques,
            summary,
            html_dir,
            resume,
        } => {
            check_threshold(threshold)?;
            if jobs == Some(0) {
                bail!("--jobs must be at least 1");
            }
            let format = match format {
                BatchFormatArg::Jsonl => slant::batch::BatchFormat::Jsonl,
                BatchFormatArg::Tsv => slant::batch::BatchFormat::Tsv,
                BatchFormatArg::Semeval => slant::batch::BatchFormat::Semeval { techniques },
            };
            if html_dir.is_some() && format != slant::batch::BatchFormat::Jsonl {
                bail!("--html-dir needs --format jsonl");
            }
            if resume && output.as_os_str() == "-" {
                bail!("--resume needs --output FILE (standard output cannot be resumed)");
            }
            // A device or a pipe (/dev/null, a FIFO) is written in place, like standard output:
            // renaming a checkpoint onto it would replace the device node with a regular file.
            let in_place = output.as_os_str() != "-" && is_device_or_pipe(&output);
            if resume && in_place {
                bail!(
                    "--resume needs a regular output file ({} is a device or a pipe)",
                    output.display()
                );
            }
            if resume && matches!(format, slant::batch::BatchFormat::Semeval { .. }) {
                bail!("--resume needs --format jsonl or tsv (SemEval output has no row per input line)");
            }
            let options = slant::batch::BatchOptions {
                jobs,
                max_bytes,
                format,
                summary_field: summary.clone(),
            };
            let model = load_model(model.as_deref())?;
            let analyzer = Analyzer::new(&model, Options { threshold });
            // With --html-dir the scored rows are read back after the batch, beside the input
            // rows they came from: standard input and standard output are spooled to files in
            // DIR so that both can be read again without holding the batch in memory.
            let mut spooled: Vec<PathBuf> = Vec::new();
            let from_stdin = input.as_os_str() == "-";
            let to_stdout = output.as_os_str() == "-";
            let (input, output) = match &html_dir {
                Some(dir) => {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("cannot create {}", dir.display()))?;
                    let spool =
                        |what: &str| dir.join(format!(".slant-{what}.{}.tmp", std::process::id()));
                    let input = if from_stdin {
                        let p = spool("input");
                        spooled.push(p.clone());
                        let copied = std::fs::File::create(&p)
                            .and_then(|mut f| std::io::copy(&mut std::io::stdin().lock(), &mut f));
                        if let Err(e) = copied {
                            let _ = std::fs::remove_file(&p);
                            return Err(e).context("cannot read standard input");
                        }
                        p
                    } else {
                        input
                    };
                    let output = if to_stdout {
                        let p = spool("output");
                        spooled.push(p.clone());
                        spooled.push(partial_path(&p));
                        p
                    } else {
                        output
                    };
                    (input, output)
                }
                None => (input, output),
            };
            let result = (|| -> Result<ExitCode> {
                let reader: Box<dyn BufRead> = if input.as_os_str() == "-" {
                    Box::new(BufReader::new(std::io::stdin()))
                } else {
                    let f = std::fs::File::open(&input)
                        .with_context(|| format!("cannot read {}", input.display()))?;
                    Box::new(BufReader::with_capacity(1 << 20, f))
                };
                let started = std::time::Instant::now();
                let total = std::fs::metadata(&input).map(|m| m.len()).unwrap_or(0);
                let bar = progress_bar(total);
                let mut progress = |s: &slant::batch::BatchSummary| {
                    if let Some(b) = &bar {
                        b.set_position(s.resumed_bytes + s.bytes);
                        b.set_message(format!("{} docs", s.rows));
                    }
                };
                let stop = Stop::install()?;
                let batch_summary = if output.as_os_str() == "-" || in_place {
                    let w: Box<dyn Write> = if in_place {
                        let f = std::fs::OpenOptions::new()
                            .write(true)
                            .open(&output)
                            .with_context(|| format!("cannot write {}", output.display()))?;
                        Box::new(std::io::BufWriter::new(f))
                    } else {
                        Box::new(std::io::BufWriter::new(std::io::stdout().lock()))
                    };
                    let control = slant::batch::Control {
                        cancel: Some(&stop.flag),
                        resume: None,
                    };
                    slant::batch::run_with(&analyzer, reader, w, &options, control, &mut progress)
                        .context("batch failed")?
                } else {
                    let s = checkpointed(
                        &analyzer,
                        reader,
                        &output,
                        &options,
                        resume,
                        &mut progress,
                        &stop.flag,
                    )
                    .with_context(|| format!("batch {} failed", input.display()))?;
                    if !s.cancelled {
                        std::fs::rename(partial_path(&output), &output)
                            .with_context(|| format!("cannot write {}", output.display()))?;
                    }
                    s
                };
                if batch_summary.cancelled {
                    if let Some(b) = &bar {
                        b.finish_and_clear();
                    }
                    let s = &batch_summary;
                    let signal = stop.signal();
                    let saved = s.resumed + s.rows;
                    if to_stdout || in_place {
                        let done = if html_dir.is_some() && to_stdout {
                            "discarded"
                        } else {
                            "written"
                        };
                        eprintln!("slant batch: interrupted by {signal}: the first {saved} rows were {done}");
                    } else {
                        let hint = if matches!(format, slant::batch::BatchFormat::Semeval { .. }) {
                            "SemEval output cannot be resumed".to_string()
                        } else {
                            "run the same command with --resume to continue".to_string()
                        };
                        eprintln!(
                            "slant batch: interrupted by {signal}: {saved} rows saved in {}; {hint}",
                            partial_path(&output).display()
                        );
                    }
                    return Ok(ExitCode::from(stop.exit_code()));
                }
                if let Some(b) = &bar {
                    b.finish_and_clear();
                }
                let secs = started.elapsed().as_secs_f64().max(1e-9);
                let s = &batch_summary;
                eprintln!(
                    "slant batch: {} rows, {} ok, {} errors, {:.1} MB in {:.2}s ({:.1} MB/s)",
                    s.rows,
                    s.ok,
                    s.errors,
                    s.bytes as f64 / 1e6,
                    secs,
                    s.bytes as f64 / 1e6 / secs
                );
                if let Some(field) = &summary {
                    eprint!("{}", summary_table(field, s));
                }
                let Some(dir) = &html_dir else {
                    return Ok(ExitCode::SUCCESS);
                };
                if to_stdout {
                    let mut f = std::fs::File::open(&output)
                        .with_context(|| format!("cannot read {}", output.display()))?;
                    let mut out = std::io::stdout().lock();
                    match std::io::copy(&mut f, &mut out).and_then(|_| out.flush()) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                        Err(e) => return Err(e).context("cannot write to standard output"),
                    }
                }
                // One page per scored row (input line N pairs with output line N), then the index.
                let open = |p: &Path| {
                    std::fs::File::open(p)
                        .map(BufReader::new)
                        .with_context(|| format!("cannot read {}", p.display()))
                };
                let (mut rows_in, mut rows_out) = (open(&input)?, open(&output)?);
                let (mut pages, mut errors) = (Vec::new(), Vec::new());
                let (mut raw, mut scored) = (Vec::new(), String::new());
                let mut line = 0usize;
                loop {
                    raw.clear();
                    scored.clear();
                    if rows_in.read_until(b'\n', &mut raw)? == 0 {
                        break;
                    }
                    line += 1;
                    if rows_out.read_line(&mut scored)? == 0 {
                        bail!("{}: no output row for input line {line}", output.display());
                    }
                    let row: serde_json::Value = serde_json::from_str(scored.trim_end())
                        .with_context(|| format!("{}: line {line}", output.display()))?;
                    let as_text = |v: &serde_json::Value| {
                        v.as_str().map_or_else(|| v.to_string(), str::to_string)
                    };
                    let id = row.get("id").filter(|v| !v.is_null()).map(as_text);
                    if let Some(e) = row.get("error") {
                        errors.push(render::IndexError {
                            line,
                            id,
                            error: as_text(e),
                        });
                        continue;
                    }
                    let report: slant::Report = serde_json::from_value(row)
                        .with_context(|| format!("{}: line {line}", output.display()))?;
                    let source: serde_json::Value = serde_json::from_slice(raw.trim_ascii_end())
                        .with_context(|| format!("{}: line {line}", input.display()))?;
                    let text = source.get("text").and_then(|t| t.as_str()).unwrap_or("");
                    let title = id.clone().unwrap_or_else(|| format!("line {line}"));
                    let file = render::html::page_file_name(line, id.as_deref());
                    let page = render::html::page(
                        &report,
                        text,
                        &render::HtmlOptions {
                            title: &title,
                            index_href: Some("index.html"),
                        },
                    );
                    let path = dir.join(&file);
                    std::fs::write(&path, page)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    pages.push(render::IndexRow::new(&title, &file, &report));
                }
                let name = if from_stdin {
                    "standard input".to_string()
                } else {
                    input.display().to_string()
                };
                let path = dir.join("index.html");
                std::fs::write(&path, render::html::index(&pages, &errors, &name))
                    .with_context(|| format!("cannot write {}", path.display()))?;
                eprintln!(
                    "slant batch: {} pages and index.html written to {}",
                    pages.len(),
                    dir.display()
                );
                Ok(ExitCode::SUCCESS)
            })();
            for p in &spooled {
                let _ = std::fs::remove_file(p);
            }
            result
        }
        Command::Train {
            config,
            data,
            own,
            out,
        } => {
            let cfg_text = std::fs::read_to_string(&config)
                .with_context(|| format!("cannot read {}", config.display()))?;
            let cfg = slant::train::TrainConfig::from_toml(&cfg_text)
                .with_context(|| format!("{}: invalid configuration", config.display()))?
                .check()
                .with_context(|| format!("{}: invalid configuration", config.display()))?;
            let corpora = slant::corpus::Corpora::load(&data, Some(&own))
                .with_context(|| format!("cannot load corpora from {}", data.display()))?;
            let (model, report) = cfg
                .fit(&corpora, &mut |m| eprintln!("{m}"))
                .context("training failed")?;
            model
                .save(&out)
                .with_context(|| format!("cannot write {}", out.display()))?;
            let ids_path = config.with_file_name("tc_holdout_ids.txt");
            let mut ids = report.tc_holdout_ids.clone();
            ids.sort();
            std::fs::write(&ids_path, ids.join("\n") + "\n")
                .with_context(|| format!("cannot write {}", ids_path.display()))?;
            println!("model written to {}", out.display());
            for (k, v) in &report.metrics {
                println!("{k:<28} {v:.4}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval {
            data,
            own,
            tc_holdout,
            model,
            json,
            min_si_f1,
            min_babe_macro_f1,
            min_babe_auc,
            min_tc_f1,
            min_biased_word_top1,
        } => {
            let model = load_model(model.as_deref())?;
            let corpora =
                slant::corpus::Corpora::load_for_eval(&data, Some(&own), Some(&tc_holdout))
                    .with_context(|| format!("cannot load corpora from {}", data.display()))?;
            let analyzer = Analyzer::new(&model, Options::default());
            let ev = slant::eval::evaluate(&analyzer, &corpora).context("evaluation failed")?;
            if json {
                write_stdout(&(serde_json::to_string_pretty(&ev)? + "\n"))?;
            } else {
                write_stdout(&eval_table(&ev))?;
            }
            let mut failed = Vec::new();
            let mut floor = |name: &str, got: Option<f64>, min: Option<f64>| {
                if let Some(min) = min {
                    match got {
                        Some(g) if g >= min => {}
                        Some(g) => {
                            failed.push(format!("{name} {g:.4} is below the floor {min:.4}"))
                        }
                        None => failed.push(format!("{name} was not measured (floor {min:.4})")),
                    }
                }
            };
            floor("PTC dev SI F1", ev.ptc_dev_si.map(|s| s.f1), min_si_f1);
            floor(
                "BABE dev macro-F1",
                ev.babe_dev.map(|b| b.macro_f1),
                min_babe_macro_f1,
            );
            floor("BABE dev AUC", ev.babe_dev.map(|b| b.auc), min_babe_auc);
            floor(
                "PTC TC hold-out micro-F1",
                ev.ptc_tc_holdout.as_ref().map(|t| t.micro_f1),
                min_tc_f1,
            );
            floor(
                "BABE dev biased-word top-1",
                ev.babe_dev_evidence.map(|e| e.top1),
                min_biased_word_top1,
            );
            if failed.is_empty() {
                Ok(ExitCode::SUCCESS)
            } else {
                for f in failed {
                    eprintln!("slant eval: quality floor failed: {f}");
                }
                Ok(ExitCode::from(1))
            }
        }
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

/// A progress bar on stderr (documents, MB, rate, ETA) when stderr is a terminal; `None` otherwise.
fn progress_bar(total_bytes: u64) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = if total_bytes > 0 {
        indicatif::ProgressBar::new(total_bytes)
    } else {
        indicatif::ProgressBar::new_spinner()
    };
    let style = indicatif::ProgressStyle::with_template(
        "{spinner} {msg} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {wide_bar}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

/// The `--summary FIELD` table: one line per value, most documents first.
fn summary_table(field: &str, s: &slant::batch::BatchSummary) -> String {
    let mut groups: Vec<(&String, &slant::batch::GroupStats)> = s.groups.iter().collect();
    groups.sort_by(|a, b| b.1.docs.cmp(&a.1.docs).then_with(|| a.0.cmp(b.0)));
    let mut o = format!("{field}\tdocs\tmean_score\tloaded\tspans\ttop_techniques\n");
    for (value, g) in groups {
        let mut t: Vec<(&String, &usize)> = g.techniques.iter().collect();
        t.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        let top: Vec<String> = t.iter().take(3).map(|(k, n)| format!("{k}:{n}")).collect();
        o.push_str(&format!(
            "{}\t{}\t{:.3}\t{:.3}\t{}\t{}\n",
            value.replace(['\t', '\n'], " "),
            g.docs,
            g.mean_score(),
            g.loaded as f64 / g.docs.max(1) as f64,
            g.spans,
            top.join(";")
        ));
    }
    o
}

/// True when `path` exists and is neither a regular file nor a directory (a character device
/// such as `/dev/null`, a FIFO, a socket): such an output is written in place, never replaced.
fn is_device_or_pipe(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// The checkpoint of `slant batch --output OUT`: `OUT.partial`.
fn partial_path(output: &Path) -> PathBuf {
    let mut s = output.as_os_str().to_owned();
    s.push(".partial");
    PathBuf::from(s)
}

/// SIGINT and SIGTERM during a batch: the first sets `flag` (the batch stops after the rows it is
/// scoring and keeps them) and remembers the signal; a second one ends the process at once.
struct Stop {
    flag: std::sync::Arc<std::sync::atomic::AtomicBool>,
    signal: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Stop {
    fn install() -> Result<Stop> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        use std::sync::Arc;
        let stop = Stop {
            flag: Arc::default(),
            signal: Arc::default(),
        };
        for sig in [SIGINT, SIGTERM] {
            // Registered first, so it only fires once the flag is already set: a second signal.
            signal_hook::flag::register_conditional_shutdown(
                sig,
                128 + sig,
                Arc::clone(&stop.flag),
            )
            .and_then(|_| signal_hook::flag::register(sig, Arc::clone(&stop.flag)))
            .and_then(|_| {
                signal_hook::flag::register_usize(sig, Arc::clone(&stop.signal), sig as usize)
            })
            .context("cannot install the SIGINT/SIGTERM handlers")?;
        }
        Ok(stop)
    }

    fn signal(&self) -> &'static str {
        match self.signal.load(std::sync::atomic::Ordering::Relaxed) as i32 {
            signal_hook::consts::SIGTERM => "SIGTERM",
            _ => "SIGINT",
        }
    }

    /// 128 + the signal number, as a shell reports a process killed by it.
    fn exit_code(&self) -> u8 {
        match self.signal.load(std::sync::atomic::Ordering::Relaxed) as i32 {
            signal_hook::consts::SIGTERM => 143,
            _ => 130,
        }
    }
}

/// Runs a batch into `OUTPUT.partial` (see `slant batch --help`): created afresh, or with
/// `resume` cut to its whole rows and appended to after the library has checked them against the
/// input. A run that fails keeps its checkpoint when it holds a whole row, else removes it.
fn checkpointed(
    analyzer: &Analyzer,
    reader: impl BufRead,
    output: &Path,
    options: &slant::batch::BatchOptions,
    resume: bool,
    progress: &mut dyn FnMut(&slant::batch::BatchSummary),
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<slant::batch::BatchSummary> {
    let partial = partial_path(output);
    let name = partial.display().to_string();
    let existing = if resume {
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&partial)
        {
            Ok(f) => Some(f),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("slant batch: no {name} to resume, starting from the first row");
                None
            }
            Err(e) => return Err(e).with_context(|| format!("cannot open {name}")),
        }
    } else {
        None
    };
    let Some(mut f) = existing else {
        let f = std::fs::File::create(&partial).with_context(|| format!("cannot write {name}"))?;
        let control = slant::batch::Control {
            cancel: Some(cancel),
            resume: None,
        };
        let w = std::io::BufWriter::new(f);
        return match slant::batch::run_with(analyzer, reader, w, options, control, progress) {
            Ok(s) => Ok(s),
            Err(e) => {
                // Keep whole rows for --resume (a full disk, a read error); nothing else.
                let kept = std::fs::File::open(&partial)
                    .and_then(|mut f| slant::batch::complete_len(&mut f))
                    .unwrap_or(0);
                if kept == 0 {
                    let _ = std::fs::remove_file(&partial);
                    return Err(e.into());
                }
                Err(anyhow::Error::new(e).context(format!(
                    "{name} keeps the rows written so far, --resume continues"
                )))
            }
        };
    };
    let len = f
        .metadata()
        .with_context(|| format!("cannot read {name}"))?
        .len();
    let keep = slant::batch::complete_len(&mut f).with_context(|| format!("cannot read {name}"))?;
    if keep < len {
        f.set_len(keep)
            .with_context(|| format!("cannot truncate {name}"))?;
        eprintln!(
            "slant batch: {name}: dropped a torn last row ({} bytes)",
            len - keep
        );
    }
    let mut checkpoint = BufReader::new(
        std::fs::File::open(&partial).with_context(|| format!("cannot read {name}"))?,
    );
    let append = std::fs::OpenOptions::new()
        .append(true)
        .open(&partial)
        .with_context(|| format!("cannot write {name}"))?;
    let control = slant::batch::Control {
        cancel: Some(cancel),
        resume: Some(&mut checkpoint),
    };
    let w = std::io::BufWriter::new(append);
    let s = slant::batch::run_with(analyzer, reader, w, options, control, progress)
        .with_context(|| name.clone())?;
    eprintln!(
        "slant batch: resumed {name} after {} rows (the counts below are this run's)",
        s.resumed
    );
    Ok(s)
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

fn eval_table(ev: &slant::eval::Evaluation) -> String {
    let mut o = String::new();
    if let Some(s) = ev.ptc_dev_si {
        o.push_str(&format!(
            "PTC dev SI         P {:.4}  R {:.4}  F1 {:.4}  ({} predicted, {} gold spans)\n",
            s.precision, s.recall, s.f1, s.predicted, s.gold
        ));
    }
    if let Some(b) = ev.ptc_dev_sentences {
        o.push_str(&format!(
            "PTC dev sentences  macro-F1 {:.4}  AUC {:.4}  ECE {:.4}  (n={})\n",
            b.macro_f1, b.auc, b.ece, b.n
        ));
    }
    if let Some(t) = &ev.ptc_tc_holdout {
        o.push_str(&format!(
            "PTC TC hold-out    micro-F1 {:.4}  (n={})\n",
            t.micro_f1, t.n
        ));
        for (name, f) in &t.per_technique {
            let n = t.support.get(name).copied().unwrap_or(0);
            o.push_str(&format!("  {name:<36} F1 {f:.4}  (n={n})\n"));
        }
    }
    if let Some(b) = ev.babe_dev {
        o.push_str(&format!(
            "BABE dev           macro-F1 {:.4}  F1(biased) {:.4}  acc {:.4}  AUC {:.4}  ECE {:.4}  (n={})\n",
            b.macro_f1, b.f1_positive, b.accuracy, b.auc, b.ece, b.n
        ));
    }
    if let Some(e) = ev.babe_dev_evidence {
        o.push_str(&format!(
            "BABE dev evidence  biased-word top-1 {:.4}  top-3 {:.4}  (n={})\n",
            e.top1, e.top3, e.n
        ));
    }
    if let Some(s) = ev.own_test_si {
        o.push_str(&format!(
            "own test SI        P {:.4}  R {:.4}  F1 {:.4}  ({} predicted, {} gold spans)\n",
            s.precision, s.recall, s.f1, s.predicted, s.gold
        ));
    }
    if let Some(a) = ev.own_pair_accuracy {
        o.push_str(&format!(
            "own test pairs     accuracy {:.4}  (n={})\n",
            a, ev.own_pairs
        ));
    }
    if o.is_empty() {
        o.push_str("nothing to evaluate: no corpus found\n");
    }
    o
}
