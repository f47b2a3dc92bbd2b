//! Evaluation: the official metrics, and the evaluation of a model on the corpora.
//!
//! * SI (span identification), SemEval-2020 Task 11: spans as sets of character positions,
//!   `P = (1/|S|) Σ_s Σ_t |s∩t|/|s|`, `R = (1/|T|) Σ_s Σ_t |s∩t|/|t|` (overlaps merged first).
//! * TC: micro-F1 over technique instances with gold spans given.
//! * Sentence/document level: macro-F1, F1 of the positive class, ROC-AUC, expected calibration
//!   error (10 equal-width bins).

use crate::analyze::Analyzer;
use crate::corpus::{merge_ranges, Corpora, Document, TECHNIQUES};
use crate::error::Result;
use crate::features::RepeatCounter;
use crate::model::Model;
use crate::report::Report;
use crate::scores::{best_technique, evidence, score_sentence};
use crate::sentences;
use crate::text::CharOffsets;
use crate::tokens::{covering, tokenize, Token};
use serde::Serialize;
use std::collections::BTreeMap;
use std::ops::Range;

/// SI precision, recall and F1.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct SiScore {
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
    /// Predicted spans (after merging).
    pub predicted: usize,
    /// Gold spans (after merging).
    pub gold: usize,
}

fn overlap(a: &Range<usize>, b: &Range<usize>) -> usize {
    a.end.min(b.end).saturating_sub(a.start.max(b.start))
}

/// The SemEval-2020 Task 11 SI score; `pred[i]` and `gold[i]` are the spans of article `i`
/// (character offsets). Overlapping spans within an article are merged first.
pub fn si_score(pred: &[Vec<Range<usize>>], gold: &[Vec<Range<usize>>]) -> SiScore {
    let (mut p_sum, mut r_sum, mut n_s, mut n_t) = (0.0, 0.0, 0usize, 0usize);
    for (ps, gs) in pred.iter().zip(gold) {
        let ps = merge_ranges(ps.clone());
        let gs = merge_ranges(gs.clone());
        n_s += ps.len();
        n_t += gs.len();
        for s in &ps {
            for t in &gs {
                let o = overlap(s, t) as f64;
                if o > 0.0 {
                    p_sum += o / s.len() as f64;
                    r_sum += o / t.len() as f64;
                }
            }
        }
    }
    let precision = if n_s > 0 { p_sum / n_s as f64 } else { 0.0 };
    let recall = if n_t > 0 { r_sum / n_t as f64 } else { 0.0 };
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    SiScore {
        precision,
        recall,
        f1,
        predicted: n_s,
        gold: n_t,
    }
}

/// Metrics of a binary probabilistic classifier.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct BinaryScore {
    /// Macro-averaged F1 over the two classes (threshold 0.5).
    pub macro_f1: f64,
    /// F1 of the positive class.
    pub f1_positive: f64,
    /// Accuracy.
    pub accuracy: f64,
    /// ROC-AUC of the probability.
    pub auc: f64,
    /// Expected calibration error, 10 equal-width bins.
    pub ece: f64,
    /// Number of examples.
    pub n: usize,
}

fn f1(tp: f64, fp: f64, fn_: f64) -> f64 {
    if tp == 0.0 {
        0.0
    } else {
        2.0 * tp / (2.0 * tp + fp + fn_)
    }
}

/// Scores probabilities `p` against labels `y` (decision at 0.5).
pub fn binary_score(p: &[f32], y: &[bool]) -> BinaryScore {
    let (mut tp, mut fp, mut tn, mut fn_) = (0.0, 0.0, 0.0, 0.0);
    for (&pi, &yi) in p.iter().zip(y) {
        match (pi >= 0.5, yi) {
            (true, true) => tp += 1.0,
            (true, false) => fp += 1.0,
            (false, false) => tn += 1.0,
            (false, true) => fn_ += 1.0,
        }
    }
    let n = p.len().min(y.len());
    let f_pos = f1(tp, fp, fn_);
    let f_neg = f1(tn, fn_, fp);
    BinaryScore {
        macro_f1: (f_pos + f_neg) / 2.0,
        f1_positive: f_pos,
        accuracy: if n > 0 { (tp + tn) / n as f64 } else { 0.0 },
        auc: auc(p, y),
        ece: ece(p, y, 10),
        n,
    }
}

