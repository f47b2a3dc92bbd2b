//! Sentence splitting with our UAX #29 segmenter (`sentences::split`) gives exactly the
//! sentences of the same repairs over `unicode-segmentation`'s segments
//! (`sentences::split_reference`): on arbitrary strings and on real text (our
//! `datasets/*.jsonl`, and PTC and BABE from `../shared/datasets` when present).

use proptest::prelude::*;
use slant::sentences::{split, split_reference};
use std::path::Path;

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
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(root.join("datasets"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    let shared = root.join("../shared/datasets");
    if shared.is_dir() {
        for f in [
            "ptc/train.jsonl",
            "ptc/dev.jsonl",
            "babe/train.jsonl",
            "babe/dev.jsonl",
        ] {
            files.push(shared.join(f));
        }
    } else {
        eprintln!("note: ../shared/datasets is absent; the corpus test covers datasets/ only");
    }
    let mut n = 0;
    for f in files.iter().filter(|f| f.exists()) {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            if line.trim().is_empty() {
                continue;
            }
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let text = v["text"].as_str().unwrap_or_default();
            let got = split(text);
            assert_eq!(got, split_reference(text), "{text:?}");
            n += got.len();
        }
    }
    assert!(n > 0);
    eprintln!("{n} sentences compared");
}
