//! Analysis-time lookups of the sentence and span heads, precomputed from a [`Model`] when an
//! `Analyzer` is built: the same features as [`crate::features`], found in fewer probes.
//!
//! * Every word that occurs in some stored feature name (as `w:`, `w0:`, `w±1:`, `w±2:`, `suf:`'s
//!   word, either side of a bigram, after `spw:N `) or in the lexicon gets one [`WordInfo`]: the
//!   columns of all its one-word features, its lexicon bits, and which bigram positions it occurs
//!   in. A token costs one probe of this table (by the hash of its normalised form, confirmed
//!   against the stored word) instead of one probe per feature.
//! * Constant features (`bias`, `dens:N`, `sp:N`, `sh0:…`, `lx±k:TAG`, …) are columns fixed at
//!   build time.
//! * A bigram is looked up by the pair of its words' table ids (no string at all), and only
//!   when both words occur on the right sides of some stored bigram of that family.
//!
//! The columns come from [`FeatureIndex::find`] itself, so this is a cache of the generic
//! lookups, not a second definition: [`CompiledHeads::span_features`] yields the same
//! (column, anchor, value) sequence, in the same order, as
//! [`crate::features::token_features`] into a [`crate::features::Lookup`] (checked by tests), so
//! sums and scores are bit-for-bit the same.

use crate::features::{FeatureIndex, Name, SentenceContext};
use crate::hashing::Piece;
use crate::model::Model;
use crate::tokens::Token;

const NONE: u32 = u32::MAX;

// Bigram membership bits of a word.
const BM1_FIRST: u16 = 1;
const BM1_SECOND: u16 = 2;
const BP1_FIRST: u16 = 4;
const BP1_SECOND: u16 = 8;
const B_FIRST: u16 = 16;
const B_SECOND: u16 = 32;

/// What a word contributes to the sentence and span heads.
#[derive(Debug, Clone, Copy)]
pub struct WordInfo {
    /// Span-head columns of `w0:`, `w-1:`, `w+1:`, `w-2:`, `w+2:` with this word.
    span: [u32; 5],
    /// Span-head column of `suf:` with this word's suffix.
    suf: u32,
    /// Span-head columns of `spw:N word` for N in 0..5.
    spw: [u32; 5],
    /// Sentence-head column of `w:word`.
    sent: u32,
    /// Lexicon bits.
    pub lex: u32,
    /// Bigram membership bits.
    bigram: u16,
    /// Index of the word in the table (pairs of ids key the bigram tables).
    id: u32,
    /// Set when the word is in the table (else every column is [`NONE`]).
    known: bool,
}

const UNKNOWN: WordInfo = WordInfo {
    span: [NONE; 5],
    suf: NONE,
    spw: [NONE; 5],
    sent: NONE,
    lex: 0,
    bigram: 0,
    id: u32::MAX,
    known: false,
};

impl WordInfo {
    /// Index of the word in the word table (equal for equal words), when it is in the table.
    #[inline]
    pub(crate) fn table_id(&self) -> Option<u32> {
        self.known.then_some(self.id)
    }
}

impl Default for WordInfo {
    fn default() -> Self {
        UNKNOWN
    }
}

const SHAPES: [&str; 6] = ["Xx", "X", "x", "0", "p", "o"];

fn shape_index(shape: &str) -> usize {
    SHAPES.iter().position(|s| *s == shape).unwrap_or(5)
}

/// Precomputed lookups of one model's sentence and span heads.
#[derive(Debug, Clone, Default)]
pub struct CompiledHeads {
    /// Word hash → index into `infos` (open addressing, confirmed against the word).
    table: WordTable,
    infos: Vec<WordInfo>,
    /// The words of `infos`, concatenated; `word_ends[k]` ends word `k`.
    word_text: String,
    word_ends: Vec<u32>,
    bos: WordInfo,
    eos: WordInfo,
    bias: u32,
    quoted: u32,
    first: u32,
    last: u32,
    dens: [u32; 5],
    sp: [u32; 10],
    shape: [u32; 6],
    /// `lx-2:`..`lx+2:` × lexicon list.
    lx: [[u32; 32]; 5],
    /// `b-1:A B`, `b+1:A B` (span head) and `b:A B` (sentence head) by the word ids of A and B.
    bm1: rustc_hash::FxHashMap<u64, u32>,
    bp1: rustc_hash::FxHashMap<u64, u32>,
    sent_b: rustc_hash::FxHashMap<u64, u32>,
    /// Sentence head: `lx:` × lexicon list, and `caps`.
    sent_lx: [u32; 32],
    sent_caps: u32,
    /// The technique head's constant columns and character n-grams.
    technique: TechniqueTable,
}

fn col(index: &FeatureIndex, name: Name<'_>) -> u32 {
    index.find(&name).unwrap_or(NONE)
}

impl CompiledHeads {
    /// Builds the lookups of `model`'s sentence and span heads.
    pub fn new(model: &Model) -> Self {
        use crate::features::pieces as p;
        let span = &model.span.index;
        let sent = &model.sentence.vectorizer.index;
        let lexicon = &model.lexicon;
        let mut out = CompiledHeads {
            bias: col(span, Name::lit(p::BIAS)),
            quoted: col(span, Name::lit(p::QUOTED)),
            first: col(span, Name::lit(p::FIRST)),
            last: col(span, Name::lit(p::LAST)),
            sent_caps: col(sent, Name::lit(p::CAPS)),
            technique: TechniqueTable::new(model),
            ..Default::default()
        };
        for d in 0..5 {
            out.dens[d] = col(span, Name::one(p::DENS, p::DIGITS[d]));
        }
        for b in 0..10 {
            out.sp[b] = col(span, Name::one(p::SP, p::DIGITS[b]));
        }
        for (k, s) in SHAPES.iter().enumerate() {
            out.shape[k] = col(span, Name::one(p::SH0, Piece::new(s)));
        }
        out.lx = [[NONE; 32]; 5];
        out.sent_lx = [NONE; 32];
        for (bit, name) in lexicon.names().iter().enumerate().take(32) {
            let tag = Piece::new(name);
            for (k, p0) in [p::LXM2, p::LXM1, p::LX0, p::LXP1, p::LXP2]
                .into_iter()
                .enumerate()
            {
                out.lx[k][bit] = col(span, Name::one(p0, tag));
            }
            out.sent_lx[bit] = col(sent, Name::one(p::LX, tag));
        }
        // Every word of a stored one-word or two-word name, with its columns and bigram bits,
        // read off the names themselves (each name is parsed once).
        out.table = WordTable::with_capacity(span.len() + sent.len() / 2 + lexicon.len());
        const SPAN_ONE: [&str; 5] = ["w0:", "w-1:", "w+1:", "w-2:", "w+2:"];
        for (c, name) in span.columns() {
            if let Some(k) = SPAN_ONE.iter().position(|p| name.starts_with(p)) {
                out.entry(&name[SPAN_ONE[k].len()..]).span[k] = c;
            } else if let Some(rest) = name.strip_prefix("b-1:") {
                if let Some(key) = out.bigram_key(rest, BM1_FIRST, BM1_SECOND) {
                    out.bm1.insert(key, c);
                }
            } else if let Some(rest) = name.strip_prefix("b+1:") {
                if let Some(key) = out.bigram_key(rest, BP1_FIRST, BP1_SECOND) {
                    out.bp1.insert(key, c);
                }
            } else if let Some(rest) = name.strip_prefix("spw:") {
                if let Some((d, w)) = rest.split_once(' ') {
                    if let Some(d) = (d.len() == 1).then(|| d.as_bytes()[0].wrapping_sub(b'0')) {
                        if d < 5 {
                            out.entry(w).spw[d as usize] = c;
                        }
                    }
                }
            }
        }
        for (c, name) in sent.columns() {
            if let Some(w) = name.strip_prefix("w:") {
                out.entry(w).sent = c;
            } else if let Some(rest) = name.strip_prefix("b:") {
                if let Some((a, b)) = rest.split_once(' ') {
                    let ka = out.entry(a);
                    ka.bigram |= B_FIRST;
                    let ka = ka.id;
                    let kb = out.entry(b);
                    kb.bigram |= B_SECOND;
                    let kb = kb.id;
                    out.sent_b.insert(pair(ka, kb), c);
                }
            }
        }
        for w in lexicon.words() {
            out.entry(w);
        }
        let mut suffixes = Vec::with_capacity(out.infos.len());
        for k in 0..out.infos.len() as u32 {
            let w = out.word_str(k);
            let info = WordInfo {
                lex: lexicon.bits_of_str(w),
                suf: crate::features::suffix(w)
                    .map_or(NONE, |s| col(span, Name::one(p::SUF, Piece::new(s)))),
                ..out.infos[k as usize]
            };
            suffixes.push(info);
        }
        out.infos = suffixes;
        out.bos = out.info(p::BOS);
        out.eos = out.info(p::EOS);
        out
    }

