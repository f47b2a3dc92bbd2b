//! Training: configuration → validated configuration → fitted [`Model`].
//!
//! Order of work (each head is fitted by linfa-logistic on a dense `f32` matrix of its selected
//! feature columns):
//! 1. tokenise every document and label sentences and tokens from the gold spans;
//! 2. sentence head on PTC train sentences, BABE train sentences and our own train documents;
//!    out-of-fold sentence probabilities (K folds by document) for the span head's context feature;
//!    Platt calibration of the sentence logit on PTC dev and BABE dev;
//! 3. span head on tokens (PTC SI spans, BABE biased words, our own spans), negatives subsampled
//!    deterministically and the intercept corrected by ln(rate);
//! 4. technique head on PTC train technique spans outside the fixed article hold-out, plus ours;
//! 5. decoding thresholds by grid search for SI F1 on PTC dev;
//! 6. document head on dev documents (BABE dev sentences, PTC dev paragraphs and articles);
//! 7. metrics into the model card.

use crate::analyze::{Analyzer, Options};
use crate::corpus::{Corpora, Document, TECHNIQUES};
use crate::error::{Error, Result};
use crate::eval::{self, gold_chars, si_score};
use crate::features::{
    binary_unit_row, remap_row, sentence_terms, technique_features, token_features, Interner,
    RepeatCounter, SentenceContext, SparseRow, Vectorizer,
};
use crate::fit::{densify, LogisticParams, ValidLogisticParams};
use crate::model::{DocumentHead, LinearHead, Model, Platt};
use crate::scores::{score_tokens, sentence_logit, ScoredSentence};
use crate::sentences;
use crate::spans::{decode, DecodeParams};
use crate::text::CharOffsets;
use crate::tokens::{covering, tokenize, Token};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Instant;

/// Training configuration (`training/default.toml`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Model name.
    pub name: String,
    /// Model version.
    pub version: String,
    /// Seed of the deterministic negative subsampling.
    pub seed: u64,
    /// Folds for the out-of-fold sentence scores used by the span head.
    pub oof_folds: usize,
    /// How many times each row from our own `datasets/` counts (it covers domains the public
    /// corpora miss); 1 = like any other row.
    pub own_weight: usize,
    /// Sentence head.
    pub sentence: HeadConfig,
    /// Span head.
    pub span: SpanConfig,
    /// Technique head.
    pub technique: TechniqueConfig,
    /// Decoding grid searched on PTC dev.
    pub decode: DecodeGrid,
}

/// Feature selection and fitting of one head.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HeadConfig {
    /// Keep features seen in at least this many rows.
    pub min_df: u32,
    /// Keep at most this many features (most frequent).
    pub max_features: usize,
    /// Logistic regression parameters.
    pub logistic: LogisticParams,
}

/// Span head configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SpanConfig {
    /// Feature selection and fitting.
    pub head: HeadConfig,
    /// Share of negative tokens kept.
    pub negative_rate: f32,
    /// Share of positive tokens kept (the intercept is corrected by ln(negative_rate / positive_rate)).
    pub positive_rate: f32,
    /// Use BABE biased words as token supervision.
    pub babe_words: bool,
}

/// Technique head configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TechniqueConfig {
    /// Feature selection and fitting.
    pub head: HeadConfig,
    /// Percent of PTC train articles held out (by a stable hash of the article id) to measure TC.
    pub holdout_percent: u32,
    /// Rows of a technique with fewer training spans than this are repeated (at most 4 times
    /// each) towards this count; linfa-logistic has no class weights. 0 switches it off.
    pub balance_to: usize,
}

/// Values tried for each decoding parameter.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DecodeGrid {
    /// Candidates for `high`.
    pub high: Vec<f32>,
    /// Candidates for `low / high`.
    pub low_ratio: Vec<f32>,
    /// Candidates for `max_gap`.
    pub max_gap: Vec<usize>,
    /// Candidates for `min_tokens`.
    pub min_tokens: Vec<usize>,
    /// Candidates for `sentence_gate`.
    pub sentence_gate: Vec<f32>,
    /// Candidates for `sentence_span` (above 1: off).
    pub sentence_span: Vec<f32>,
}

