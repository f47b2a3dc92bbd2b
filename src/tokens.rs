//! Stage 2, tokens: words and punctuation with byte offsets into the ORIGINAL text.
//!
//! Tokenisation is the BERT pre-tokenizer of the `tokenizers` crate (split on whitespace, every
//! punctuation character its own token), run per sentence so a huge input never becomes one huge
//! tokenizer call. Offsets come from the original string; the normalised form used for features
//! ([`Token::norm`]) is computed afterwards, so lower-casing or quote folding can never shift a span.

use crate::error::{Error, Result};
use crate::hashing::hash_bytes;
use compact_str::CompactString;
use std::ops::Range;

/// The tokenizer of record (`tokenizers`), a dev-dependency: tests prove [`tokenize`] equal to it.
#[cfg(test)]
mod reference;

/// One token: its byte range in the original text and its normalised form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Byte offset of the first byte, into the original text.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
    /// Lower-cased form with digits folded to `0` and typographic quotes folded to ASCII
    /// (stored inline, without an allocation, up to 24 bytes).
    pub norm: CompactString,
    /// Coarse word shape.
    pub shape: Shape,
    /// Polynomial hash of `norm` and `BASE^len(norm)` (see [`crate::hashing`]).
    pub(crate) key: (u64, u64),
}

/// Coarse shape of a token's surface, a feature of the span head (`sh0:` + [`Shape::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// Capitalised word (`Xx`).
    Capitalised,
    /// All capitals, at least two letters (`X`).
    AllCaps,
    /// Lower-case word (`x`).
    Lower,
    /// Digits, with `.` or `,` (`0`).
    Digits,
    /// One punctuation character (`p`).
    Punct,
    /// Anything else (`o`).
    Other,
}

impl Shape {
    /// Every shape, in the order of their codes.
    pub const ALL: [Shape; 6] = [
        Shape::Capitalised,
        Shape::AllCaps,
        Shape::Lower,
        Shape::Digits,
        Shape::Punct,
        Shape::Other,
    ];

    /// The shape's name in feature names.
    pub const fn as_str(self) -> &'static str {
        match self {
            Shape::Capitalised => "Xx",
            Shape::AllCaps => "X",
            Shape::Lower => "x",
            Shape::Digits => "0",
            Shape::Punct => "p",
            Shape::Other => "o",
        }
    }
}

impl Token {
    /// A token of `surface` (the original text of `start..end`).
    fn new(start: usize, end: usize, surface: &str) -> Token {
        let norm = normalise_compact(surface);
        let key = hash_bytes(norm.as_bytes());
        Token {
            start,
            end,
            norm,
            shape: shape(surface),
            key,
        }
    }

    /// True when the token is a single punctuation character.
    pub fn is_punct(&self) -> bool {
        self.shape == Shape::Punct
    }

    /// The normalised form as a feature-name piece.
    #[inline(always)]
    pub(crate) fn piece(&self) -> crate::hashing::Piece<'_> {
        crate::hashing::Piece::with_hash(self.norm.as_str(), self.key.0, self.key.1)
    }
}

/// Tokenizes `text[range]`; offsets in the result index `text`.
///
/// Same tokens as `reference::tokenize_reference` (the `tokenizers` BERT pre-tokenizer, the tokenizer of
/// record) by a byte scanner: split at every `char::is_whitespace` character (dropped), and make
/// every punctuation character (ASCII punctuation or Unicode category P*, `is_bert_punc` of
/// `tokenizers`) its own token. Tokens made only of invisible characters are skipped. Equality
/// is checked by a property test and by a corpus test (`tests/tokenizer.rs`).
pub fn tokenize(text: &str, range: Range<usize>) -> Result<Vec<Token>> {
    let mut out = Vec::new();
    tokenize_into(text, range, &mut out)?;
    Ok(out)
}