/// ROC-AUC by the rank-sum formula (ties get average ranks). 0.5 when a class is missing.
pub fn auc(p: &[f32], y: &[bool]) -> f64 {
    let mut idx: Vec<usize> = (0..p.len().min(y.len())).collect();
    idx.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut ranks = vec![0.0f64; idx.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && p[idx[j + 1]] == p[idx[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            ranks[idx[k]] = r;
        }
        i = j + 1;
    }
    let n_pos = y.iter().take(ranks.len()).filter(|&&v| v).count() as f64;
    let n_neg = ranks.len() as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return 0.5;
    }
    let sum_pos: f64 = ranks
        .iter()
        .zip(y)
        .filter(|(_, &v)| v)
        .map(|(r, _)| r)
        .sum();
    (sum_pos - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg)
}

/// Expected calibration error over `bins` equal-width bins.
pub fn ece(p: &[f32], y: &[bool], bins: usize) -> f64 {
    let n = p.len().min(y.len());
    if n == 0 || bins == 0 {
        return 0.0;
    }
    let mut count = vec![0usize; bins];
    let mut conf = vec![0.0f64; bins];
    let mut pos = vec![0.0f64; bins];
    for (&pi, &yi) in p.iter().zip(y) {
        let b = ((pi.clamp(0.0, 1.0) * bins as f32) as usize).min(bins - 1);
        count[b] += 1;
        conf[b] += pi as f64;
        pos[b] += yi as u8 as f64;
    }
    (0..bins)
        .filter(|&b| count[b] > 0)
        .map(|b| (count[b] as f64 / n as f64) * ((conf[b] - pos[b]) / count[b] as f64).abs())
        .sum()
}

/// Gold spans of a document in character offsets.
pub fn gold_chars(doc: &Document) -> Vec<Range<usize>> {
    let o = CharOffsets::new(&doc.text);
    doc.spans
        .iter()
        .map(|r| o.char_of_byte(&doc.text, r.start)..o.char_of_byte(&doc.text, r.end))
        .collect()
}

/// The report of every document (in parallel on the current rayon pool).
pub fn predict(analyzer: &Analyzer, docs: &[Document]) -> Result<Vec<Report>> {
    use rayon::prelude::*;
    docs.par_iter().map(|d| analyzer.analyze(&d.text)).collect()
}

fn span_chars(r: &Report) -> Vec<Range<usize>> {
    r.spans.iter().map(|s| s.start..s.end).collect()
}

/// Technique classification with gold spans given.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct TcScore {
    /// Micro-F1 over all instances (each gold instance gets exactly one prediction, so this is
    /// also the accuracy).
    pub micro_f1: f64,
    /// F1 of each technique.
    pub per_technique: BTreeMap<String, f64>,
    /// Gold instances per technique.
    pub support: BTreeMap<String, usize>,
    /// Instances scored.
    pub n: usize,
}

/// TC score of the model's technique head on the gold technique spans of `docs`.
pub fn tc_score(model: &Model, docs: &[&Document]) -> Result<TcScore> {
    let mut pairs: Vec<(String, String)> = Vec::new(); // (gold, predicted)
    for d in docs {
        let mut toks: Vec<Token> = Vec::new();
        for r in sentences::split(&d.text) {
            toks.extend(tokenize(&d.text, r)?);
        }
        let repeats = RepeatCounter::new(&toks);
        for (r, gold) in &d.techniques {
            let predicted = match covering(&toks, r) {
                Some(tr) => best_technique(model, &toks, tr, &repeats)
                    .0
                    .map_or(String::new(), |t| t.as_str().to_string()),
                None => String::new(),
            };
            pairs.push((gold.clone(), predicted));
        }
    }
    let n = pairs.len();
    let correct = pairs.iter().filter(|(g, p)| g == p).count();
    let mut per_technique = BTreeMap::new();
    let mut support = BTreeMap::new();
    for t in TECHNIQUES {
        let tp = pairs.iter().filter(|(g, p)| g == t && p == t).count() as f64;
        let fp = pairs.iter().filter(|(g, p)| g != t && p == t).count() as f64;
        let fn_ = pairs.iter().filter(|(g, p)| g == t && p != t).count() as f64;
        support.insert(t.to_string(), pairs.iter().filter(|(g, _)| g == t).count());
        per_technique.insert(t.to_string(), f1(tp, fp, fn_));
    }
    Ok(TcScore {
        micro_f1: if n > 0 {
            correct as f64 / n as f64
        } else {
            0.0
        },
        per_technique,
        support,
        n,
    })
}

