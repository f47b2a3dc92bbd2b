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
use crate::tokens::Token;
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

    /// Calls `f(column, name without prefix)` for every column whose name starts with `prefix`,
    /// in column order, with the name as bytes (no UTF-8 check): the columns that
    /// [`FeatureIndex::columns`] yields, filtered.
    pub(crate) fn for_each_with_prefix<const N: usize>(
        &self,
        prefix: &[u8; N],
        mut f: impl FnMut(u32, &[u8]),
    ) {
        let mut start = 0usize;
        for (c, &end) in self.ends.iter().enumerate() {
            let end = end as usize;
            let name = self.bytes.get(start..end).unwrap_or_default();
            start = end;
            let Some((head, rest)) = name.split_first_chunk::<N>() else {
                continue;
            };
            if head != prefix {
                continue;
            }
            let c = c as u32;
            if self.shadowed.is_empty() || self.shadowed.binary_search(&c).is_err() {
                f(c, rest);
            }
        }
    }

    /// One more than the largest column [`FeatureIndex::find`] can return.
    pub(crate) fn column_bound(&self) -> usize {
        self.ends.len()
    }

    /// Names in column order.
    pub fn names(&self) -> Vec<&str> {
        (0..self.ends.len() as u32)
            .filter(|c| self.shadowed.binary_search(c).is_err())
            .map(|c| std::str::from_utf8(self.name(c)).unwrap_or_default())
            .collect()
    }
}

/// A sink that looks features up in a fitted index: collects (column, anchor, value).
#[derive(Debug, Default)]
pub struct Lookup<'a> {
    index: Option<&'a FeatureIndex>,
    /// Found features: column, anchor, value.
    pub found: Vec<(u32, Option<i8>, f32)>,
}

impl<'a> Lookup<'a> {
    /// A lookup sink over `index`.
    pub fn new(index: &'a FeatureIndex) -> Self {
        Lookup {
            index: Some(index),
            found: Vec::new(),
        }
    }

    /// Empties the collected features, keeping the allocation.
    pub fn clear(&mut self) {
        self.found.clear();
    }
}

