//! The analysis fast path gives exactly the reference results:
//!
//! * `CompiledHeads` (precomputed per-word columns) finds the same span-head features, in the
//!   same order, as `features::token_features` into a `Lookup`, the same sentence-head
//!   columns as `features::sentence_terms`, and the same technique-head columns as
//!   `features::technique_features` (`technique_columns`: packed character n-grams);
//! * `Analyzer::analyze` (streamed, compiled lookups, evidence from the scoring pass, compact
//!   document words) serialises to the same JSON as `Analyzer::analyze_reference` (generic
//!   feature functions, every token kept), on arbitrary strings and on real text (our
//!   `datasets/*.jsonl`, and the PTC and BABE corpora from `../shared/datasets` when present);
//! * `Analyzer::write_json` (the streamed JSON of `analyze --format json`) writes exactly those
//!   bytes.

mod common;
use proptest::prelude::*;
use slant::compiled::{CompiledHeads, TechniqueScratch};
use slant::features::{
    binary_unit_row, sentence_terms, technique_features, token_features, Lookup, SentenceContext,
};
use slant::{Analyzer, Options};
use std::path::Path;

fn same_features(text: &str) {
    let model = common::model();
    let heads = CompiledHeads::new(model);
    let mut infos = Vec::new();
    for r in slant::sentences::split(text) {
        let tokens = slant::tokens::tokenize(text, r).unwrap();
        heads.infos(&tokens, &mut infos);
        // Sentence head: same multiset of columns.
        let mut look = Lookup::new(&model.sentence.vectorizer.index);
        sentence_terms(&tokens, &model.lexicon, &mut look);
        let mut want: Vec<u32> = look.found.iter().map(|x| x.0).collect();
        let mut got = Vec::new();
        heads.sentence_columns(model, &tokens, &infos, &mut got);
        want.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, want, "sentence columns of {text:?}");
        // Span head: same sequence, for a few sentence probabilities.
        for prob in [0.0, 0.37, 0.99] {
            let ctx = SentenceContext::new(&tokens, &model.lexicon, prob);
            let mut look = Lookup::new(&model.span.index);
            for i in 0..tokens.len() {
                look.clear();
                token_features(&tokens, i, &model.lexicon, &ctx, &mut look);
                let want: Vec<(u32, Option<i8>)> = look.found.iter().map(|x| (x.0, x.1)).collect();
                let mut got = Vec::new();
                heads.span_features(model, &tokens, &infos, i, &ctx, |c, a| got.push((c, a)));
                assert_eq!(got, want, "token {i} of {text:?}");
                assert!(look.found.iter().all(|x| x.2 == 1.0));
            }
        }
    }
}

/// Technique-head columns of every span of up to `max_len` tokens (and of every whole
/// sentence) of the document, with a few repeat counts: compiled = generic.
fn same_technique_columns(text: &str, max_len: usize) {
    let model = common::model();
    let heads = CompiledHeads::new(model);
    let mut doc = Vec::new();
    let mut sentences = Vec::new();
    for r in slant::sentences::split(text) {
        let tokens = slant::tokens::tokenize(text, r).unwrap();
        sentences.push(doc.len()..doc.len() + tokens.len());
        doc.extend(tokens);
    }
    let mut scratch = TechniqueScratch::default();
    let mut got = Vec::new();
    let mut look = Lookup::new(&model.technique.index);
    let mut check = |range: std::ops::Range<usize>, n: usize| {
        look.clear();
        technique_features(&doc, range.clone(), &model.lexicon, n, &mut look);
        let want: Vec<u32> = binary_unit_row(look.found.iter().map(|x| x.0))
            .into_iter()
            .map(|x| x.0)
            .collect();
        heads.technique_columns(model, &doc, range.clone(), n, &mut scratch, &mut got);
        assert_eq!(
            got, want,
            "technique columns of {range:?} ({n} repeats) in {text:?}"
        );
    };
    for s in &sentences {
        check(s.clone(), 1);
        for start in s.clone() {
            for end in start + 1..=s.end.min(start + max_len) {
                check(start..end, 1 + (start + end) % 4);
            }
        }
    }
}