/// A configuration that passed [`TrainConfig::check`].
#[derive(Debug, Clone)]
pub struct ValidTrainConfig {
    config: TrainConfig,
    sentence: ValidLogisticParams,
    span: ValidLogisticParams,
    technique: ValidLogisticParams,
}

fn check_head(h: &HeadConfig, what: &str) -> Result<ValidLogisticParams> {
    if h.max_features == 0 {
        return Err(Error::InvalidParams(format!(
            "{what}.max_features must be at least 1"
        )));
    }
    h.logistic
        .check()
        .map_err(|e| Error::InvalidParams(format!("{what}.logistic: {e}")))
}

fn nonempty<T>(v: &[T], what: &str) -> Result<()> {
    if v.is_empty() {
        Err(Error::InvalidParams(format!(
            "decode.{what} needs at least one value"
        )))
    } else {
        Ok(())
    }
}

impl TrainConfig {
    /// Parses a TOML configuration.
    pub fn from_toml(s: &str) -> Result<TrainConfig> {
        toml::from_str(s).map_err(|e| Error::InvalidParams(e.to_string()))
    }

    /// Validates every parameter; nothing unvalidated reaches a fit.
    pub fn check(self) -> Result<ValidTrainConfig> {
        let sentence = check_head(&self.sentence, "sentence")?;
        let span = check_head(&self.span.head, "span.head")?;
        let technique = check_head(&self.technique.head, "technique.head")?;
        for (name, r) in [
            ("negative_rate", self.span.negative_rate),
            ("positive_rate", self.span.positive_rate),
        ] {
            if !(r > 0.0 && r <= 1.0) {
                return Err(Error::InvalidParams(format!(
                    "span.{name} must be in (0, 1]"
                )));
            }
        }
        if self.technique.holdout_percent >= 100 {
            return Err(Error::InvalidParams(
                "technique.holdout_percent must be below 100".into(),
            ));
        }
        if self.own_weight == 0 || self.own_weight > 100 {
            return Err(Error::InvalidParams("own_weight must be in 1..=100".into()));
        }
        if self.oof_folds < 2 {
            return Err(Error::InvalidParams("oof_folds must be at least 2".into()));
        }
        let g = &self.decode;
        nonempty(&g.high, "high")?;
        nonempty(&g.low_ratio, "low_ratio")?;
        nonempty(&g.max_gap, "max_gap")?;
        nonempty(&g.min_tokens, "min_tokens")?;
        nonempty(&g.sentence_gate, "sentence_gate")?;
        nonempty(&g.sentence_span, "sentence_span")?;
        let unit = |x: &f32| (0.0..=1.0).contains(x);
        if !g.high.iter().all(unit)
            || !g.low_ratio.iter().all(unit)
            || !g.sentence_gate.iter().all(unit)
        {
            return Err(Error::InvalidParams(
                "decode thresholds must lie in [0, 1]".into(),
            ));
        }
        Ok(ValidTrainConfig {
            config: self,
            sentence,
            span,
            technique,
        })
    }
}

/// A stable 64-bit hash (FNV-1a) used for splits and subsampling.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E3779B97F4A7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D049BB133111EB);
    x ^ (x >> 31)
}

/// True when a PTC train article is in the technique hold-out.
pub fn in_tc_holdout(id: &str, percent: u32) -> bool {
    stable_hash(id.as_bytes()) % 100 < percent as u64
}

/// A tokenised sentence with its gold labels.
#[derive(Debug, Clone)]
struct Sent {
    range: Range<usize>,
    tokens: Vec<Token>,
    gold: bool,
    token_gold: Vec<bool>,
}

/// A tokenised document.
#[derive(Debug, Clone)]
struct Prep {
    sents: Vec<Sent>,
}