    /// The info of word `w`, added (known, no column yet) when absent.
    /// The pair key of the bigram `"a b"`, marking `a` and `b` in the word table with the bits
    /// of their side (`None` when `rest` is not two words).
    fn bigram_key(&mut self, rest: &str, first: u16, second: u16) -> Option<u64> {
        let (a, b) = rest.split_once(' ')?;
        let ka = self.entry(a);
        ka.bigram |= first;
        let ka = ka.id;
        let kb = self.entry(b);
        kb.bigram |= second;
        Some(pair(ka, kb.id))
    }

    fn entry(&mut self, w: &str) -> &mut WordInfo {
        let h = w.bytes().fold(0u64, |h, b| {
            h.wrapping_mul(crate::hashing::BASE)
                .wrapping_add(b as u64 + 1)
        });
        let k = match self.find(h, w.as_bytes()) {
            Some(k) => k,
            None => {
                let k = self.infos.len() as u32;
                self.infos.push(WordInfo {
                    known: true,
                    id: k,
                    ..UNKNOWN
                });
                self.word_text.push_str(w);
                self.word_ends.push(self.word_text.len() as u32);
                self.table.insert(h, k);
                k
            }
        };
        &mut self.infos[k as usize]
    }

    /// Index of the word `w` of hash `h`, when in the table.
    #[inline]
    fn find(&self, h: u64, w: &[u8]) -> Option<u32> {
        self.table.find(h, w, |k| Some(self.word(k)))
    }

    fn word(&self, k: u32) -> &[u8] {
        let k = k as usize;
        let start = if k == 0 {
            0
        } else {
            self.word_ends[k - 1] as usize
        };
        &self.word_text.as_bytes()[start..self.word_ends[k] as usize]
    }

    /// Word `k` (whole words were appended, so its bounds are character boundaries).
    fn word_str(&self, k: u32) -> &str {
        let k = k as usize;
        let start = match k.checked_sub(1) {
            Some(j) => self.word_ends.get(j).map_or(0, |&e| e as usize),
            None => 0,
        };
        let end = self.word_ends.get(k).map_or(start, |&e| e as usize);
        self.word_text.get(start..end).unwrap_or_default()
    }

    /// The info of a word given as a piece (with its hash).
    #[inline]
    pub fn info(&self, w: Piece<'_>) -> WordInfo {
        match self.find(w.hash, w.text.as_bytes()) {
            Some(k) => self.infos[k as usize],
            None => UNKNOWN,
        }
    }

    /// Infos of a sentence's tokens, written into `out`.
    pub fn infos(&self, tokens: &[Token], out: &mut Vec<WordInfo>) {
        out.clear();
        out.extend(tokens.iter().map(|t| self.info(t.piece())));
    }

    /// The sentence head's columns of a sentence (the `bag_of_terms` of
    /// [`crate::features::sentence_terms`], same multiset), appended to `cols`.
    pub fn sentence_columns(
        &self,
        model: &Model,
        tokens: &[Token],
        infos: &[WordInfo],
        cols: &mut Vec<u32>,
    ) {
        let mut push = |c: u32| {
            if c != NONE {
                cols.push(c);
            }
        };
        for (i, t) in tokens.iter().enumerate() {
            let Some(info) = infos.get(i) else { break };
            push(info.sent);
            if let Some(next) = infos.get(i + 1) {
                if info.bigram & B_FIRST != 0 && next.bigram & B_SECOND != 0 {
                    if let Some(&c) = self.sent_b.get(&pair(info.id, next.id)) {
                        push(c);
                    }
                }
            }
            let mut bits = info.lex;
            while bits != 0 {
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if b < model.lexicon.names().len() {
                    push(self.sent_lx[b]);
                }
            }
            if t.shape == "X" {
                push(self.sent_caps);
            }
        }
    }

    /// The span head's features of token `i` (as [`crate::features::token_features`] into a
    /// `Lookup`): calls `f(column, anchor)` for each found feature, in the same order (every
    /// value is 1).
    #[inline]
    pub fn span_features(
        &self,
        model: &Model,
        tokens: &[Token],
        infos: &[WordInfo],
        i: usize,
        ctx: &SentenceContext,
        mut f: impl FnMut(u32, Option<i8>),
    ) {
        use crate::features::pieces as p;
        let mut emit = |c: u32, a: Option<i8>| {
            if c != NONE {
                f(c, a)
            }
        };
        let n = tokens.len();
        let info = |k: isize| -> &WordInfo {
            let j = i as isize + k;
            if j < 0 {
                &self.bos
            } else if j as usize >= n {
                &self.eos
            } else {
                &infos[j as usize]
            }
        };
        let index = &model.span.index;
        // The window i-2..=i+2, read as one slice when it lies inside the sentence.
        let [im2, im1, i0, ip1, ip2] = match i
            .checked_sub(2)
            .and_then(|a| infos.get(a..i + 3))
            .and_then(|w| <&[WordInfo; 5]>::try_from(w).ok())
        {
            Some([a, b, c, d, e]) if i + 2 < n => [a, b, c, d, e],
            _ => [info(-2), info(-1), info(0), info(1), info(2)],
        };
        emit(self.bias, None);
        emit(i0.span[0], Some(0));
        emit(im1.span[1], Some(-1));
        emit(ip1.span[2], Some(1));
        emit(im2.span[3], Some(-2));
        emit(ip2.span[4], Some(2));
        if im1.bigram & BM1_FIRST != 0 && i0.bigram & BM1_SECOND != 0 {
            if let Some(&c) = self.bm1.get(&pair(im1.id, i0.id)) {
                emit(c, Some(0));
            }
        }
        if i0.bigram & BP1_FIRST != 0 && ip1.bigram & BP1_SECOND != 0 {
            if let Some(&c) = self.bp1.get(&pair(i0.id, ip1.id)) {
                emit(c, Some(0));
            }
        }
        let t = &tokens[i];
        if i0.known {
            emit(i0.suf, Some(0));
        } else if let Some(s) = crate::features::suffix(&t.norm) {
            emit(col(index, Name::one(p::SUF, Piece::new(s))), Some(0));
        }
        emit(self.shape[shape_index(t.shape)], Some(0));
        let names = model.lexicon.names().len();
        // Offsets k = -2..=2 in order, those inside the sentence (`lx[k + 2]` is `lx{k}:`).
        let lo = i.saturating_sub(2);
        for j in lo..(i + 3).min(n) {
            let k = j + 2 - i;
            let mut bits = ctx.lex.get(j).copied().unwrap_or(0);
            while bits != 0 {
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if b < names {
                    if let Some(&c) = self.lx.get(k).and_then(|l| l.get(b)) {
                        emit(c, Some(k as i8 - 2));
                    }
                }
            }
        }
        if ctx.quoted.get(i).copied().unwrap_or(false) {
            emit(self.quoted, None);
        }
        let d = ctx.density.get(i).copied().unwrap_or(0).min(4) as usize;
        emit(self.dens[d], None);
        let b = ((ctx.sentence_prob.clamp(0.0, 1.0) * 10.0) as usize).min(9);
        emit(self.sp[b], None);
        emit(i0.spw[b / 2], Some(0));
        if i == 0 {
            emit(self.first, None);
        }
        if i + 1 == n {
            emit(self.last, None);
        }
    }
}

