//! `slant eval`.

use super::*;

/// The arguments of `slant eval`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Folder with ptc/dev.jsonl and babe/dev.jsonl, or a folder of our own *.jsonl documents.
    #[arg(long, default_value = "../shared/datasets")]
    pub(crate) data: PathBuf,
    /// The project's own annotated documents.
    #[arg(long, default_value = "datasets")]
    pub(crate) own: PathBuf,
    /// Ids of the PTC train articles held out for technique classification.
    #[arg(long, default_value = "training/tc_holdout_ids.txt")]
    pub(crate) tc_holdout: PathBuf,
    /// A model file instead of the embedded default model.
    #[arg(long)]
    pub(crate) model: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
    /// Fail (exit 1) when PTC dev SI F1 is below this.
    #[arg(long)]
    min_si_f1: Option<f64>,
    /// Fail (exit 1) when BABE dev macro-F1 is below this.
    #[arg(long)]
    min_babe_macro_f1: Option<f64>,
    /// Fail (exit 1) when BABE dev AUC is below this.
    #[arg(long)]
    pub(crate) min_babe_auc: Option<f64>,
    /// Fail (exit 1) when TC micro-F1 on the hold-out articles is below this.
    #[arg(long)]
    min_tc_f1: Option<f64>,
    /// Fail (exit 1) when BABE dev biased-word top-1 is below this.
    #[arg(long)]
    min_biased_word_top1: Option<f64>,
}

/// Runs `slant eval`.
pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let Args {
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
    } = args;
    let model = load_model(model.as_deref())?;
    let corpora = slant::corpus::Corpora::load_for_eval(&data, Some(&own), Some(&tc_holdout))
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
                Some(g) => failed.push(format!("{name} {g:.4} is below the floor {min:.4}")),
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
