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
use crate::hashing::{hash_bytes, PassThroughBuild, Piece};
use crate::model::Model;
use crate::tokens::Token;
use std::collections::HashMap;

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
    /// Word hash → index into `infos`.
    table: HashMap<u64, u32, PassThroughBuild>,
    infos: Vec<WordInfo>,
    /// The words of `infos`, concatenated; `word_ends[k]` ends word `k`.
    word_bytes: Vec<u8>,
    word_ends: Vec<u32>,
    /// Words sharing a hash with another word (checked in order after the table's entry).
    collided: Vec<u32>,
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
        out.table
            .reserve(span.len() + sent.len() / 2 + lexicon.len());
        const SPAN_ONE: [&str; 5] = ["w0:", "w-1:", "w+1:", "w-2:", "w+2:"];
        for (c, name) in span.columns() {
            if let Some(k) = SPAN_ONE.iter().position(|p| name.starts_with(p)) {
                out.entry(&name[SPAN_ONE[k].len()..]).span[k] = c;
            } else if let Some(rest) = name.strip_prefix("b-1:") {
                if let Some((a, b)) = rest.split_once(' ') {
                    let ka = out.entry(a);
                    ka.bigram |= BM1_FIRST;
                    let ka = ka.id;
                    let kb = out.entry(b);
                    kb.bigram |= BM1_SECOND;
                    let kb = kb.id;
                    out.bm1.insert(pair(ka, kb), c);
                }
            } else if let Some(rest) = name.strip_prefix("b+1:") {
                if let Some((a, b)) = rest.split_once(' ') {
                    let ka = out.entry(a);
                    ka.bigram |= BP1_FIRST;
                    let ka = ka.id;
                    let kb = out.entry(b);
                    kb.bigram |= BP1_SECOND;
                    let kb = kb.id;
                    out.bp1.insert(pair(ka, kb), c);
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
            let w = std::str::from_utf8(out.word(k)).unwrap_or_default();
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
    fn entry(&mut self, w: &str) -> &mut WordInfo {
        let (h, _) = hash_bytes(w.as_bytes());
        let found = match self.table.get(&h) {
            Some(&k) if self.word(k) == w.as_bytes() => Some(k),
            Some(_) => self
                .collided
                .iter()
                .copied()
                .find(|&j| self.word(j) == w.as_bytes()),
            None => None,
        };
        let k = match found {
            Some(k) => k,
            None => {
                let k = self.infos.len() as u32;
                self.infos.push(WordInfo {
                    known: true,
                    id: k,
                    ..UNKNOWN
                });
                self.word_bytes.extend_from_slice(w.as_bytes());
                self.word_ends.push(self.word_bytes.len() as u32);
                match self.table.entry(h) {
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(k);
                    }
                    // The first word keeps the table slot; later ones are searched in `collided`.
                    std::collections::hash_map::Entry::Occupied(_) => self.collided.push(k),
                }
                k
            }
        };
        &mut self.infos[k as usize]
    }

    fn word(&self, k: u32) -> &[u8] {
        let k = k as usize;
        let start = if k == 0 {
            0
        } else {
            self.word_ends[k - 1] as usize
        };
        &self.word_bytes[start..self.word_ends[k] as usize]
    }

    /// The info of a word given as a piece (with its hash).
    #[inline]
    pub fn info(&self, w: Piece<'_>) -> WordInfo {
        let Some(&k) = self.table.get(&w.hash) else {
            return UNKNOWN;
        };
        if self.word(k) == w.text.as_bytes() {
            return self.infos[k as usize];
        }
        self.collided
            .iter()
            .find(|&&j| self.word(j) == w.text.as_bytes())
            .map_or(UNKNOWN, |&j| self.infos[j as usize])
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
        for (i, t) in tokens.iter().enumerate() {
            let info = &infos[i];
            push(cols, info.sent);
            if let Some(next) = infos.get(i + 1) {
                if info.bigram & B_FIRST != 0 && next.bigram & B_SECOND != 0 {
                    if let Some(&c) = self.sent_b.get(&pair(info.id, next.id)) {
                        cols.push(c);
                    }
                }
            }
            let mut bits = info.lex;
            while bits != 0 {
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if b < model.lexicon.names().len() {
                    push(cols, self.sent_lx[b]);
                }
            }
            if t.shape == "X" {
                push(cols, self.sent_caps);
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
        let (i0, im1, ip1) = (info(0), info(-1), info(1));
        emit(self.bias, None);
        emit(i0.span[0], Some(0));
        emit(im1.span[1], Some(-1));
        emit(ip1.span[2], Some(1));
        emit(info(-2).span[3], Some(-2));
        emit(info(2).span[4], Some(2));
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
        for k in -2isize..=2 {
            let j = i as isize + k;
            if j < 0 || j as usize >= n {
                continue;
            }
            let mut bits = ctx.lex.get(j as usize).copied().unwrap_or(0);
            while bits != 0 {
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if b < names {
                    emit(self.lx[(k + 2) as usize][b], Some(k as i8));
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

/// Key of a pair of word ids.
#[inline(always)]
fn pair(a: u32, b: u32) -> u64 {
    ((a as u64) << 32) | b as u64
}

#[inline(always)]
fn push(cols: &mut Vec<u32>, c: u32) {
    if c != NONE {
        cols.push(c);
    }
}
