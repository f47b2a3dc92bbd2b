//! `slant train`.

use super::*;

/// The arguments of `slant train`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Training configuration (TOML).
    #[arg(long, default_value = "training/default.toml")]
    pub(crate) config: PathBuf,
    /// Folder with ptc/, babe/ and lexicons/.
    #[arg(long, default_value = "../shared/datasets")]
    pub(crate) data: PathBuf,
    /// The project's own annotated documents.
    #[arg(long, default_value = "datasets")]
    pub(crate) own: PathBuf,
    /// Where to write the model.
    #[arg(long)]
    pub(crate) out: PathBuf,
}

/// Runs `slant train`.
pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let Args {
        config,
        data,
        own,
        out,
    } = args;
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
