//! Behaviour of the shipped default model on text we wrote (not from any corpus).

mod common;
use common::{analyze, assert_offsets, flagged};

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
        assert!(!s.technique.is_empty());
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
    let loaded = include_str!("../datasets/examples/withdrawal.txt");
    let neutral = include_str!("../datasets/examples/withdrawal-neutral.txt");
    let (rl, rn) = (analyze(loaded), analyze(neutral));
    assert_offsets(loaded, &rl);
    assert_offsets(neutral, &rn);
    assert!(rl.score > rn.score, "{} vs {}", rl.score, rn.score);
    assert!(rl.spans.len() > rn.spans.len());
    assert_eq!(rl.label, slant::Label::Loaded);
}

#[test]
fn threshold_controls_how_much_is_flagged() {
    let text = include_str!("../datasets/examples/withdrawal.txt");
    let m = common::model();
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
