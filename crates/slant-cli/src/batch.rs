//! `slant batch`.

use super::*;

/// The arguments of `slant batch`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Input JSONL file, or `-` for standard input.
    #[arg(long)]
    pub(crate) input: PathBuf,
    /// Output file, or `-`. Rows go to `OUTPUT.partial` (flushed after every chunk), which is
    /// renamed to OUTPUT on success. On SIGINT/SIGTERM the rows scored so far are kept in
    /// `OUTPUT.partial` (exit 130/143); `--resume` continues from there.
    #[arg(long)]
    pub(crate) output: PathBuf,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub(crate) jobs: Option<usize>,
    /// A model file instead of the embedded default model.
    #[arg(long)]
    pub(crate) model: Option<PathBuf>,
    /// Span threshold in [0, 1].
    #[arg(long)]
    pub(crate) threshold: Option<f32>,
    /// Longest input line scored, in bytes; a longer line becomes an error row (and is
    /// never held in memory whole).
    #[arg(long, value_name = "BYTES", default_value_t = slant::batch::DEFAULT_MAX_BYTES)]
    pub(crate) max_bytes: usize,
    /// Output format: `jsonl` (one report per row), `tsv` (a header, then one summary line
    /// per row) or `semeval` (one `id TAB start TAB end` line per span).
    #[arg(long, value_enum, default_value = "jsonl")]
    pub(crate) format: BatchFormatArg,
    /// Add the technique column to `--format semeval`.
    #[arg(long)]
    pub(crate) techniques: bool,
    /// Print per-value aggregates of this input field on stderr at the end (documents, mean
    /// score, share loaded, spans, top techniques), e.g. `--summary outlet`.
    #[arg(long, value_name = "FIELD")]
    pub(crate) summary: Option<String>,
    /// Also write one HTML page per scored row and an `index.html` ranking them by score
    /// into this folder (created when missing).
    #[arg(long, value_name = "DIR")]
    pub(crate) html_dir: Option<PathBuf>,
    /// Continue an interrupted run from `OUTPUT.partial`: a torn last row is dropped, the
    /// saved rows are checked against the first input rows (a mismatch is refused), and
    /// the remaining rows are appended. Without it an existing `OUTPUT.partial` is
    /// overwritten.
    #[arg(long)]
    pub(crate) resume: bool,
}

/// Runs `slant batch`.
pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let Args {
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
    } = args;
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
            let spool = |what: &str| dir.join(format!(".slant-{what}.{}.tmp", std::process::id()));
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
                eprintln!(
                    "slant batch: interrupted by {signal}: the first {saved} rows were {done}"
                );
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
            let as_text =
                |v: &serde_json::Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
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
