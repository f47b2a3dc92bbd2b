//! Stage 3, features: what each head sees.
//!
//! * Sentence head: TF-IDF over word unigrams and bigrams plus cue-lexicon tags (sublinear tf,
//!   smoothed idf, L2-normalised), see [`sentence_terms`] and [`Vectorizer`].
//! * Span head: binary features of a token and its ±2 window (words, bigrams, suffix, shape,
//!   lexicon tags, quotation context, lexicon density, the sentence head's score), see
//!   [`token_features`]. Every feature carries an *anchor*: the token (relative to the current
//!   one) whose word it describes, so a span's score can be decomposed into per-word evidence.
//! * Technique head: words, bigrams, edges, length, left/right context and repetition of a span
//!   within its document, see [`technique_features`].
//!
//! Features are generated as names into a [`Sink`]. A name is a [`Name`]: a constant prefix and
//! up to two pieces (a word, a lexicon tag, a bucket), each carrying its polynomial hash (see
//! [`crate::hashing`]). At training time the sink writes the name out as a string, interns it and
//! counts document frequencies ([`Interner`]); at analysis time it looks the name up in the fitted
//! [`FeatureIndex`] by its hash, composed from the pieces' hashes without building the string,
//! confirms it against the stored name, and never allocates a dense row.

use crate::hashing::{concat, push_space, Piece};
use crate::lexicon::Lexicon;
use crate::tokens::{Shape, Token};
use serde::{Deserialize, Serialize};
// FxHash: feature lookups are the hot path, and the keys are not attacker-chosen collisions
// that matter (a slow lookup is the worst case).
use rustc_hash::FxHashMap as HashMap;

/// A feature name: `prefix`, then `a`, then a space and `b` (each part optional but `b` needs
/// `a`). Features are compared as the concatenated string, whatever way it was split.
#[derive(Debug, Clone, Copy)]
pub struct Name<'a> {
    prefix: Piece<'static>,
    a: Option<Piece<'a>>,
    b: Option<Piece<'a>>,
}

impl<'a> Name<'a> {
    /// A constant name.
    #[inline(always)]
    pub const fn lit(prefix: Piece<'static>) -> Self {
        Name {
            prefix,
            a: None,
            b: None,
        }
    }

    /// `prefix` + `a`.
    #[inline(always)]
    pub const fn one(prefix: Piece<'static>, a: Piece<'a>) -> Self {
        Name {
            prefix,
            a: Some(a),
            b: None,
        }
    }

    /// `prefix` + `a` + ' ' + `b`.
    #[inline(always)]
    pub const fn two(prefix: Piece<'static>, a: Piece<'a>, b: Piece<'a>) -> Self {
        Name {
            prefix,
            a: Some(a),
            b: Some(b),
        }
    }

    /// Polynomial hash of the whole name.
    #[inline(always)]
    pub fn hash(&self) -> u64 {
        let mut h = self.prefix.hash;
        if let Some(a) = self.a {
            h = concat(h, a.hash, a.pow);
        }
        if let Some(b) = self.b {
            h = concat(push_space(h), b.hash, b.pow);
        }
        h
    }

    /// Length of the whole name in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.prefix.text.len()
            + self.a.map_or(0, |a| a.text.len())
            + self.b.map_or(0, |b| 1 + b.text.len())
    }

    /// True for the empty name.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when the name is exactly `stored`.
    #[inline]
    pub fn matches(&self, stored: &[u8]) -> bool {
        if stored.len() != self.len() {
            return false;
        }
        let (p, rest) = stored.split_at(self.prefix.text.len());
        if p != self.prefix.text.as_bytes() {
            return false;
        }
        let rest = match self.a {
            Some(a) => {
                let (x, rest) = rest.split_at(a.text.len());
                if x != a.text.as_bytes() {
                    return false;
                }
                rest
            }
            None => rest,
        };
        match self.b {
            Some(b) => rest[0] == b' ' && &rest[1..] == b.text.as_bytes(),
            None => rest.is_empty(),
        }
    }

    /// Writes the name into `buf` (cleared first).
    pub fn write_to(&self, buf: &mut String) {
        buf.clear();
        buf.push_str(self.prefix.text);
        if let Some(a) = self.a {
            buf.push_str(a.text);
        }
        if let Some(b) = self.b {
            buf.push(' ');
            buf.push_str(b.text);
        }
    }
}

impl std::fmt::Display for Name<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        self.write_to(&mut s);
        f.write_str(&s)
    }
}

/// Receives generated features.
pub trait Sink {
    /// One feature occurrence: its name, the token it describes relative to the current token
    /// (`None` for context features that describe no single word), and its value.
    fn emit(&mut self, name: Name<'_>, anchor: Option<i8>, value: f32);
}

/// A sparse row: (column, value) pairs.
pub type SparseRow = Vec<(u32, f32)>;

/// Maps feature names to columns (the fitted vocabulary of one head). Serialised as the list of
/// names in column order, so the same fit always gives the same bytes.
///
/// In memory the names sit in one buffer, and an open-addressing table ([`Table`]) holds each
/// column under the polynomial hash of its name ([`crate::hashing`]). A lookup by [`Name`]
/// composes the hash from the pieces, walks the table from that hash's slot and compares the
/// stored name of each candidate with the pieces byte by byte, so it is exactly a lookup by
/// string: a name that is not stored is never found, whatever the hash, and stored names that
/// share a hash (never seen so far, but possible) simply sit in successive slots.
///
/// Two indexes are equal when they hold the same names in the same columns: the table follows
/// from the names and is not compared.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(into = "Vec<String>")]
pub struct FeatureIndex {
    /// All names, concatenated in column order.
    bytes: Vec<u8>,
    /// `bytes[ends[c - 1]..ends[c]]` is the name of column `c`.
    ends: Vec<u32>,
    /// Name hash → column.
    table: Table,
    /// Columns whose name occurs again later (the later column wins, as in a map); normally empty.
    shadowed: Vec<u32>,
}

impl PartialEq for FeatureIndex {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes && self.ends == other.ends && self.shadowed == other.shadowed
    }
}

/// Open addressing with linear probing, at most half full. A slot holds a column in its low
/// bits (as many as the table's room needs) and, above them, a tag: the same high bits of the
/// mixed hash of the column's name. The slot number comes from the low bits of the mixed hash,
/// so most slots of other names are passed over without reading a stored name.
///
/// An empty slot is all ones (no column reaches the all-ones low bits): the table is filled
/// with them when it is made, so each of its pages is first written, not first read (a first
/// read of a fresh page costs a second page fault on the first write).
#[derive(Debug, Clone, Default)]
struct Table {
    /// A power of two of slots (none for an empty table).
    slots: Vec<u32>,
    /// `slots.len() - 1`.
    mask: usize,
    /// Filled slots.
    filled: usize,
    /// The bits of a slot that hold the column; the others hold the tag.
    cols: u32,
}

/// An empty [`Table`] slot.
const EMPTY: u32 = u32::MAX;

impl Table {
    /// A table with room for columns `0..n` without growing.
    fn with_room(n: usize) -> Self {
        let len = n.saturating_mul(2).max(8).next_power_of_two();
        // Columns below `len / 2` fit in `cols`, with the all-ones value left over.
        let cols = u32::try_from(len / 2)
            .ok()
            .and_then(|room| u32::MAX.checked_shr(room.leading_zeros()))
            .unwrap_or(u32::MAX);
        Table {
            slots: vec![EMPTY; len],
            mask: len - 1,
            filled: 0,
            cols,
        }
    }

    /// The high half and the first slot of a name's mixed hash.
    #[inline(always)]
    fn start(hash: u64) -> (u32, usize) {
        let m = crate::hashing::mix(hash);
        ((m >> 32) as u32, m as usize)
    }

    /// True when `slot` (not empty) may hold a name whose hash has high half `high`.
    #[inline(always)]
    fn tag_matches(&self, slot: u32, high: u32) -> bool {
        (slot ^ high) & !self.cols == 0
    }

    /// Enters `col` (below `cols`) for a name whose hash has high half `high` at the first free
    /// slot from `i`; the caller has checked that the name is not in the table.
    fn put(&mut self, high: u32, mut i: usize, col: u32) {
        loop {
            i &= self.mask;
            if self.slots[i] == EMPTY {
                self.slots[i] = (high & !self.cols) | col;
                self.filled += 1;
                return;
            }
            i += 1;
        }
    }
}