impl Sink for Lookup<'_> {
    #[inline]
    fn emit(&mut self, name: Name<'_>, anchor: Option<i8>, value: f32) {
        if let Some(col) = self.index.and_then(|i| i.find(&name)) {
            self.found.push((col, anchor, value));
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
    let v = 1.0 / (c.len().max(1) as f32).sqrt();
    c.into_iter().map(|c| (c, v)).collect()
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

/// Lexicon list bits of each token (see [`Lexicon::bits`]), written into `out`.
pub fn lexicon_bits(tokens: &[Token], lexicon: &Lexicon, out: &mut Vec<u32>) {
    out.clear();
    out.extend(tokens.iter().map(|t| lexicon.bits_of(t)));
}

/// The bag of terms shared by the sentence and technique heads: unigrams (`w:`), bigrams (`b:`),
/// lexicon tags (`lx:`) and all-caps words (`caps`) of `tokens`, whose lexicon bits are `lex`.
fn bag_of_terms(tokens: &[Token], lex: &[u32], lexicon: &Lexicon, sink: &mut impl Sink) {
    for (i, t) in tokens.iter().enumerate() {
        let w = t.piece();
        sink.emit(Name::one(p::W, w), None, 1.0);
        if let Some(next) = tokens.get(i + 1) {
            sink.emit(Name::two(p::B, w, next.piece()), None, 1.0);
        }
        for tag in lexicon.tag_pieces(lex[i]) {
            sink.emit(Name::one(p::LX, tag), None, 1.0);
        }
        if t.shape == "X" {
            sink.emit(Name::lit(p::CAPS), None, 1.0);
        }
    }
}

/// Terms of one sentence for the TF-IDF sentence head (see `bag_of_terms`; punctuation such as
/// `!` and quotes are unigrams too).
pub fn sentence_terms(tokens: &[Token], lexicon: &Lexicon, sink: &mut impl Sink) {
    let mut lex = Vec::new();
    lexicon_bits(tokens, lexicon, &mut lex);
    bag_of_terms(tokens, &lex, lexicon, sink);
}

/// [`sentence_terms`] with the tokens' lexicon bits already computed.
pub fn sentence_terms_with(tokens: &[Token], lex: &[u32], lexicon: &Lexicon, sink: &mut impl Sink) {
    bag_of_terms(tokens, lex, lexicon, sink);
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
    /// For each token: the bit set of the lexicon lists it belongs to.
    pub lex: Vec<u32>,
}

impl SentenceContext {
    /// Computes the context of a sentence's tokens.
    pub fn new(tokens: &[Token], lexicon: &Lexicon, sentence_prob: f32) -> Self {
        let mut ctx = SentenceContext::default();
        ctx.reset(tokens, lexicon);
        ctx.sentence_prob = sentence_prob;
        ctx
    }

    /// Recomputes everything but the sentence probability for `tokens`, reusing the buffers.
    pub fn reset(&mut self, tokens: &[Token], lexicon: &Lexicon) {
        lexicon_bits(tokens, lexicon, &mut self.lex);
        self.reset_context(tokens);
    }

    /// Recomputes quotation and density from `tokens` and the lexicon bits already in `lex`.
    pub fn reset_context(&mut self, tokens: &[Token]) {
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
        let hit = |j: usize| (self.lex[j] != 0) as usize;
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

/// Features of token `i` of a sentence for the span head.
pub fn token_features(
    tokens: &[Token],
    i: usize,
    lexicon: &Lexicon,
    ctx: &SentenceContext,
    sink: &mut impl Sink,
) {
    let word = |k: isize| -> Piece<'_> {
        let j = i as isize + k;
        if j < 0 {
            p::BOS
        } else {
            tokens.get(j as usize).map_or(p::EOS, |t| t.piece())
        }
    };
    let w0 = word(0);
    sink.emit(Name::lit(p::BIAS), None, 1.0);
    sink.emit(Name::one(p::W0, w0), Some(0), 1.0);
    let (wm1, wp1) = (word(-1), word(1));
    sink.emit(Name::one(p::WM1, wm1), Some(-1), 1.0);
    sink.emit(Name::one(p::WP1, wp1), Some(1), 1.0);
    sink.emit(Name::one(p::WM2, word(-2)), Some(-2), 1.0);
    sink.emit(Name::one(p::WP2, word(2)), Some(2), 1.0);
    sink.emit(Name::two(p::BM1, wm1, w0), Some(0), 1.0);
    sink.emit(Name::two(p::BP1, w0, wp1), Some(0), 1.0);
    let t = &tokens[i];
    if let Some(suf) = suffix(&t.norm) {
        sink.emit(Name::one(p::SUF, Piece::new(suf)), Some(0), 1.0);
    }
    sink.emit(Name::one(p::SH0, Piece::new(t.shape)), Some(0), 1.0);
    for (k, p0) in [
        (-2isize, p::LXM2),
        (-1, p::LXM1),
        (0, p::LX0),
        (1, p::LXP1),
        (2, p::LXP2),
    ] {
        let j = i as isize + k;
        if j < 0 || j as usize >= tokens.len() {
            continue;
        }
        let bits = match ctx.lex.get(j as usize) {
            Some(&b) => b,
            None => lexicon.bits_of(&tokens[j as usize]),
        };
        for tag in lexicon.tag_pieces(bits) {
            sink.emit(Name::one(p0, tag), Some(k as i8), 1.0);
        }
    }
    if ctx.quoted.get(i).copied().unwrap_or(false) {
        sink.emit(Name::lit(p::QUOTED), None, 1.0);
    }
    let d = ctx.density.get(i).copied().unwrap_or(0).min(4) as usize;
    sink.emit(Name::one(p::DENS, p::DIGITS[d]), None, 1.0);
    let b = bucket(ctx.sentence_prob, 10);
    sink.emit(Name::one(p::SP, p::DIGITS[b]), None, 1.0);
    sink.emit(Name::two(p::SPW, p::DIGITS[b / 2], w0), Some(0), 1.0);
    if i == 0 {
        sink.emit(Name::lit(p::FIRST), None, 1.0);
    }
    if i + 1 == tokens.len() {
        sink.emit(Name::lit(p::LAST), None, 1.0);
    }
}

/// Features of a candidate span (tokens `range` of a sentence) for the technique head.
/// `repeats` is how often the span's normalised text occurs in its document.
pub fn technique_features(
    tokens: &[Token],
    range: std::ops::Range<usize>,
    lexicon: &Lexicon,
    repeats: usize,
    sink: &mut impl Sink,
) {
    let span = &tokens[range.clone()];
    sink.emit(Name::lit(p::BIAS), None, 1.0);
    let mut lex = Vec::new();
    lexicon_bits(span, lexicon, &mut lex);
    bag_of_terms(span, &lex, lexicon, sink);
    if let (Some(f), Some(l)) = (span.first(), span.last()) {
        sink.emit(Name::one(p::FIRST_W, f.piece()), None, 1.0);
        sink.emit(Name::one(p::LAST_W, l.piece()), None, 1.0);
    }
    span_char_ngrams(span, sink);
    let len = match span.len() {
        0..=1 => "1",
        2 => "2",
        3 => "3",
        4..=6 => "4-6",
        7..=12 => "7-12",
        _ => "13+",
    };
    sink.emit(Name::one(p::LEN, Piece::new(len)), None, 1.0);
    for (k, p0) in [(-2isize, p::L2), (-1, p::L1)] {
        let j = range.start as isize + k;
        let w = if j < 0 {
            p::BOS
        } else {
            tokens[j as usize].piece()
        };
        sink.emit(Name::one(p0, w), None, 1.0);
    }
    for (k, p0) in [(0usize, p::R1), (1, p::R2)] {
        let w = tokens.get(range.end + k).map_or(p::EOS, |t| t.piece());
        sink.emit(Name::one(p0, w), None, 1.0);
    }
    let rep = match repeats {
        0..=1 => "1",
        2 => "2",
        _ => "3+",
    };
    sink.emit(Name::one(p::REP, Piece::new(rep)), None, 1.0);
}

/// Character 3-, 4- and 5-grams (`c:`) of the span's normalised tokens joined by single spaces.
/// They let the technique head share evidence between inflections and rare words ("demonize",
/// "demonizing"), which word features cannot: on the TC hold-out they lift micro-F1 by ~3–5
/// points (docs/EVALUATION.md).
fn span_char_ngrams(span: &[Token], sink: &mut impl Sink) {
    let mut joined = String::new();
    for (i, t) in span.iter().enumerate() {
        if i > 0 {
            joined.push(' ');
        }
        joined.push_str(&t.norm);
    }
    // Byte offset of every character, plus the end.
    let bounds: Vec<usize> = joined
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(joined.len()))
        .collect();
    let n_chars = bounds.len() - 1;
    for n in 3..=5 {
        for i in 0..n_chars.saturating_sub(n - 1) {
            let gram = Piece::new(&joined[bounds[i]..bounds[i + n]]);
            sink.emit(Name::one(p::CHAR, gram), None, 1.0);
        }
    }
}

/// Counts how often a token sequence's normalised words occur in a document (for Repetition).
///
/// Punctuation is ignored. Occurrences are counted left to right and must not overlap or touch:
/// after an occurrence at word `i` of a sequence of `L` words, the next one counts from word
/// `i + L + 1` (a repeat directly adjacent to the previous one is not counted; this is the rule
/// the shipped model was trained with). Windows are compared by a 64-bit rolling hash of word
/// ids, one pass over the document per distinct sequence length, so a document costs O(words)
/// per length rather than O(words) per span. A sequence whose rarest word occurs rarely
/// (≤ 512 / length times) is counted directly instead, by comparing the windows at that word's
/// occurrences (same rule, exact).
///
/// Memory stays proportional to the queries, not to the document: a pass counts only the
/// windows asked for. Register the sequences first with [`RepeatCounter::prepare`] (one pass
/// per length for all of them); a sequence that was not registered is indexed on demand in a
/// short document (up to [`RepeatCounter::ON_DEMAND_WORDS`] words, where every window of its
/// length is counted and kept) and counted directly in a longer one (exact, but slower).
#[derive(Debug, Default)]
pub struct RepeatCounter {
    ids: HashMap<String, u32>,
    /// The document's content words as ids.
    seq: Vec<u32>,
    /// Occurrences of each word id.
    word_counts: Vec<usize>,
    /// Per sequence length: the windows counted.
    windows: std::cell::RefCell<HashMap<usize, Windows>>,
    /// Positions in `seq` of each word id, grouped by id (`occurrences.1[occurrences.0[id]..]`).
    occurrences: std::cell::OnceCell<(Vec<u32>, Vec<u32>)>,
    /// Positions in `seq` of some word ids: the rarest words of the sequences registered by
    /// [`RepeatCounter::prepare`] that are counted directly (one pass for all of them, instead
    /// of indexing every word).
    positions: std::cell::RefCell<HashMap<u32, Vec<u32>>>,
}

/// Window hash → (occurrences counted, start of the last counted window).
type WindowCounts = HashMap<u64, (usize, usize)>;

/// The windows of one length that a pass counted.
#[derive(Debug)]
enum Windows {
    /// Every window of the document (short documents).
    All(WindowCounts),
    /// Only the windows registered by [`RepeatCounter::prepare`].
    Only(WindowCounts),
}

/// [`RepeatCounter::plan`] for a document whose word `i` occurs `word_counts[i]` times.
fn plan_count(word_counts: &[usize], words: &[u32]) -> Option<(usize, usize)> {
    if words.len() < 2 || words.iter().any(|&id| id as usize >= word_counts.len()) {
        return None;
    }
    let (k, rarest) = words
        .iter()
        .enumerate()
        .map(|(k, &id)| (k, word_counts[id as usize]))
        .min_by_key(|x| x.1)
        .unwrap_or((0, 0));
    Some((k, rarest.saturating_mul(words.len())))
}

const REPEAT_BASE: u64 = 0x9E37_79B9_7F4A_7C15;

fn word_hash(id: u32) -> u64 {
    (id as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9) ^ 0x94D0_49BB_1331_11EB
}

impl RepeatCounter {
    /// Indexes a document given as its tokens.
    pub fn new(tokens: &[Token]) -> Self {
        let mut ids: HashMap<String, u32> = HashMap::default();
        let mut seq = Vec::with_capacity(tokens.len());
        let mut word_counts = Vec::new();
        for t in tokens.iter().filter(|t| !t.is_punct()) {
            let next = ids.len() as u32;
            let id = *ids.entry(t.norm.to_string()).or_insert(next);
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
            windows: Default::default(),
            occurrences: Default::default(),
            positions: Default::default(),
        }
    }

    /// Start of each id's group in the positions list, and the positions grouped by id.
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

    /// Non-overlapping occurrences of `words` (at least two), found by comparing the windows
    /// aligned on the occurrences of its rarest word (`k`-th of the sequence).
    fn count_direct(&self, words: &[u32], k: usize) -> usize {
        if let Ok(registered) = self.positions.try_borrow() {
            if let Some(list) = registered.get(&words[k]) {
                return self.count_at(words, k, list);
            }
        }
        let (starts, positions) = self.occurrences();
        let id = words[k] as usize;
        self.count_at(
            words,
            k,
            &positions[starts[id] as usize..starts[id + 1] as usize],
        )
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

    /// Counts of every window of `len` words (rolling hash, one pass).
    fn index_length(&self, len: usize) -> WindowCounts {
        let mut out = WindowCounts::default();
        self.count_windows(len, &mut out, true);
        out
    }

    /// One rolling-hash pass over the windows of `len` words, counting into `out` (adding a
    /// window not yet in `out` only when `add_new`).
    fn count_windows(&self, len: usize, out: &mut WindowCounts, add_new: bool) {
        if len == 0 || len > self.seq.len() {
            return;
        }
        // BASE^(len-1), to remove the leaving word.
        let top = (1..len).fold(1u64, |p, _| p.wrapping_mul(REPEAT_BASE));
        // When only the windows already in `out` count, a bit per hash bucket (about 16 bits per
        // window wanted) rejects most of the others before the map is probed.
        let bits = if add_new {
            0
        } else {
            (out.len() * 16).next_power_of_two().max(1 << 12)
        };
        let shift = 64 - bits.trailing_zeros();
        let bucket = |h: u64| (h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize;
        let mut filter = vec![0u64; bits / 64];
        for &k in out.keys() {
            if !add_new {
                filter[bucket(k) / 64] |= 1 << (bucket(k) % 64);
            }
        }
        let mut h = Self::window_hash(self.seq[..len].iter().copied());
        for i in 0..=self.seq.len() - len {
            if i > 0 {
                let leaving = word_hash(self.seq[i - 1]).wrapping_mul(top);
                h = h
                    .wrapping_sub(leaving)
                    .wrapping_mul(REPEAT_BASE)
                    .wrapping_add(word_hash(self.seq[i + len - 1]));
            }
            if !add_new && filter[bucket(h) / 64] & (1 << (bucket(h) % 64)) == 0 {
                continue;
            }
            let e = if add_new {
                out.entry(h).or_insert((0, usize::MAX))
            } else {
                match out.get_mut(&h) {
                    Some(e) => e,
                    None => continue,
                }
            };
            if e.1 == usize::MAX || i > e.1 + len {
                e.0 += 1;
                e.1 = i;
            }
        }
    }

    /// Documents up to this many words index a sequence length on demand (every window of it,
    /// a few megabytes at most); longer ones count what was not [prepared](Self::prepare)
    /// directly.
    pub const ON_DEMAND_WORDS: usize = 1 << 14;

    /// Direct counting costs rarest × length per sequence; a pass costs O(words) once per
    /// length. Sequences up to this cost are always counted directly, so a repetitive
    /// document stays linear.
    const DIRECT_COST: usize = 512;

    /// How a word-id sequence is counted: `None` when the answer needs no window (empty, one
    /// word, an id out of range), else the rarest word's position in the sequence and the cost
    /// of counting directly (its occurrences × the length).
    fn plan(&self, words: &[u32]) -> Option<(usize, usize)> {
        plan_count(&self.word_counts, words)
    }

    /// Registers word-id sequences that [`RepeatCounter::count_ids`] will be asked for, and
    /// counts all of them: one pass over the document per distinct length, keeping only the
    /// registered windows (memory in proportion to the sequences, whatever the document's
    /// length). Counting a registered sequence is then a lookup.
    pub fn prepare<'a>(&self, sequences: impl IntoIterator<Item = &'a [u32]>) {
        // Per length: the windows wanted, and what counting them directly would cost.
        let mut wanted: HashMap<usize, (Vec<u64>, usize)> = HashMap::default();
        // The rarest words of the sequences that will be counted directly.
        let mut rare: Vec<u32> = Vec::new();
        for words in sequences {
            match self.plan(words) {
                Some((_, cost)) if cost > Self::DIRECT_COST => {
                    let key = Self::window_hash(words.iter().copied());
                    let e = wanted.entry(words.len()).or_default();
                    e.0.push(key);
                    e.1 = e.1.saturating_add(cost);
                }
                Some((k, _)) => rare.extend(words.get(k).copied()),
                None => {}
            }
        }
        self.find_positions(&rare);
        let mut cache = self.windows.borrow_mut();
        for (len, (keys, direct_cost)) in wanted {
            // In a long document, a length whose sequences cost less to count directly than
            // one pass is left to `count_ids`'s direct count (the same result).
            if self.seq.len() > Self::ON_DEMAND_WORDS
                && direct_cost <= self.seq.len()
                && !cache.contains_key(&len)
            {
                continue;
            }
            let mut counts = match cache.remove(&len) {
                Some(Windows::All(all)) => {
                    cache.insert(len, Windows::All(all));
                    continue;
                }
                Some(Windows::Only(only)) if keys.iter().all(|k| only.contains_key(k)) => {
                    cache.insert(len, Windows::Only(only));
                    continue;
                }
                // Recount from scratch: the registered windows so far and the new ones.
                Some(Windows::Only(only)) => {
                    only.into_keys().map(|k| (k, (0, usize::MAX))).collect()
                }
                None => WindowCounts::default(),
            };
            counts.extend(keys.into_iter().map(|k| (k, (0, usize::MAX))));
            self.count_windows(len, &mut counts, false);
            cache.insert(len, Windows::Only(counts));
        }
    }

    /// Finds the positions of the words `ids` (one pass over the document, unless every word
    /// is indexed already), for [`RepeatCounter::count_direct`].
    fn find_positions(&self, ids: &[u32]) {
        if ids.is_empty() || self.occurrences.get().is_some() {
            return;
        }
        let Ok(mut found) = self.positions.try_borrow_mut() else {
            return;
        };
        let mut marked = vec![false; self.word_counts.len()];
        let mut new = false;
        for &id in ids {
            if let Some(m) = marked.get_mut(id as usize) {
                if !found.contains_key(&id) {
                    *m = true;
                    new = true;
                }
            }
        }
        if !new {
            return;
        }
        for (i, &id) in self.seq.iter().enumerate() {
            if marked.get(id as usize).copied().unwrap_or(false) {
                found.entry(id).or_default().push(i as u32);
            }
        }
    }

    /// Indexes a document given as the word ids of its non-punctuation tokens (ids below
    /// `n_ids`; equal ids for equal normalised forms). Count spans with [`RepeatCounter::count_ids`].
    pub fn from_ids(seq: Vec<u32>, n_ids: usize) -> Self {
        let mut word_counts = vec![0usize; n_ids];
        for &id in &seq {
            word_counts[id as usize] += 1;
        }
        RepeatCounter {
            ids: HashMap::default(),
            seq,
            word_counts,
            windows: Default::default(),
            occurrences: Default::default(),
            positions: Default::default(),
        }
    }

    /// Number of content (non-punctuation) words in the document.
    pub fn word_count(&self) -> usize {
        self.seq.len()
    }

    /// Occurrences of the span's word sequence in the document (at least 1).
    pub fn count(&self, span: &[Token]) -> usize {
        let mut words = Vec::new();
        for t in span.iter().filter(|t| !t.is_punct()) {
            match self.ids.get(t.norm.as_str()) {
                Some(&id) => words.push(id),
                None => return 1,
            }
        }
        self.count_ids(&words)
    }

    /// Occurrences of a word-id sequence (ids as given to [`RepeatCounter::from_ids`]; at least 1).
    pub fn count_ids(&self, words: &[u32]) -> usize {
        let Some((k, cost)) = self.plan(words) else {
            return match words {
                [id] => self.word_counts.get(*id as usize).map_or(1, |&c| c.max(1)),
                _ => 1,
            };
        };
        if cost <= Self::DIRECT_COST {
            return self.count_direct(words, k).max(1);
        }
        let len = words.len();
        let key = Self::window_hash(words.iter().copied());
        let mut cache = self.windows.borrow_mut();
        match cache.get(&len) {
            Some(Windows::All(all)) => return all.get(&key).map_or(1, |e| e.0.max(1)),
            Some(Windows::Only(only)) => {
                if let Some(e) = only.get(&key) {
                    return e.0.max(1);
                }
            }
            None => {}
        }
        if self.seq.len() <= Self::ON_DEMAND_WORDS && !cache.contains_key(&len) {
            let all = self.index_length(len);
            let n = all.get(&key).map_or(1, |e| e.0.max(1));
            cache.insert(len, Windows::All(all));
            return n;
        }
        drop(cache);
        self.count_direct(words, k).max(1)
    }
}

/// [`RepeatCounter::count_ids`] for a document that is read as a stream of word ids and never
/// held. The sequences to count are added first ([`StreamedRepeats::add`], knowing how often
/// each word occurs in the document), then the document's content-word ids are fed in order
/// ([`StreamedRepeats::push`]), and [`StreamedRepeats::counts`] answers each sequence with the
/// number `count_ids` gives after [`RepeatCounter::prepare`] of the same sequences: the same
/// choice between counting by window hash and counting exact matches, the same hashes, the same
/// non-overlap rule. Memory is in proportion to the distinct sequences (each kept once) and the
/// longest of them, not to the document.
#[derive(Debug, Default)]
pub struct StreamedRepeats {
    /// Occurrences of each word id in the document, and its number of words.
    word_counts: Vec<usize>,
    doc_words: usize,
    /// Per sequence added: how its count is found.
    answers: Vec<Answer>,
    /// The distinct sequences, end to end.
    words: Vec<u32>,
    /// Per distinct sequence: where it is and how it is counted.
    seqs: Vec<Seq>,
    /// Hash of a distinct sequence → the last one added with that hash; `same_hash` chains the
    /// others (emptied by `plan`).
    by_hash: HashMap<u64, u32>,
    same_hash: Vec<u32>,
    /// Per length: what counting the sequences that are not cheap to count directly would cost
    /// directly (as `prepare` sums it, over every sequence added).
    direct_cost: HashMap<usize, usize>,
    /// Rarest word id → the exact sequences aligned on it.
    by_rarest: HashMap<u32, Vec<u32>>,
    /// Per hashed length: its rolling hash state and the windows wanted.
    hashed: Vec<HashedLength>,
    /// The last `ring.len()` ids fed (the longest sequence's length).
    ring: Vec<u32>,
    /// Checks due when the word at a position arrives (ring-indexed like `ring`): (sequence,
    /// start of its window).
    due: Vec<Vec<(u32, usize)>>,
    /// Ids fed so far.
    fed: usize,
}

#[derive(Debug, Clone, Copy)]
enum Answer {
    /// Known without looking at windows.
    Fixed(usize),
    /// The count of distinct sequence `k`.
    Seq(u32),
}

/// No sequence (the end of a `same_hash` chain).
const NO_SEQ: u32 = u32::MAX;

#[derive(Debug)]
struct Seq {
    start: usize,
    len: usize,
    /// Offset of the rarest word (the first of the rarest) and the cost of a direct count.
    rarest: usize,
    cost: usize,
    how: Counted,
}

#[derive(Debug, Clone, Copy)]
enum Counted {
    /// As exact matches: how many, and the start of the last one counted.
    Exact { count: usize, last: Option<usize> },
    /// By window hash `key` among the windows of `hashed[k]`.
    Hashed(u32, u64),
}

#[derive(Debug)]
struct HashedLength {
    len: usize,
    /// `REPEAT_BASE^(len-1)`.
    top: u64,
    hash: u64,
    windows: WindowCounts,
}

impl StreamedRepeats {
    /// Ready for the sequences of a document of `doc_words` content words where id `i` occurs
    /// `word_counts[i]` times.
    pub fn new(word_counts: Vec<usize>, doc_words: usize) -> Self {
        StreamedRepeats {
            word_counts,
            doc_words,
            ..StreamedRepeats::default()
        }
    }

    /// Adds a sequence to count (the word ids of a span, as `count_ids` takes them).
    pub fn add(&mut self, words: &[u32]) {
        let Some((rarest, cost)) = plan_count(&self.word_counts, words) else {
            let n = match words {
                [id] => self.word_counts.get(*id as usize).map_or(1, |&c| c.max(1)),
                _ => 1,
            };
            self.answers.push(Answer::Fixed(n));
            return;
        };
        if cost > RepeatCounter::DIRECT_COST {
            let e = self.direct_cost.entry(words.len()).or_default();
            *e = e.saturating_add(cost);
        }
        let h = RepeatCounter::window_hash(words.iter().copied());
        let mut at = self.by_hash.get(&h).copied().unwrap_or(NO_SEQ);
        while let Some(s) = self.seqs.get(at as usize) {
            if self.words.get(s.start..s.start + s.len) == Some(words) {
                self.answers.push(Answer::Seq(at));
                return;
            }
            at = self.same_hash.get(at as usize).copied().unwrap_or(NO_SEQ);
        }
        let k = self.seqs.len() as u32;
        self.seqs.push(Seq {
            start: self.words.len(),
            len: words.len(),
            rarest,
            cost,
            how: Counted::Exact {
                count: 0,
                last: None,
            },
        });
        self.words.extend_from_slice(words);
        self.same_hash
            .push(self.by_hash.insert(h, k).unwrap_or(NO_SEQ));
        self.answers.push(Answer::Seq(k));
    }

    /// Decides, once every sequence is added, how each is counted (as `prepare` and
    /// `count_ids` would), ready for [`StreamedRepeats::push`].
    pub fn plan(&mut self) {
        self.by_hash = HashMap::default();
        self.same_hash = Vec::new();
        let long = self.doc_words > RepeatCounter::ON_DEMAND_WORDS;
        let mut hashed_ids: HashMap<usize, u32> = HashMap::default();
        for (k, s) in self.seqs.iter_mut().enumerate() {
            let direct = self.direct_cost.get(&s.len).copied().unwrap_or(0);
            if s.cost <= RepeatCounter::DIRECT_COST || (long && direct <= self.doc_words) {
                if let Some(&w) = self.words.get(s.start + s.rarest) {
                    self.by_rarest.entry(w).or_default().push(k as u32);
                }
                continue;
            }
            let next = self.hashed.len() as u32;
            let h = *hashed_ids.entry(s.len).or_insert(next);
            if h == next {
                self.hashed.push(HashedLength {
                    len: s.len,
                    top: (1..s.len).fold(1u64, |p, _| p.wrapping_mul(REPEAT_BASE)),
                    hash: 0,
                    windows: WindowCounts::default(),
                });
            }
            let words = self.words.get(s.start..s.start + s.len).unwrap_or_default();
            let key = RepeatCounter::window_hash(words.iter().copied());
            if let Some(l) = self.hashed.get_mut(h as usize) {
                l.windows.entry(key).or_insert((0, usize::MAX));
            }
            s.how = Counted::Hashed(h, key);
        }
        let longest = self.seqs.iter().map(|s| s.len).max().unwrap_or(0).max(1);
        self.ring = vec![0; longest];
        self.due = vec![Vec::new(); longest];
    }

    /// Feeds the next content word of the document (its id).
    pub fn push(&mut self, id: u32) {
        let n = self.ring.len();
        let j = self.fed;
        let slot = j % n;
        // The id leaving the longest window (fed `n` words ago) is still in its slot.
        let old = self.ring[slot];
        self.ring[slot] = id;
        self.fed += 1;
        for l in &mut self.hashed {
            // As `count_windows`: the first window is hashed whole, the next ones rolled.
            if j + 1 < l.len {
                l.hash = l.hash.wrapping_mul(REPEAT_BASE).wrapping_add(word_hash(id));
                continue;
            }
            if j + 1 == l.len {
                l.hash = l.hash.wrapping_mul(REPEAT_BASE).wrapping_add(word_hash(id));
            } else {
                let leaving = if l.len == n {
                    old
                } else {
                    self.ring[(j + n - l.len) % n]
                };
                l.hash = l
                    .hash
                    .wrapping_sub(word_hash(leaving).wrapping_mul(l.top))
                    .wrapping_mul(REPEAT_BASE)
                    .wrapping_add(word_hash(id));
            }
            let i = j + 1 - l.len;
            if let Some(e) = l.windows.get_mut(&l.hash) {
                if e.1 == usize::MAX || i > e.1 + l.len {
                    e.0 += 1;
                    e.1 = i;
                }
            }
        }
        // Exact sequences whose rarest word this is: check their window when its last word
        // has arrived.
        if let Some(seqs) = self.by_rarest.get(&id) {
            for &e in seqs {
                let Some(s) = self.seqs.get(e as usize) else {
                    continue;
                };
                let Some(start) = j.checked_sub(s.rarest) else {
                    continue;
                };
                let end = start + s.len - 1;
                self.due[end % n].push((e, start));
            }
        }
        let due = std::mem::take(&mut self.due[slot]);
        for &(e, start) in &due {
            let Some(s) = self.seqs.get_mut(e as usize) else {
                continue;
            };
            let words = self.words.get(s.start..s.start + s.len).unwrap_or_default();
            let same = words
                .iter()
                .enumerate()
                .all(|(k, &w)| self.ring[(start + k) % n] == w);
            if let Counted::Exact { count, last } = &mut s.how {
                if same && last.is_none_or(|l| start > l + s.len) {
                    *count += 1;
                    *last = Some(start);
                }
            }
        }
        let mut due = due;
        due.clear();
        self.due[slot] = due;
    }

    /// The count of each sequence, in the order they were added, once the whole document has
    /// been fed.
    pub fn counts(&self) -> impl Iterator<Item = usize> + '_ {
        self.answers.iter().map(|a| match *a {
            Answer::Fixed(n) => n,
            Answer::Seq(e) => match self.seqs.get(e as usize).map(|s| s.how) {
                Some(Counted::Exact { count, .. }) => count.max(1),
                Some(Counted::Hashed(h, key)) => self
                    .hashed
                    .get(h as usize)
                    .and_then(|l| l.windows.get(&key))
                    .map_or(1, |e| e.0.max(1)),
                None => 1,
            },
        })
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
        let mut look = Lookup::new(&self.index);
        sentence_terms(tokens, lexicon, &mut look);
        let mut counts: Vec<(u32, f32)> = look.found.iter().map(|x| (x.0, x.2)).collect();
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

    /// A document longer than `ON_DEMAND_WORDS`, of three frequent words (so every sequence
    /// takes the window passes): sequences registered with `prepare` are counted by the
    /// filtered pass, the others directly; both follow the reference rule.
    #[test]
    fn prepared_and_direct_counts_follow_the_rule_in_long_documents() {
        let mut x = 12345u64;
        let mut words = Vec::new();
        while words.len() < RepeatCounter::ON_DEMAND_WORDS + 5000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            words.push(["a", "b", "c", "a", "b", ","][(x >> 33) as usize % 6]);
        }
        let doc = toks(&words.join(" "));
        let ids = |c: &RepeatCounter, span: &[Token]| -> Vec<u32> {
            span.iter()
                .filter(|t| !t.is_punct())
                .map(|t| c.ids[t.norm.as_str()])
                .collect()
        };
        let spans: Vec<&[Token]> = (0..doc.len() - 8)
            .step_by(997)
            .flat_map(|i| (2..=7).map(move |n| i..i + n))
            .map(|r| &doc[r])
            .collect();
        let prepared = RepeatCounter::new(&doc);
        let registered: Vec<Vec<u32>> = spans.iter().map(|s| ids(&prepared, s)).collect();
        prepared.prepare(registered.iter().map(Vec::as_slice));
        let unprepared = RepeatCounter::new(&doc);
        let mut counts = std::collections::BTreeSet::new();
        for span in &spans {
            let want = reference_count(&doc, span);
            assert_eq!(prepared.count(span), want);
            assert_eq!(unprepared.count(span), want);
            counts.insert(want);
        }
        // Counts vary, and the long sequences are rare: the comparison can tell them apart.
        assert!(counts.len() > 10 && counts.contains(&1), "{counts:?}");
        assert!(matches!(
            prepared.windows.borrow().get(&3),
            Some(Windows::Only(_))
        ));
    }

    /// `StreamedRepeats` answers every sequence as `RepeatCounter::count_ids` does after
    /// `prepare` (as `Analyzer::write_json` uses it): short and long documents (either side of
    /// `ON_DEMAND_WORDS`), small vocabularies (every word frequent: sequences counted by window
    /// hash) and large ones (rare words: counted as exact matches), sequences taken from the
    /// document (overlapping, adjacent and repeated occurrences) and absent ones.
    #[test]
    fn streamed_repeats_equal_the_repeat_counter() {
        let mut rng = crate::test_rng::XorShift::new(0x9E37_79B9_7F4A_7C15);
        let mut next = move || rng.next();
        let mut kinds = std::collections::HashSet::new();
        for (words, vocab) in [
            (60, 3),
            (400, 20),
            (5_000, 8),
            (5_000, 2_000),
            (20_000, 12),
            (20_000, 4_000),
            (40_000, 40),
        ] {
            // Word ids skewed towards small ones, with runs that repeat earlier stretches.
            let mut seq: Vec<u32> = Vec::with_capacity(words);
            while seq.len() < words {
                if seq.len() > 20 && next() % 8 == 0 {
                    let len = (next() % 12 + 1) as usize;
                    let from = (next() as usize) % (seq.len() - len);
                    for k in 0..len.min(words - seq.len()) {
                        seq.push(seq[from + k]);
                    }
                } else {
                    let a = next() % vocab;
                    seq.push((a * (next() % vocab) / vocab) as u32);
                }
            }
            let n_ids = vocab as usize + 3;
            let mut word_counts = vec![0usize; n_ids];
            for &id in &seq {
                word_counts[id as usize] += 1;
            }
            let mut queries: Vec<Vec<u32>> = vec![vec![], vec![vocab as u32 + 1], vec![1, 2]];
            for _ in 0..600 {
                let len = (next() % 40 + 1) as usize;
                let at = (next() as usize) % (seq.len() - len.min(seq.len() - 1));
                let end = (at + len).min(seq.len());
                queries.push(seq[at..end].to_vec());
            }
            for _ in 0..50 {
                let len = (next() % 6 + 2) as usize;
                queries.push((0..len).map(|_| (next() % vocab) as u32).collect());
            }
            let counter = RepeatCounter::from_ids(seq.clone(), n_ids);
            if counter.word_count() > RepeatCounter::ON_DEMAND_WORDS {
                counter.prepare(queries.iter().map(|q| q.as_slice()));
            }
            let want: Vec<usize> = queries.iter().map(|q| counter.count_ids(q)).collect();
            let mut streamed = StreamedRepeats::new(word_counts, seq.len());
            for q in &queries {
                streamed.add(q);
            }
            streamed.plan();
            for a in &streamed.answers {
                kinds.insert(match *a {
                    Answer::Fixed(_) => 0,
                    Answer::Seq(e) => match streamed.seqs[e as usize].how {
                        Counted::Exact { .. } => 1,
                        Counted::Hashed(..) => 2,
                    },
                });
            }
            for &id in &seq {
                streamed.push(id);
            }
            let got: Vec<usize> = streamed.counts().collect();
            assert_eq!(got, want, "{words} words over {vocab} ids");
            assert!(
                want.iter().any(|&c| c > 2),
                "{words} words over {vocab} ids"
            );
        }
        assert_eq!(kinds.len(), 3, "every kind of answer was exercised");
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
    fn registered_direct_counts_equal_unregistered_ones() {
        let doc = toks("a b a b x a b , a b c a b a b a b . no no no no, c a b c a b q r q r");
        let ids = |span: &[Token]| -> Vec<u32> {
            let counter = RepeatCounter::new(&doc);
            span.iter()
                .filter(|t| !t.is_punct())
                .filter_map(|t| counter.ids.get(t.norm.as_str()).copied())
                .collect()
        };
        let mut spans = Vec::new();
        for i in 0..doc.len() {
            for j in i + 1..(i + 6).min(doc.len()) {
                spans.push(ids(&doc[i..j]));
            }
        }
        let plain = RepeatCounter::new(&doc);
        let registered = RepeatCounter::new(&doc);
        registered.prepare(spans.iter().map(|s| s.as_slice()));
        assert!(!registered.positions.borrow().is_empty());
        for (k, words) in spans.iter().enumerate() {
            assert_eq!(
                registered.count_ids(words),
                plain.count_ids(words),
                "{words:?}"
            );
            // Half registered again (no new pass), half not registered at all.
            if k % 2 == 0 {
                registered.prepare([words.as_slice()]);
            }
        }
        assert!(plain.positions.borrow().is_empty());
    }

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
        let mut look = Lookup::new(&index);
        token_features(&t, 1, &lex, &ctx, &mut look);
        let got: Vec<(u32, Option<i8>)> = look.found.iter().map(|x| (x.0, x.1)).collect();
        assert_eq!(got, vec![(1, Some(1)), (2, None)]);
        look.clear();
        token_features(&t, 2, &lex, &ctx, &mut look);
        assert!(look.found.iter().any(|x| x.0 == 0 && x.1 == Some(0)));
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
