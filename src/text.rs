//! Stage 0, text: offset bookkeeping for the original input.
//!
//! The whole pipeline works in UTF-8 **byte** offsets into the original text; reports also carry
//! Unicode **code-point** offsets (the SemEval convention). [`CharOffsets`] converts between the two
//! in O(1) amortised time without copying the text; `ForwardChars` (crate-internal) counts them forward, without
//! a table, for callers that ask in increasing order.

/// Converts byte offsets of one text into code-point offsets and back.
#[derive(Debug, Clone)]
pub struct CharOffsets {
    /// `checkpoints[k]` = number of code points in `text[..k * STRIDE]` (counted on bytes).
    checkpoints: Vec<usize>,
    /// Byte offset of every code point, only for non-ASCII text (empty when ASCII).
    char_starts: Vec<usize>,
    ascii: bool,
    len: usize,
    chars: usize,
}

const STRIDE: usize = 64;

#[inline]
fn is_char_start(b: u8) -> bool {
    (b & 0xC0) != 0x80
}

impl CharOffsets {
    /// Indexes `text`.
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let ascii = text.is_ascii();
        if ascii {
            return CharOffsets {
                checkpoints: Vec::new(),
                char_starts: Vec::new(),
                ascii,
                len: bytes.len(),
                chars: bytes.len(),
            };
        }
        let (checkpoints, count) = checkpoints(bytes);
        let char_starts = text.char_indices().map(|(i, _)| i).collect();
        CharOffsets {
            checkpoints,
            char_starts,
            ascii,
            len: bytes.len(),
            chars: count,
        }
    }

    /// Code-point offset of byte offset `byte` (clamped to the text length). `byte` should lie on
    /// a character boundary; inside a character it counts the characters that start before it.
    pub fn char_of_byte(&self, text: &str, byte: usize) -> usize {
        let byte = byte.min(self.len);
        if self.ascii {
            return byte;
        }
        let k = byte / STRIDE;
        let base = self.checkpoints.get(k).copied().unwrap_or(self.chars);
        let from = k * STRIDE;
        base + text.as_bytes()[from..byte]
            .iter()
            .filter(|&&b| is_char_start(b))
            .count()
    }

    /// Byte offset of code-point offset `ch`, or `None` when `ch` is past the end.
    pub fn byte_of_char(&self, ch: usize) -> Option<usize> {
        if self.ascii {
            return (ch <= self.len).then_some(ch);
        }
        if ch == self.chars {
            return Some(self.len);
        }
        self.char_starts.get(ch).copied()
    }
}

/// Code points before every `STRIDE`-byte checkpoint of `bytes`, and the total.
fn checkpoints(bytes: &[u8]) -> (Vec<usize>, usize) {
    let mut checkpoints = Vec::with_capacity(bytes.len() / STRIDE + 2);
    let mut count = 0usize;
    for chunk in bytes.chunks(STRIDE) {
        checkpoints.push(count);
        count += chunk.iter().filter(|&&b| is_char_start(b)).count();
    }
    checkpoints.push(count);
    (checkpoints, count)
}

/// Code-point offsets of byte offsets, counted on bytes as [`CharOffsets::char_of_byte`] counts
/// them (the code points that start before the offset, the offset clamped to the text), without
/// its table. `analyze` asks for sentence bounds in increasing order, each counted from the one
/// before, and for offsets inside a sentence, counted from the sentence start.
pub(crate) struct ForwardChars<'t> {
    text: &'t str,
    ascii: bool,
    /// The last offset asked for through [`ForwardChars::at`] and its code-point offset.
    pos: usize,
    chars: usize,
}

impl<'t> ForwardChars<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        ForwardChars {
            text,
            ascii: text.is_ascii(),
            pos: 0,
            chars: 0,
        }
    }

    /// Code-point offset of byte offset `b` (counted from the last offset asked, when `b` is
    /// not before it).
    pub(crate) fn at(&mut self, b: usize) -> usize {
        let b = b.min(self.text.len());
        if self.ascii {
            return b;
        }
        if b < self.pos {
            (self.pos, self.chars) = (0, 0);
        }
        self.chars += char_starts(self.text, self.pos..b);
        self.pos = b;
        self.chars
    }

    /// Code-point offset of byte offset `b`, given that byte offset `base` is at code point
    /// `base_chars` (counted from `base` when `b` is not before it).
    pub(crate) fn from(&self, base: usize, base_chars: usize, b: usize) -> usize {
        let b = b.min(self.text.len());
        if self.ascii {
            return b;
        }
        if base <= b {
            base_chars + char_starts(self.text, base..b)
        } else {
            char_starts(self.text, 0..b)
        }
    }
}

/// Bytes of `text[r]` (`r` within the text) that start a character: its characters when `r`
/// falls on character boundaries (`chars().count()`, which counts many bytes at a time), else
/// every byte but continuation bytes.
fn char_starts(text: &str, r: std::ops::Range<usize>) -> usize {
    match text.get(r.clone()) {
        Some(part) => part.chars().count(),
        None => text.as_bytes()[r]
            .iter()
            .filter(|&&b| (b & 0xC0) != 0x80)
            .count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Forward code-point counting gives `CharOffsets::char_of_byte` for every offset, asked in
    /// any order, inside characters and past the end included.
    #[test]
    fn forward_chars_match_char_offsets() {
        for text in [
            "",
            "plain ascii",
            "é“x”🙂 Ñandú\u{301}",
            &"ab🙂é ".repeat(40),
        ] {
            let offsets = CharOffsets::new(text);
            let want = |b: usize| offsets.char_of_byte(text, b);
            let n = text.len();
            let mut fwd = ForwardChars::new(text);
            let order: Vec<usize> = (0..=n + 2)
                .chain((0..=n).rev())
                .chain([3, 1, n, 0])
                .collect();
            for &b in &order {
                assert_eq!(fwd.at(b), want(b), "{text:?} at {b}");
            }
            for base in 0..=n {
                for b in 0..=n + 1 {
                    assert_eq!(
                        fwd.from(base, want(base), b),
                        want(b),
                        "{text:?} {base} {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn ascii_identity() {
        let t = "plain text";
        let o = CharOffsets::new(t);
        assert_eq!(o.char_of_byte(t, 5), 5);
        assert_eq!(o.byte_of_char(10), Some(10));
        assert_eq!(o.byte_of_char(11), None);
    }

    #[test]
    fn round_trip_non_ascii_long() {
        let t = "Zoë said “no” 🙂 — naïve façade ".repeat(20);
        let o = CharOffsets::new(&t);
        for (ci, (bi, _)) in t.char_indices().enumerate() {
            assert_eq!(o.char_of_byte(&t, bi), ci);
            assert_eq!(o.byte_of_char(ci), Some(bi));
        }
        assert_eq!(o.char_of_byte(&t, t.len()), t.chars().count());
        assert_eq!(o.byte_of_char(t.chars().count()), Some(t.len()));
    }
}