impl From<Vec<String>> for FeatureIndex {
    fn from(names: Vec<String>) -> Self {
        FeatureIndex::from_names(names)
    }
}

/// Deserialises the list of names straight into the index (no `String` per name): the same
/// index as `FeatureIndex::from_names` of the list.
impl<'de> Deserialize<'de> for FeatureIndex {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Names;
        struct One<'a>(&'a mut FeatureIndex);
        impl<'de> serde::de::DeserializeSeed<'de> for One<'_> {
            type Value = ();
            fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_str(self)
            }
        }
        impl<'de> serde::de::Visitor<'de> for One<'_> {
            type Value = ();
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a feature name")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
                self.0.push(v);
                Ok(())
            }
        }
        impl<'de> serde::de::Visitor<'de> for Names {
            type Value = FeatureIndex;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of feature names")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<FeatureIndex, A::Error> {
                let n = seq.size_hint().unwrap_or(0).min(1 << 20);
                let mut index = FeatureIndex::with_capacity(n, n * 12);
                while seq.next_element_seed(One(&mut index))?.is_some() {}
                index.shadowed.sort_unstable();
                Ok(index)
            }
        }
        d.deserialize_seq(Names)
    }
}

impl From<FeatureIndex> for Vec<String> {
    fn from(index: FeatureIndex) -> Self {
        index.names().into_iter().map(str::to_string).collect()
    }
}

impl FeatureIndex {
    /// Builds an index from names in column order. A name given twice keeps its last column.
    pub fn from_names(names: Vec<String>) -> Self {
        let total: usize = names.iter().map(|n| n.len()).sum();
        let mut index = FeatureIndex::with_capacity(names.len(), total);
        for name in &names {
            index.push(name);
        }
        index.finish()
    }

    /// An empty index with room for `names` names of `bytes` bytes in all, to be filled with
    /// [`FeatureIndex::push_bytes`] and closed with [`FeatureIndex::finish`] (the model decoder).
    pub(crate) fn with_capacity(names: usize, bytes: usize) -> Self {
        FeatureIndex {
            bytes: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(names),
            table: Table::with_room(names),
            shadowed: Vec::new(),
        }
    }

    /// Appends the next column if `name` is UTF-8 (else returns false and appends nothing):
    /// [`FeatureIndex::push`] of the string, with the UTF-8 check and the hash in one pass.
    #[inline(always)]
    pub(crate) fn push_bytes(&mut self, name: &[u8]) -> bool {
        let (hash, ascii) = crate::hashing::hash_and_ascii(name);
        if !ascii && std::str::from_utf8(name).is_err() {
            return false;
        }
        self.push_hashed(name, hash);
        true
    }

    /// Closes an index filled by [`FeatureIndex::push_bytes`].
    pub(crate) fn finish(mut self) -> Self {
        self.shadowed.sort_unstable();
        self
    }

    /// Appends the next column.
    fn push(&mut self, name: &str) {
        let (hash, _) = crate::hashing::hash_and_ascii(name.as_bytes());
        self.push_hashed(name.as_bytes(), hash);
    }

    /// Appends the next column, whose name hashes to `hash` (`hash_bytes(name).0`).
    #[inline(always)]
    fn push_hashed(&mut self, name: &[u8], hash: u64) {
        let col = self.ends.len() as u32;
        self.bytes.extend_from_slice(name);
        self.ends.push(self.bytes.len() as u32);
        self.insert(hash, col);
    }

    /// Enters column `col` (just pushed) under `hash`; an earlier column of the same name is
    /// shadowed.
    #[inline(always)]
    fn insert(&mut self, hash: u64, col: u32) {
        if (self.table.filled + 1) * 2 > self.table.slots.len() || col >= self.table.cols {
            self.grow();
        }
        let (high, mut i) = Table::start(hash);
        loop {
            i &= self.table.mask;
            let slot = self.table.slots[i];
            if slot == EMPTY {
                self.table.slots[i] = (high & !self.table.cols) | col;
                self.table.filled += 1;
                return;
            }
            if self.table.tag_matches(slot, high) {
                let old = slot & self.table.cols;
                if self.name(old) == self.name(col) {
                    self.shadowed.push(old);
                    self.table.slots[i] = (high & !self.table.cols) | col;
                    return;
                }
            }
            i += 1;
        }
    }

    /// Makes a table with room for twice as many columns (only when more names come than the
    /// capacity given) and enters every column of the old one again.
    #[cold]
    fn grow(&mut self) {
        let room = self.ends.len().max(self.table.slots.len());
        let old = std::mem::replace(&mut self.table, Table::with_room(room));
        for slot in old.slots {
            if slot != EMPTY {
                let col = slot & old.cols;
                let (high, i) = Table::start(crate::hashing::hash_bytes(self.name(col)).0);
                self.table.put(high, i, col);
            }
        }
    }

    /// The stored name of column `col` as bytes.
    #[inline]
    fn name(&self, col: u32) -> &[u8] {
        let c = col as usize;
        let start = if c == 0 { 0 } else { self.ends[c - 1] as usize };
        &self.bytes[start..self.ends[c] as usize]
    }

    /// Column of a feature name.
    pub fn get(&self, name: &str) -> Option<u32> {
        let piece = Piece::new(name);
        self.find(&Name::one(Piece::new(""), piece))
    }

    /// Column of a feature name given by its pieces.
    #[inline]
    pub fn find(&self, name: &Name<'_>) -> Option<u32> {
        let (high, mut i) = Table::start(name.hash());
        loop {
            i &= self.table.mask;
            let slot = *self.table.slots.get(i)?;
            if slot == EMPTY {
                return None;
            }
            if self.table.tag_matches(slot, high) {
                let col = slot & self.table.cols;
                if name.matches(self.name(col)) {
                    return Some(col);
                }
            }
            i += 1;
        }
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.ends.len() - self.shadowed.len()
    }

    /// True when the index has no column.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// (column, name) of every column, in column order.
    pub fn columns(&self) -> impl Iterator<Item = (u32, &str)> + '_ {
        (0..self.ends.len() as u32)
            .filter(|c| self.shadowed.is_empty() || self.shadowed.binary_search(c).is_err())
            .map(|c| (c, std::str::from_utf8(self.name(c)).unwrap_or_default()))
    }

    /// Names in column order.
    pub fn names(&self) -> Vec<&str> {
        (0..self.ends.len() as u32)
            .filter(|c| self.shadowed.binary_search(c).is_err())
            .map(|c| std::str::from_utf8(self.name(c)).unwrap_or_default())
            .collect()
    }
}

/// The sink of a lookup by name: `out(column, anchor)` for each name stored in `index`.
pub(crate) struct Found<'a, F> {
    pub index: &'a FeatureIndex,
    pub out: F,
}

impl<F: FnMut(u32, Option<i8>)> Sink for Found<'_, F> {
    #[inline]
    fn emit(&mut self, name: Name<'_>, anchor: Option<i8>, _value: f32) {
        if let Some(c) = self.index.find(&name) {
            (self.out)(c, anchor);
        }
    }
}

/// Training-time sink: interns names, records rows of interned ids and document frequencies.
#[derive(Debug, Default)]
pub struct Interner {
    ids: HashMap<String, u32>,
    names: Vec<String>,
    df: Vec<u32>,
    /// Document frequency among rows labelled positive (see [`Interner::take_labeled_row`]).
    pos_df: Vec<u32>,
    rows: u32,
    pos_rows: u32,
    current: Vec<(u32, f32)>,
    /// The name being emitted, written out.
    buf: String,
}

impl Interner {
    /// A fresh interner.
    pub fn new() -> Self {
        Self::default()
    }

    /// Finishes the current row: returns its features (merged by id, values summed) and counts
    /// each distinct feature once towards its document frequency.
    pub fn take_row(&mut self) -> Vec<(u32, f32)> {
        let mut row = std::mem::take(&mut self.current);
        row.sort_unstable_by_key(|x| x.0);
        let mut merged: Vec<(u32, f32)> = Vec::with_capacity(row.len());
        for (id, v) in row {
            match merged.last_mut() {
                Some(last) if last.0 == id => last.1 += v,
                _ => merged.push((id, v)),
            }
        }
        for (id, _) in &merged {
            self.df[*id as usize] += 1;
        }
        self.rows += 1;
        merged
    }

