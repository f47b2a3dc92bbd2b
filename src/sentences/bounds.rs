//! UAX #29 sentence boundaries, exactly as `unicode-segmentation`'s
//! `split_sentence_bound_indices` (same rules, same Sentence_Break table, see [`super::table`]),
//! with an O(1) category lookup for ASCII and no per-character table search. The crate stays
//! the reference: tests compare the two on every character and on the corpora.

use super::table::{LOOKUP, TABLE};

/// Sentence_Break property values.
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum SentenceCat {
    SC_ATerm,
    SC_Any,
    SC_CR,
    SC_Close,
    SC_Extend,
    SC_Format,
    SC_LF,
    SC_Lower,
    SC_Numeric,
    SC_OLetter,
    SC_SContinue,
    SC_STerm,
    SC_Sep,
    SC_Sp,
    SC_Upper,
}

use SentenceCat::*;

/// Categories of the ASCII characters, read off the table at compile time.
const ASCII: [SentenceCat; 128] = {
    let mut t = [SC_Any; 128];
    let mut k = 0;
    while k < TABLE.len() && (TABLE[k].0 as u32) < 128 {
        let (lo, hi, cat) = TABLE[k];
        let mut c = lo as u32;
        while c <= hi as u32 && c < 128 {
            t[c as usize] = cat;
            c += 1;
        }
        k += 1;
    }
    t
};

/// Sentence_Break category of `c` (`SC_Any` when unlisted), as the crate's `sentence_category`.
#[inline]
pub(crate) fn category(c: char) -> SentenceCat {
    let cp = c as u32;
    if cp < 128 {
        return ASCII[cp as usize];
    }
    let idx = (cp / 0x80) as usize;
    let last = LOOKUP[LOOKUP.len() - 1] as usize;
    let range = LOOKUP
        .get(idx..idx + 2)
        .map_or(last..TABLE.len(), |r| r[0] as usize..(r[1] as usize + 1));
    let r = TABLE.get(range).unwrap_or(&[]);
    match r.binary_search_by(|&(lo, hi, _)| {
        if lo <= c && c <= hi {
            std::cmp::Ordering::Equal
        } else if hi < c {
            std::cmp::Ordering::Less
        } else {
            std::cmp::Ordering::Greater
        }
    }) {
        Ok(i) => r[i].2,
        Err(_) => SC_Any,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Part {
    Sot,
    Eot,
    Other,
    CR,
    LF,
    Sep,
    ATerm,
    UpperLower,
    ClosePlus,
    SpPlus,
    STerm,
}

/// Every `Part`, indexed by its discriminant.
const PARTS: [Part; 11] = [
    Part::Sot,
    Part::Eot,
    Part::Other,
    Part::CR,
    Part::LF,
    Part::Sep,
    Part::ATerm,
    Part::UpperLower,
    Part::ClosePlus,
    Part::SpPlus,
    Part::STerm,
];

type State = [Part; 4];

#[inline(always)]
fn advance(parts: State, cat: SentenceCat) -> State {
    match (parts[3], cat) {
        (Part::ClosePlus, SC_Close) | (Part::SpPlus, SC_Sp) => parts,
        _ => [
            parts[1],
            parts[2],
            parts[3],
            match cat {
                SC_CR => Part::CR,
                SC_LF => Part::LF,
                SC_Sep => Part::Sep,
                SC_ATerm => Part::ATerm,
                SC_Upper | SC_Lower => Part::UpperLower,
                SC_Close => Part::ClosePlus,
                SC_Sp => Part::SpPlus,
                SC_STerm => Part::STerm,
                _ => Part::Other,
            },
        ],
    }
}

/// The part (its discriminant) that each ASCII character shifts into a quiet state and that
/// keeps it quiet (letters, digits, spaces, other characters), or [`NOT_QUIET`] (terminators,
/// closing marks, line breaks, non-ASCII bytes): [`advance`] restricted to them. No ASCII
/// character is `Extend` or `Format`.
const QUIET_ASCII: [u8; 256] = {
    let mut t = [NOT_QUIET; 256];
    let mut b = 0;
    while b < 128 {
        t[b] = match ASCII[b] {
            SC_Upper | SC_Lower => Part::UpperLower as u8,
            SC_Sp => Part::SpPlus as u8,
            SC_Numeric | SC_Any | SC_SContinue | SC_OLetter => Part::Other as u8,
            _ => NOT_QUIET,
        };
        b += 1;
    }
    t
};

/// In [`QUIET_ASCII`]: a byte that is not such a character (or not ASCII).
const NOT_QUIET: u8 = u8::MAX;

/// True when no rule can break before the next character, whatever it is: the state ends in
/// a letter or other character (SB4 and SB6–SB11 all need a terminator, separator or, for
/// SB8–SB11, spaces after a terminator), or in spaces that follow neither a terminator nor a
/// closing mark.
#[inline]
fn quiet(parts: &State) -> bool {
    match parts[3] {
        Part::UpperLower | Part::Other => true,
        Part::SpPlus => !matches!(parts[2], Part::ATerm | Part::STerm | Part::ClosePlus),
        _ => false,
    }
}

/// The first byte at or after `pos` that is not a quiet ASCII character (see [`QUIET_ASCII`]),
/// or `bytes.len()`: eight bytes per step (one test of their table entries together), then
/// byte by byte.
#[inline]
fn skip_quiet(bytes: &[u8], mut pos: usize) -> usize {
    while let Some(chunk) = bytes.get(pos..pos + 8) {
        let loud = chunk.iter().fold(0u8, |acc, &b| acc | LOUD[b as usize]);
        if loud != 0 {
            break;
        }
        pos += 8;
    }
    while let Some(&b) = bytes.get(pos) {
        if LOUD[b as usize] != 0 {
            break;
        }
        pos += 1;
    }
    pos
}

/// [`QUIET_ASCII`] as a [`Part`] (`Other` for the bytes that are not quiet, never read).
const QUIET_PART: [Part; 256] = {
    let mut t = [Part::Other; 256];
    let mut b = 0;
    while b < 256 {
        if QUIET_ASCII[b] != NOT_QUIET {
            t[b] = PARTS[QUIET_ASCII[b] as usize];
        }
        b += 1;
    }
    t
};

/// 1 for the bytes that end a quiet run (`QUIET_ASCII` is [`NOT_QUIET`]), else 0.
const LOUD: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (QUIET_ASCII[b] == NOT_QUIET) as u8;
        b += 1;
    }
    t
};