const EMPTY: u32 = u32::MAX;

/// The word table's slots: (hash of the word, its index), or `(0, EMPTY)`. Open addressing
/// with linear probing from the top bits of `hash · φ` (Fibonacci hashing: the polynomial
/// hash's low bits are weak, its product's top bits are not); words that share a hash take separate slots (each is
/// confirmed against its bytes). At most half the slots are used.
#[derive(Debug, Clone, Default)]
struct WordTable {
    slots: Vec<(u64, u32)>,
    len: usize,
    /// 64 − log2(number of slots).
    shift: u32,
}

impl WordTable {
    fn with_capacity(n: usize) -> Self {
        let size = (2 * n).next_power_of_two().max(16);
        WordTable {
            slots: vec![(0, EMPTY); size],
            len: 0,
            shift: 64 - size.trailing_zeros(),
        }
    }

    /// First slot of a probe for hash `h`.
    #[inline(always)]
    fn home(&self, h: u64) -> usize {
        (h.wrapping_mul(crate::hashing::BASE) >> (self.shift & 63)) as usize
    }

    /// Index of the word `w` of hash `h`, when present; `word(k)` gives the bytes of word `k`
    /// (each candidate of the same hash is confirmed against them).
    #[inline(always)]
    fn find<'a>(&self, h: u64, w: &[u8], word: impl Fn(u32) -> Option<&'a [u8]>) -> Option<u32> {
        let mask = self.slots.len().wrapping_sub(1);
        let mut at = self.home(h);
        // The table is never full (at most half its slots are used), so an empty slot ends
        // every probe sequence; the bound only guards an empty table.
        for _ in 0..self.slots.len() {
            let (sh, k) = *self.slots.get(at & mask)?;
            if k == EMPTY {
                return None;
            }
            if sh == h && word(k) == Some(w) {
                return Some(k);
            }
            at = (at & mask) + 1;
        }
        None
    }

    /// Adds word `k` of hash `h` (not already present), growing the table first if needed.
    fn insert(&mut self, h: u64, k: u32) {
        if 2 * (self.len + 1) > self.slots.len() {
            let old = std::mem::take(&mut self.slots);
            *self = WordTable::with_capacity(old.len().max(8));
            for &(oh, ok) in old.iter().filter(|s| s.1 != EMPTY) {
                self.put(oh, ok);
            }
        }
        self.put(h, k);
    }

    fn put(&mut self, h: u64, k: u32) {
        let mask = self.slots.len() - 1;
        let mut at = self.home(h) & mask;
        while self.slots[at].1 != EMPTY {
            at = (at + 1) & mask;
        }
        self.slots[at] = (h, k);
        self.len += 1;
    }
}

/// Key of a pair of word ids.
#[inline(always)]
fn pair(a: u32, b: u32) -> u64 {
    ((a as u64) << 32) | b as u64
}

/// Key of a character n-gram of at most [`GRAM_BYTES`] bytes: the bytes little-endian in the
/// low bytes, the length in the top byte. Distinct byte strings of up to 7 bytes have distinct
/// keys, so a lookup by key is exactly a lookup by string.
#[inline(always)]
fn gram_key(window: u64, len: usize) -> u64 {
    (window & ((1u64 << (8 * len)) - 1)) | ((len as u64) << 56)
}

/// Longest n-gram (in bytes) kept in the packed table; longer ones (non-ASCII characters) are
/// looked up by name.
const GRAM_BYTES: usize = 7;

/// The technique head's `c:` features of at most [`GRAM_BYTES`] bytes: packed n-gram (see
/// [`gram_key`]) → column, an open-addressing table with linear probing (a zero key is empty;
/// a slot holds the key and its column, so that a hit reads one slot). A slot also holds the
/// columns of its n-gram's first 3 and 4 bytes, so that one hit on an ASCII 5-gram gives the
/// 3- and 4-gram at the same start too (see [`Probe::get_with_prefixes`]).
#[derive(Debug, Clone, Default)]
struct GramTable {
    slots: Vec<GramSlot>,
    shift: u32,
    /// Every `c:` name of at most [`GRAM_BYTES`] bytes is in the table (always, as it has
    /// twice as many slots as the index has names; when not, every n-gram is looked up by name).
    complete: bool,
    /// The prefix columns of every slot are set (by [`GramTable::of`]).
    prefixes: bool,
}

/// One slot of a [`GramTable`]: 16 bytes, four to a cache line. Columns are kept in 16 bits
/// ([`narrow`]); a model with more columns than that takes the lookup by name instead.
#[derive(Debug, Clone, Copy, Default)]
struct GramSlot {
    /// The packed n-gram (0: empty).
    key: u64,
    /// Its column.
    col: u16,
    /// Columns of the n-grams of its first 3 and first 4 bytes ([`NARROW_NONE`] when not
    /// stored or not shorter than the n-gram).
    prefix3: u16,
    prefix4: u16,
}

/// [`NONE`] in a [`GramSlot`].
const NARROW_NONE: u16 = u16::MAX;

/// A column in 16 bits, when it fits ([`NONE`] is [`NARROW_NONE`]).
fn narrow(c: u32) -> Option<u16> {
    if c == NONE {
        Some(NARROW_NONE)
    } else {
        u16::try_from(c).ok().filter(|&c| c != NARROW_NONE)
    }
}

/// The column of a [`GramSlot`] field.
#[inline(always)]
fn wide(c: u16) -> u32 {
    if c == NARROW_NONE {
        NONE
    } else {
        u32::from(c)
    }
}

impl GramTable {
    /// The table of the `c:` names of `index`.
    fn of(index: &FeatureIndex) -> Self {
        // Room for every name, so the table is at most half full.
        let mut names = 0;
        index.for_each_with_prefix(b"c:", |_, gram| {
            names += (gram.len() <= GRAM_BYTES) as usize
        });
        let mut grams = GramTable::with_capacity(names);
        let mut complete = true;
        index.for_each_with_prefix(b"c:", |c, gram| {
            complete &= grams.insert(gram, c);
        });
        grams.complete = complete;
        grams.set_prefixes();
        grams
    }

    /// Fills in the prefix columns of every slot (after the last insertion).
    fn set_prefixes(&mut self) {
        for i in 0..self.slots.len() {
            let Some(&GramSlot { key, .. }) = self.slots.get(i) else {
                continue;
            };
            let len = (key >> 56) as usize;
            let prefix = |n: usize| {
                if key != 0 && len > n {
                    self.get(gram_key(key, n))
                } else {
                    NONE
                }
            };
            // Every stored column fits (`insert`).
            let (p3, p4) = (prefix(3), prefix(4));
            if let Some(slot) = self.slots.get_mut(i) {
                slot.prefix3 = narrow(p3).unwrap_or(NARROW_NONE);
                slot.prefix4 = narrow(p4).unwrap_or(NARROW_NONE);
            }
        }
        self.prefixes = true;
    }

