//! Behaviour of the shipped default model on text we wrote (not from any corpus).

use crate::common::{analyze, assert_offsets, flagged};

const LOADED: &str =
    "the chaotic withdrawal was one of the most effective geopolitical initiatives in decades";
const NEUTRAL: &str = "the withdrawal was completed in August, the ministry said";

#[test]
fn both_loaded_phrases_are_flagged() {
    let r = analyze(LOADED);
    assert_offsets(LOADED, &r);
    let spans = flagged(&r);
    assert!(
        spans.iter().any(|s| s.contains("chaotic")),
        "`chaotic withdrawal` not flagged: {spans:?}"
    );
    assert!(
        spans.iter().any(|s| s.contains("most effective")),
        "`most effective geopolitical initiatives` not flagged: {spans:?}"
    );
    for s in &r.spans {
        assert!(s.technique.is_some());
        assert!(!s.evidence.is_empty(), "every span says why: {s:?}");
    }
}

#[test]
fn neutral_rewrite_flags_nothing() {
    let r = analyze(NEUTRAL);
    assert!(r.spans.is_empty(), "{:?}", flagged(&r));
    assert!(r.score < analyze(LOADED).score);
}

#[test]
fn evidence_points_at_the_loaded_word() {
    let r = analyze(LOADED);
    let chaotic = r
        .spans
        .iter()
        .find(|s| s.text.contains("chaotic"))
        .expect("flagged");
    assert_eq!(chaotic.evidence[0].text, "chaotic", "{chaotic:?}");
}

#[test]
fn example_documents_score_in_the_expected_order() {
    let loaded = include_str!("../../datasets/examples/withdrawal.txt");
    let neutral = include_str!("../../datasets/examples/withdrawal-neutral.txt");
    let (rl, rn) = (analyze(loaded), analyze(neutral));
    assert_offsets(loaded, &rl);
    assert_offsets(neutral, &rn);
    assert!(rl.score > rn.score, "{} vs {}", rl.score, rn.score);
    assert!(rl.spans.len() > rn.spans.len());
    assert_eq!(rl.label, slant::Label::Loaded);
}

#[test]
fn threshold_controls_how_much_is_flagged() {
    let text = include_str!("../../datasets/examples/withdrawal.txt");
    let m = crate::common::model();
    let count = |t: f32| {
        slant::Analyzer::new(m, slant::Options { threshold: Some(t) })
            .analyze(text)
            .unwrap()
            .spans
            .len()
    };
    assert!(count(0.2) >= count(0.5));
    assert!(count(0.5) >= count(0.95));
    assert_eq!(count(1.01f32.min(1.0)), count(1.0));
}

#[test]
fn analyze_many_keeps_order_and_equals_one_by_one() {
    use slant::{analyze::MANY_CHUNK, Analyzer, Model, Options};
    use std::cell::Cell;
    let model = Model::embedded().unwrap();
    let analyzer = Analyzer::new(&model, Options::default());
    // More than two chunks, with empty and loaded documents mixed in.
    let docs: Vec<String> = (0..MANY_CHUNK * 2 + 7)
        .map(|i| match i % 3 {
            0 => LOADED.to_string(),
            1 => String::new(),
            _ => format!("{NEUTRAL} (item {i})"),
        })
        .collect();
    let pulled = Cell::new(0usize);
    let mut many = analyzer.analyze_many(docs.iter().inspect(|_| pulled.set(pulled.get() + 1)));
    let first = many.next().unwrap().unwrap();
    assert_eq!(
        pulled.get(),
        MANY_CHUNK,
        "input is consumed one chunk at a time"
    );
    let mut reports = vec![first];
    reports.extend(many.map(|r| r.unwrap()));
    assert_eq!(reports.len(), docs.len());
    for (doc, got) in docs.iter().zip(&reports) {
        assert_eq!(got, &analyzer.analyze(doc).unwrap(), "{doc:?}");
    }
}
