//! Property tests: for arbitrary strings, analysis does not panic, spans are sorted, in bounds,
//! on character boundaries, `text` matches the slice, code-point and byte offsets agree, and all
//! scores are finite and in [0, 1].

use proptest::prelude::*;

fn text_strategy() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("shameful ".to_string()),
        Just("reckless betrayal".to_string()),
        Just("the ".to_string()),
        Just("\r\n".to_string()),
        Just("\n\n".to_string()),
        Just("“quoted” ".to_string()),
        Just("Mr. ".to_string()),
        Just("!!! ".to_string()),
        Just("👨‍👩‍👧".to_string()),
        Just("e\u{301}".to_string()),
        Just("\u{200B}\u{200D}\u{FEFF}".to_string()),
        Just("\u{202E}شبكة".to_string()),
        any::<char>().prop_map(|c| c.to_string()),
        "[a-zA-Z .,;:!?'\"-]{0,12}",
    ];
    prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn analysis_is_total_and_offsets_are_exact(text in text_strategy()) {
        let r = crate::common::analyze(&text);
        crate::common::assert_offsets(&text, &r);
        prop_assert!(r.score.is_finite());
        for s in &r.spans {
            prop_assert!(s.score.is_finite() && s.technique_score.is_finite());
            prop_assert!(s.technique.is_some());
        }
    }

    #[test]
    fn arbitrary_unicode_never_panics(text in any::<String>()) {
        let r = crate::common::analyze(&text);
        crate::common::assert_offsets(&text, &r);
    }
}