    /// An empty table with room for `n` n-grams.
    fn with_capacity(n: usize) -> Self {
        let cap = (n * 2).next_power_of_two().max(16);
        GramTable {
            slots: vec![GramSlot::default(); cap],
            shift: 64 - cap.trailing_zeros(),
            complete: false,
            prefixes: false,
        }
    }

    /// Adds an n-gram of 1 to [`GRAM_BYTES`] bytes (others are ignored), unless the table is
    /// full or the column does not fit in 16 bits (false then). The same n-gram twice cannot
    /// come from distinct stored names; the later column would win, as in a map. The prefix
    /// columns are left to [`GramTable::set_prefixes`].
    fn insert(&mut self, gram: &[u8], col: u32) -> bool {
        if !(1..=GRAM_BYTES).contains(&gram.len()) {
            return true;
        }
        let Some(col) = narrow(col).filter(|&c| c != NARROW_NONE) else {
            return false;
        };
        self.prefixes = false;
        let window = gram.iter().rev().fold(0u64, |k, &b| (k << 8) | b as u64);
        let key = gram_key(window, gram.len());
        let mask = self.slots.len().wrapping_sub(1);
        let mut i = self.slot(key) & mask;
        for _ in 0..self.slots.len() {
            let Some(slot) = self.slots.get_mut(i) else {
                return false;
            };
            if slot.key == 0 || slot.key == key {
                *slot = GramSlot {
                    key,
                    col,
                    prefix3: NARROW_NONE,
                    prefix4: NARROW_NONE,
                };
                return true;
            }
            i = (i + 1) & mask;
        }
        false
    }

    #[inline(always)]
    fn slot(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// Column of a packed n-gram, or [`NONE`].
    #[inline(always)]
    fn get(&self, key: u64) -> u32 {
        self.probe().get(key)
    }

    /// The table as plain slices (kept in registers by a loop of lookups).
    #[inline(always)]
    fn probe(&self) -> Probe<'_> {
        Probe {
            slots: &self.slots,
            shift: self.shift,
        }
    }
}

/// A [`GramTable`] borrowed as slices.
#[derive(Clone, Copy)]
struct Probe<'a> {
    slots: &'a [GramSlot],
    shift: u32,
}

impl Probe<'_> {
    /// Column of a packed n-gram, or [`NONE`].
    #[inline(always)]
    fn get(self, key: u64) -> u32 {
        self.find(key).map_or(NONE, |s| wide(s.col))
    }

    /// The slot of a packed n-gram, if stored.
    #[inline(always)]
    fn find(&self, key: u64) -> Option<&GramSlot> {
        let mask = self.slots.len().wrapping_sub(1);
        let mut i = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize & mask;
        while let Some(s) = self.slots.get(i) {
            if s.key == key {
                return Some(s);
            }
            if s.key == 0 {
                break;
            }
            i = (i + 1) & mask;
        }
        None
    }

    /// The columns of the 3-, 4- and 5-gram of the ASCII `window` (at least five bytes), in
    /// that order ([`NONE`] when not stored): one probe when the 5-gram is stored, two when
    /// only the 4-gram is, three otherwise. The table must have its prefixes set.
    #[inline(always)]
    fn get_with_prefixes(self, window: u64) -> [u32; 3] {
        if let Some(s) = self.find(gram_key(window, 5)) {
            return [wide(s.prefix3), wide(s.prefix4), wide(s.col)];
        }
        if let Some(s) = self.find(gram_key(window, 4)) {
            return [wide(s.prefix3), wide(s.col), NONE];
        }
        [self.get(gram_key(window, 3)), NONE, NONE]
    }
}

/// Precomputed lookups of the technique head: the constant columns and the packed table of
/// character n-grams (see [`CompiledHeads::technique_columns`]).
#[derive(Debug, Clone)]
struct TechniqueTable {
    /// Built on first use (from the technique head's names), so that documents without a span
    /// never pay for it.
    grams: std::sync::OnceLock<GramTable>,
    /// The word features, built on first use like `grams`.
    words: std::sync::OnceLock<TechWords>,
    bias: u32,
    caps: u32,
    /// `lx:` × lexicon list.
    lx: [u32; 32],
    /// `len:` of 1, 2, 3, 4-6, 7-12, 13+ tokens.
    len: [u32; 6],
    /// `rep:` of 1, 2, 3+.
    rep: [u32; 3],
}

impl Default for TechniqueTable {
    fn default() -> Self {
        TechniqueTable {
            grams: std::sync::OnceLock::new(),
            words: std::sync::OnceLock::new(),
            bias: NONE,
            caps: NONE,
            lx: [NONE; 32],
            len: [NONE; 6],
            rep: [NONE; 3],
        }
    }
}

impl TechniqueTable {
    fn new(model: &Model) -> Self {
        use crate::features::pieces as p;
        let index = &model.technique.index;
        let mut lx = [NONE; 32];
        for (bit, name) in model.lexicon.names().iter().enumerate().take(32) {
            lx[bit] = col(index, Name::one(p::LX, Piece::new(name)));
        }
        let piece = |s: &'static str| col(index, Name::one(p::LEN, Piece::new(s)));
        TechniqueTable {
            grams: std::sync::OnceLock::new(),
            words: std::sync::OnceLock::new(),
            bias: col(index, Name::lit(p::BIAS)),
            caps: col(index, Name::lit(p::CAPS)),
            lx,
            len: ["1", "2", "3", "4-6", "7-12", "13+"].map(piece),
            rep: ["1", "2", "3+"].map(|s| col(index, Name::one(p::REP, Piece::new(s)))),
        }
    }
}

// Slots of `TechWord::cols`: the technique head's one-word features.
const TW_W: usize = 0;
const TW_FIRST: usize = 1;
const TW_LAST: usize = 2;
const TW_L2: usize = 3;
const TW_L1: usize = 4;
const TW_R1: usize = 5;
const TW_R2: usize = 6;

/// What one word contributes to the technique head: the columns of its one-word features, its
/// bigram sides and lexicon bits, found once per word ([`CompiledHeads::technique_word`]) so
/// that a span reads its words' features without building or comparing a name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TechWord {
    /// Columns of `w:`, `first:`, `last:`, `l2:`, `l1:`, `r1:`, `r2:` with this word.
    cols: [u32; 7],
    /// Index of the word among the technique head's words (pairs of ids key its bigrams).
    id: u32,
    /// Sides of a stored `b:` bigram the word occurs on ([`B_FIRST`], [`B_SECOND`]).
    bigram: u16,
    /// The word contains a space: a bigram starting with it is looked up by name (a stored
    /// `b:` name is split at its first space).
    spaced: bool,
    /// Lexicon bits.
    lex: u32,
}

impl TechWord {
    /// A word that occurs in no technique feature and in no lexicon list.
    pub(crate) const UNKNOWN: TechWord = TechWord {
        cols: [NONE; 7],
        id: NONE,
        bigram: 0,
        spaced: false,
        lex: 0,
    };
}

impl Default for TechWord {
    fn default() -> Self {
        TechWord::UNKNOWN
    }
}