/// Do the loaded words carry the evidence? Over BABE sentences labelled Biased that have
/// annotated biased words: the share whose strongest evidence token (the whole sentence taken as
/// one span) is an annotated word (`top1`), or one of the three strongest is (`top3`).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct EvidenceScore {
    /// Strongest evidence token is an annotated biased word.
    pub top1: f64,
    /// An annotated biased word is among the three strongest.
    pub top3: f64,
    /// Sentences scored.
    pub n: usize,
}

/// Biased-word top-1/top-3 of the evidence ranking (see [`EvidenceScore`]).
pub fn evidence_score(model: &Model, docs: &[Document]) -> Result<EvidenceScore> {
    let (mut hit1, mut hit3, mut n) = (0usize, 0usize, 0usize);
    for d in docs {
        if d.label != Some(true) || d.spans.is_empty() {
            continue;
        }
        let mut ranked: Vec<(f32, bool)> = Vec::new();
        for r in sentences::split(&d.text) {
            let s = score_sentence(model, &d.text, r)?;
            for (j, w) in evidence(model, &s.tokens, s.prob, 0..s.tokens.len()) {
                let t = &s.tokens[j];
                if t.is_punct() {
                    continue;
                }
                let biased = d.spans.iter().any(|b| b.start < t.end && t.start < b.end);
                ranked.push((w, biased));
            }
        }
        if ranked.is_empty() {
            continue;
        }
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        n += 1;
        hit1 += ranked[0].1 as usize;
        hit3 += ranked.iter().take(3).any(|x| x.1) as usize;
    }
    let share = |k: usize| if n > 0 { k as f64 / n as f64 } else { 0.0 };
    Ok(EvidenceScore {
        top1: share(hit1),
        top3: share(hit3),
        n,
    })
}

/// Everything `slant eval` reports.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Evaluation {
    /// SI on PTC dev.
    pub ptc_dev_si: Option<SiScore>,
    /// Sentence scores on PTC dev (a sentence is positive when it overlaps a gold span).
    pub ptc_dev_sentences: Option<BinaryScore>,
    /// TC on the PTC train articles of the fixed hold-out (gold spans given).
    pub ptc_tc_holdout: Option<TcScore>,
    /// Sentence level on BABE dev (document score of each sentence).
    pub babe_dev: Option<BinaryScore>,
    /// Biased-word evidence ranking on BABE dev.
    pub babe_dev_evidence: Option<EvidenceScore>,
    /// Own held-out documents: SI-style span score.
    pub own_test_si: Option<SiScore>,
    /// Own held-out minimal pairs: share where the loaded member scores above its rewrite.
    pub own_pair_accuracy: Option<f64>,
    /// Number of own held-out pairs.
    pub own_pairs: usize,
}

