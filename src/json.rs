//! Hand-written JSON of the report types, byte for byte what `serde_json` (compact) makes of
//! them, into a `String`: constant keys, `serde_json`'s own number formatting, and its string
//! escaping (`\"`, `\\`, `\b \t \n \f \r`, other control characters as `\u00xx`; everything else,
//! DEL and non-ASCII included, as is). Used by `batch` rows and `Analyzer::write_json`, where
//! the generic serializer was a large share of the output cost.

use crate::report::{Evidence, Label, ModelInfo, Report, SentenceReport, SpanReport};

/// Escape of each byte: 0 (none), a short escape letter, or `u` (`\u00xx`).
const ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = match b {
            0x08 => b'b',
            0x09 => b't',
            0x0A => b'n',
            0x0C => b'f',
            0x0D => b'r',
            _ => b'u',
        };
        b += 1;
    }
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `s` as a JSON string.
pub(crate) fn string(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let e = ESCAPE[b as usize];
        if e == 0 {
            continue;
        }
        // `i` is an ASCII byte, so a character boundary.
        out.push_str(s.get(start..i).unwrap_or_default());
        start = i + 1;
        out.push('\\');
        if e == b'u' {
            out.push_str("u00");
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xF) as usize] as char);
        } else {
            out.push(e as char);
        }
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
}

/// Appends a float as `serde_json` writes it: not finite as `null`, else `zmij`'s shortest
/// representation, which is what `serde_json` itself calls (the same crate and version: one entry
/// in Cargo.lock).
#[inline]
fn float(out: &mut String, v: f32) {
    if v.is_finite() {
        out.push_str(zmij::Buffer::new().format_finite(v));
    } else {
        out.push_str("null");
    }
}

/// Appends an unsigned integer in decimal (with `itoa`, as `serde_json` writes it).
#[inline]
fn uint(out: &mut String, n: usize) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// `"key":` after a `{` or `,` already written.
#[inline]
fn key(out: &mut String, k: &str) {
    out.push_str(k);
}

/// `{"start":…,"end":…,"byte_start":…,"byte_end":…`, the opening of every located report.
fn offsets(out: &mut String, [start, end, byte_start, byte_end]: [usize; 4]) {
    key(out, "{\"start\":");
    uint(out, start);
    key(out, ",\"end\":");
    uint(out, end);
    key(out, ",\"byte_start\":");
    uint(out, byte_start);
    key(out, ",\"byte_end\":");
    uint(out, byte_end);
}

/// The JSON of one sentence report.
pub(crate) fn sentence(out: &mut String, s: &SentenceReport) {
    offsets(out, [s.start, s.end, s.byte_start, s.byte_end]);
    key(out, ",\"score\":");
    float(out, s.score);
    out.push('}');
}

fn evidence(out: &mut String, e: &Evidence) {
    offsets(out, [e.start, e.end, e.byte_start, e.byte_end]);
    key(out, ",\"text\":");
    string(out, &e.text);
    key(out, ",\"weight\":");
    float(out, e.weight);
    out.push('}');
}

/// The JSON of one span report.
pub(crate) fn span(out: &mut String, s: &SpanReport) {
    offsets(out, [s.start, s.end, s.byte_start, s.byte_end]);
    key(out, ",\"text\":");
    string(out, &s.text);
    key(out, ",\"score\":");
    float(out, s.score);
    key(out, ",\"technique\":");
    string(out, s.technique_name());
    key(out, ",\"technique_score\":");
    float(out, s.technique_score);
    key(out, ",\"evidence\":[");
    for (k, e) in s.evidence.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        evidence(out, e);
    }
    out.push_str("]}");
}

/// The JSON of the model information.
pub(crate) fn model_info(out: &mut String, m: &ModelInfo) {
    key(out, "{\"name\":");
    string(out, &m.name);
    key(out, ",\"version\":");
    string(out, &m.version);
    out.push('}');
}

/// The JSON of a report.
pub(crate) fn report(out: &mut String, r: &Report) {
    out.push('{');
    report_tail(out, r);
}

/// The JSON of a report without its opening `{` (so that fields can be written before it).
pub(crate) fn report_tail(out: &mut String, r: &Report) {
    report_fields(out, r.score);
    for (k, s) in r.sentences.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        sentence(out, s);
    }
    key(out, "],\"spans\":[");
    for (k, s) in r.spans.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        span(out, s);
    }
    report_end(out, &r.model);
}

/// The start of a report's JSON up to its sentences: `{"score":…,"label":…,"sentences":[`.
pub(crate) fn report_head(out: &mut String, score: f32) {
    out.push('{');
    report_fields(out, score);
}

fn report_fields(out: &mut String, score: f32) {
    key(out, "\"score\":");
    float(out, score);
    key(out, ",\"label\":");
    string(out, Label::of(score).as_str());
    key(out, ",\"sentences\":[");
}

/// The end of a report's JSON after its spans: `],"model":{…}}`.
pub(crate) fn report_end(out: &mut String, m: &ModelInfo) {
    key(out, "],\"model\":");
    model_info(out, m);
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Label;

    #[test]
    fn strings_escape_as_serde_json_does() {
        let mut all = String::new();
        for c in (0u32..0x100).filter_map(char::from_u32) {
            all.push(c);
        }
        for s in [
            "",
            "plain",
            "\"quoted\" back\\slash",
            &all,
            "\u{2028}\u{2029}\u{7F}🙂 “x” \r\n\t",
        ] {
            let mut out = String::new();
            string(&mut out, s);
            assert_eq!(out, serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn integers_write_as_serde_json_does() {
        for n in [
            0,
            1,
            9,
            10,
            99,
            100,
            12345,
            u32::MAX as usize,
            usize::MAX - 1,
            usize::MAX,
        ] {
            let mut out = String::new();
            uint(&mut out, n);
            assert_eq!(out, serde_json::to_string(&n).unwrap());
        }
    }

    #[test]
    fn reports_write_as_serde_json_does() {
        let ev = |w: f32| Evidence {
            start: 1,
            end: 2,
            byte_start: 3,
            byte_end: usize::MAX,
            text: "w\u{1}\"".into(),
            weight: w,
        };
        for (score, label) in [
            (0.5f32, Label::Loaded),
            (f32::NAN, Label::Neutral),
            (f32::INFINITY, Label::Loaded),
            (-0.0, Label::Neutral),
            (1e-40, Label::Neutral),
            (123456.79, Label::Loaded),
        ] {
            let r = Report {
                score,
                label,
                sentences: vec![
                    SentenceReport {
                        start: 0,
                        end: 10,
                        byte_start: 0,
                        byte_end: 12,
                        score: 0.1 + score,
                    };
                    2
                ],
                spans: vec![
                    SpanReport {
                        start: 5,
                        end: 7,
                        byte_start: 5,
                        byte_end: 9,
                        text: "a\nb é".into(),
                        score: score / 3.0,
                        technique: Some(crate::report::Technique::LoadedLanguage),
                        technique_score: f32::MIN_POSITIVE,
                        evidence: vec![ev(score), ev(0.25)],
                    },
                    SpanReport {
                        start: 0,
                        end: 0,
                        byte_start: 0,
                        byte_end: 0,
                        text: String::new(),
                        score: f32::NEG_INFINITY,
                        technique: None,
                        technique_score: 0.0,
                        evidence: Vec::new(),
                    },
                ],
                model: ModelInfo {
                    name: "slant \"x\"".into(),
                    version: "1.0\t".into(),
                },
            };
            let mut out = String::from("{");
            report_tail(&mut out, &r);
            assert_eq!(out, serde_json::to_string(&r).unwrap());
        }
    }
}