/// The technique head's words: every word of a stored `w:`, `first:`, `last:`, `l2:`, `l1:`,
/// `r1:`, `r2:` name or either side of a `b:` name, with its columns (read off the names, each
/// once), and the bigrams by the pair of their words' ids.
#[derive(Debug, Clone, Default)]
struct TechWords {
    /// Word hash → index into `words` (confirmed against the word's bytes).
    table: WordTable,
    words: Vec<TechWord>,
    /// The words' bytes, concatenated; `ends[k]` ends word `k`.
    text: Vec<u8>,
    ends: Vec<u32>,
    /// `b:A B` by the ids of A and B.
    bigrams: rustc_hash::FxHashMap<u64, u32>,
    /// Columns of the sentinels `<s>` (before the document) and `</s>` (after it).
    bos: [u32; 7],
    eos: [u32; 7],
    /// Index in `words` of each word of the word table of [`CompiledHeads`] (by its table id),
    /// or [`NONE`].
    by_table: Vec<u32>,
}

impl TechWords {
    /// The words of the technique head's names (`index`), each also found in the word table of
    /// `heads` (see `by_table`).
    fn of(index: &FeatureIndex, heads: &CompiledHeads) -> Self {
        use crate::features::pieces as p;
        let mut t = TechWords {
            table: WordTable::with_capacity(1 << 12),
            ..TechWords::default()
        };
        const ONE: [(&[u8], usize); 7] = [
            (b"w:", TW_W),
            (b"first:", TW_FIRST),
            (b"last:", TW_LAST),
            (b"l2:", TW_L2),
            (b"l1:", TW_L1),
            (b"r1:", TW_R1),
            (b"r2:", TW_R2),
        ];
        // One pass over every name (no prefix is a prefix of another).
        index.for_each_with_prefix(&[], |c, name| {
            if !matches!(name.first(), Some(b'w' | b'f' | b'l' | b'r' | b'b')) {
                return;
            }
            if let Some(rest) = name.strip_prefix(b"b:") {
                // `b:A B` with A the part before the first space: the only split a pair of
                // words without a space in the first one can match.
                let Some(at) = rest.iter().position(|&b| b == b' ') else {
                    return;
                };
                let (a, b) = (&rest[..at], &rest[at + 1..]);
                let ka = t.entry(a);
                ka.bigram |= B_FIRST;
                let ka = ka.id;
                let kb = t.entry(b);
                kb.bigram |= B_SECOND;
                let kb = kb.id;
                t.bigrams.insert(pair(ka, kb), c);
                return;
            }
            for (prefix, slot) in ONE {
                if let Some(w) = name.strip_prefix(prefix) {
                    t.entry(w).cols[slot] = c;
                    return;
                }
            }
        });
        let cols = |t: &TechWords, w: Piece<'_>| t.get(w).map_or([NONE; 7], |x| x.cols);
        t.bos = cols(&t, p::BOS);
        t.eos = cols(&t, p::EOS);
        t.by_table = vec![NONE; heads.infos.len()];
        for k in 0..t.words.len() as u32 {
            let Some(w) = t.word(k) else {
                continue;
            };
            if let Some(slot) = heads
                .find(crate::hashing::hash_bytes(w).0, w)
                .and_then(|id| t.by_table.get_mut(id as usize))
            {
                *slot = k;
            }
        }
        t
    }

    /// The entry of word `w`, added (no column yet) when absent.
    fn entry(&mut self, w: &[u8]) -> &mut TechWord {
        let h = crate::hashing::hash_bytes(w).0;
        let k = match self.find(h, w) {
            Some(k) => k,
            None => {
                let k = self.words.len() as u32;
                self.words.push(TechWord {
                    id: k,
                    ..TechWord::UNKNOWN
                });
                self.text.extend_from_slice(w);
                self.ends.push(self.text.len() as u32);
                self.table.insert(h, k);
                k
            }
        };
        &mut self.words[k as usize]
    }

    /// Index of the word `w` of hash `h`, when present.
    fn find(&self, h: u64, w: &[u8]) -> Option<u32> {
        self.table.find(h, w, |k| self.word(k))
    }

    fn word(&self, k: u32) -> Option<&[u8]> {
        let k = k as usize;
        let start = match k.checked_sub(1) {
            Some(j) => *self.ends.get(j)? as usize,
            None => 0,
        };
        self.text.get(start..*self.ends.get(k)? as usize)
    }

    /// The entry of a word given as a piece (with its hash).
    fn get(&self, w: Piece<'_>) -> Option<&TechWord> {
        let k = self.find(w.hash, w.text.as_bytes())?;
        self.words.get(k as usize)
    }
}

/// A span and the tokens around it as the technique head reads them: per token its
/// [`TechWord`], its normalised form and whether its shape is all caps (`X`). Token `i` of a
/// view is token `i` of some window of a document; a span at `range` of the view has its two
/// context tokens either side in the view unless the document ends there.
pub(crate) trait TechniqueTokens {
    /// Number of tokens.
    fn len(&self) -> usize;
    /// The technique word of token `i` (unknown beyond the end).
    fn word(&self, i: usize) -> TechWord;
    /// The normalised form of token `i` (empty beyond the end).
    fn norm(&self, i: usize) -> &str;
    /// Whether token `i` is all caps.
    fn caps(&self, i: usize) -> bool;
}

/// A window of tokens with their technique words.
pub(crate) struct TokenWords<'a> {
    tokens: &'a [Token],
    words: &'a [TechWord],
}

impl<'a> TokenWords<'a> {
    /// `tokens` with their technique words `words` (one per token).
    pub(crate) fn from_parts(tokens: &'a [Token], words: &'a [TechWord]) -> Self {
        TokenWords { tokens, words }
    }

    /// `tokens` with their technique words, found into `words`.
    #[cfg(test)]
    pub(crate) fn new(
        model: &Model,
        heads: &CompiledHeads,
        tokens: &'a [Token],
        words: &'a mut Vec<TechWord>,
    ) -> Self {
        words.clear();
        words.extend(
            tokens
                .iter()
                .map(|t| heads.technique_word(model, t.piece())),
        );
        TokenWords { tokens, words }
    }
}

impl TechniqueTokens for TokenWords<'_> {
    fn len(&self) -> usize {
        self.tokens.len()
    }

    #[inline]
    fn word(&self, i: usize) -> TechWord {
        self.words.get(i).copied().unwrap_or_default()
    }

    #[inline]
    fn norm(&self, i: usize) -> &str {
        self.tokens.get(i).map_or("", |t| t.norm.as_str())
    }

    #[inline]
    fn caps(&self, i: usize) -> bool {
        self.tokens.get(i).is_some_and(|t| t.shape == "X")
    }
}

/// A set of columns kept as a bitmap, read out in ascending order (and emptied) by
/// [`ColumnSet::drain_into`]: the sorted, deduplicated columns of a row without a sort. A
/// second bitmap marks the non-zero words, so reading costs the number of marked words.
#[derive(Debug, Clone, Default)]
struct ColumnSet {
    words: Vec<u64>,
    summary: Vec<u64>,
}

impl ColumnSet {
    /// Makes room for columns below `bound`.
    fn reserve(&mut self, bound: usize) {
        let words = bound.div_ceil(64);
        if self.words.len() < words {
            self.words.resize(words, 0);
            self.summary.resize(words.div_ceil(64), 0);
        }
    }

    /// Adds column `c`; [`NONE`] and columns beyond the reserved bound are ignored.
    #[inline(always)]
    fn insert(&mut self, c: u32) {
        self.as_mut().insert(c);
    }