    /// Like [`Interner::take_row`] for a row with a binary label; enables
    /// [`Interner::select_chi2`].
    pub fn take_labeled_row(&mut self, positive: bool) -> Vec<(u32, f32)> {
        let row = self.take_row();
        if positive {
            self.pos_rows += 1;
            for (id, _) in &row {
                self.pos_df[*id as usize] += 1;
            }
        }
        row
    }

    /// χ² statistic of feature `id` against the binary label (2×2 table of row counts).
    fn chi2(&self, id: usize) -> f64 {
        let n = self.rows as f64;
        let a = self.pos_df[id] as f64; // positive rows with the feature
        let b = self.df[id] as f64 - a; // negative rows with it
        let c = self.pos_rows as f64 - a; // positive rows without
        let d = n - self.pos_rows as f64 - b; // negative rows without
        let den = (a + b) * (c + d) * (a + c) * (b + d);
        if den <= 0.0 {
            0.0
        } else {
            n * (a * d - b * c).powi(2) / den
        }
    }

    /// Keeps the features with document frequency ≥ `min_df` and, of those, the `max_features`
    /// most associated with the label by χ² (ties by name). Rows must have been taken with
    /// [`Interner::take_labeled_row`]. Same return value as [`Interner::select`].
    pub fn select_chi2(
        &self,
        min_df: u32,
        max_features: usize,
    ) -> (FeatureIndex, Vec<Option<u32>>, Vec<u32>) {
        let scores: Vec<f64> = (0..self.names.len()).map(|i| self.chi2(i)).collect();
        self.select_by(min_df, max_features, |i| scores[i])
    }

    /// Keeps the features with document frequency ≥ `min_df`, at most `max_features` of them
    /// (most frequent first, ties by name for determinism). Returns the index and, for each
    /// interned id, its new column (or `None` when dropped), and the kept features' df.
    pub fn select(
        &self,
        min_df: u32,
        max_features: usize,
    ) -> (FeatureIndex, Vec<Option<u32>>, Vec<u32>) {
        self.select_by(min_df, max_features, |i| self.df[i] as f64)
    }

    fn select_by(
        &self,
        min_df: u32,
        max_features: usize,
        score: impl Fn(usize) -> f64,
    ) -> (FeatureIndex, Vec<Option<u32>>, Vec<u32>) {
        let mut keep: Vec<u32> = (0..self.names.len() as u32)
            .filter(|&i| self.df[i as usize] >= min_df)
            .collect();
        keep.sort_by(|&a, &b| {
            score(b as usize)
                .total_cmp(&score(a as usize))
                .then_with(|| self.names[a as usize].cmp(&self.names[b as usize]))
        });
        keep.truncate(max_features);
        keep.sort_by(|&a, &b| self.names[a as usize].cmp(&self.names[b as usize]));
        let mut remap = vec![None; self.names.len()];
        let mut names = Vec::with_capacity(keep.len());
        let mut df = Vec::with_capacity(keep.len());
        for (col, &id) in keep.iter().enumerate() {
            remap[id as usize] = Some(col as u32);
            names.push(self.names[id as usize].clone());
            df.push(self.df[id as usize]);
        }
        (FeatureIndex::from_names(names), remap, df)
    }
}

impl Sink for Interner {
    fn emit(&mut self, name: Name<'_>, _anchor: Option<i8>, value: f32) {
        name.write_to(&mut self.buf);
        let id = match self.ids.get(self.buf.as_str()) {
            Some(&id) => id,
            None => {
                let id = self.names.len() as u32;
                self.ids.insert(self.buf.clone(), id);
                self.names.push(self.buf.clone());
                self.df.push(0);
                self.pos_df.push(0);
                id
            }
        };
        self.current.push((id, value));
    }
}

/// Maps an interned row to selected columns, dropping unselected features.
pub fn remap_row(row: &[(u32, f32)], remap: &[Option<u32>]) -> SparseRow {
    row.iter()
        .filter_map(|&(id, v)| remap.get(id as usize).copied().flatten().map(|c| (c, v)))
        .collect()
}

/// A row of distinct columns, each with value 1/sqrt(n) (binary features, unit length).
/// The technique head's rows are built this way at training and at analysis.
pub fn binary_unit_row(cols: impl Iterator<Item = u32>) -> SparseRow {
    let mut c: Vec<u32> = cols.collect();
    c.sort_unstable();
    c.dedup();
    let mut row = Vec::new();
    unit_row(&c, &mut row);
    row
}

/// The row of [`binary_unit_row`] of columns already distinct and ascending, into `row`.
pub(crate) fn unit_row(distinct: &[u32], row: &mut SparseRow) {
    let v = 1.0 / (distinct.len().max(1) as f32).sqrt();
    row.clear();
    row.extend(distinct.iter().map(|&c| (c, v)));
}

/// Constant pieces of feature names.
pub(crate) mod pieces {
    use crate::hashing::Piece;
    macro_rules! pieces {
        ($($id:ident = $text:expr;)*) => { $(pub const $id: Piece<'static> = Piece::new($text);)* };
    }
    pieces! {
        W = "w:"; B = "b:"; LX = "lx:"; CAPS = "caps"; BIAS = "bias";
        W0 = "w0:"; WM1 = "w-1:"; WP1 = "w+1:"; WM2 = "w-2:"; WP2 = "w+2:";
        BM1 = "b-1:"; BP1 = "b+1:"; SUF = "suf:"; SH0 = "sh0:";
        LXM2 = "lx-2:"; LXM1 = "lx-1:"; LX0 = "lx0:"; LXP1 = "lx+1:"; LXP2 = "lx+2:";
        QUOTED = "quoted"; DENS = "dens:"; SP = "sp:"; SPW = "spw:"; FIRST = "first"; LAST = "last";
        FIRST_W = "first:"; LAST_W = "last:"; LEN = "len:"; L2 = "l2:"; L1 = "l1:"; R1 = "r1:";
        R2 = "r2:"; REP = "rep:"; BOS = "<s>"; EOS = "</s>"; CHAR = "c:";
    }
    pub const DIGITS: [Piece<'static>; 10] = [
        Piece::new("0"),
        Piece::new("1"),
        Piece::new("2"),
        Piece::new("3"),
        Piece::new("4"),
        Piece::new("5"),
        Piece::new("6"),
        Piece::new("7"),
        Piece::new("8"),
        Piece::new("9"),
    ];
}

use pieces as p;

/// Lexicon list bits of each token (see [`Lexicon::bits_of`]), written into `out`.
pub fn lexicon_bits(tokens: &[Token], lexicon: &Lexicon, out: &mut Vec<u32>) {
    out.clear();
    out.extend(tokens.iter().map(|t| lexicon.bits_of(t)));
}

// The feature definitions. Each head's features are written once, as the calls its feature
// function makes on an `Emit`: which kind of feature, read from which token, describing which
// token (the anchor). Two emitters exist: `Named` builds each feature's name (training interns
// it, `Found` finds its column), and `compiled::Columns` finds the same column from tables
// built off the stored names. The order of the calls is the order of the features, so both
// emitters see the same features in the same order.

/// Where a word feature reads its word: a token of the slice the feature function was given, or
/// the sentinel before (`<s>`) or after (`</s>`) it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum At {
    /// Token `i` of the slice.
    Tok(usize),
    /// Before the first token.
    Bos,
    /// After the last token.
    Eos,
}

impl At {
    /// Token `i + k` of a slice of `n` tokens, or the sentinel beyond its ends.
    #[inline]
    pub(crate) fn offset(i: usize, k: isize, n: usize) -> At {
        let j = i as isize + k;
        if j < 0 {
            At::Bos
        } else if j as usize >= n {
            At::Eos
        } else {
            At::Tok(j as usize)
        }
    }
}

/// Features whose name is a constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lit {
    /// `bias` (span and technique heads).
    Bias,
    /// `quoted`: the token is inside quotation marks.
    Quoted,
    /// `first`: the sentence's first token.
    First,
    /// `last`: the sentence's last token.
    Last,
    /// `caps`: an all-caps word.
    Caps,
}

