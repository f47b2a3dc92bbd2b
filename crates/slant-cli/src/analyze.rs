//! `slant analyze`.

use super::*;

/// The arguments of `slant analyze`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The document (UTF-8 text); `-` or nothing reads standard input.
    pub(crate) path: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub(crate) format: FormatArg,
    /// A model file instead of the embedded default model.
    #[arg(long)]
    pub(crate) model: Option<PathBuf>,
    /// Span threshold in [0, 1] (higher flags fewer, surer spans).
    #[arg(long)]
    pub(crate) threshold: Option<f32>,
    /// Article id for `--format semeval` (default: the file name without extension).
    #[arg(long)]
    pub(crate) id: Option<String>,
    /// Add the technique column to `--format semeval`.
    #[arg(long)]
    pub(crate) techniques: bool,
    /// Colour the text report: `auto` (when standard output is a terminal and `NO_COLOR` is
    /// unset or empty), `always` or `never`.
    #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub(crate) color: String,
    /// Text report: show only the sentences with a flagged span and N sentences either side.
    #[arg(long, value_name = "N")]
    pub(crate) context: Option<usize>,
    /// Replace invalid UTF-8 with U+FFFD (one warning on stderr) instead of refusing the
    /// file. Binary files (a NUL byte in the first 8 KiB) are refused either way.
    #[arg(long)]
    pub(crate) lossy: bool,
}

/// Runs `slant analyze`.
pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let Args {
        path,
        format,
        model,
        threshold,
        id,
        techniques,
        color,
        context,
        lossy,
    } = args;
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
