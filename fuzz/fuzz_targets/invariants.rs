//! The report contract every fuzz target checks: sorted, in bounds, on character boundaries,
//! `text` equal to its slice, code-point offsets agreeing with byte offsets, scores finite in
//! [0, 1]. Panics (a finding) on the first violation.

use slant::Report;

fn in_unit(what: &str, x: f32) {
    assert!(x.is_finite() && (0.0..=1.0).contains(&x), "{what} {x}");
}

/// Code points before byte `b` of `text` (which must be a character boundary).
fn cp(text: &str, b: usize) -> usize {
    assert!(text.is_char_boundary(b), "byte {b} is not a character boundary");
    text[..b].chars().count()
}

/// Checks `report` against the text it was made from.
pub fn check(text: &str, report: &Report) {
    in_unit("document score", report.score);
    let mut last = 0;
    for s in &report.sentences {
        assert!(s.byte_start <= s.byte_end && s.byte_end <= text.len(), "sentence out of bounds");
        assert!(s.byte_start >= last, "sentences out of order");
        last = s.byte_end;
        assert_eq!((s.start, s.end), (cp(text, s.byte_start), cp(text, s.byte_end)));
        in_unit("sentence score", s.score);
    }
    let mut last = 0;
    for sp in &report.spans {
        assert!(sp.byte_start < sp.byte_end && sp.byte_end <= text.len(), "span out of bounds");
        assert!(sp.byte_start >= last, "spans overlap or are out of order");
        last = sp.byte_end;
        assert_eq!((sp.start, sp.end), (cp(text, sp.byte_start), cp(text, sp.byte_end)));
        assert_eq!(&text[sp.byte_start..sp.byte_end], sp.text, "span text");
        in_unit("span score", sp.score);
        in_unit("technique score", sp.technique_score);
        for e in &sp.evidence {
            assert!(
                sp.byte_start <= e.byte_start && e.byte_end <= sp.byte_end,
                "evidence outside its span"
            );
            assert_eq!((e.start, e.end), (cp(text, e.byte_start), cp(text, e.byte_end)));
            assert_eq!(&text[e.byte_start..e.byte_end], e.text, "evidence text");
            assert!(e.weight.is_finite(), "evidence weight {}", e.weight);
        }
    }
}