impl Lit {
    /// Every constant feature.
    pub(crate) const ALL: [Lit; 5] = [Lit::Bias, Lit::Quoted, Lit::First, Lit::Last, Lit::Caps];

    /// The feature's name.
    pub(crate) const fn piece(self) -> Piece<'static> {
        match self {
            Lit::Bias => p::BIAS,
            Lit::Quoted => p::QUOTED,
            Lit::First => p::FIRST,
            Lit::Last => p::LAST,
            Lit::Caps => p::CAPS,
        }
    }
}

/// Features named by a constant prefix and one word (a token's normalised form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WordFeature {
    /// `w:` (sentence and technique heads).
    W,
    /// `w0:`, `w-1:`, `w+1:`, `w-2:`, `w+2:`: the word at an offset of the span head's window.
    W0,
    /// `w-1:`.
    Wm1,
    /// `w+1:`.
    Wp1,
    /// `w-2:`.
    Wm2,
    /// `w+2:`.
    Wp2,
    /// `suf:` + the word's last three characters (words of more than four), see [`suffix`].
    Suf,
    /// `spw:D word`: the sentence-score bucket `D` (0–4) with the word.
    Spw(u8),
    /// `first:`, `last:`: a span's first and last word.
    FirstW,
    /// `last:`.
    LastW,
    /// `l2:`, `l1:`, `r1:`, `r2:`: the words around a span.
    L2,
    /// `l1:`.
    L1,
    /// `r1:`.
    R1,
    /// `r2:`.
    R2,
}

impl WordFeature {
    /// Every word feature.
    pub(crate) const ALL: [WordFeature; 18] = [
        WordFeature::W,
        WordFeature::W0,
        WordFeature::Wm1,
        WordFeature::Wp1,
        WordFeature::Wm2,
        WordFeature::Wp2,
        WordFeature::Suf,
        WordFeature::Spw(0),
        WordFeature::Spw(1),
        WordFeature::Spw(2),
        WordFeature::Spw(3),
        WordFeature::Spw(4),
        WordFeature::FirstW,
        WordFeature::LastW,
        WordFeature::L2,
        WordFeature::L1,
        WordFeature::R1,
        WordFeature::R2,
    ];

    /// Position in [`WordFeature::ALL`].
    pub(crate) const fn index(self) -> usize {
        match self {
            WordFeature::W => 0,
            WordFeature::W0 => 1,
            WordFeature::Wm1 => 2,
            WordFeature::Wp1 => 3,
            WordFeature::Wm2 => 4,
            WordFeature::Wp2 => 5,
            WordFeature::Suf => 6,
            WordFeature::Spw(d) => 7 + if d < 5 { d as usize } else { 4 },
            WordFeature::FirstW => 12,
            WordFeature::LastW => 13,
            WordFeature::L2 => 14,
            WordFeature::L1 => 15,
            WordFeature::R1 => 16,
            WordFeature::R2 => 17,
        }
    }

    /// The feature's name for the word `w`.
    #[inline(always)]
    pub(crate) fn name(self, w: Piece<'_>) -> Name<'_> {
        match self {
            WordFeature::Spw(d) => Name::two(p::SPW, p::DIGITS[(d as usize).min(9)], w),
            f => Name::one(f.prefix(), w),
        }
    }

    /// The constant start of the feature's names (`spw:D ` for [`WordFeature::Spw`]), as
    /// stored names begin (for reading a word off a stored name).
    pub(crate) fn stored_prefix(self) -> String {
        match self {
            WordFeature::Spw(d) => format!("spw:{d} "),
            f => f.prefix().text.to_string(),
        }
    }

    const fn prefix(self) -> Piece<'static> {
        match self {
            WordFeature::W => p::W,
            WordFeature::W0 => p::W0,
            WordFeature::Wm1 => p::WM1,
            WordFeature::Wp1 => p::WP1,
            WordFeature::Wm2 => p::WM2,
            WordFeature::Wp2 => p::WP2,
            WordFeature::Suf => p::SUF,
            WordFeature::Spw(_) => p::SPW,
            WordFeature::FirstW => p::FIRST_W,
            WordFeature::LastW => p::LAST_W,
            WordFeature::L2 => p::L2,
            WordFeature::L1 => p::L1,
            WordFeature::R1 => p::R1,
            WordFeature::R2 => p::R2,
        }
    }
}

/// Features named by a constant prefix and two words, `prefix` + `a` + ` ` + `b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PairFeature {
    /// `b:` (sentence and technique heads): two neighbouring words.
    B,
    /// `b-1:`: the word before and the current one (span head).
    Bm1,
    /// `b+1:`: the current word and the next (span head).
    Bp1,
}

impl PairFeature {
    /// Every pair feature.
    pub(crate) const ALL: [PairFeature; 3] = [PairFeature::B, PairFeature::Bm1, PairFeature::Bp1];

    /// The constant start of the feature's names.
    pub(crate) const fn prefix(self) -> Piece<'static> {
        match self {
            PairFeature::B => p::B,
            PairFeature::Bm1 => p::BM1,
            PairFeature::Bp1 => p::BP1,
        }
    }
}

/// Features named by a constant prefix and one of a fixed list of values (a lexicon list, a
/// shape, a bucket), given by its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TagFeature {
    /// `lx:` + lexicon list (sentence and technique heads).
    Lx,
    /// `lx-2:` … `lx+2:` + lexicon list of the word at that offset (span head).
    LxAt(i8),
    /// `sh0:` + the word's [`Shape`].
    Shape,
    /// `dens:` + lexicon hits within ±3 tokens (0–4).
    Density,
    /// `sp:` + the sentence-score bucket (0–9).
    SentenceBucket,
    /// `len:` + a span's length bucket ([`LENGTHS`]).
    Length,
    /// `rep:` + how often a span's words occur in its document ([`REPEATS`]).
    Repeats,
}

/// The length buckets of [`TagFeature::Length`].
pub(crate) const LENGTHS: [&str; 6] = ["1", "2", "3", "4-6", "7-12", "13+"];
/// The repeat buckets of [`TagFeature::Repeats`].
pub(crate) const REPEATS: [&str; 3] = ["1", "2", "3+"];

impl TagFeature {
    /// Every tag feature.
    pub(crate) const ALL: [TagFeature; 11] = [
        TagFeature::Lx,
        TagFeature::LxAt(-2),
        TagFeature::LxAt(-1),
        TagFeature::LxAt(0),
        TagFeature::LxAt(1),
        TagFeature::LxAt(2),
        TagFeature::Shape,
        TagFeature::Density,
        TagFeature::SentenceBucket,
        TagFeature::Length,
        TagFeature::Repeats,
    ];

    /// Position in [`TagFeature::ALL`].
    pub(crate) const fn index(self) -> usize {
        match self {
            TagFeature::Lx => 0,
            TagFeature::LxAt(k) => {
                3 + if k < -2 {
                    -2
                } else if k > 2 {
                    2
                } else {
                    k
                } as usize
            }
            TagFeature::Shape => 6,
            TagFeature::Density => 7,
            TagFeature::SentenceBucket => 8,
            TagFeature::Length => 9,
            TagFeature::Repeats => 10,
        }
    }