/// Like [`tokenize`], appending to `out` (whose allocation is reused across sentences).
///
/// ASCII words (most tokens) are built in the same pass that finds them: the hash of the
/// normalised form, the shape and whether the surface is already normal are accumulated byte by
/// byte, and the normalised form is copied from the text (lower-cased only when it has a capital
/// or a digit). Punctuation and words with a non-ASCII character take [`Token::new`], the path
/// of `reference::tokenize_reference`.
pub fn tokenize_into(text: &str, range: Range<usize>, out: &mut Vec<Token>) -> Result<()> {
    let slice = text.get(range.clone()).ok_or_else(|| {
        Error::Tokenizer(format!("range {range:?} is not on character boundaries"))
    })?;
    let base = range.start;
    let bytes = slice.as_bytes();
    out.reserve(bytes.len() / 5 + 1);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            match ASCII_CLASS[b as usize] {
                SPACE => i += 1,
                PUNCT => {
                    out.push(ascii_punct(base + i, b));
                    i += 1;
                }
                _ => {
                    let start = i;
                    let (mut hash, mut kinds) = (0u64, 0u8);
                    while let Some(&b) = bytes.get(i) {
                        let kind = WORD_SCAN[0][b as usize];
                        if kind == 0 {
                            break;
                        }
                        kinds |= kind;
                        hash = hash
                            .wrapping_mul(crate::hashing::BASE)
                            .wrapping_add(u64::from(WORD_SCAN[1][b as usize]));
                        i += 1;
                    }
                    // A word that goes on with a non-ASCII word character takes the general path.
                    if bytes.get(i).is_some_and(|&b| b >= 0x80) && class_at(slice, i).0 == WORD {
                        i = general_word(slice, base, start, i, out);
                    } else {
                        push_ascii_word(out, base, start, &slice[start..i], hash, kinds);
                    }
                }
            }
        } else {
            let (class, len) = class_at(slice, i);
            match class {
                WORD => i = general_word(slice, base, i, i, out),
                PUNCT => {
                    match folded_quote_or_dash(slice, i) {
                        // Typographic quotes and dashes, the commonest non-ASCII tokens.
                        Some(n) => out.push(ascii_punct_at(base + i, len, n)),
                        None => push_general(slice, base, i, i + len, len > 1, out),
                    }
                    i += len;
                }
                _ => i += len,
            }
        }
    }
    Ok(())
}

/// Class and length of the character at byte `i` of `slice` (a character boundary).
#[inline]
fn class_at(slice: &str, i: usize) -> (u8, usize) {
    let c = slice
        .get(i..)
        .and_then(|s| s.chars().next())
        .unwrap_or('\u{FFFD}');
    if c.is_ascii() {
        return (ASCII_CLASS[c as usize], 1);
    }
    let class = match c {
        // The commonest non-ASCII characters of news text, without a table search: letters
        // with diacritics (and the combining marks), and general punctuation (dashes, quotes,
        // bullets, the ellipsis; category P*).
        '\u{C0}'..='\u{36F}' => WORD,
        '\u{2010}'..='\u{2027}' => PUNCT,
        _ if c.is_whitespace() => SPACE,
        _ if unicode_categories::UnicodeCategories::is_punctuation(c) => PUNCT,
        _ => WORD,
    };
    (class, c.len_utf8())
}

/// Scans the word that starts at `start` from byte `i` on (any characters) and pushes its token
/// through [`Token::new`]; returns the byte after the word.
fn general_word(
    slice: &str,
    base: usize,
    start: usize,
    mut i: usize,
    out: &mut Vec<Token>,
) -> usize {
    let mut wide = false;
    while i < slice.len() {
        let (class, len) = class_at(slice, i);
        if class != WORD {
            break;
        }
        wide |= len > 1;
        i += len;
    }
    push_general(slice, base, start, i, wide, out);
    i
}

/// Pushes the token of `slice[from..to]` (skipped when it is only invisible characters).
fn push_general(
    slice: &str,
    base: usize,
    from: usize,
    to: usize,
    wide: bool,
    out: &mut Vec<Token>,
) {
    let Some(s) = slice.get(from..to) else {
        return;
    };
    if wide && s.chars().all(is_invisible) {
        return;
    }
    out.push(Token::new(base + from, base + to, s));
}

/// The ASCII character that the punctuation character at byte `i` of `slice` normalises to,
/// when it is a typographic quote or dash (see [`normalise`]).
#[inline]
fn folded_quote_or_dash(slice: &str, i: usize) -> Option<u8> {
    match slice.get(i..)?.chars().next()? {
        '\u{2018}' | '\u{2019}' | '\u{201B}' => Some(b'\''),
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{00AB}' | '\u{00BB}' => Some(b'"'),
        '\u{2013}' | '\u{2014}' => Some(b'-'),
        _ => None,
    }
}

/// The token of the ASCII punctuation character `b` at `start`: its normalised form is itself
/// (a backquote folds to `'`), its shape `p`.
#[inline]
fn ascii_punct(start: usize, b: u8) -> Token {
    ascii_punct_at(start, 1, fold_ascii(b))
}

/// A punctuation token of `len` bytes at `start` whose normalised form is the ASCII character
/// `n`.
#[inline]
fn ascii_punct_at(start: usize, len: usize, n: u8) -> Token {
    let n = n as usize;
    Token {
        start,
        end: start + len,
        norm: CompactString::new(ASCII.get(n..n + 1).unwrap_or_default()),
        shape: Shape::Punct,
        key: (n as u64 + 1, crate::hashing::BASE),
    }
}

