//! The tokenizer of record, the BERT pre-tokenizer of the `tokenizers` crate (a
//! dev-dependency), and the proof that [`tokenize`] (a byte scanner) gives exactly its tokens
//! and offsets: on arbitrary strings (property tests), on every Unicode scalar value, and on
//! real text (our own `datasets/*.jsonl`, and every PTC train/dev article and BABE sentence
//! from `../shared/datasets` when present).

use super::{is_invisible, tokenize, Token};
use crate::error::{Error, Result};
use proptest::prelude::*;
use std::ops::Range;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::{OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer};

/// The reference tokenizer: the BERT pre-tokenizer of the `tokenizers` crate, which
/// [`tokenize`] reproduces. Kept to prove that equality in tests.
pub(crate) fn tokenize_reference(text: &str, range: Range<usize>) -> Result<Vec<Token>> {
    let slice = text.get(range.clone()).ok_or_else(|| {
        Error::Tokenizer(format!("range {range:?} is not on character boundaries"))
    })?;
    let mut pre = PreTokenizedString::from(slice);
    BertPreTokenizer
        .pre_tokenize(&mut pre)
        .map_err(|e| Error::Tokenizer(e.to_string()))?;
    let splits = pre.get_splits(OffsetReferential::Original, OffsetType::Byte);
    let mut out = Vec::with_capacity(splits.len());
    for (s, (a, b), _) in splits {
        if s.is_empty() || s.chars().all(is_invisible) {
            continue;
        }
        out.push(Token::new(range.start + a, range.start + b, s));
    }
    Ok(out)
}

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
    for text in crate::test_support::corpus_texts(&[
        "ptc/train.jsonl",
        "ptc/dev.jsonl",
        "babe/train.jsonl",
        "babe/dev.jsonl",
    ]) {
        assert_same(&text);
        // Also sentence by sentence, as the analyzer calls it.
        for r in crate::sentences::split(&text) {
            let fast = tokenize(&text, r.clone()).unwrap();
            assert_eq!(fast, tokenize_reference(&text, r).unwrap());
            tokens += fast.len();
        }
    }
    assert!(tokens > 0);
    eprintln!("{tokens} tokens compared");
}
