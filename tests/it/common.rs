//! Helpers shared by the integration tests.

use slant::{Analyzer, Model, Options, Report};
use std::sync::OnceLock;

/// The embedded default model, loaded once per test binary.
pub fn model() -> &'static Model {
    static M: OnceLock<Model> = OnceLock::new();
    M.get_or_init(|| Model::embedded().expect("embedded model loads"))
}

/// Analyses `text` with the default model.
pub fn analyze(text: &str) -> Report {
    Analyzer::new(model(), Options::default())
        .analyze(text)
        .expect("analysis succeeds")
}

/// Asserts every offset in a report indexes `text` exactly (bytes and code points).
pub fn assert_offsets(text: &str, r: &Report) {
    let cp = |byte: usize| text[..byte].chars().count();
    for s in &r.sentences {
        assert!(text.is_char_boundary(s.byte_start) && text.is_char_boundary(s.byte_end));
        assert_eq!((s.start, s.end), (cp(s.byte_start), cp(s.byte_end)));
        assert!((0.0..=1.0).contains(&s.score));
    }
    let mut last_end = 0;
    for sp in &r.spans {
        assert_eq!(&text[sp.byte_start..sp.byte_end], sp.text, "span text");
        assert_eq!(
            (sp.start, sp.end),
            (cp(sp.byte_start), cp(sp.byte_end)),
            "code points"
        );
        let by_chars: String = text
            .chars()
            .skip(sp.start)
            .take(sp.end - sp.start)
            .collect();
        assert_eq!(by_chars, sp.text, "code-point slice");
        assert!(sp.byte_start >= last_end, "spans sorted and disjoint");
        last_end = sp.byte_end;
        assert_eq!(sp.text.trim(), sp.text, "no edge whitespace");
        assert!((0.0..=1.0).contains(&sp.score) && (0.0..=1.0).contains(&sp.technique_score));
        for e in &sp.evidence {
            assert_eq!(&text[e.byte_start..e.byte_end], e.text);
            assert_eq!((e.start, e.end), (cp(e.byte_start), cp(e.byte_end)));
            assert!(
                sp.byte_start <= e.byte_start && e.byte_end <= sp.byte_end,
                "evidence inside span"
            );
            assert!(e.weight > 0.0);
        }
    }
    assert!((0.0..=1.0).contains(&r.score));
}

/// Texts of the flagged spans.
pub fn flagged(r: &Report) -> Vec<&str> {
    r.spans.iter().map(|s| s.text.as_str()).collect()
}