    const fn prefix(self) -> Piece<'static> {
        match self {
            TagFeature::Lx => p::LX,
            TagFeature::LxAt(-2) => p::LXM2,
            TagFeature::LxAt(-1) => p::LXM1,
            TagFeature::LxAt(0) => p::LX0,
            TagFeature::LxAt(1) => p::LXP1,
            TagFeature::LxAt(_) => p::LXP2,
            TagFeature::Shape => p::SH0,
            TagFeature::Density => p::DENS,
            TagFeature::SentenceBucket => p::SP,
            TagFeature::Length => p::LEN,
            TagFeature::Repeats => p::REP,
        }
    }

    /// The values the feature takes (lexicon lists come from `lexicon`).
    pub(crate) fn values(self, lexicon: &Lexicon) -> usize {
        match self {
            TagFeature::Lx | TagFeature::LxAt(_) => lexicon.names().len().min(32),
            TagFeature::Shape => Shape::ALL.len(),
            TagFeature::Density => 5,
            TagFeature::SentenceBucket => 10,
            TagFeature::Length => LENGTHS.len(),
            TagFeature::Repeats => REPEATS.len(),
        }
    }

    /// The feature's name for value `v` (`None` when `v` is not one of its values).
    pub(crate) fn name(self, v: usize, lexicon: &Lexicon) -> Option<Name<'_>> {
        let piece = match self {
            TagFeature::Lx | TagFeature::LxAt(_) => lexicon.tag_piece(v)?,
            TagFeature::Shape => Piece::new(Shape::ALL.get(v)?.as_str()),
            TagFeature::Density | TagFeature::SentenceBucket => *p::DIGITS.get(v)?,
            TagFeature::Length => Piece::new(LENGTHS.get(v)?),
            TagFeature::Repeats => Piece::new(REPEATS.get(v)?),
        };
        Some(Name::one(self.prefix(), piece))
    }
}

/// What the feature functions emit into: one call per feature occurrence, with its anchor (the
/// token, relative to the current one, whose word the feature describes; `None` for context
/// features). Token indices and [`At`] refer to the token slice the function was given.
pub(crate) trait Emit {
    /// A constant feature.
    fn lit(&mut self, f: Lit, anchor: Option<i8>);
    /// A feature of the word at `at`.
    fn word(&mut self, f: WordFeature, at: At, anchor: Option<i8>);
    /// A feature of the words at `a` and `b`.
    fn pair(&mut self, f: PairFeature, a: At, b: At, anchor: Option<i8>);
    /// A feature with value `v` of `f`'s list.
    fn tag(&mut self, f: TagFeature, v: usize, anchor: Option<i8>);
    /// The character n-grams `c:gram` of a span that start at one character: its 3-, 4- and
    /// 5-gram (each a prefix of the next; `None` past the end).
    fn grams(&mut self, grams: [Option<&str>; 3]);
    /// The lexicon bits of token `i`.
    fn lex(&self, i: usize) -> u32;
}

/// The emitter that names each feature and hands it to a [`Sink`] (training's [`Interner`],
/// the lookup by name of [`crate::scores::ByName`]).
pub(crate) struct Named<'a, S> {
    tokens: &'a [Token],
    lexicon: &'a Lexicon,
    sink: S,
}

impl<'a, S: Sink> Named<'a, S> {
    pub(crate) fn new(tokens: &'a [Token], lexicon: &'a Lexicon, sink: S) -> Self {
        Named {
            tokens,
            lexicon,
            sink,
        }
    }

    #[inline]
    fn piece(&self, at: At) -> Piece<'a> {
        match at {
            At::Tok(i) => self.tokens.get(i).map_or(p::EOS, |t| t.piece()),
            At::Bos => p::BOS,
            At::Eos => p::EOS,
        }
    }
}

impl<S: Sink> Sink for &mut S {
    #[inline]
    fn emit(&mut self, name: Name<'_>, anchor: Option<i8>, value: f32) {
        (**self).emit(name, anchor, value);
    }
}

/// The name of the character n-gram feature `c:gram`.
#[inline]
pub(crate) fn gram_name(gram: &str) -> Name<'_> {
    Name::one(p::CHAR, Piece::new(gram))
}

impl<S: Sink> Emit for Named<'_, S> {
    fn lit(&mut self, f: Lit, anchor: Option<i8>) {
        self.sink.emit(Name::lit(f.piece()), anchor, 1.0);
    }

    fn word(&mut self, f: WordFeature, at: At, anchor: Option<i8>) {
        let w = self.piece(at);
        if f == WordFeature::Suf {
            if let Some(s) = suffix(w.text) {
                self.sink
                    .emit(Name::one(p::SUF, Piece::new(s)), anchor, 1.0);
            }
            return;
        }
        self.sink.emit(f.name(w), anchor, 1.0);
    }

    fn pair(&mut self, f: PairFeature, a: At, b: At, anchor: Option<i8>) {
        let (a, b) = (self.piece(a), self.piece(b));
        self.sink.emit(Name::two(f.prefix(), a, b), anchor, 1.0);
    }

    fn tag(&mut self, f: TagFeature, v: usize, anchor: Option<i8>) {
        if let Some(name) = f.name(v, self.lexicon) {
            self.sink.emit(name, anchor, 1.0);
        }
    }

    fn grams(&mut self, grams: [Option<&str>; 3]) {
        for g in grams.into_iter().flatten() {
            self.sink.emit(gram_name(g), None, 1.0);
        }
    }

    fn lex(&self, i: usize) -> u32 {
        self.tokens.get(i).map_or(0, |t| self.lexicon.bits_of(t))
    }
}

/// Emits `f` for each lexicon list in `bits` (lists beyond the 32nd carry no feature).
#[inline]
fn lexicon_tags(e: &mut impl Emit, f: TagFeature, bits: u32, anchor: Option<i8>) {
    let mut rest = bits;
    while rest != 0 {
        let b = rest.trailing_zeros() as usize;
        rest &= rest - 1;
        e.tag(f, b, anchor);
    }
}

/// The bag of terms shared by the sentence and technique heads: for each token of `range`, its
/// word (`w:`), the bigram with the next token of the range (`b:`), its lexicon lists (`lx:`)
/// and whether it is all caps (`caps`).
fn bag_of_terms(tokens: &[Token], range: std::ops::Range<usize>, e: &mut impl Emit) {
    for i in range.clone() {
        e.word(WordFeature::W, At::Tok(i), None);
        if i + 1 < range.end {
            e.pair(PairFeature::B, At::Tok(i), At::Tok(i + 1), None);
        }
        lexicon_tags(e, TagFeature::Lx, e.lex(i), None);
        if tokens[i].shape == Shape::AllCaps {
            e.lit(Lit::Caps, None);
        }
    }
}

/// The sentence head's features of a sentence: its bag of terms (punctuation such as `!` and
/// quotes are words too). Counted and weighted by TF-IDF ([`Vectorizer`]).
pub(crate) fn sentence_features(tokens: &[Token], e: &mut impl Emit) {
    bag_of_terms(tokens, 0..tokens.len(), e);
}

/// [`sentence_features`] by name into `sink`.
pub fn sentence_terms(tokens: &[Token], lexicon: &Lexicon, sink: &mut impl Sink) {
    sentence_features(tokens, &mut Named::new(tokens, lexicon, sink));
}

/// Per-sentence context shared by the token features of one sentence.
#[derive(Debug, Clone, Default)]
pub struct SentenceContext {
    /// Calibrated sentence-head probability for this sentence.
    pub sentence_prob: f32,
    /// For each token: is it inside quotation marks.
    pub quoted: Vec<bool>,
    /// For each token: lexicon hits within ±3 tokens (excluding itself).
    pub density: Vec<u8>,
}

impl SentenceContext {
    /// Computes the context of a sentence's tokens.
    pub fn new(tokens: &[Token], lexicon: &Lexicon, sentence_prob: f32) -> Self {
        let mut lex = Vec::new();
        lexicon_bits(tokens, lexicon, &mut lex);
        let mut ctx = SentenceContext::default();
        ctx.reset(tokens, |i| lex[i], sentence_prob);
        ctx
    }

    /// Recomputes the context for `tokens`, whose lexicon bits `lex` gives, reusing the buffers.
    pub(crate) fn reset(&mut self, tokens: &[Token], lex: impl Fn(usize) -> u32, prob: f32) {
        self.sentence_prob = prob;
        self.quoted.clear();
        let mut inside = false;
        for t in tokens {
            let is_quote = t.norm == "\"";
            if is_quote {
                inside = !inside;
            }
            self.quoted.push(inside && !is_quote);
        }
        let n = tokens.len();
        self.density.clear();
        // Hits in the window i-3..=i+3, maintained as the window slides.
        let hit = |j: usize| (lex(j) != 0) as usize;
        let mut window: usize = (0..n.min(4)).map(hit).sum();
        for i in 0..n {
            if i >= 1 && i + 3 < n {
                window += hit(i + 3);
            }
            if i >= 4 {
                window -= hit(i - 4);
            }
            self.density.push((window - hit(i)).min(255) as u8);
        }
    }
}

