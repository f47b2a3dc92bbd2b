//! Stage 2, tokens: words and punctuation with byte offsets into the ORIGINAL text.
//!
//! Tokenisation is the BERT pre-tokenizer of the `tokenizers` crate (split on whitespace, every
//! punctuation character its own token), run per sentence so a huge input never becomes one huge
//! tokenizer call. Offsets come from the original string; the normalised form used for features
//! ([`Token::norm`]) is computed afterwards, so lower-casing or quote folding can never shift a span.

use crate::error::{Error, Result};
use std::ops::Range;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::{OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer};

/// One token: its byte range in the original text and its normalised form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Byte offset of the first byte, into the original text.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
    /// Lower-cased form with digits folded to `0` and typographic quotes folded to ASCII.
    pub norm: String,
    /// Coarse word shape: `Xx` (capitalised), `X` (all caps), `x`, `0` (digits), `p` (punctuation), `o` (other).
    pub shape: &'static str,
}

impl Token {
    /// True when the token is a single punctuation character.
    pub fn is_punct(&self) -> bool {
        self.shape == "p"
    }
}

/// Tokenizes `text[range]`; offsets in the result index `text`.
pub fn tokenize(text: &str, range: Range<usize>) -> Result<Vec<Token>> {
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
        out.push(Token {
            start: range.start + a,
            end: range.start + b,
            norm: normalise(s),
            shape: shape(s),
        });
    }
    Ok(out)
}

/// The tokens overlapping byte range `r`, as a token index range (`None` when none does).
pub fn covering(tokens: &[Token], r: &Range<usize>) -> Option<Range<usize>> {
    let first = tokens
        .iter()
        .position(|t| t.end > r.start && t.start < r.end)?;
    let last = tokens
        .iter()
        .rposition(|t| t.end > r.start && t.start < r.end)?;
    Some(first..last + 1)
}

/// Zero-width and formatting characters that carry no word (ZWSP, ZWJ, BOM, soft hyphen, marks).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}' | '\u{FEFF}' | '\u{00AD}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
    )
}

/// The normalised form of one token, used by every feature.
pub fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\u{2018}' | '\u{2019}' | '\u{201B}' | '`' | '\u{00B4}' => out.push('\''),
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{00AB}' | '\u{00BB}' => out.push('"'),
            '\u{2013}' | '\u{2014}' => out.push('-'),
            c if c.is_ascii_digit() => out.push('0'),
            c if is_invisible(c) => {}
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

fn shape(s: &str) -> &'static str {
    let mut chars = s.chars();
    let first = match chars.next() {
        Some(c) => c,
        None => return "o",
    };
    if chars.next().is_none() && (first.is_ascii_punctuation() || !first.is_alphanumeric()) {
        return "p";
    }
    if s.chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    {
        return "0";
    }
    let letters: Vec<char> = s.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.is_empty() {
        return "o";
    }
    if letters.iter().all(|c| c.is_uppercase()) && letters.len() > 1 {
        "X"
    } else if first.is_uppercase() {
        "Xx"
    } else {
        "x"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_index_original_text() {
        let t = "Prefix. «Zoë’s» CHAOS—really?! 🙂 ok";
        let toks = tokenize(t, 8..t.len()).unwrap();
        let surface: Vec<&str> = toks.iter().map(|k| &t[k.start..k.end]).collect();
        assert_eq!(
            surface,
            vec!["«", "Zoë", "’", "s", "»", "CHAOS", "—", "really", "?", "!", "🙂", "ok"]
        );
        assert_eq!(toks[1].norm, "zoë");
        assert_eq!(toks[2].norm, "'");
        assert_eq!(toks[5].shape, "X");
        assert_eq!(toks[1].shape, "Xx");
    }

    #[test]
    fn digits_fold_and_invisibles_skip() {
        let t = "In 2024\u{200B} prices rose 5.5%";
        let toks = tokenize(t, 0..t.len()).unwrap();
        let norms: Vec<&str> = toks.iter().map(|k| k.norm.as_str()).collect();
        assert_eq!(
            norms,
            vec!["in", "0000", "prices", "rose", "0", ".", "0", "%"]
        );
    }

    #[test]
    fn bad_range_is_an_error_not_a_panic() {
        assert!(tokenize("é", 1..2).is_err());
    }
}