// Byte kinds of an ASCII word character (0: not one).
const K_UPPER: u8 = 1;
const K_LOWER: u8 = 2;
const K_DIGIT: u8 = 4;
const K_OTHER: u8 = 8;

/// Kind of each byte as part of an ASCII word: 0 for whitespace, punctuation and non-ASCII
/// bytes (which end the ASCII scan).
const WORD_KIND: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = if ASCII_CLASS[b] != WORD {
            0
        } else if c.is_ascii_uppercase() {
            K_UPPER
        } else if c.is_ascii_lowercase() {
            K_LOWER
        } else if c.is_ascii_digit() {
            K_DIGIT
        } else {
            K_OTHER
        };
        b += 1;
    }
    t
};

/// [`WORD_KIND`] and [`FOLD_1`] side by side, the two tables of the word scan (one base
/// address for both).
const WORD_SCAN: [[u8; 256]; 2] = [WORD_KIND, FOLD_1];

/// [`fold_ascii`] of every byte plus one: its term in [`crate::hashing::hash_bytes`]
/// (non-ASCII bytes unused).
const FOLD_1: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = fold_ascii(b as u8).wrapping_add(1);
        b += 1;
    }
    t
};

const ASCII_BYTES: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        t[b] = b as u8;
        b += 1;
    }
    t
};

/// The 128 ASCII characters, in order.
const ASCII: &str = {
    match std::str::from_utf8(&ASCII_BYTES) {
        Ok(s) => s,
        Err(_) => panic!("ASCII is UTF-8"),
    }
};

/// `BASE^n` for short words.
const POWERS: [u64; 65] = {
    let mut t = [1u64; 65];
    let mut n = 1;
    while n < 65 {
        t[n] = t[n - 1].wrapping_mul(crate::hashing::BASE);
        n += 1;
    }
    t
};

/// Pushes the token of the ASCII word `surface` at `start` (after `base`), the same as
/// [`Token::new`]: `hash` is the hash of its normalised form and `kinds` the union of its
/// bytes' kinds, both accumulated by the scan. The token is pushed first and its normalised form
/// written in place (fewer copies of the token).
#[inline]
fn push_ascii_word(
    out: &mut Vec<Token>,
    base: usize,
    start: usize,
    surface: &str,
    hash: u64,
    kinds: u8,
) {
    let pow = match POWERS.get(surface.len()) {
        Some(&p) => p,
        // `BASE^len`, the same for the surface as for its normalised form (same length).
        None => hash_bytes(surface.as_bytes()).1,
    };
    out.push(Token {
        start: base + start,
        end: base + start + surface.len(),
        norm: CompactString::const_new(""),
        shape: ascii_word_shape(surface.as_bytes(), kinds),
        key: (hash, pow),
    });
    let Some(t) = out.last_mut() else {
        return;
    };
    if kinds & K_DIGIT != 0 {
        t.norm = normalise_compact(surface);
    } else {
        t.norm = compact_ascii(surface);
        if kinds & K_UPPER != 0 {
            t.norm.make_ascii_lowercase();
        }
    }
}

/// `CompactString::new(s)`, with a copy of known length for the commonest lengths of words
/// (a call to `memcpy` of a variable length costs more than the rest of the construction).
#[inline(always)]
fn compact_ascii(s: &str) -> CompactString {
    macro_rules! by_length {
        ($($n:literal)*) => {
            match s.len() {
                $($n => CompactString::new(s.get(..$n).unwrap_or_default()),)*
                _ => CompactString::new(s),
            }
        };
    }
    by_length!(1 2 3 4 5 6 7 8 9 10 11 12)
}

/// [`shape_ascii`] of an ASCII word (no punctuation, so never `0` with a `.` or `,`) whose
/// bytes' kinds are `kinds`: read from [`WORD_SHAPE`], except for a word of capitals mixed with
/// digits or other characters (no lower-case letter), whose capitals are counted.
#[inline]
fn ascii_word_shape(b: &[u8], kinds: u8) -> Shape {
    let first = b.first().map_or(0, |&c| WORD_KIND[c as usize]);
    let index =
        usize::from(kinds & 0xF) | usize::from(first & 0xF) << 4 | usize::from(b.len() == 1) << 8;
    match WORD_SHAPE[index] {
        COUNT_CAPITALS => {
            if b.iter().filter(|c| c.is_ascii_uppercase()).count() > 1 {
                Shape::AllCaps
            } else if first == K_UPPER {
                Shape::Capitalised
            } else {
                Shape::Lower
            }
        }
        code => SHAPES
            .get(usize::from(code))
            .copied()
            .unwrap_or(Shape::Lower),
    }
}