/// Evaluates a model on whatever corpora are loaded. TC is measured on the PTC train articles
/// whose ids are in `corpora.tc_holdout`.
pub fn evaluate(analyzer: &Analyzer, corpora: &Corpora) -> Result<Evaluation> {
    let model = analyzer.model();
    let mut ev = Evaluation::default();
    if !corpora.ptc_dev.is_empty() {
        let reports = predict(analyzer, &corpora.ptc_dev)?;
        let gold: Vec<_> = corpora.ptc_dev.iter().map(gold_chars).collect();
        let spans: Vec<_> = reports.iter().map(span_chars).collect();
        ev.ptc_dev_si = Some(si_score(&spans, &gold));
        let (mut p, mut y) = (Vec::new(), Vec::new());
        for (r, d) in reports.iter().zip(&corpora.ptc_dev) {
            for s in &r.sentences {
                p.push(s.score);
                y.push(
                    d.spans
                        .iter()
                        .any(|g| g.start < s.byte_end && s.byte_start < g.end),
                );
            }
        }
        ev.ptc_dev_sentences = Some(binary_score(&p, &y));
    }
    let holdout: Vec<&Document> = corpora
        .ptc_train
        .iter()
        .filter(|d| corpora.tc_holdout.contains(&d.id))
        .collect();
    if !holdout.is_empty() {
        ev.ptc_tc_holdout = Some(tc_score(model, &holdout)?);
    }
    if !corpora.babe_dev.is_empty() {
        let reports = predict(analyzer, &corpora.babe_dev)?;
        let p: Vec<f32> = reports.iter().map(|r| r.score).collect();
        let y: Vec<bool> = corpora
            .babe_dev
            .iter()
            .map(|d| d.label.unwrap_or(false))
            .collect();
        ev.babe_dev = Some(binary_score(&p, &y));
        ev.babe_dev_evidence = Some(evidence_score(model, &corpora.babe_dev)?);
    }
    let own_test: Vec<Document> = corpora
        .own
        .iter()
        .filter(|d| d.split.as_deref() == Some("test"))
        .cloned()
        .collect();
    if !own_test.is_empty() {
        let reports = predict(analyzer, &own_test)?;
        let gold: Vec<_> = own_test.iter().map(gold_chars).collect();
        let spans: Vec<_> = reports.iter().map(span_chars).collect();
        ev.own_test_si = Some(si_score(&spans, &gold));
        let mut pairs: BTreeMap<&str, [Option<f32>; 2]> = BTreeMap::new();
        for (d, r) in own_test.iter().zip(&reports) {
            if let Some((id, loaded)) = &d.pair {
                pairs.entry(id.as_str()).or_default()[*loaded as usize] = Some(r.score);
            }
        }
        let complete: Vec<(f32, f32)> = pairs
            .values()
            .filter_map(|v| Some((v[1]?, v[0]?)))
            .collect();
        ev.own_pairs = complete.len();
        if !complete.is_empty() {
            let wins = complete.iter().filter(|(l, n)| l > n).count();
            ev.own_pair_accuracy = Some(wins as f64 / complete.len() as f64);
        }
    }
    Ok(ev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::single_range_in_vec_init)] // a Vec of one span is what these tests mean
    fn si_formula_by_hand() {
        // gold 0..10; predicted 0..5 (inside) and 20..30 (miss).
        let s = si_score(&[vec![0..5, 20..30]], &[vec![0..10]]);
        assert!((s.precision - 0.5).abs() < 1e-9); // (1 + 0) / 2
        assert!((s.recall - 0.5).abs() < 1e-9); // 5/10 / 1
        assert!((s.f1 - 0.5).abs() < 1e-9);
        let perfect = si_score(&[vec![3..7]], &[vec![3..7]]);
        assert_eq!(perfect.f1, 1.0);
        let none = si_score(&[vec![]], &[vec![3..7]]);
        assert_eq!(none.f1, 0.0);
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn overlapping_predictions_are_merged() {
        let s = si_score(&[vec![0..6, 4..10]], &[vec![0..10]]);
        assert_eq!(s.predicted, 1);
        assert_eq!(s.f1, 1.0);
    }

    #[test]
    fn binary_metrics() {
        let p = [0.9, 0.8, 0.3, 0.2];
        let y = [true, true, false, false];
        let b = binary_score(&p, &y);
        assert_eq!(b.macro_f1, 1.0);
        assert_eq!(b.auc, 1.0);
        assert!((b.ece - 0.2).abs() < 1e-6, "{}", b.ece);
        assert_eq!(auc(&[0.5, 0.5], &[true, false]), 0.5);
        assert_eq!(auc(&[0.1, 0.9], &[true, false]), 0.0);
    }
}
