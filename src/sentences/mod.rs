//! Stage 1, sentences: split news text into sentences.
//!
//! Starts from the Unicode sentence boundaries of UAX #29 (those of `unicode-segmentation`,
//! computed by [`bounds`] with the same rules and table but an O(1) ASCII lookup), then repairs
//! what news text breaks: abbreviations and initials before names ("Mr. Smith", "J. Doe"), a
//! boundary followed by a lower-case word, and over-long runs with no punctuation (split at a
//! space so one line of 100 MB never becomes one sentence). Line breaks (LF, CRLF, paragraph
//! separators) always end a sentence, so headlines, datelines and list items stand alone.
//! Every sentence is a byte range into the original text with no leading or trailing whitespace.

use std::ops::Range;

mod bounds;
#[cfg(test)]
mod reference;
mod table;

/// Longest sentence, in bytes, before it is cut at a space.
pub const MAX_SENTENCE_BYTES: usize = 2_000;

const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "gen", "sen", "rep", "gov", "lt", "col", "sgt", "capt", "cpt",
    "maj", "adm", "cmdr", "st", "jr", "sr", "inc", "corp", "ltd", "co", "vs", "etc", "no", "nos",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "pres",
    "rev", "hon", "fig", "approx", "dept", "est", "mt", "ft", "u.s", "u.k", "u.n", "e.g", "i.e",
    "a.m", "p.m", "d.c", "op", "cf", "al",
];

/// Splits `text` into sentences, returned as trimmed byte ranges in order, never overlapping.
pub fn split(text: &str) -> Vec<Range<usize>> {
    // UAX #29 segments (the same as `unicode-segmentation`'s `split_sentence_bound_indices`).
    split_segments(text, |f| bounds::segments(text, f))
}

/// [`split`] on the UAX #29 segments of `unicode-segmentation` itself (the reference that
/// [`split`]'s own segmenter reproduces; tests prove that equality).
#[cfg(test)]
pub(crate) fn split_reference(text: &str) -> Vec<Range<usize>> {
    use unicode_segmentation::UnicodeSegmentation;
    split_segments(text, |f| {
        for (start, seg) in text.split_sentence_bound_indices() {
            f(start, start + seg.len());
        }
    })
}

/// Merges and trims the raw segments that `segments` reports (as `(start, end)` to the
/// callback it is given) into sentences.
fn split_segments(
    text: &str,
    segments: impl FnOnce(&mut dyn FnMut(usize, usize)),
) -> Vec<Range<usize>> {
    let mut raw: Vec<Range<usize>> = Vec::new();
    segments(&mut |start, end| {
        let seg = &text[start..end];
        let merge = match raw.last() {
            Some(prev) => should_merge(&text[prev.clone()], seg),
            None => false,
        };
        match raw.last_mut() {
            Some(prev) if merge => prev.end = end,
            _ => raw.push(start..end),
        }
    });
    let mut out = Vec::with_capacity(raw.len());
    for r in raw {
        if let Some(t) = trim(text, r) {
            cut_long(text, t, &mut out);
        }
    }
    out
}

/// True when the boundary between `prev` and `next` is not a real sentence end.
fn should_merge(prev: &str, next: &str) -> bool {
    // A boundary at a line break is always kept.
    if prev.ends_with(['\n', '\r', '\u{2029}', '\u{2028}', '\u{85}']) {
        return false;
    }
    let p = prev.trim_end();
    if !p.ends_with('.') {
        return false;
    }
    let next_first = next.trim_start().chars().next();
    if let Some(c) = next_first {
        if c.is_lowercase() || c.is_ascii_digit() {
            return true;
        }
    }
    let word = p[..p.len() - 1]
        .rsplit(|c: char| c.is_whitespace() || c == '(' || c == '"' || c == '“')
        .next()
        .unwrap_or("");
    // Initials such as "J." (one upper-case letter).
    let mut chars = word.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        if c.is_uppercase() {
            return true;
        }
    }
    let lower = word.to_lowercase();
    ABBREVIATIONS.contains(&lower.as_str())
}

fn trim(text: &str, r: Range<usize>) -> Option<Range<usize>> {
    let s = &text[r.clone()];
    let lead = s.len() - s.trim_start().len();
    let tail = s.len() - s.trim_end().len();
    let out = (r.start + lead)..(r.end - tail);
    (out.start < out.end).then_some(out)
}

/// Cuts a range longer than [`MAX_SENTENCE_BYTES`] at the last whitespace before the limit
/// (or at a character boundary when there is none).
fn cut_long(text: &str, mut r: Range<usize>, out: &mut Vec<Range<usize>>) {
    while r.end - r.start > MAX_SENTENCE_BYTES {
        let mut limit = r.start + MAX_SENTENCE_BYTES;
        while !text.is_char_boundary(limit) {
            limit -= 1;
        }
        let window = &text[r.start..limit];
        let cut = window
            .rfind(char::is_whitespace)
            .filter(|&i| i > 0)
            .map(|i| r.start + i)
            .unwrap_or(limit);
        if let Some(t) = trim(text, r.start..cut) {
            out.push(t);
        }
        match trim(text, cut..r.end) {
            Some(rest) => r = rest,
            None => return,
        }
    }
    out.push(r);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sents(t: &str) -> Vec<&str> {
        split(t).into_iter().map(|r| &t[r]).collect()
    }

    #[test]
    fn headline_and_body() {
        let t = "Minister resigns\r\nThe minister resigned on Monday. Mr. Okafor said \"it was time.\" He left.";
        assert_eq!(
            sents(t),
            vec![
                "Minister resigns",
                "The minister resigned on Monday.",
                "Mr. Okafor said \"it was time.\"",
                "He left."
            ]
        );
    }

    #[test]
    fn abbreviations_and_initials() {
        let t = "The U.S. envoy met J. K. Rowe at 5 p.m. on Friday. Talks failed.";
        assert_eq!(
            sents(t),
            vec![
                "The U.S. envoy met J. K. Rowe at 5 p.m. on Friday.",
                "Talks failed."
            ]
        );
    }

    #[test]
    fn lists_and_blank_lines() {
        let t = "Key points:\n\n- prices rose\n- wages fell\n\n\n";
        assert_eq!(
            sents(t),
            vec!["Key points:", "- prices rose", "- wages fell"]
        );
    }

    #[test]
    fn long_run_is_cut_on_char_boundaries() {
        let t = "é".repeat(5_000);
        let parts = split(&t);
        assert!(parts.len() >= 5);
        assert!(parts.iter().all(|r| r.end - r.start <= MAX_SENTENCE_BYTES));
        assert_eq!(
            parts.iter().map(|r| r.end - r.start).sum::<usize>(),
            t.len()
        );
    }

    #[test]
    fn empty_and_whitespace() {
        assert!(split("").is_empty());
        assert!(split(" \n\t\r\n ").is_empty());
    }
}