/// The shapes of [`WORD_SHAPE`]'s codes.
const SHAPES: [Shape; 6] = [
    Shape::Punct,
    Shape::Digits,
    Shape::Other,
    Shape::AllCaps,
    Shape::Capitalised,
    Shape::Lower,
];

/// In [`WORD_SHAPE`]: the shape depends on the number of capitals.
const COUNT_CAPITALS: u8 = 6;

/// Shape code (index into [`SHAPES`], or [`COUNT_CAPITALS`]) of an ASCII word by the union of
/// its bytes' kinds (bits 0–3), its first byte's kind (bits 4–7) and whether it is one byte
/// long (bit 8): the rule of [`shape_ascii`] for a word without punctuation.
const WORD_SHAPE: [u8; 512] = {
    let mut t = [0u8; 512];
    let mut index = 0;
    while index < 512 {
        let kinds = (index & 0xF) as u8;
        let first = ((index >> 4) & 0xF) as u8;
        let one = index >> 8 == 1;
        t[index] = if one && first == K_OTHER {
            0
        } else if kinds == K_DIGIT {
            1
        } else if kinds & (K_UPPER | K_LOWER) == 0 {
            2
        } else if kinds & K_LOWER == 0 && !one && kinds == K_UPPER {
            // Only capitals, at least two.
            3
        } else if kinds & K_LOWER == 0 && !one {
            COUNT_CAPITALS
        } else if first == K_UPPER {
            4
        } else {
            5
        };
        index += 1;
    }
    t
};

const WORD: u8 = 0;
const SPACE: u8 = 1;
const PUNCT: u8 = 2;

/// Class of each ASCII byte: `char::is_whitespace` (which, unlike `u8::is_ascii_whitespace`,
/// includes U+000B), `char::is_ascii_punctuation`, else part of a word.
const ASCII_CLASS: [u8; 128] = {
    let mut t = [WORD; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8 as char;
        t[b] = if matches!(c, '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ') {
            SPACE
        } else if c.is_ascii_punctuation() {
            PUNCT
        } else {
            WORD
        };
        b += 1;
    }
    t
};

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

/// Appends the normalised form of a token's surface `s` to `out` (lower case, digits as `0`,
/// typographic quotes and dashes folded, invisible characters dropped): the form every feature
/// reads.
fn normalise_slow(s: &str, out: &mut String) {
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
}

/// [`normalise`] into an inline string; ASCII tokens take a byte-wise path (same result).
fn normalise_compact(s: &str) -> CompactString {
    let bytes = s.as_bytes();
    if !s.is_ascii() {
        let mut out = String::with_capacity(s.len());
        normalise_slow(s, &mut out);
        return CompactString::from(out);
    }
    let already = bytes
        .iter()
        .all(|&b| !b.is_ascii_uppercase() && !b.is_ascii_digit() && b != b'`');
    if already {
        return CompactString::new(s);
    }
    let mut buf = [0u8; 64];
    if bytes.len() <= buf.len() {
        for (o, &b) in buf.iter_mut().zip(bytes) {
            *o = fold_ascii(b);
        }
        // Only ASCII bytes were written.
        return CompactString::new(std::str::from_utf8(&buf[..bytes.len()]).unwrap_or_default());
    }
    let folded: String = bytes.iter().map(|&b| fold_ascii(b) as char).collect();
    CompactString::from(folded)
}

#[inline]
const fn fold_ascii(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b'0',
        b'`' => b'\'',
        _ => b.to_ascii_lowercase(),
    }
}

fn shape(s: &str) -> Shape {
    if s.is_ascii() {
        return shape_ascii(s.as_bytes());
    }
    let mut chars = s.chars();
    let first = match chars.next() {
        Some(c) => c,
        None => return Shape::Other,
    };
    if chars.next().is_none() && (first.is_ascii_punctuation() || !first.is_alphanumeric()) {
        return Shape::Punct;
    }
    if s.chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    {
        return Shape::Digits;
    }
    let mut letters = 0usize;
    let mut all_upper = true;
    for c in s.chars().filter(|c| c.is_alphabetic()) {
        letters += 1;
        all_upper &= c.is_uppercase();
    }
    if letters == 0 {
        return Shape::Other;
    }
    if all_upper && letters > 1 {
        Shape::AllCaps
    } else if first.is_uppercase() {
        Shape::Capitalised
    } else {
        Shape::Lower
    }
}

