//! The fast tokenizer (`tokens::tokenize`, a byte scanner) gives exactly the tokens and offsets
//! of the tokenizer of record (`tokens::tokenize_reference`, the BERT pre-tokenizer of the
//! `tokenizers` crate): on arbitrary strings (property test) and on real text (every PTC
//! train/dev article and BABE sentence from `../shared/datasets` when present, and our own
//! `datasets/*.jsonl`).

mod common;
use proptest::prelude::*;
use slant::tokens::{tokenize, tokenize_reference};

fn assert_same(text: &str) {
    let fast = tokenize(text, 0..text.len()).unwrap();
    let reference = tokenize_reference(text, 0..text.len()).unwrap();
    assert_eq!(fast, reference, "text: {text:?}");
}

fn text_strategy() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("Shameful 2024 ".to_string()),
        Just("U.S.-led".to_string()),
        Just("\r\n".to_string()),
        Just("\u{0B}\u{0C}\u{85}\u{A0}\u{1680}\u{2000}\u{200A}\u{2028}\u{2029}\u{202F}\u{205F}\u{3000}".to_string()),
        Just("“quoted” ‘x’ «y» — – … ¿¡ 、。「」".to_string()),
        Just("👨‍👩‍👧👍🏽🙂".to_string()),
        Just("e\u{301}a\u{308}".to_string()),
        Just("\u{200B}\u{200D}\u{FEFF}\u{AD}\u{2060}".to_string()),
        Just("\u{202E}شبكة\u{202C}".to_string()),
        Just("ÀÉÎ ǅ İstanbul ΣΑΣ ß ﬁ".to_string()),
        Just("$+<=>^`|~ §¶€£ ٪ ‰".to_string()),
        any::<char>().prop_map(|c| c.to_string()),
        "[a-zA-Z0-9 .,;:!?'\"`(){}\\[\\]_-]{0,12}",
    ];
    prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn fast_tokenizer_equals_the_reference(text in text_strategy()) {
        assert_same(&text);
    }

    #[test]
    fn fast_tokenizer_equals_the_reference_on_any_string(text in any::<String>()) {
        assert_same(&text);
    }

    #[test]
    fn sub_ranges_keep_offsets_into_the_whole_text(text in text_strategy(), a in 0usize..200, b in 0usize..200) {
        let (mut a, mut b) = (a.min(text.len()), b.min(text.len()));
        while !text.is_char_boundary(a) { a -= 1; }
        while !text.is_char_boundary(b) { b -= 1; }
        let r = a.min(b)..a.max(b);
        prop_assert_eq!(tokenize(&text, r.clone()).unwrap(), tokenize_reference(&text, r).unwrap());
    }
}

#[test]
fn every_character_alone_and_between_letters() {
    // Every Unicode scalar value, alone and inside a word: whitespace, punctuation and word
    // classes must agree with the reference one character at a time.
    let mut batch = String::new();
    for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
        batch.push('a');
        batch.push(c);
        batch.push('b');
        batch.push(c);
        if batch.len() > 4096 {
            assert_same(&batch);
            batch.clear();
        }
    }
    assert_same(&batch);
}

#[test]
fn corpora_tokenize_identically() {
    let mut tokens = 0;
    for text in common::corpus_texts(&[
        "ptc/train.jsonl",
        "ptc/dev.jsonl",
        "babe/train.jsonl",
        "babe/dev.jsonl",
    ]) {
        assert_same(&text);
        // Also sentence by sentence, as the analyzer calls it.
        for r in slant::sentences::split(&text) {
            let fast = tokenize(&text, r.clone()).unwrap();
            assert_eq!(fast, tokenize_reference(&text, r).unwrap());
            tokens += fast.len();
        }
    }
    assert!(tokens > 0);
    eprintln!("{tokens} tokens compared");
}