fn overlaps(a: &Range<usize>, spans: &[Range<usize>]) -> bool {
    spans.iter().any(|s| s.start < a.end && a.start < s.end)
}

fn prepare(doc: &Document) -> Result<Prep> {
    let sents = sentences::split(&doc.text)
        .into_iter()
        .map(|r| {
            let tokens = tokenize(&doc.text, r.clone())?;
            let token_gold = tokens
                .iter()
                .map(|t| overlaps(&(t.start..t.end), &doc.spans))
                .collect();
            Ok(Sent {
                gold: overlaps(&r, &doc.spans),
                range: r,
                tokens,
                token_gold,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Prep { sents })
}

fn prepare_all(docs: &[Document]) -> Result<Vec<Prep>> {
    docs.par_iter().map(prepare).collect()
}

/// What training measured, for the CLI to print and the model card to keep.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TrainReport {
    /// Metrics by name.
    pub metrics: BTreeMap<String, f64>,
    /// Article ids of the technique hold-out.
    pub tc_holdout_ids: Vec<String>,
}

/// Sentence-head training row sources.
struct SentRows {
    rows: Vec<Vec<(u32, f32)>>,
    labels: Vec<bool>,
    /// Fold of each row's document.
    folds: Vec<usize>,
}

impl ValidTrainConfig {
    /// The validated configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Fits a model on `corpora`. `log` receives progress lines.
    pub fn fit(
        &self,
        corpora: &Corpora,
        log: &mut dyn FnMut(&str),
    ) -> Result<(Model, TrainReport)> {
        let t0 = Instant::now();
        let mut say = |m: String| log(&format!("[{:>6.1}s] {m}", t0.elapsed().as_secs_f32()));
        let cfg = &self.config;
        if corpora.ptc_train.is_empty() && corpora.babe_train.is_empty() && corpora.own.is_empty() {
            return Err(Error::NoData("no training documents".into()));
        }
        let own_train: Vec<Document> = corpora
            .own
            .iter()
            .filter(|d| d.split.as_deref() != Some("test"))
            .cloned()
            .collect();
        let ptc = prepare_all(&corpora.ptc_train)?;
        let babe = prepare_all(&corpora.babe_train)?;
        let own = prepare_all(&own_train)?;
        let ptc_dev = prepare_all(&corpora.ptc_dev)?;
        let babe_dev = prepare_all(&corpora.babe_dev)?;
        say(format!(
            "tokenised: PTC train {} docs, BABE train {}, own train {}, PTC dev {}, BABE dev {}",
            ptc.len(),
            babe.len(),
            own.len(),
            ptc_dev.len(),
            babe_dev.len()
        ));
        let lexicon = &corpora.lexicon;
        let folds = cfg.oof_folds;
        let fold_of =
            |id: &str| (mix(stable_hash(id.as_bytes()) ^ cfg.seed) % folds as u64) as usize;

        // ---- 2. sentence head -------------------------------------------------------------
        let mut interner = Interner::new();
        let mut raw = SentRows {
            rows: Vec::new(),
            labels: Vec::new(),
            folds: Vec::new(),
        };
        let mut push_rows = |docs: &[Document], preps: &[Prep], whole_doc: bool, repeat: usize| {
            for (d, p) in docs.iter().zip(preps) {
                let f = fold_of(&d.id);
                if whole_doc {
                    let y = d.label.unwrap_or(!d.spans.is_empty());
                    for _ in 0..repeat {
                        for s in &p.sents {
                            sentence_terms(&s.tokens, lexicon, &mut interner);
                        }
                        raw.rows.push(interner.take_labeled_row(y));
                        raw.labels.push(y);
                        raw.folds.push(f);
                    }
                } else {
                    for s in &p.sents {
                        for _ in 0..repeat {
                            sentence_terms(&s.tokens, lexicon, &mut interner);
                            raw.rows.push(interner.take_labeled_row(s.gold));
                            raw.labels.push(s.gold);
                            raw.folds.push(f);
                        }
                    }
                }
            }
        };
        push_rows(&corpora.ptc_train, &ptc, false, 1);
        push_rows(&corpora.babe_train, &babe, true, 1);
        push_rows(&own_train, &own, false, cfg.own_weight);
        let (index, remap, df) =
            interner.select_chi2(cfg.sentence.min_df, cfg.sentence.max_features);
        let n_rows = raw.rows.len();
        let vectorizer = Vectorizer::new(index, &df, n_rows);
        let rows: Vec<SparseRow> = raw
            .rows
            .iter()
            .map(|r| {
                let mut kept = remap_row(r, &remap);
                kept.sort_unstable_by_key(|x| x.0);
                vectorizer.weight(&kept)
            })
            .collect();
        drop(interner);
        say(format!(
            "sentence head: {} rows ({} positive), {} features",
            n_rows,
            raw.labels.iter().filter(|&&b| b).count(),
            vectorizer.index.len()
        ));
        let n_cols = vectorizer.index.len();
        let fit_subset = |keep: &dyn Fn(usize) -> bool| -> Result<LinearHead> {
            let sel: Vec<usize> = (0..n_rows).filter(|&i| keep(i)).collect();
            let sub: Vec<SparseRow> = sel.iter().map(|&i| rows[i].clone()).collect();
            let y: Vec<bool> = sel.iter().map(|&i| raw.labels[i]).collect();
            self.sentence.fit_binary(&densify(&sub, n_cols), &y)
        };
        let sentence_head = fit_subset(&|_| true)?;
        say("sentence head fitted".into());
        let mut fold_heads = Vec::with_capacity(folds);
        for k in 0..folds {
            fold_heads.push(fit_subset(&|i| raw.folds[i] != k)?);
            say(format!(
                "out-of-fold sentence head {}/{folds} fitted",
                k + 1
            ));
        }
        drop(rows);

        // Platt calibration on dev sentences (PTC dev sentences, BABE dev whole sentences).
        let mut cal_logits = Vec::new();
        let mut cal_y = Vec::new();
        for p in &ptc_dev {
            for s in &p.sents {
                cal_logits.push(sentence_head.logit(&vectorizer.transform(&s.tokens, lexicon)));
                cal_y.push(s.gold);
            }
        }
        for (d, p) in corpora.babe_dev.iter().zip(&babe_dev) {
            let toks: Vec<Token> = p
                .sents
                .iter()
                .flat_map(|s| s.tokens.iter().cloned())
                .collect();
            cal_logits.push(sentence_head.logit(&vectorizer.transform(&toks, lexicon)));
            cal_y.push(d.label.unwrap_or(false));
        }
        let calibration = if cal_y.iter().any(|&b| b) && cal_y.iter().any(|&b| !b) {
            Platt::fit(&cal_logits, &cal_y)?
        } else {
            Platt::default()
        };
        say(format!(
            "sentence calibration a={:.3} b={:.3}",
            calibration.a, calibration.b
        ));

        // ---- 3. span head -------------------------------------------------------------------
        // Out-of-fold calibrated probability of each sentence of a document.
        let oof_prob = |d: &Document, p: &Prep| -> Vec<f32> {
            let head = &fold_heads[fold_of(&d.id)];
            p.sents
                .iter()
                .map(|s| calibration.apply(head.logit(&vectorizer.transform(&s.tokens, lexicon))))
                .collect()
        };
        let mut rows_b = SpanRows {
            interner: Interner::new(),
            rows: Vec::new(),
            labels: Vec::new(),
            keep_negative: (cfg.span.negative_rate as f64 * u64::MAX as f64) as u64,
            keep_positive: (cfg.span.positive_rate as f64 * u64::MAX as f64) as u64,
            seed: cfg.seed,
        };
        let (rate, pos_rate) = (cfg.span.negative_rate, cfg.span.positive_rate);
        for (k, (d, p)) in corpora.ptc_train.iter().zip(&ptc).enumerate() {
            rows_b.add(p, oof_prob(d, p), lexicon, k as u64, 1);
        }
        if cfg.span.babe_words {
            // Biased sentences with annotated words, and every non-biased sentence.
            for (k, (d, p)) in corpora.babe_train.iter().zip(&babe).enumerate() {
                if d.label.unwrap_or(false) && d.spans.is_empty() {
                    continue;
                }
                rows_b.add(p, oof_prob(d, p), lexicon, 10_000_000 + k as u64, 1);
            }
        }
        for (k, (d, p)) in own_train.iter().zip(&own).enumerate() {
            rows_b.add(
                p,
                oof_prob(d, p),
                lexicon,
                20_000_000 + k as u64,
                cfg.own_weight,
            );
        }
        let SpanRows {
            interner,
            rows: span_rows,
            labels,
            ..
        } = rows_b;
        let (span_index, span_remap, _) =
            interner.select_chi2(cfg.span.head.min_df, cfg.span.head.max_features);
        drop(interner);
        let span_rows: Vec<SparseRow> = span_rows
            .iter()
            .map(|r| remap_row(r, &span_remap))
            .collect();
        say(format!(
            "span head: {} token rows ({} positive; kept at rate {pos_rate}, negatives at {rate}), {} features",
            span_rows.len(),
            labels.iter().filter(|&&b| b).count(),
            span_index.len()
        ));
        let x = densify(&span_rows, span_index.len());
        drop(span_rows);
        let mut span_head = self.span.fit_binary(&x, &labels)?;
        drop(x);
        // Undo the subsampling in the prior: logit_true = logit_sampled + ln(rate_neg / rate_pos).
        span_head.bias += (rate / pos_rate).ln();
        say("span head fitted".into());

        // ---- 4. technique head ----------------------------------------------------------------
        let hold = cfg.technique.holdout_percent;
        let classes: Vec<String> = TECHNIQUES.iter().map(|s| s.to_string()).collect();
        let class_of = |t: &str| TECHNIQUES.iter().position(|c| *c == t);
        let mut interner = Interner::new();
        let mut tc_labels = Vec::new();
        let mut tc_rows = Vec::new();
        let mut holdout_ids = Vec::new();
        let mut holdout_docs: Vec<(usize, bool)> = Vec::new();
        let tech_sources: Vec<(&Document, &Prep, bool)> = corpora
            .ptc_train
            .iter()
            .zip(&ptc)
            .map(|(d, p)| (d, p, true))
            .chain(own_train.iter().zip(&own).map(|(d, p)| (d, p, false)))
            .collect();
        for (di, (d, p, is_ptc)) in tech_sources.iter().enumerate() {
            if *is_ptc && in_tc_holdout(&d.id, hold) {
                holdout_ids.push(d.id.clone());
                holdout_docs.push((di, true));
                continue;
            }
            let toks: Vec<Token> = p
                .sents
                .iter()
                .flat_map(|s| s.tokens.iter().cloned())
                .collect();
            let repeats = RepeatCounter::new(&toks);
            for (r, t) in &d.techniques {
                let Some(c) = class_of(t) else { continue };
                let Some(tr) = covering(&toks, r) else {
                    continue;
                };
                let n = repeats.count(&toks[tr.clone()]);
                technique_features(&toks, tr, lexicon, n, &mut interner);
                tc_rows.push(interner.take_row());
                tc_labels.push(c);
            }
        }
        let (tc_index, tc_remap, _) =
            interner.select(cfg.technique.head.min_df, cfg.technique.head.max_features);
        drop(interner);
        // Binary features, L2-normalised per row.
        let mut tc_rows: Vec<SparseRow> = tc_rows
            .iter()
            .map(|r| binary_unit_row(remap_row(r, &tc_remap).into_iter().map(|x| x.0)))
            .collect();
        let target = cfg.technique.balance_to;
        if target > 0 {
            let mut counts = vec![0usize; classes.len()];
            for &c in &tc_labels {
                counts[c] += 1;
            }
            let n0 = tc_rows.len();
            for i in 0..n0 {
                let c = tc_labels[i];
                if counts[c] == 0 || counts[c] >= target {
                    continue;
                }
                let extra = (target.div_ceil(counts[c])).min(4) - 1;
                for _ in 0..extra {
                    tc_rows.push(tc_rows[i].clone());
                    tc_labels.push(c);
                }
            }
        }
        say(format!(
            "technique head: {} spans, {} features, {} hold-out articles",
            tc_rows.len(),
            tc_index.len(),
            holdout_ids.len()
        ));
        let tc_head =
            self.technique
                .fit_multi(&densify(&tc_rows, tc_index.len()), &tc_labels, &classes)?;
        say("technique head fitted".into());

        let mut model = Model {
            card: Default::default(),
            lexicon: lexicon.clone(),
            sentence: crate::model::SentenceHead {
                vectorizer,
                head: sentence_head,
                calibration,
            },
            span: crate::model::SpanHead {
                index: span_index,
                head: span_head,
                decode: DecodeParams::default(),
            },
            technique: crate::model::TechniqueHead {
                index: tc_index,
                head: tc_head,
            },
            document: DocumentHead::default(),
        };

        // ---- 5. decoding thresholds on PTC dev ------------------------------------------------
        let dev_scored: Vec<Vec<ScoredSentence>> = ptc_dev
            .par_iter()
            .map(|p| score_prepared(&model, p))
            .collect();
        let gold: Vec<Vec<Range<usize>>> = corpora.ptc_dev.iter().map(gold_chars).collect();
        let offsets: Vec<CharOffsets> = corpora
            .ptc_dev
            .iter()
            .map(|d| CharOffsets::new(&d.text))
            .collect();
        let mut best = (f64::MIN, DecodeParams::default());
        let g = &cfg.decode;
        for &high in &g.high {
            for &ratio in &g.low_ratio {
                for &max_gap in &g.max_gap {
                    for &min_tokens in &g.min_tokens {
                        for &gate in &g.sentence_gate {
                            for &whole in &g.sentence_span {
                                let p = DecodeParams {
                                    high,
                                    low: high * ratio,
                                    max_gap,
                                    min_tokens,
                                    sentence_gate: gate,
                                    sentence_span: whole,
                                };
                                let pred: Vec<Vec<Range<usize>>> = dev_scored
                                    .iter()
                                    .zip(&corpora.ptc_dev)
                                    .zip(&offsets)
                                    .map(|((scored, d), o)| decoded_chars(scored, &p, d, o))
                                    .collect();
                                let f1 = si_score(&pred, &gold).f1;
                                if f1 > best.0 {
                                    best = (f1, p);
                                }
                            }
                        }
                    }
                }
            }
        }
        model.span.decode = best.1;
        say(format!(
            "decoding tuned on PTC dev: {:?} (SI F1 {:.4})",
            best.1, best.0
        ));

        // ---- 6. document head on dev documents ------------------------------------------------
        let mut doc_x: Vec<f32> = Vec::new();
        let mut doc_y: Vec<bool> = Vec::new();
        for (scored, d) in dev_scored.iter().zip(&corpora.ptc_dev) {
            let logits: Vec<f32> = scored.iter().map(|s| s.logit).collect();
            if let Some(m) = DocumentHead::pooled(&logits) {
                doc_x.push(m);
                doc_y.push(!d.spans.is_empty());
            }
            for para in paragraphs(&d.text) {
                let inside: Vec<f32> = scored
                    .iter()
                    .filter(|s| s.range.start >= para.start && s.range.end <= para.end)
                    .map(|s| s.logit)
                    .collect();
                if let Some(m) = DocumentHead::pooled(&inside) {
                    doc_x.push(m);
                    doc_y.push(overlaps(&para, &d.spans));
                }
            }
        }
        for (p, d) in babe_dev.iter().zip(&corpora.babe_dev) {
            let logits: Vec<f32> = p
                .sents
                .iter()
                .map(|s| sentence_logit(&model, &s.tokens))
                .collect();
            if let Some(m) = DocumentHead::pooled(&logits) {
                doc_x.push(m);
                doc_y.push(d.label.unwrap_or(false));
            }
        }
        if doc_y.iter().any(|&b| b) && doc_y.iter().any(|&b| !b) {
            model.document = DocumentHead {
                calibration: Platt::fit(&doc_x, &doc_y)?,
            };
        }
        let doc_p: Vec<f32> = doc_x
            .iter()
            .map(|&m| model.document.calibration.apply(m))
            .collect();
        let doc_score = eval::binary_score(&doc_p, &doc_y);
        say(format!(
            "document head fitted on {} dev documents: {:?}",
            doc_y.len(),
            model.document.calibration
        ));

        // ---- 7. metrics -------------------------------------------------------------------------
        let mut metrics = BTreeMap::new();
        let analyzer = Analyzer::new(&model, Options::default());
        let ev = eval::evaluate(&analyzer, corpora)?;
        if let Some(si) = ev.ptc_dev_si {
            metrics.insert("ptc_dev_si_precision".into(), si.precision);
            metrics.insert("ptc_dev_si_recall".into(), si.recall);
            metrics.insert("ptc_dev_si_f1".into(), si.f1);
        }
        if let Some(b) = ev.babe_dev {
            metrics.insert("babe_dev_macro_f1".into(), b.macro_f1);
            metrics.insert("babe_dev_auc".into(), b.auc);
            metrics.insert("babe_dev_ece".into(), b.ece);
        }
        let sent_p: Vec<f32> = cal_logits.iter().map(|&l| calibration.apply(l)).collect();
        metrics.insert("dev_sentence_ece".into(), eval::ece(&sent_p, &cal_y, 10));
        metrics.insert("dev_sentence_auc".into(), eval::auc(&sent_p, &cal_y));
        metrics.insert("dev_document_ece".into(), doc_score.ece);
        metrics.insert("dev_document_auc".into(), doc_score.auc);
        if let Some(f) = ev.own_test_si {
            metrics.insert("own_test_si_f1".into(), f.f1);
        }
        if let Some(a) = ev.own_pair_accuracy {
            metrics.insert("own_test_pair_accuracy".into(), a);
        }
        // TC micro-F1 on the hold-out articles, gold spans given.
        let holdout: Vec<&Document> = holdout_docs
            .iter()
            .map(|(di, _)| tech_sources[*di].0)
            .collect();
        if !holdout.is_empty() {
            let tc = eval::tc_score(&model, &holdout)?;
            metrics.insert("ptc_tc_holdout_micro_f1".into(), tc.micro_f1);
        }
        if let Some(e) = ev.babe_dev_evidence {
            metrics.insert("babe_dev_biased_word_top1".into(), e.top1);
            metrics.insert("babe_dev_biased_word_top3".into(), e.top3);
        }
        if let Some(b) = ev.ptc_dev_sentences {
            metrics.insert("ptc_dev_sentence_ece".into(), b.ece);
            metrics.insert("ptc_dev_sentence_auc".into(), b.auc);
        }
        say(format!(
            "done in {:.1}s; metrics: {metrics:?}",
            t0.elapsed().as_secs_f64()
        ));
        let mut trained_on = vec![
            format!(
                "PTC train ({} articles; {} in the TC hold-out)",
                corpora.ptc_train.len(),
                holdout_ids.len()
            ),
            format!("BABE train ({} sentences)", corpora.babe_train.len()),
            "PTC dev and BABE dev (calibration, decoding thresholds and document head only)"
                .to_string(),
        ];
        if !own_train.is_empty() {
            trained_on.push(format!(
                "slant datasets/ train split ({} documents)",
                own_train.len()
            ));
        }
        model.card = crate::model::ModelCard {
            name: cfg.name.clone(),
            version: cfg.version.clone(),
            trained_on,
            config: toml::to_string(cfg).unwrap_or_default(),
            metrics: metrics.clone(),
        };
        Ok((
            model,
            TrainReport {
                metrics,
                tc_holdout_ids: holdout_ids,
            },
        ))
    }
}

/// Builds the span head's token rows, subsampling negatives deterministically.
struct SpanRows {
    interner: Interner,
    rows: Vec<Vec<(u32, f32)>>,
    labels: Vec<bool>,
    keep_negative: u64,
    keep_positive: u64,
    seed: u64,
}

impl SpanRows {
    /// Adds the tokens of a prepared document; `probs` are its sentences' (out-of-fold) scores.
    fn add(
        &mut self,
        p: &Prep,
        probs: Vec<f32>,
        lexicon: &crate::lexicon::Lexicon,
        doc_idx: u64,
        repeat: usize,
    ) {
        for (si, (s, prob)) in p.sents.iter().zip(probs).enumerate() {
            let ctx = SentenceContext::new(&s.tokens, lexicon, prob);
            for (i, &gold) in s.token_gold.iter().enumerate() {
                let key = doc_idx.wrapping_mul(1_000_003) ^ ((si as u64) << 20) ^ i as u64;
                let keep = if gold {
                    self.keep_positive
                } else {
                    self.keep_negative
                };
                if mix(self.seed ^ mix(key)) > keep {
                    continue;
                }
                for _ in 0..repeat {
                    token_features(&s.tokens, i, lexicon, &ctx, &mut self.interner);
                    self.rows.push(self.interner.take_labeled_row(gold));
                    self.labels.push(gold);
                }
            }
        }
    }
}

/// Paragraphs (blank-line separated) of a text, as byte ranges.
fn paragraphs(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, _) in text.match_indices("\n\n") {
        if i > start {
            out.push(start..i);
        }
        start = i + 2;
    }
    if start < text.len() {
        out.push(start..text.len());
    }
    out
}

/// Scores a prepared document with the sentence and span heads (as analysis does).
fn score_prepared(model: &Model, p: &Prep) -> Vec<ScoredSentence> {
    p.sents
        .iter()
        .map(|s| score_tokens(model, s.range.clone(), s.tokens.clone()))
        .collect()
}

fn decoded_chars(
    scored: &[ScoredSentence],
    p: &DecodeParams,
    d: &Document,
    o: &CharOffsets,
) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    for s in scored {
        for r in decode(&s.tokens, &s.token_probs, s.prob, p) {
            let (a, b) = (s.tokens[r.start].start, s.tokens[r.end - 1].end);
            out.push(o.char_of_byte(&d.text, a)..o.char_of_byte(&d.text, b));
        }
    }
    out
}

