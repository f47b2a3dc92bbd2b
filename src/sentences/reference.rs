//! Sentence splitting with our UAX #29 segmenter (`sentences::split`) gives exactly the
//! sentences of the same repairs over `unicode-segmentation`'s segments
//! (`sentences::split_reference`): on arbitrary strings and on real text (our
//! `datasets/*.jsonl`, and PTC and BABE from `../shared/datasets` when present).

use super::{split, split_reference};
use proptest::prelude::*;

fn text_strategy() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("Mr. Smith said. ".to_string()),
        Just("U.S. officials e.g. 3.5 percent. ".to_string()),
        Just("(Yes.) 'Quoted.' \"Done!\" ".to_string()),
        Just("end.\u{301} Next ok.\u{200D}Yes ".to_string()),
        Just("\r\n".to_string()),
        Just("\n\n".to_string()),
        Just("\u{85}\u{2028}\u{2029}".to_string()),
        Just("“quoted.” ‘x?’ ¿¡ 。！？ ".to_string()),
        Just("👨‍👩‍👧 ".to_string()),
        Just("... !? ?! .. ".to_string()),
        Just(" \t\u{A0}\u{3000}".to_string()),
        any::<char>().prop_map(|c| c.to_string()),
        "[a-zA-Z0-9 .,;:!?'\"()-]{0,12}",
    ];
    prop::collection::vec(pieces, 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn split_equals_the_reference(text in text_strategy()) {
        prop_assert_eq!(split(&text), split_reference(&text));
    }

    #[test]
    fn split_equals_the_reference_on_any_string(text in any::<String>()) {
        prop_assert_eq!(split(&text), split_reference(&text));
    }
}

#[test]
fn corpora_split_identically() {
    let mut n = 0;
    for text in crate::test_support::corpus_texts(&[
        "ptc/train.jsonl",
        "ptc/dev.jsonl",
        "babe/train.jsonl",
        "babe/dev.jsonl",
    ]) {
        let got = split(&text);
        assert_eq!(got, split_reference(&text), "{text:?}");
        n += got.len();
    }
    assert!(n > 0);
    eprintln!("{n} sentences compared");
}