/// [`shape`] of an ASCII token (for ASCII, `char::is_alphabetic`, `is_alphanumeric` and
/// `is_uppercase` are their `is_ascii_*` forms).
fn shape_ascii(b: &[u8]) -> Shape {
    let Some(&first) = b.first() else {
        return Shape::Other;
    };
    if b.len() == 1 && (first.is_ascii_punctuation() || !first.is_ascii_alphanumeric()) {
        return Shape::Punct;
    }
    let mut numeric = true;
    let mut letters = 0usize;
    let mut all_upper = true;
    for &c in b {
        numeric &= c.is_ascii_digit() || c == b'.' || c == b',';
        if c.is_ascii_alphabetic() {
            letters += 1;
            all_upper &= c.is_ascii_uppercase();
        }
    }
    if numeric {
        Shape::Digits
    } else if letters == 0 {
        Shape::Other
    } else if all_upper && letters > 1 {
        Shape::AllCaps
    } else if first.is_ascii_uppercase() {
        Shape::Capitalised
    } else {
        Shape::Lower
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
        assert_eq!(toks[5].shape, Shape::AllCaps);
        assert_eq!(toks[1].shape, Shape::Capitalised);
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
    fn ascii_shape_equals_the_general_rule() {
        // Every ASCII token of up to three characters from a representative alphabet.
        let alphabet = b"aZ0.,!-' x";
        let mut words = vec![String::new()];
        for _ in 0..3 {
            let mut next = Vec::new();
            for w in &words {
                for &c in alphabet {
                    let mut w = w.clone();
                    w.push(c as char);
                    next.push(w);
                }
            }
            words.extend(next);
        }
        for b in 0u8..128 {
            words.push((b as char).to_string());
        }
        for w in words {
            let general = {
                // The rule for any text, forced past the ASCII fast path.
                let mut chars = w.chars();
                match chars.next() {
                    None => "o",
                    Some(first) => {
                        if chars.next().is_none()
                            && (first.is_ascii_punctuation() || !first.is_alphanumeric())
                        {
                            "p"
                        } else if w
                            .chars()
                            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
                        {
                            "0"
                        } else {
                            let letters: Vec<char> =
                                w.chars().filter(|c| c.is_alphabetic()).collect();
                            if letters.is_empty() {
                                "o"
                            } else if letters.iter().all(|c| c.is_uppercase()) && letters.len() > 1
                            {
                                "X"
                            } else if first.is_uppercase() {
                                "Xx"
                            } else {
                                "x"
                            }
                        }
                    }
                }
            };
            assert_eq!(shape_ascii(w.as_bytes()).as_str(), general, "{w:?}");
        }
    }

    #[test]
    fn ascii_words_equal_the_general_token() {
        // Every ASCII word of up to three characters from a representative alphabet, and each
        // ASCII character alone, and each typographic quote or dash: the scanner's token (norm, hash, shape) is `Token::new`'s.
        let alphabet = b"aZ0x\x01_\x7f";
        let mut words: Vec<String> = (0u8..128).map(|b| (b as char).to_string()).collect();
        let mut last = vec![String::new()];
        for _ in 0..3 {
            let next: Vec<String> = last
                .iter()
                .flat_map(|w| alphabet.iter().map(move |&c| format!("{w}{}", c as char)))
                .collect();
            words.extend(next.iter().cloned());
            last = next;
        }
        words.push("A".repeat(70) + "b9");
        words.extend("‘’‛“”„«»–—…¿".chars().map(String::from));
        for w in words {
            let fast = tokenize(&w, 0..w.len()).unwrap();
            let general: Vec<Token> = if w.trim().is_empty() {
                Vec::new()
            } else {
                vec![Token::new(0, w.len(), &w)]
            };
            if fast.len() == 1 {
                assert_eq!(fast, general, "{w:?}");
            }
        }
    }

    #[test]
    fn character_classes_equal_the_general_rule() {
        // Non-ASCII characters (ASCII has its own table): the ranges that `class_at` answers
        // without a table search, and around them.
        for c in ('\u{80}'..='\u{3000}').chain(['\u{FEFF}', '\u{1F642}']) {
            let s = c.to_string();
            let general = if c.is_whitespace() {
                SPACE
            } else if unicode_categories::UnicodeCategories::is_punctuation(c) {
                PUNCT
            } else {
                WORD
            };
            assert_eq!(class_at(&s, 0), (general, c.len_utf8()), "{c:?}");
        }
    }

    #[test]
    fn bad_range_is_an_error_not_a_panic() {
        assert!(tokenize("é", 1..2).is_err());
    }
}