    /// The set borrowed as slices (kept in registers by a loop of insertions).
    #[inline(always)]
    fn as_mut(&mut self) -> SetMut<'_> {
        SetMut {
            words: &mut self.words,
            summary: &mut self.summary,
        }
    }

    /// Calls `f` with each column in ascending order and empties the set.
    #[inline(always)]
    fn drain(&mut self, mut f: impl FnMut(u32)) {
        for (s, summary) in self.summary.iter_mut().enumerate() {
            let mut ws = std::mem::take(summary);
            while ws != 0 {
                let w = s * 64 + ws.trailing_zeros() as usize;
                ws &= ws - 1;
                let Some(word) = self.words.get_mut(w) else {
                    continue;
                };
                let mut bits = std::mem::take(word);
                while bits != 0 {
                    f((w * 64) as u32 + bits.trailing_zeros());
                    bits &= bits - 1;
                }
            }
        }
    }

    /// Writes the columns in ascending order to the start of `out` and empties the set; returns
    /// how many there were (columns beyond the end of `out` are dropped: `out` as long as the
    /// reserved bound holds them all).
    fn drain_to_slice(&mut self, out: &mut [u32]) -> usize {
        let mut n = 0;
        self.drain(|c| {
            if let Some(x) = out.get_mut(n) {
                *x = c;
                n += 1;
            }
        });
        n
    }

    /// Appends the columns in ascending order to `out` and empties the set.
    fn drain_into(&mut self, out: &mut Vec<u32>) {
        self.drain(|c| out.push(c));
    }
}

/// A [`ColumnSet`] borrowed as slices.
struct SetMut<'a> {
    words: &'a mut [u64],
    summary: &'a mut [u64],
}

impl SetMut<'_> {
    /// Adds column `c`; [`NONE`] and columns beyond the reserved bound are ignored.
    #[inline(always)]
    fn insert(&mut self, c: u32) {
        let w = (c >> 6) as usize;
        if let (Some(word), Some(s)) = (self.words.get_mut(w), self.summary.get_mut(w >> 6)) {
            *word |= 1 << (c & 63);
            *s |= 1 << (w & 63);
        }
    }
}

/// Reusable buffers of [`CompiledHeads::technique_columns`].
#[derive(Debug, Clone, Default)]
pub struct TechniqueScratch {
    set: ColumnSet,
    joined: String,
    bounds: Vec<usize>,
    /// Technique words of the window of tokens around a span.
    words: Vec<TechWord>,
    /// The columns of a span, in ascending order (as long as the technique head has columns).
    cols: Vec<u32>,
}

impl CompiledHeads {
    /// The technique head's features of the word `w` (see [`TechWord`]).
    pub(crate) fn technique_word(&self, model: &Model, w: Piece<'_>) -> TechWord {
        let words = self.technique_words(model);
        let info = self.info(w);
        let found = match info.table_id() {
            Some(k) => words
                .by_table
                .get(k as usize)
                .and_then(|&i| words.words.get(i as usize)),
            None => words.get(w),
        };
        let mut tw = found.copied().unwrap_or_default();
        tw.lex = info.lex;
        tw.spaced = w.text.as_bytes().contains(&b' ');
        tw
    }

    /// The technique head's words, built on first use.
    fn technique_words(&self, model: &Model) -> &TechWords {
        self.technique
            .words
            .get_or_init(|| TechWords::of(&model.technique.index, self))
    }

    /// The technique head's columns of the span at tokens `range` of `tokens`, whose words occur
    /// `repeats` times in its document, written to `out` in ascending order without repeats:
    /// the columns of [`crate::features::binary_unit_row`] of
    /// [`crate::features::technique_features`] into a [`crate::features::Lookup`] (checked by
    /// tests), found without building a name for most features. Each word's features are found
    /// once ([`TechWord`]); character n-grams of up to seven bytes (all n-grams of ASCII text)
    /// are read off the joined span as packed integers and found in a hash table; longer ones go
    /// through [`FeatureIndex::find`]. A range outside `tokens` has no columns.
    pub fn technique_columns(
        &self,
        model: &Model,
        tokens: &[Token],
        range: std::ops::Range<usize>,
        repeats: usize,
        scratch: &mut TechniqueScratch,
        out: &mut Vec<u32>,
    ) {
        out.clear();
        self.technique_set_of_tokens(model, tokens, range, repeats, scratch);
        scratch.set.drain_into(out);
    }

    /// The technique head's class probabilities of the span at `range` of `view` (`repeats` as
    /// in [`CompiledHeads::technique_columns`]), written into `out` (left empty when `range` is
    /// not inside the view): the probabilities of the binary unit row of its columns, summed
    /// column by column in ascending order as they are read out of the set (no list of
    /// columns).
    pub(crate) fn technique_probabilities_of(
        &self,
        model: &Model,
        view: &impl TechniqueTokens,
        range: std::ops::Range<usize>,
        repeats: usize,
        scratch: &mut TechniqueScratch,
        out: &mut Vec<f32>,
    ) {
        out.clear();
        if range.start > range.end || range.end > view.len() {
            return;
        }
        self.technique_set(model, view, range, repeats, scratch);
        self.probabilities_of_set(model, scratch, out);
    }

    /// The probabilities of the columns in `scratch.set` (emptying it).
    fn probabilities_of_set(
        &self,
        model: &Model,
        scratch: &mut TechniqueScratch,
        out: &mut Vec<f32>,
    ) {
        // Room for every column, so that the set is read out without a capacity check.
        let bound = model.technique.index.column_bound();
        if scratch.cols.len() < bound {
            scratch.cols.resize(bound, 0);
        }
        let n = scratch.set.drain_to_slice(&mut scratch.cols);
        let cols = scratch.cols.get(..n).unwrap_or_default();
        // The value of `binary_unit_row`.
        let v = 1.0 / (cols.len().max(1) as f32).sqrt();
        model.technique.head.probabilities_of_columns(cols, v, out);
    }

    /// Puts the columns of [`CompiledHeads::technique_columns`] into `scratch.set` (left empty
    /// when the range is outside `tokens`): the technique words of the span and two tokens
    /// either side, then [`CompiledHeads::technique_set`].
    fn technique_set_of_tokens(
        &self,
        model: &Model,
        tokens: &[Token],
        range: std::ops::Range<usize>,
        repeats: usize,
        scratch: &mut TechniqueScratch,
    ) {
        if range.start > range.end || range.end > tokens.len() {
            return;
        }
        let lo = range.start.saturating_sub(2);
        let hi = (range.end + 2).min(tokens.len());
        let window = &tokens[lo..hi];
        let mut words = std::mem::take(&mut scratch.words);
        words.clear();
        words.extend(window.iter().map(|t| self.technique_word(model, t.piece())));
        let view = TokenWords {
            tokens: window,
            words: &words,
        };
        self.technique_set(
            model,
            &view,
            range.start - lo..range.end - lo,
            repeats,
            scratch,
        );
        scratch.words = words;
    }

    /// Puts the columns of the span at `range` of `view` (inside it) into `scratch.set`.
    fn technique_set(
        &self,
        model: &Model,
        view: &impl TechniqueTokens,
        range: std::ops::Range<usize>,
        repeats: usize,
        scratch: &mut TechniqueScratch,
    ) {
        use crate::features::pieces as p;
        let t = &self.technique;
        let index = &model.technique.index;
        let words = self.technique_words(model);
        let set = &mut scratch.set;
        set.reserve(index.column_bound());
        set.insert(t.bias);
        let names = model.lexicon.names().len();
        for i in range.clone() {
            let w = view.word(i);
            set.insert(w.cols[TW_W]);
            if i + 1 < range.end {
                let next = view.word(i + 1);
                if w.spaced {
                    let name =
                        Name::two(p::B, Piece::new(view.norm(i)), Piece::new(view.norm(i + 1)));
                    set.insert(index.find(&name).unwrap_or(NONE));
                } else if w.bigram & B_FIRST != 0 && next.bigram & B_SECOND != 0 {
                    if let Some(&c) = words.bigrams.get(&pair(w.id, next.id)) {
                        set.insert(c);
                    }
                }
            }
            let mut bits = w.lex;
            while bits != 0 {
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if b < names {
                    set.insert(t.lx[b]);
                }
            }
            if view.caps(i) {
                set.insert(t.caps);
            }
        }
        if range.start < range.end {
            set.insert(view.word(range.start).cols[TW_FIRST]);
            set.insert(view.word(range.end - 1).cols[TW_LAST]);
        }
        self.gram_columns(index, view, range.clone(), scratch);
        let set = &mut scratch.set;
        set.insert(
            t.len[match range.len() {
                0..=1 => 0,
                2 => 1,
                3 => 2,
                4..=6 => 3,
                7..=12 => 4,
                _ => 5,
            }],
        );
        for (k, slot) in [(2, TW_L2), (1, TW_L1)] {
            set.insert(match range.start.checked_sub(k) {
                Some(j) => view.word(j).cols[slot],
                None => words.bos[slot],
            });
        }
        for (k, slot) in [(0, TW_R1), (1, TW_R2)] {
            let j = range.end + k;
            set.insert(if j < view.len() {
                view.word(j).cols[slot]
            } else {
                words.eos[slot]
            });
        }
        set.insert(t.rep[repeats.clamp(1, 3) - 1]);
    }