/// The state after the quiet characters `run` (all quiet ASCII bytes, see [`QUIET_ASCII`]) from
/// the quiet `state`: each byte shifts its part into the state, except a space after a space
/// (`SpPlus` is one part for a run of spaces). Only the last parts matter, so the run is read
/// backwards, up to its last four parts.
#[inline]
fn after_quiet(state: State, run: &[u8]) -> State {
    const SP: u8 = Part::SpPlus as u8;
    // The commonest end of a run: four characters that are not spaces (each one part).
    if let Some(&[a, b, c, d]) = run.last_chunk::<4>() {
        let parts = [a, b, c, d].map(|x| QUIET_PART[x as usize]);
        if !parts.contains(&Part::SpPlus) {
            return parts;
        }
    }
    // The parts that the run shifted in, newest first.
    let mut parts = [0u8; 4];
    let mut n = 0;
    let mut j = run.len();
    while n < 4 {
        let Some(k) = j.checked_sub(1) else {
            break;
        };
        let part = QUIET_ASCII[run[k] as usize];
        j = k;
        if part == SP {
            while j > 0 && QUIET_ASCII[run[j - 1] as usize] == SP {
                j -= 1;
            }
        }
        parts[n] = part;
        n += 1;
    }
    // Spaces at the very start of the run extend the state's own run of spaces.
    if j == 0 && n > 0 && parts[n - 1] == SP && state[3] == Part::SpPlus {
        n -= 1;
    }
    let mut out = state;
    for k in 0..4 {
        // Position 3 - k of the result is the k-th newest part: from the run, then the state.
        out[3 - k] = if k < n {
            PARTS.get(parts[k] as usize).copied().unwrap_or(Part::Other)
        } else {
            state[3 - (k - n)]
        };
    }
    out
}