/// The bucket of a probability among `n` equal ones.
fn bucket(p: f32, n: usize) -> usize {
    ((p.clamp(0.0, 1.0) * n as f32) as usize).min(n - 1)
}

/// The piece of a token's last three characters (its suffix feature), when it has more than four.
#[inline]
pub(crate) fn suffix(norm: &str) -> Option<&str> {
    if norm.is_ascii() {
        return (norm.len() > 4).then(|| &norm[norm.len() - 3..]);
    }
    let n = norm.chars().count();
    if n <= 4 {
        return None;
    }
    let (at, _) = norm.char_indices().nth(n - 3)?;
    Some(&norm[at..])
}

/// The span head's features of token `i` of a sentence: its word and the words around it, the
/// two bigrams through it, its suffix and shape, the lexicon lists of the words within ±2, its
/// quotation context, the lexicon density around it, the sentence head's score (alone and with
/// the word) and whether it starts or ends the sentence.
pub(crate) fn span_features(tokens: &[Token], i: usize, ctx: &SentenceContext, e: &mut impl Emit) {
    let n = tokens.len();
    let at = |k: isize| At::offset(i, k, n);
    e.lit(Lit::Bias, None);
    e.word(WordFeature::W0, at(0), Some(0));
    e.word(WordFeature::Wm1, at(-1), Some(-1));
    e.word(WordFeature::Wp1, at(1), Some(1));
    e.word(WordFeature::Wm2, at(-2), Some(-2));
    e.word(WordFeature::Wp2, at(2), Some(2));
    e.pair(PairFeature::Bm1, at(-1), at(0), Some(0));
    e.pair(PairFeature::Bp1, at(0), at(1), Some(0));
    e.word(WordFeature::Suf, at(0), Some(0));
    e.tag(TagFeature::Shape, tokens[i].shape as usize, Some(0));
    for k in -2i8..=2 {
        let j = i as isize + k as isize;
        if j >= 0 && (j as usize) < n {
            lexicon_tags(e, TagFeature::LxAt(k), e.lex(j as usize), Some(k));
        }
    }
    if ctx.quoted.get(i).copied().unwrap_or(false) {
        e.lit(Lit::Quoted, None);
    }
    let d = ctx.density.get(i).copied().unwrap_or(0).min(4) as usize;
    e.tag(TagFeature::Density, d, None);
    let b = bucket(ctx.sentence_prob, 10);
    e.tag(TagFeature::SentenceBucket, b, None);
    e.word(WordFeature::Spw((b / 2) as u8), at(0), Some(0));
    if i == 0 {
        e.lit(Lit::First, None);
    }
    if i + 1 == n {
        e.lit(Lit::Last, None);
    }
}

/// [`span_features`] by name into `sink`.
pub fn token_features(
    tokens: &[Token],
    i: usize,
    lexicon: &Lexicon,
    ctx: &SentenceContext,
    sink: &mut impl Sink,
) {
    span_features(tokens, i, ctx, &mut Named::new(tokens, lexicon, sink));
}

/// The technique head's features of a candidate span (tokens `range` of a document's tokens):
/// its bag of terms, first and last word, character n-grams ([`span_grams`]), length, the two
/// words either side and how often its words occur in the document (`repeats`).
pub(crate) fn span_technique_features(
    tokens: &[Token],
    range: std::ops::Range<usize>,
    repeats: usize,
    joined: &mut String,
    e: &mut impl Emit,
) {
    e.lit(Lit::Bias, None);
    bag_of_terms(tokens, range.clone(), e);
    if range.start < range.end {
        e.word(WordFeature::FirstW, At::Tok(range.start), None);
        e.word(WordFeature::LastW, At::Tok(range.end - 1), None);
    }
    span_grams(&tokens[range.clone()], joined, e);
    let len = match range.len() {
        0..=1 => 0,
        2 => 1,
        3 => 2,
        4..=6 => 3,
        7..=12 => 4,
        _ => 5,
    };
    e.tag(TagFeature::Length, len, None);
    let n = tokens.len();
    e.word(WordFeature::L2, At::offset(range.start, -2, n), None);
    e.word(WordFeature::L1, At::offset(range.start, -1, n), None);
    e.word(WordFeature::R1, At::offset(range.end, 0, n), None);
    e.word(WordFeature::R2, At::offset(range.end, 1, n), None);
    let rep = match repeats {
        0..=1 => 0,
        2 => 1,
        _ => 2,
    };
    e.tag(TagFeature::Repeats, rep, None);
}

/// [`span_technique_features`] by name into `sink`.
pub fn technique_features(
    tokens: &[Token],
    range: std::ops::Range<usize>,
    lexicon: &Lexicon,
    repeats: usize,
    sink: &mut impl Sink,
) {
    let mut joined = String::new();
    let mut e = Named::new(tokens, lexicon, sink);
    span_technique_features(tokens, range, repeats, &mut joined, &mut e);
}

/// Character 3-, 4- and 5-grams (`c:`) of the span's normalised tokens joined by single spaces
/// (`joined` is a buffer). They let the technique head share evidence between inflections and
/// rare words ("demonize", "demonizing"), which word features cannot: on the TC hold-out they
/// lift micro-F1 by ~3–5 points (docs/EVALUATION.md).
fn span_grams(span: &[Token], joined: &mut String, e: &mut impl Emit) {
    joined.clear();
    for (i, t) in span.iter().enumerate() {
        if i > 0 {
            joined.push(' ');
        }
        joined.push_str(&t.norm);
    }
    let joined = joined.as_str();
    // Byte offset of every character, plus the end (every byte when ASCII).
    let bounds: Vec<usize> = if joined.is_ascii() {
        (0..=joined.len()).collect()
    } else {
        joined
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(joined.len()))
            .collect()
    };
    let gram = |i: usize, n: usize| Some(&joined[bounds[i]..*bounds.get(i + n)?]);
    for i in 0..bounds.len().saturating_sub(3) {
        e.grams([gram(i, 3), gram(i, 4), gram(i, 5)]);
    }
}

/// Counts how often a token sequence's normalised words occur in a document (for Repetition).
///
/// Punctuation is ignored. Occurrences are counted left to right and must not overlap or touch:
/// after an occurrence at word `i` of a sequence of `L` words, the next one counts from word
/// `i + L + 1` (a repeat directly adjacent to the previous one is not counted; this is the rule
/// the shipped model was trained with). A sequence whose rarest word occurs rarely (at most
/// [`RepeatCounter::DIRECT_COST`] / length times) is counted by comparing the windows at that
/// word's occurrences; any other by one pass over the document per distinct length, counting
/// every window of that length by a 64-bit rolling hash of its word ids (kept for the next
/// sequence of that length), so that a repetitive document stays linear.
#[derive(Debug, Default)]
pub struct RepeatCounter<'a> {
    ids: HashMap<Word<'a>, u32>,
    /// The document's non-punctuation words, as ids.
    seq: Vec<u32>,
    /// Occurrences of each id.
    word_counts: Vec<usize>,
    /// Start of each id's group in the positions list, and the positions grouped by id.
    occurrences: std::cell::OnceCell<(Vec<u32>, Vec<u32>)>,
    /// Per sequence length: window hash → (count, start of the last counted window).
    windows: std::cell::RefCell<HashMap<usize, WindowCounts>>,
}

/// Per window hash: (count, start of the last counted window).
type WindowCounts = HashMap<u64, (usize, usize)>;

const REPEAT_BASE: u64 = 0x9E37_79B9_7F4A_7C15;

/// A normalised word keyed by the hash its token already carries (compared by text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Word<'a>(Piece<'a>);

impl std::hash::Hash for Word<'_> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_u64(self.0.hash);
    }
}

fn word_hash(id: u32) -> u64 {
    (id as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9) ^ 0x94D0_49BB_1331_11EB
}

impl<'a> RepeatCounter<'a> {
    /// Direct counting costs rarest × length per sequence; up to this cost it is always used.
    const DIRECT_COST: usize = 512;

