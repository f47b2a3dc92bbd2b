//! Offsets are sacred: every span, sentence and evidence word indexes the original text.

use crate::common::{analyze, assert_offsets};

#[test]
fn offsets_round_trip_on_hard_inputs() {
    let cases: &[(&str, &str)] = &[
        ("ascii", "Critics called the reckless, shameful plan a disaster. The vote is on Monday."),
        ("non-ascii", "Zoë Łukasiewicz called the mayor’s plan a “disgraceful, shameless giveaway” in São Paulo."),
        ("emoji", "🔥🔥 This corrupt, incompetent regime 🤡 must go!!! 🙂 Vote now."),
        ("zwj emoji", "Family 👨‍👩‍👧 outraged by the brutal, heartless eviction 🏚️."),
        ("crlf", "Council approves budget\r\nOpponents called it an outrageous betrayal.\r\n\r\nThe vote was 7-2.\r\n"),
        ("quotes", "\"This is a catastrophe,\" she said. 'Utterly disgraceful', he added — «scandaleux»."),
        ("combining", "Cafe\u{301} owners decry the ruinous, insane tax hike on the Re\u{301}publique."),
        ("rtl", "The \u{202B}شبكة\u{202C} report called it a shameful cover-up."),
        ("zero-width", "A\u{200B} disgraceful\u{200D} and \u{FEFF}reckless decision."),
        ("no whitespace", "Disgraceful!Reckless!Shameful!Corrupt!Traitors!"),
        ("cjk", "日本の首相は声明を発表した。The shameful betrayal continues."),
        ("empty", ""),
        ("whitespace only", " \n\t\r\n "),
    ];
    for (name, text) in cases {
        let r = analyze(text);
        assert_offsets(text, &r);
        if text.trim().is_empty() {
            assert!(r.sentences.is_empty() && r.spans.is_empty(), "{name}");
            assert_eq!(r.score, 0.0, "{name}");
        }
    }
}

#[test]
fn many_exclamation_marks_and_long_lines_are_fine() {
    let bangs = "!".repeat(20_000);
    assert_offsets(&bangs, &analyze(&bangs));
    let long = "the shameful corrupt regime ".repeat(2_000);
    let r = analyze(&long);
    assert_offsets(&long, &r);
    assert!(
        r.sentences.len() > 10,
        "long runs are cut into bounded sentences"
    );
}