fn same_report(text: &str) {
    let a = Analyzer::new(common::model(), Options::default());
    let fast = serde_json::to_string(&a.analyze(text).unwrap()).unwrap();
    let reference = serde_json::to_string(&a.analyze_reference(text).unwrap()).unwrap();
    assert_eq!(fast, reference, "report of {text:?}");
    // The streamed JSON of `analyze --format json` is the same bytes as the serialised report.
    let mut streamed = Vec::new();
    a.write_json(text, &mut streamed).unwrap();
    assert_eq!(
        String::from_utf8(streamed).unwrap(),
        fast,
        "streamed JSON of {text:?}"
    );
}

fn text_strategy() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("The shameful, reckless betrayal ".to_string()),
        Just("critics called the planners cowards. ".to_string()),
        Just("TOTALLY UNPRECEDENTED ".to_string()),
        Just("the the the ".to_string()),
        Just("\r\n".to_string()),
        Just("“quoted” ".to_string()),
        Just("\"very\" ".to_string()),
        Just("Mr. ".to_string()),
        Just("!!! ".to_string()),
        Just("2024 ".to_string()),
        Just("👨‍👩‍👧".to_string()),
        Just("e\u{301}".to_string()),
        Just("\u{200B}\u{FEFF}".to_string()),
        any::<char>().prop_map(|c| c.to_string()),
        "[a-zA-Z .,;:!?'\"-]{0,12}",
    ];
    prop::collection::vec(pieces, 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn compiled_lookups_equal_the_feature_functions(text in text_strategy()) {
        same_features(&text);
    }

    #[test]
    fn compiled_technique_columns_equal_the_feature_functions(text in text_strategy()) {
        same_technique_columns(&text, 8);
    }

    #[test]
    fn fast_analysis_equals_the_reference(text in text_strategy()) {
        same_report(&text);
    }
}

#[test]
fn corpora_give_the_same_reports() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for text in common::corpus_texts(&["ptc/dev.jsonl", "ptc/train.jsonl", "babe/dev.jsonl"]) {
        same_report(&text);
        n += 1;
    }
    let documents = std::fs::read_to_string(root.join("datasets/documents.jsonl")).unwrap();
    for line in documents.lines().filter(|l| !l.trim().is_empty()).take(50) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        same_features(v["text"].as_str().unwrap_or_default());
        same_technique_columns(v["text"].as_str().unwrap_or_default(), 12);
    }
    // Technique columns of spans of real news text (every span of up to 6 tokens).
    for text in common::corpus_texts(&["ptc/dev.jsonl"]).iter().step_by(7) {
        same_technique_columns(text, 6);
    }
    assert!(n > 0);
    eprintln!("{n} documents compared");
}

/// A document longer than `RepeatCounter::ON_DEMAND_WORDS` words takes the paths that register
/// the spans' word sequences first (`analyze`, and `write_json`'s extra pass) while the
/// reference counts unregistered sequences directly: all three must still agree.
#[test]
fn long_documents_give_the_same_reports() {
    // Our own datasets/*.jsonl only (no shared corpus file asked for).
    let once = common::corpus_texts(&[]).join("\n\n");
    let long = [once.as_str(); 3].join("\n\n");
    let words = long.split_whitespace().count();
    let limit = slant::features::RepeatCounter::ON_DEMAND_WORDS;
    assert!(words > 2 * limit, "{words} words");
    same_report(&long);
    // Repetitive: the same loaded sentences many times, on one line.
    let repeated =
        "The chaotic withdrawal was a humiliating fiasco, and critics called the reckless \
                    planners cowards who abandoned loyal partners. Officials said talks ended. "
            .repeat(2 * limit / 20);
    same_report(&repeated);
}