    /// Indexes a document given as its tokens.
    pub fn new(tokens: &'a [Token]) -> Self {
        let mut ids: HashMap<Word<'a>, u32> =
            HashMap::with_capacity_and_hasher(tokens.len() / 2, Default::default());
        let mut seq = Vec::with_capacity(tokens.len());
        let mut word_counts = Vec::new();
        for t in tokens.iter().filter(|t| !t.is_punct()) {
            let next = ids.len() as u32;
            let id = *ids.entry(Word(t.piece())).or_insert(next);
            if id as usize == word_counts.len() {
                word_counts.push(0);
            }
            word_counts[id as usize] += 1;
            seq.push(id);
        }
        RepeatCounter {
            ids,
            seq,
            word_counts,
            ..Default::default()
        }
    }

    /// Occurrences of the span's word sequence in the document (at least 1).
    pub fn count(&self, span: &[Token]) -> usize {
        let mut words = Vec::with_capacity(span.len());
        for t in span.iter().filter(|t| !t.is_punct()) {
            match self.ids.get(&Word(t.piece())) {
                Some(&id) => words.push(id),
                None => return 1,
            }
        }
        match words.as_slice() {
            [] => 1,
            [id] => self.word_counts[*id as usize].max(1),
            _ => self.count_ids(&words).max(1),
        }
    }

    /// Occurrences of a sequence of at least two word ids.
    fn count_ids(&self, words: &[u32]) -> usize {
        // The rarest word (the first of equally rare ones) and its position in the sequence.
        let Some((k, &rarest)) = words
            .iter()
            .enumerate()
            .min_by_key(|&(_, &id)| self.word_counts[id as usize])
        else {
            return 1;
        };
        let len = words.len();
        if self.word_counts[rarest as usize] * len <= Self::DIRECT_COST {
            let (starts, positions) = self.occurrences();
            let group = starts[rarest as usize] as usize..starts[rarest as usize + 1] as usize;
            return self.count_at(words, k, &positions[group]);
        }
        let key = Self::window_hash(words.iter().copied());
        let mut windows = self.windows.borrow_mut();
        let counts = windows.entry(len).or_insert_with(|| self.index_length(len));
        counts.get(&key).map_or(1, |e| e.0)
    }

    fn occurrences(&self) -> &(Vec<u32>, Vec<u32>) {
        self.occurrences.get_or_init(|| {
            let mut starts = Vec::with_capacity(self.word_counts.len() + 1);
            let mut total = 0u32;
            for &c in &self.word_counts {
                starts.push(total);
                total += c as u32;
            }
            starts.push(total);
            let mut fill = starts.clone();
            let mut positions = vec![0u32; total as usize];
            for (i, &id) in self.seq.iter().enumerate() {
                positions[fill[id as usize] as usize] = i as u32;
                fill[id as usize] += 1;
            }
            (starts, positions)
        })
    }

    /// Non-overlapping occurrences of `words` among the windows whose `k`-th word is at one of
    /// `positions` (ascending: every occurrence of that word).
    fn count_at(&self, words: &[u32], k: usize, positions: &[u32]) -> usize {
        let len = words.len();
        let mut count = 0;
        let mut last: Option<usize> = None;
        for &p in positions {
            let Some(i) = (p as usize).checked_sub(k) else {
                continue;
            };
            if i + len > self.seq.len() || self.seq[i..i + len] != *words {
                continue;
            }
            if last.is_none_or(|l| i > l + len) {
                count += 1;
                last = Some(i);
            }
        }
        count
    }

    fn window_hash(ids: impl Iterator<Item = u32>) -> u64 {
        ids.fold(0u64, |h, id| {
            h.wrapping_mul(REPEAT_BASE).wrapping_add(word_hash(id))
        })
    }

    /// Counts of every window of `len` words (rolling hash, one pass), by the same rule.
    fn index_length(&self, len: usize) -> WindowCounts {
        let mut out = WindowCounts::default();
        if len == 0 || len > self.seq.len() {
            return out;
        }
        // BASE^(len-1), to remove the leaving word.
        let top = (1..len).fold(1u64, |p, _| p.wrapping_mul(REPEAT_BASE));
        let mut h = Self::window_hash(self.seq[..len].iter().copied());
        for i in 0..=self.seq.len() - len {
            if i > 0 {
                let leaving = word_hash(self.seq[i - 1]).wrapping_mul(top);
                h = h
                    .wrapping_sub(leaving)
                    .wrapping_mul(REPEAT_BASE)
                    .wrapping_add(word_hash(self.seq[i + len - 1]));
            }
            let e = out.entry(h).or_insert((0, usize::MAX));
            if e.1 == usize::MAX || i > e.1 + len {
                e.0 += 1;
                e.1 = i;
            }
        }
        out
    }
}

/// TF-IDF weighting fitted on training sentences.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Vectorizer {
    /// Term → column.
    pub index: FeatureIndex,
    /// Smoothed inverse document frequency per column: ln((1 + n) / (1 + df)) + 1.
    pub idf: Vec<f32>,
}

impl Vectorizer {
    /// Builds the idf table from document frequencies over `n_docs` documents.
    pub fn new(index: FeatureIndex, df: &[u32], n_docs: usize) -> Self {
        let idf = df
            .iter()
            .map(|&d| ((1.0 + n_docs as f32) / (1.0 + d as f32)).ln() + 1.0)
            .collect();
        Vectorizer { index, idf }
    }

    /// Weights a row of raw counts: sublinear tf (1 + ln tf) × idf, then L2 normalisation.
    pub fn weight(&self, counts: &[(u32, f32)]) -> SparseRow {
        let mut row: SparseRow = counts
            .iter()
            .map(|&(c, tf)| {
                let idf = self.idf.get(c as usize).copied().unwrap_or(1.0);
                (c, (1.0 + tf.max(1.0).ln()) * idf)
            })
            .collect();
        let norm = row.iter().map(|x| x.1 * x.1).sum::<f32>().sqrt();
        if norm > 0.0 {
            for x in &mut row {
                x.1 /= norm;
            }
        }
        row
    }