    /// The `c:` columns of the span's character 3-, 4- and 5-grams (the span's normalised
    /// tokens joined by single spaces, as `features::span_char_ngrams`), into the scratch set.
    fn gram_columns(
        &self,
        index: &FeatureIndex,
        view: &impl TechniqueTokens,
        range: std::ops::Range<usize>,
        scratch: &mut TechniqueScratch,
    ) {
        use crate::features::pieces as p;
        let TechniqueScratch {
            set,
            joined,
            bounds,
            ..
        } = scratch;
        let grams = self.technique.grams.get_or_init(|| GramTable::of(index));
        joined.clear();
        for i in range.clone() {
            if i > range.start {
                joined.push(' ');
            }
            joined.push_str(view.norm(i));
        }
        let len = joined.len();
        let ascii = joined.is_ascii();
        // Padding, so that every n-gram start has eight bytes to read.
        joined.push_str("\0\0\0\0\0\0\0\0");
        let bytes = joined.as_bytes();
        let window = |at: usize| -> u64 {
            bytes
                .get(at..at + 8)
                .and_then(|b| b.try_into().ok())
                .map_or(0, u64::from_le_bytes)
        };
        if ascii && grams.complete && grams.prefixes {
            let probe = grams.probe();
            let mut set = set.as_mut();
            // One byte per character: every start below `full` has all three n-grams.
            let full = len.saturating_sub(4);
            for win in bytes.windows(8).take(full) {
                let w = <[u8; 8]>::try_from(win).map_or(0, u64::from_le_bytes);
                let [c3, c4, c5] = probe.get_with_prefixes(w);
                set.insert(c3);
                set.insert(c4);
                set.insert(c5);
            }
            for i in full..len {
                let w = window(i);
                for n in 3..=5 {
                    if i + n > len {
                        break;
                    }
                    set.insert(probe.get(gram_key(w, n)));
                }
            }
            return;
        }
        bounds.clear();
        bounds.extend(joined[..len].char_indices().map(|(i, _)| i));
        bounds.push(len);
        let n_chars = bounds.len() - 1;
        for i in 0..n_chars {
            let start = bounds[i];
            let w = window(start);
            for n in 3..=5 {
                let Some(&end) = bounds.get(i + n) else {
                    break;
                };
                let c = if grams.complete && end - start <= GRAM_BYTES {
                    grams.get(gram_key(w, end - start))
                } else {
                    match joined.get(start..end) {
                        Some(g) => index
                            .find(&Name::one(p::CHAR, Piece::new(g)))
                            .unwrap_or(NONE),
                        None => NONE,
                    }
                };
                set.insert(c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{binary_unit_row, technique_features, Lookup};

    fn key_of(gram: &[u8]) -> u64 {
        let mut window = [0u8; 8];
        window[..gram.len()].copy_from_slice(gram);
        gram_key(u64::from_le_bytes(window), gram.len())
    }

    /// `span_features` yields `token_features`' sequence at every position of sentences of 1 to
    /// 7 tokens (the ±2 window cut by either end, or inside), with lexicon words at the ends.
    #[test]
    fn span_features_equal_the_generic_ones_at_the_sentence_ends() {
        use crate::features::{token_features, SentenceContext};
        let model = Model::embedded().unwrap();
        let heads = CompiledHeads::new(&model);
        let words = [
            "Shocking",
            "absolutely",
            "\"",
            "the",
            "corrupt",
            "regime",
            "\"",
            "said",
            "!",
        ];
        let mut infos = Vec::new();
        for len in 1..=7 {
            for start in 0..=words.len() - len {
                let text = words[start..start + len].join(" ");
                let tokens = crate::tokens::tokenize(&text, 0..text.len()).unwrap();
                heads.infos(&tokens, &mut infos);
                for prob in [0.0, 0.55, 1.0] {
                    let ctx = SentenceContext::new(&tokens, &model.lexicon, prob);
                    let mut look = Lookup::new(&model.span.index);
                    for i in 0..tokens.len() {
                        look.clear();
                        token_features(&tokens, i, &model.lexicon, &ctx, &mut look);
                        let want: Vec<_> = look.found.iter().map(|x| (x.0, x.1)).collect();
                        let mut got = Vec::new();
                        heads.span_features(&model, &tokens, &infos, i, &ctx, |c, a| {
                            got.push((c, a))
                        });
                        assert_eq!(got, want, "token {i} of {text:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn gram_keys_are_distinct_for_distinct_strings() {
        // Every string of 1 to 4 bytes over an alphabet with NUL and a non-ASCII byte.
        let alphabet = [b'a', b'b', b' ', 0u8, 0xC3];
        let mut seen = std::collections::HashMap::new();
        let mut strings = vec![Vec::new()];
        for _ in 0..4 {
            strings = strings
                .iter()
                .flat_map(|s| {
                    alphabet.iter().map(move |&b| {
                        let mut t: Vec<u8> = s.clone();
                        t.push(b);
                        t
                    })
                })
                .collect();
            for s in &strings {
                if let Some(other) = seen.insert(key_of(s), s.clone()) {
                    assert_eq!(&other, s);
                }
            }
        }
        assert_eq!(seen.len(), 5 + 25 + 125 + 625);
    }

    #[test]
    fn gram_table_finds_exactly_the_stored_names() {
        let model = Model::embedded().unwrap();
        let index = &model.technique.index;
        let table = GramTable::of(index);
        assert!(table.complete);
        let mut n = 0;
        for (c, name) in index.columns() {
            let Some(gram) = name.strip_prefix("c:") else {
                continue;
            };
            if gram.len() <= GRAM_BYTES {
                assert_eq!(table.get(key_of(gram.as_bytes())), c, "{name:?}");
                n += 1;
            }
        }
        assert!(n > 1000, "{n} packed n-grams");
        // Every slot knows the columns of its first 3 and 4 bytes.
        assert!(table.prefixes);
        for slot in table.slots.iter().filter(|s| s.key != 0) {
            let len = (slot.key >> 56) as usize;
            for (n, got) in [(3, slot.prefix3), (4, slot.prefix4)] {
                let want = if len > n {
                    table.get(gram_key(slot.key, n))
                } else {
                    NONE
                };
                assert_eq!(wide(got), want, "{:x} prefix {n}", slot.key);
            }
        }
        // One probe for three n-grams: the same columns as three probes, on every 5-byte
        // window of some text (stored and unstored 3-, 4- and 5-grams).
        let text = b"the shameful propaganda of a corrupt regime, said zzqx: xxxxx qqqqq tion ing ";
        let probe = table.probe();
        for w in text.windows(8) {
            let w = u64::from_le_bytes(w.try_into().unwrap());
            let want = [3, 4, 5].map(|n| table.get(gram_key(w, n)));
            assert_eq!(probe.get_with_prefixes(w), want, "{w:x}");
        }
        // Names that are not stored (or not as `c:`) are not found.
        for gram in ["zzqx", "bias", "w:the", "", "\0\0\0"] {
            let want = index.get(&format!("c:{gram}")).unwrap_or(NONE);
            if gram.len() <= GRAM_BYTES && !gram.is_empty() {
                assert_eq!(table.get(key_of(gram.as_bytes())), want, "{gram:?}");
            }
        }
    }

    #[test]
    fn a_small_table_keeps_the_last_column_and_misses_the_rest() {
        let index = FeatureIndex::from_names(
            ["c:abc", "w:abc", "c:abcd", "c:é", "c:abcdefgh", "c:abc"]
                .map(String::from)
                .to_vec(),
        );
        let table = GramTable::of(&index);
        assert!(table.complete);
        assert_eq!(table.get(key_of(b"abc")), 5);
        assert_eq!(table.get(key_of(b"abcd")), 2);
        assert_eq!(table.get(key_of("é".as_bytes())), 3);
        assert_eq!(table.get(key_of(b"abcde")), NONE);
        assert_eq!(table.get(key_of(b"ab")), NONE);
        // A full table says so (and is then not used).
        let mut tiny = GramTable::with_capacity(0);
        let all = (0..40u32).all(|i| tiny.insert(format!("{i:03}").as_bytes(), i));
        assert!(!all);
        // So does a column beyond 16 bits.
        let mut wide_cols = GramTable::with_capacity(4);
        assert!(wide_cols.insert(b"abc", 65_534));
        assert!(!wide_cols.insert(b"abd", 65_535));
        assert!(!wide_cols.insert(b"abe", 70_000));
        assert_eq!(wide_cols.get(key_of(b"abc")), 65_534);
    }

    /// The next number of a linear congruential sequence (its high bits).
    fn next_random(state: &mut u64) -> u64 {
        *state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        *state >> 33
    }

    #[test]
    fn column_set_reads_out_sorted_distinct_columns() {
        let mut set = ColumnSet::default();
        set.reserve(70_000);
        let mut out = Vec::new();
        let mut state = 7u64;
        for round in 0..20 {
            let mut want = Vec::new();
            for _ in 0..(round * 37) {
                let c = (next_random(&mut state) % 70_000) as u32;
                set.insert(c);
                want.push(c);
            }
            set.insert(NONE);
            set.insert(70_000 + 64 * 64);
            want.sort_unstable();
            want.dedup();
            out.clear();
            set.drain_into(&mut out);
            assert_eq!(out, want);
            assert!(set.words.iter().chain(&set.summary).all(|&w| w == 0));
            // Into a slice: the same columns; those beyond its end are dropped.
            for &c in &want {
                set.insert(c);
            }
            let mut slice = vec![0; 70_000];
            let n = set.drain_to_slice(&mut slice);
            assert_eq!(slice[..n], want[..]);
            for &c in &want {
                set.insert(c);
            }
            let short = want.len() / 2;
            let n = set.drain_to_slice(&mut slice[..short]);
            assert_eq!(slice[..n], want[..short]);
            assert!(set.words.iter().chain(&set.summary).all(|&w| w == 0));
        }
    }

    /// Every stored one-word technique name is found through its word, every stored bigram
    /// through its words' ids; other words have no column.
    #[test]
    fn technique_words_find_exactly_the_stored_names() {
        let model = Model::embedded().unwrap();
        let heads = CompiledHeads::new(&model);
        let index = &model.technique.index;
        let word = |w: &str| heads.technique_word(&model, Piece::new(w));
        let slots = [
            ("w:", TW_W),
            ("first:", TW_FIRST),
            ("last:", TW_LAST),
            ("l2:", TW_L2),
            ("l1:", TW_L1),
            ("r1:", TW_R1),
            ("r2:", TW_R2),
        ];
        let words = heads.technique_words(&model);
        let (mut ones, mut pairs) = (0, 0);
        for (c, name) in index.columns() {
            for (prefix, slot) in slots {
                if let Some(w) = name.strip_prefix(prefix) {
                    assert_eq!(word(w).cols[slot], c, "{name:?}");
                    ones += 1;
                }
            }
            if let Some((a, b)) = name.strip_prefix("b:").and_then(|r| r.split_once(' ')) {
                let (a, b) = (word(a), word(b));
                assert!(
                    a.bigram & B_FIRST != 0 && b.bigram & B_SECOND != 0,
                    "{name:?}"
                );
                assert_eq!(words.bigrams.get(&pair(a.id, b.id)), Some(&c), "{name:?}");
                pairs += 1;
            }
        }
        assert!(ones > 1000 && pairs > 1000, "{ones} {pairs}");
        assert_eq!(
            words.bos[TW_L1],
            col(
                index,
                Name::one(crate::features::pieces::L1, Piece::new("<s>"))
            )
        );
        assert_eq!(
            words.eos[TW_R2],
            col(
                index,
                Name::one(crate::features::pieces::R2, Piece::new("</s>"))
            )
        );
        for w in ["zzqxv", "", "the the", "w:the"] {
            let tw = word(w);
            assert_eq!(tw.cols, [NONE; 7], "{w:?}");
            assert_eq!(tw.spaced, w.contains(' '));
        }
        // Lexicon bits come from the word table.
        for w in model.lexicon.words().into_iter().take(50) {
            assert_eq!(word(w).lex, heads.info(Piece::new(w)).lex, "{w:?}");
        }
    }

    /// The generic columns: `binary_unit_row` of `technique_features` into a `Lookup`.
    fn generic(model: &Model, tokens: &[Token], r: std::ops::Range<usize>, n: usize) -> Vec<u32> {
        let mut look = Lookup::new(&model.technique.index);
        technique_features(tokens, r, &model.lexicon, n, &mut look);
        binary_unit_row(look.found.iter().map(|x| x.0))
            .into_iter()
            .map(|x| x.0)
            .collect()
    }

    #[test]
    fn technique_columns_equal_the_generic_ones_also_without_the_packed_table() {
        let model = Model::embedded().unwrap();
        let text = "The “shameful” Ärger — a TOTAL betrayal, said Mr. Ñandú: 2024's \
                    demonizing cowards!! Ça va? 👨‍👩‍👧 e\u{301}té the the the.";
        let tokens = crate::tokens::tokenize(text, 0..text.len()).unwrap();
        let mut heads = CompiledHeads::new(&model);
        let mut scratch = TechniqueScratch::default();
        let mut got = Vec::new();
        for complete in [true, false] {
            if !complete {
                let mut table = GramTable::of(&model.technique.index);
                table.complete = false;
                heads.technique.grams = std::sync::OnceLock::from(table);
            }
            for start in 0..=tokens.len() {
                for end in start..=tokens.len().min(start + 12) {
                    for n in [0, 1, 2, 7] {
                        heads.technique_columns(
                            &model,
                            &tokens,
                            start..end,
                            n,
                            &mut scratch,
                            &mut got,
                        );
                        let want = generic(&model, &tokens, start..end, n);
                        assert_eq!(got, want, "{start}..{end}, {n}, packed {complete}");
                    }
                }
            }
        }
        // A range outside the tokens has no columns.
        let len = tokens.len();
        heads.technique_columns(&model, &tokens, len..len + 1, 1, &mut scratch, &mut got);
        assert!(got.is_empty());
    }
}