/// Writes the model's sentence and token probabilities for `docs` as JSONL, for the decoding
/// experiments of `training/experiments/decoding.py`: one row per document with `id`, `gold`
/// (its gold SI spans as `[start, end]` code points) and `sents`, each with `prob` (calibrated
/// sentence probability), `p` (span-head probability per token) and `toks` (`[start, end,
/// is_punct, text]`, code points).
pub fn write_token_probabilities(
    model: &Model,
    docs: &[Document],
    out: &mut impl std::io::Write,
) -> Result<()> {
    use serde_json::json;
    for d in docs {
        let offsets = CharOffsets::new(&d.text);
        let ch = |b: usize| offsets.char_of_byte(&d.text, b);
        let mut sents = Vec::new();
        for r in sentences::split(&d.text) {
            let s = crate::scores::score_sentence(model, &d.text, r)?;
            let toks: Vec<_> = s
                .tokens
                .iter()
                .map(|t| {
                    json!([
                        ch(t.start),
                        ch(t.end),
                        t.is_punct(),
                        &d.text[t.start..t.end]
                    ])
                })
                .collect();
            sents.push(json!({"prob": s.prob, "p": s.token_probs, "toks": toks}));
        }
        let gold: Vec<[usize; 2]> = gold_chars(d).iter().map(|r| [r.start, r.end]).collect();
        let row = json!({"id": d.id, "gold": gold, "sents": sents});
        writeln!(out, "{row}").map_err(Error::Stream)?;
    }
    Ok(())
}