    /// TF-IDF row of a sentence.
    pub fn transform(&self, tokens: &[Token], lexicon: &Lexicon) -> SparseRow {
        let mut counts: Vec<(u32, f32)> = Vec::new();
        let out = |c, _| counts.push((c, 1.0));
        sentence_terms(
            tokens,
            lexicon,
            &mut Found {
                index: &self.index,
                out,
            },
        );
        counts.sort_unstable_by_key(|x| x.0);
        let mut merged: Vec<(u32, f32)> = Vec::with_capacity(counts.len());
        for (c, v) in counts {
            match merged.last_mut() {
                Some(l) if l.0 == c => l.1 += v,
                _ => merged.push((c, v)),
            }
        }
        self.weight(&merged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::tokenize;

    fn toks(t: &str) -> Vec<Token> {
        tokenize(t, 0..t.len()).unwrap()
    }

    #[test]
    fn interner_counts_df_once_per_row_and_selects() {
        let mut it = Interner::new();
        let lex = Lexicon::new();
        for s in ["a a b", "a c", "a b"] {
            sentence_terms(&toks(s), &lex, &mut it);
            it.take_row();
        }
        let (index, remap, df) = it.select(2, 10);
        assert_eq!(index.names(), vec!["b:a b", "w:a", "w:b"]);
        assert_eq!(df, vec![2, 3, 2]);
        assert_eq!(remap.iter().filter(|r| r.is_some()).count(), 3);
        let (small, _, _) = it.select(1, 1);
        assert_eq!(small.names(), vec!["w:a"]);
    }

    #[test]
    fn chi2_keeps_the_feature_that_predicts_the_label() {
        let mut it = Interner::new();
        let lex = Lexicon::new();
        // "the" is everywhere; "vile" only in positive rows.
        for (s, y) in [
            ("the vile plan", true),
            ("the vile act", true),
            ("the plan", false),
            ("the act", false),
        ] {
            sentence_terms(&toks(s), &lex, &mut it);
            it.take_labeled_row(y);
        }
        let (index, _, _) = it.select_chi2(2, 2);
        assert_eq!(index.names(), vec!["b:the vile", "w:vile"]);
        let (by_df, _, _) = it.select(2, 1);
        assert_eq!(by_df.names(), vec!["w:the"]);
    }

    /// The reference rule the shipped model was trained with: non-overlapping matches of
    /// " w1 … wn " in the space-joined words.
    fn reference_count(doc: &[Token], span: &[Token]) -> usize {
        let words: Vec<&str> = span
            .iter()
            .filter(|t| !t.is_punct())
            .map(|t| t.norm.as_str())
            .collect();
        let mut joined = String::from(" ");
        for t in doc.iter().filter(|t| !t.is_punct()) {
            joined.push_str(&t.norm);
            joined.push(' ');
        }
        match words.len() {
            0 => 1,
            1 => doc.iter().filter(|t| t.norm == words[0]).count().max(1),
            _ => joined
                .matches(&format!(" {} ", words.join(" ")))
                .count()
                .max(1),
        }
    }

    /// A long document of three frequent words: every sequence is counted by its windows'
    /// hash; a rare word's sequences directly. Both follow the reference rule.
    #[test]
    fn repeat_counts_follow_the_rule_in_long_documents() {
        let mut rng = crate::test_support::XorShift::new(12345);
        let mut words = Vec::new();
        while words.len() < 20_000 {
            words.push(["a", "b", "c", "a", "b", ","][(rng.next() >> 33) as usize % 6]);
            if words.len() % 1000 == 0 {
                words.push("rare");
            }
        }
        let doc = toks(&words.join(" "));
        let counter = RepeatCounter::new(&doc);
        let mut counts = std::collections::BTreeSet::new();
        for i in (0..doc.len() - 8).step_by(997) {
            for n in 1..=7 {
                let span = &doc[i..i + n];
                let want = reference_count(&doc, span);
                assert_eq!(counter.count(span), want);
                counts.insert(want);
            }
        }
        assert!(counts.len() > 10 && counts.contains(&1), "{counts:?}");
    }

    #[test]
    fn repeat_counter_matches_the_reference_rule() {
        let doc = toks("a b a b x a b , a b c a b a b a b . no no no no, c a b c a b");
        let counter = RepeatCounter::new(&doc);
        for i in 0..doc.len() {
            for j in i + 1..(i + 6).min(doc.len()) {
                let span = &doc[i..j];
                assert_eq!(
                    counter.count(span),
                    reference_count(&doc, span),
                    "{:?}",
                    &span.iter().map(|t| &t.norm).collect::<Vec<_>>()
                );
            }
        }
        assert_eq!(counter.count(&toks("zzz qqq")), 1);
    }

    /// Registering the sequences first (their rarest words' positions found in one pass)
    /// changes no count.

    #[test]
    fn technique_char_ngrams_cross_words_and_respect_chars() {
        let mut it = Interner::new();
        let lex = Lexicon::new();
        let t = toks("Zoë lies");
        technique_features(&t, 0..t.len(), &lex, 1, &mut it);
        it.take_row();
        let (index, _, _) = it.select(1, usize::MAX);
        let grams: Vec<&str> = index
            .names()
            .into_iter()
            .filter_map(|n| n.strip_prefix("c:"))
            .collect();
        // "zoë lies": 8 characters → 6 trigrams, 5 four-grams, 4 five-grams.
        assert_eq!(grams.len(), 15, "{grams:?}");
        for g in ["zoë", "oë l", "zoë l", "lies", "ë li"] {
            assert!(grams.contains(&g), "{g} missing from {grams:?}");
        }
        // A span shorter than three characters has none.
        let short = toks("ok");
        let mut it = Interner::new();
        technique_features(&short, 0..1, &lex, 1, &mut it);
        it.take_row();
        let (index, _, _) = it.select(1, usize::MAX);
        assert!(index.names().iter().all(|n| !n.starts_with("c:")));
    }

    #[test]
    fn tfidf_rows_are_unit_length() {
        let index = FeatureIndex::from_names(vec!["w:a".into(), "w:b".into()]);
        let v = Vectorizer::new(index, &[3, 1], 3);
        let row = v.transform(&toks("a b z"), &Lexicon::new());
        let norm: f32 = row.iter().map(|x| x.1 * x.1).sum();
        assert!((norm - 1.0).abs() < 1e-5);
        assert!(row[1].1 > row[0].1, "rarer term weighs more");
    }

    #[test]
    fn token_features_carry_anchors() {
        let t = toks("a truly shameful decision");
        let mut lex = Lexicon::new();
        lex.insert("bias", "shameful");
        let ctx = SentenceContext::new(&t, &lex, 0.9);
        let index = FeatureIndex::from_names(vec![
            "w0:shameful".into(),
            "lx+1:bias".into(),
            "sp:9".into(),
        ]);
        let found = |i: usize| {
            let mut got = Vec::new();
            let out = |c, a| got.push((c, a));
            token_features(&t, i, &lex, &ctx, &mut Found { index: &index, out });
            got
        };
        assert_eq!(found(1), vec![(1, Some(1)), (2, None)]);
        assert!(found(2).contains(&(0, Some(0))));
    }

    /// Thue–Morse words over `a`/`b` of length 2^11 and their complement: different names with
    /// the same polynomial hash for any odd base (mod 2^64), so the same table tag and slot.
    fn colliding_names() -> (String, String) {
        let tm = |flip: bool| -> String {
            (0..2048u32)
                .map(|i| {
                    if (i.count_ones() % 2 == 1) != flip {
                        'b'
                    } else {
                        'a'
                    }
                })
                .collect()
        };
        (tm(false), tm(true))
    }

    /// What [`FeatureIndex::find`] must be: a map from name to its last column.
    fn reference_lookups(names: &[String]) -> std::collections::HashMap<&str, u32> {
        names
            .iter()
            .enumerate()
            .map(|(c, n)| (n.as_str(), c as u32))
            .collect()
    }

    fn check_index(index: &FeatureIndex, names: &[String]) {
        let want = reference_lookups(names);
        for (name, &col) in &want {
            assert_eq!(index.get(name), Some(col), "{name:?}");
        }
        let kept: Vec<&str> = (0..names.len() as u32)
            .filter(|&c| want[names[c as usize].as_str()] == c)
            .map(|c| names[c as usize].as_str())
            .collect();
        assert_eq!(index.names(), kept);
        assert_eq!(index.len(), kept.len());
        for miss in ["", "w:", "zz", "w:x ", "ab", "a\u{301}", "c:not there"] {
            assert_eq!(index.get(miss), want.get(miss).copied(), "{miss:?}");
        }
    }

    /// The open-addressing table finds exactly what a map finds: duplicate names (the last
    /// column wins), names sharing one hash, non-ASCII names, an index built without capacity
    /// (the table grows) and with it, through `from_names`, serde and the decoder's builder.
    #[test]
    fn index_lookups_are_map_lookups() {
        let (x, y) = colliding_names();
        assert_eq!(
            crate::hashing::hash_bytes(x.as_bytes()).0,
            crate::hashing::hash_bytes(y.as_bytes()).0
        );
        let mut names: Vec<String> = (0..3000).map(|i| format!("w:{i}")).collect();
        names.extend(
            [
                "ünï",
                "c:é\u{301}",
                "w:0",
                "",
                x.as_str(),
                "w:7",
                y.as_str(),
                "w:7",
                x.as_str(),
            ]
            .map(String::from),
        );
        names.extend((0..300).map(|i| format!("b:{i} {}", i * 7)));
        for n in [0, 1, 2, 5, 17, 3005, names.len()] {
            let part = &names[..n];
            let a = FeatureIndex::from_names(part.to_vec());
            check_index(&a, part);
            // serde_json gives no length: the table grows from nothing.
            let b: FeatureIndex =
                serde_json::from_str(&serde_json::to_string(part).unwrap()).unwrap();
            check_index(&b, part);
            let mut c = FeatureIndex::with_capacity(n / 3, 0);
            for name in part {
                assert!(c.push_bytes(name.as_bytes()));
            }
            let c = c.finish();
            check_index(&c, part);
            assert_eq!(a, b);
            assert_eq!(a, c);
            assert_eq!(Vec::<String>::from(a.clone()), a.names());
        }
        let mut d = FeatureIndex::with_capacity(2, 4);
        assert!(!d.push_bytes(b"w:\xff"));
        assert!(!d.push_bytes(b"\xc3"));
        assert!(d.push_bytes("w:ü".as_bytes()));
        assert_eq!(d.finish().names(), ["w:ü"]);
        assert_eq!(FeatureIndex::default().get("w:a"), None);
    }
}