fn match_sb8(parts: &State, ahead: &str) -> bool {
    let mut idx = if parts[3] == Part::SpPlus { 2 } else { 3 };
    if parts[idx] == Part::ClosePlus {
        idx -= 1
    }
    if parts[idx] != Part::ATerm {
        return false;
    }
    for c in ahead.chars() {
        match category(c) {
            SC_Lower => return true,
            SC_OLetter | SC_Upper | SC_Sep | SC_CR | SC_LF | SC_STerm | SC_ATerm => return false,
            _ => continue,
        }
    }
    false
}

fn match_sb8a(parts: &State) -> bool {
    let mut idx = if parts[3] == Part::SpPlus { 2 } else { 3 };
    if parts[idx] == Part::ClosePlus {
        idx -= 1
    }
    parts[idx] == Part::STerm || parts[idx] == Part::ATerm
}

fn match_sb9(parts: &State) -> bool {
    let idx = if parts[3] == Part::ClosePlus { 2 } else { 3 };
    parts[idx] == Part::STerm || parts[idx] == Part::ATerm
}

fn match_sb11(parts: &State) -> bool {
    let mut idx = match parts[3] {
        Part::Sep | Part::CR | Part::LF => 2,
        _ => 3,
    };
    if parts[idx] == Part::SpPlus {
        idx -= 1
    }
    if parts[idx] == Part::ClosePlus {
        idx -= 1
    }
    parts[idx] == Part::STerm || parts[idx] == Part::ATerm
}

/// Calls `f(start, end)` for each segment between consecutive sentence boundaries of `text`
/// (the pieces `split_sentence_bound_indices` yields, in order).
pub(crate) fn segments(text: &str, mut f: impl FnMut(usize, usize)) {
    let bytes = text.as_bytes();
    let mut state: State = [Part::Sot; 4];
    let mut last: Option<usize> = None;
    let mut emit = |b: usize, last: &mut Option<usize>| {
        if let Some(a) = *last {
            f(a, b);
        }
        *last = Some(b);
    };
    let mut pos = 0;
    while pos < bytes.len() {
        // Fast path: in a quiet state no rule breaks before any character, and an ASCII
        // letter, digit, space or other character that is neither a terminator, a closing
        // mark nor a line break only shifts its part into the state, which stays quiet: skip
        // the whole run of them at once, then derive the state from its last parts.
        if quiet(&state) {
            let run = pos;
            pos = skip_quiet(bytes, pos);
            state = after_quiet(state, bytes.get(run..pos).unwrap_or_default());
            if pos == bytes.len() {
                break;
            }
        }
        let b = bytes[pos];
        let (c, len) = if b < 0x80 {
            (b as char, 1)
        } else {
            let c = text[pos..].chars().next().unwrap_or('\u{FFFD}');
            (c, c.len_utf8())
        };
        let before = pos;
        let state_before = state;
        let cat = category(c);
        pos += len;
        if quiet(&state_before) {
            // No rule can break here; only SB5 (Extend, Format keep the state) applies.
            if !matches!(cat, SC_Extend | SC_Format) {
                state = advance(state, cat);
            }
            continue;
        }
        state = advance(state, cat);
        let brk = match cat {
            // SB1
            _ if state_before[3] == Part::Sot => true,
            // SB3
            SC_LF if state_before[3] == Part::CR => false,
            // SB4
            _ if matches!(state_before[3], Part::Sep | Part::CR | Part::LF) => true,
            // SB5
            SC_Extend | SC_Format => {
                state = state_before;
                false
            }
            // SB6
            SC_Numeric if state_before[3] == Part::ATerm => false,
            // SB7
            SC_Upper if state_before[2] == Part::UpperLower && state_before[3] == Part::ATerm => {
                false
            }
            // SB8
            _ if match_sb8(&state_before, &text[before..]) => false,
            // SB8a
            SC_SContinue | SC_STerm | SC_ATerm if match_sb8a(&state_before) => false,
            // SB9
            SC_Close | SC_Sp | SC_Sep | SC_CR | SC_LF if match_sb9(&state_before) => false,
            // SB10
            SC_Sp | SC_Sep | SC_CR | SC_LF if match_sb8a(&state_before) => false,
            // SB11
            _ if match_sb11(&state_before) => true,
            // SB998
            _ => false,
        };
        if brk {
            emit(before, &mut last);
        }
    }
    // SB2
    if state[3] != Part::Sot && state[3] != Part::Eot {
        emit(pos, &mut last);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_segmentation::UnicodeSegmentation;

    #[test]
    fn parts_are_indexed_by_discriminant() {
        for (k, p) in PARTS.iter().enumerate() {
            assert_eq!(*p as usize, k);
        }
    }

    fn ours(t: &str) -> Vec<(usize, usize)> {
        let mut v = Vec::new();
        segments(t, |a, b| v.push((a, b)));
        v
    }

    fn theirs(t: &str) -> Vec<(usize, usize)> {
        t.split_sentence_bound_indices()
            .map(|(i, s)| (i, i + s.len()))
            .collect()
    }

    /// [`after_quiet`] against shifting each byte's part in, one at a time.
    #[test]
    fn after_quiet_equals_the_byte_by_byte_state() {
        let quiet_bytes: Vec<u8> = (0u8..128).filter(|&b| LOUD[b as usize] == 0).collect();
        assert!(quiet_bytes.contains(&b' ') && quiet_bytes.contains(&b'a'));
        assert!(!quiet_bytes.contains(&b'.') && !quiet_bytes.contains(&b'\n'));
        let alphabet = [b' ', b' ', b'\t', b'a', b'Z', b'0', b',', b'#'];
        let starts: Vec<State> = {
            let parts = [
                Part::UpperLower,
                Part::Other,
                Part::SpPlus,
                Part::ATerm,
                Part::Sot,
            ];
            let mut v = Vec::new();
            for &a in &parts {
                for &b in &parts {
                    for &c in &[Part::UpperLower, Part::Other, Part::SpPlus] {
                        let st = [Part::Sot, a, b, c];
                        if quiet(&st) {
                            v.push(st);
                        }
                    }
                }
            }
            v
        };
        let mut rng = crate::test_support::XorShift::new(0x2545_F491_4F6C_DD1D);
        for len in 0..24 {
            for _ in 0..200 {
                let run: Vec<u8> = (0..len)
                    .map(|_| alphabet[(rng.next() % alphabet.len() as u64) as usize])
                    .collect();
                for &st in &starts {
                    let mut want = st;
                    for &b in &run {
                        want = advance(want, category(b as char));
                    }
                    assert_eq!(after_quiet(st, &run), want, "{st:?} {run:?}");
                }
            }
        }
    }

    #[test]
    fn skip_quiet_stops_at_the_first_loud_byte() {
        for len in 0..40 {
            for at in 0..=len {
                let mut v = vec![b'a'; len];
                if at < len {
                    v[at] = if at % 2 == 0 { b'.' } else { 0xC3 };
                }
                for from in 0..=at.min(len) {
                    assert_eq!(skip_quiet(&v, from), at.min(len), "{len} {at} {from}");
                }
            }
        }
    }

    #[test]
    fn same_segments_as_unicode_segmentation() {
        for t in [
            "",
            "a",
            "Hello. World",
            "Mr. Smith went to Washington. He said \"hi.\" Then left!",
            "e.g. this. 3.5 is a number. (Yes.) 'Quoted.' Next\r\nline\u{2029}para",
            "end.\u{301} Next ok.\u{200D}Yes",
            "U.S. officials.  lower case. Up",
        ] {
            assert_eq!(ours(t), theirs(t), "{t:?}");
        }
    }

    #[test]
    fn every_character_in_sentence_contexts() {
        let mut batch = String::new();
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            for ctx in ["a. ", "A.", "x! ", "b.) ", ""] {
                batch.push_str(ctx);
                batch.push(c);
                batch.push_str("a. B");
                batch.push(c);
                batch.push(' ');
            }
            if batch.len() > 8192 {
                assert_eq!(ours(&batch), theirs(&batch));
                batch.clear();
            }
        }
        assert_eq!(ours(&batch), theirs(&batch));
    }
}
