//! The heads' features found by table instead of by name: the compiled form of
//! [`crate::features`], built from the stored feature names when an `Analyzer` is made.
//!
//! Nothing here defines a feature. The feature functions of [`crate::features`] say which
//! features a sentence, token or span has, by calls on an [`Emit`]; [`Columns`] is the emitter
//! that answers each call with the column a lookup by name would find, from tables read off the
//! stored names:
//!
//! * one [`WordTable`] for all heads: every word of a stored one- or two-word name, and every
//!   lexicon word, with the columns of its one-word features (a slot per head and
//!   [`WordFeature`] that occurs among that head's names), its lexicon bits and the sides of the
//!   bigram families it occurs on. A token costs one probe of it (by the hash of its normalised
//!   form, confirmed against the stored word); its features are then array reads;
//! * per head ([`CompiledHead`]): the columns of the constant features and of every value of
//!   each tag feature (named by [`TagFeature::name`], the same function the named path uses),
//!   its bigrams by the pair of their words' table ids, and for the technique head the
//!   character n-grams of up to [`GRAM_BYTES`] bytes packed into integers.
//!
//! A name that is not in the tables is not stored, so it has no column; the one feature of a
//! word the table cannot know ahead is the suffix of a word absent from it, which is looked up by
//! name. The equality with the named path is tested per head on the corpora and on arbitrary
//! strings (`tests` below).

use crate::features::{At, Emit, FeatureIndex, Lit, Name, PairFeature, TagFeature, WordFeature};
use crate::hashing::Piece;
use crate::lexicon::Lexicon;
use crate::model::Model;
use crate::tokens::Token;

/// No column (the feature is not stored), and no word (the token is not in the table).
pub(crate) const NONE: u32 = u32::MAX;

/// The compiled heads of one model.
#[derive(Debug, Clone, Default)]
pub(crate) struct CompiledHeads {
    /// The words of every head.
    pub words: WordTable,
    pub sentence: CompiledHead,
    pub span: CompiledHead,
    pub technique: CompiledHead,
}

impl CompiledHeads {
    /// Reads the tables off `model`'s stored names.
    pub fn new(model: &Model) -> Self {
        let lexicon = &model.lexicon;
        let mut words = WordTable {
            index: IntMap::with_capacity(
                model.sentence.vectorizer.index.len()
                    + model.span.index.len()
                    + model.technique.index.len()
                    + model.lexicon.len(),
            ),
            ..WordTable::default()
        };
        // Pair slots: the sentence head's families take bits 0-5 of `pair_bits`, the span
        // head's 6-11, the technique head's 12-17 (two bits per family).
        let n = PairFeature::ALL.len();
        let sentence = CompiledHead::new(&model.sentence.vectorizer.index, lexicon, &mut words, 0);
        let span = CompiledHead::new(&model.span.index, lexicon, &mut words, n);
        let technique = CompiledHead::new(&model.technique.index, lexicon, &mut words, 2 * n);
        words.finish(
            lexicon,
            &[
                (&sentence, &model.sentence.vectorizer.index),
                (&span, &model.span.index),
                (&technique, &model.technique.index),
            ],
        );
        CompiledHeads {
            words,
            sentence,
            span,
            technique,
        }
    }
}

/// Every word of the heads' stored names and of the lexicon, with what it contributes.
#[derive(Debug, Clone, Default)]
pub(crate) struct WordTable {
    /// Hash of each word → its index.
    index: IntMap,
    /// The words, concatenated; `ends[k]` ends word `k`.
    text: String,
    ends: Vec<u32>,
    /// One row of `stride` numbers per word, so that a token's features read one place: its
    /// lexicon bits ([`LEX`]), its pair bits ([`PAIRS`]: bit `2s` when it is the first word of
    /// a stored bigram of pair slot `s`, bit `2s + 1` when it is the second), then a column per
    /// allocated slot ([`NONE`] when that feature of the word is not stored).
    rows: Vec<u32>,
    stride: usize,
    /// Word index of the sentinels `<s>` and `</s>` ([`NONE`] when absent).
    bos: u32,
    eos: u32,
}

impl WordTable {
    /// Index of the word `w`, when in the table.
    #[inline]
    pub fn find(&self, w: Piece<'_>) -> Option<u32> {
        self.index.find(w.hash, |k| self.word(k) == w.text)
    }

    /// Word indices (or [`NONE`]) of `tokens`, appended to `out`.
    pub fn ids(&self, tokens: &[Token], out: &mut Vec<u32>) {
        out.extend(tokens.iter().map(|t| self.find(t.piece()).unwrap_or(NONE)));
    }

    fn word(&self, k: u32) -> &str {
        let k = k as usize;
        let start = match k.checked_sub(1) {
            Some(j) => self.ends.get(j).map_or(0, |&e| e as usize),
            None => 0,
        };
        let end = self.ends.get(k).map_or(start, |&e| e as usize);
        self.text.get(start..end).unwrap_or_default()
    }

    /// The index of word `w`, added when absent.
    fn entry(&mut self, w: &str) -> u32 {
        let piece = Piece::new(w);
        if let Some(k) = self.find(piece) {
            return k;
        }
        let k = self.ends.len() as u32;
        self.text.push_str(w);
        self.ends.push(self.text.len() as u32);
        self.index.insert(piece.hash, k);
        k
    }

    /// A new column slot for every word (its place in the word's row).
    fn add_slot(&mut self) -> usize {
        self.stride = self.stride.max(FIRST_SLOT) + 1;
        self.stride - 1
    }

    /// Fills in the columns (after every head has added its words and slots), the lexicon bits
    /// and the suffix columns.
    fn finish(&mut self, lexicon: &Lexicon, heads: &[(&CompiledHead, &FeatureIndex)]) {
        for w in lexicon.words() {
            self.entry(w);
        }
        self.index.compact();
        let n = self.ends.len();
        self.stride = self.stride.max(FIRST_SLOT);
        let stride = self.stride;
        self.rows = vec![NONE; n * stride];
        for k in 0..n {
            self.rows[k * stride + LEX] = lexicon.bits_of_str(self.word(k as u32));
            self.rows[k * stride + PAIRS] = 0;
        }
        for &(head, index) in heads {
            for &(k, slot, c) in &head.pending {
                self.rows[k as usize * stride + slot] = c;
            }
            for &(a, b, s) in &head.pending_pairs {
                self.rows[a as usize * stride + PAIRS] |= 1 << (2 * s);
                self.rows[b as usize * stride + PAIRS] |= 1 << (2 * s + 1);
            }
            if let Some(slot) = head.suffix {
                for k in 0..n {
                    if let Some(s) = crate::features::suffix(self.word(k as u32)) {
                        let name = WordFeature::Suf.name(Piece::new(s));
                        self.rows[k * stride + slot] = col(index, name);
                    }
                }
            }
        }
        self.bos = self.find(Piece::new("<s>")).unwrap_or(NONE);
        self.eos = self.find(Piece::new("</s>")).unwrap_or(NONE);
    }

    /// The lexicon bits of word `k` (none for [`NONE`]).
    #[inline(always)]
    pub fn lex_of(&self, k: u32) -> u32 {
        match k {
            NONE => 0,
            k => self.col(k, LEX),
        }
    }

    /// Number `slot` of word `k`'s row ([`NONE`] beyond the table).
    #[inline(always)]
    fn col(&self, k: u32, slot: usize) -> u32 {
        self.rows
            .get(k as usize * self.stride + slot)
            .copied()
            .unwrap_or(NONE)
    }
}

/// Places in a [`WordTable`] row: the lexicon bits, the pair bits, the first column slot.
const LEX: usize = 0;
const PAIRS: usize = 1;
const FIRST_SLOT: usize = 2;

/// The column of `name` in `index`, or [`NONE`].
fn col(index: &FeatureIndex, name: Name<'_>) -> u32 {
    index.find(&name).unwrap_or(NONE)
}

/// One head's tables.
#[derive(Debug, Clone, Default)]
pub(crate) struct CompiledHead {
    /// Column of each [`Lit`].
    lits: [u32; Lit::ALL.len()],
    /// Per [`TagFeature`] (by index): the column of each value.
    tags: Vec<Vec<u32>>,
    /// Per [`WordFeature`] (by index): its slot in the word table, if the head has such names.
    slots: [Option<usize>; WordFeature::ALL.len()],
    /// The slot of `suf:`.
    suffix: Option<usize>,
    /// Per [`PairFeature`]: its pair slot and its bigrams by the words' indices ([`pair`]).
    pairs: [Option<(usize, IntMap)>; PairFeature::ALL.len()],
    /// The technique head's character n-grams of up to [`GRAM_BYTES`] bytes, by [`gram_key`]
    /// (all of them: a short n-gram that is not in it is not stored), each with the columns of
    /// its first 3 and 4 characters: one hit on a 5-gram answers the 3- and 4-gram at the same
    /// start too (measured: the n-gram probes were half the technique head's time).
    /// `None` when the head has 65,535 columns or more (they do not fit the table's 16 bits:
    /// every n-gram is then looked up by name).
    grams: Option<IntMap<[u16; 3]>>,
    /// (word, slot, column) and (first word, second word, pair slot) read off the names,
    /// written into the word table by [`WordTable::finish`].
    pending: Vec<(u32, usize, u32)>,
    pending_pairs: Vec<(u32, u32, usize)>,
}

impl CompiledHead {
    /// The tables of the head whose names are `index`; its words go into `words`, its pair
    /// families take the pair slots from `pair_base` on.
    fn new(
        index: &FeatureIndex,
        lexicon: &Lexicon,
        words: &mut WordTable,
        pair_base: usize,
    ) -> Self {
        let mut head = CompiledHead {
            tags: TagFeature::ALL
                .iter()
                .map(|f| {
                    (0..f.values(lexicon))
                        .map(|v| f.name(v, lexicon).map_or(NONE, |n| col(index, n)))
                        .collect()
                })
                .collect(),
            grams: gram_table(index),
            ..Default::default()
        };
        for (k, f) in Lit::ALL.iter().enumerate() {
            head.lits[k] = col(index, Name::lit(f.piece()));
        }
        let prefixes: Vec<(WordFeature, String)> = WordFeature::ALL
            .iter()
            .filter(|&&f| f != WordFeature::Suf)
            .map(|&f| (f, f.stored_prefix()))
            .collect();
        for (c, name) in index.columns() {
            if name.starts_with(crate::features::pieces::SUF.text) {
                if head.suffix.is_none() {
                    head.suffix = Some(words.add_slot());
                }
                continue;
            }
            if let Some((k, rest)) = PairFeature::ALL
                .iter()
                .enumerate()
                .find_map(|(k, f)| Some((k, name.strip_prefix(f.prefix().text)?)))
            {
                // Architecture invariant: a normalised token never holds a space, so the
                // space splits a stored bigram into its two words.
                if let Some((a, b)) = rest.split_once(' ') {
                    let (a, b) = (words.entry(a), words.entry(b));
                    let slot = pair_base + k;
                    let (_, map) = head.pairs[k]
                        .get_or_insert_with(|| (slot, IntMap::with_capacity(index.len() / 2)));
                    map.insert(pair(a, b), c);
                    head.pending_pairs.push((a, b, slot));
                }
                continue;
            }
            for (f, prefix) in &prefixes {
                if let Some(w) = name.strip_prefix(prefix.as_str()) {
                    let slot = *head.slots[f.index()].get_or_insert_with(|| words.add_slot());
                    let k = words.entry(w);
                    head.pending.push((k, slot, c));
                    break;
                }
            }
        }
        head.slots[WordFeature::Suf.index()] = head.suffix;
        for (_, map) in head.pairs.iter_mut().flatten() {
            map.compact();
        }
        head
    }
}

/// Key of a pair of word indices.
#[inline(always)]
fn pair(a: u32, b: u32) -> u64 {
    ((a as u64) << 32) | b as u64
}

/// Longest n-gram (in bytes) kept in the packed n-gram table; longer ones (non-ASCII
/// characters) are looked up by name.
pub(crate) const GRAM_BYTES: usize = 7;

/// A value of an [`IntMap`], with the value that marks an empty slot.
pub(crate) trait Value: Copy + PartialEq + Default {
    /// The empty slot (never stored).
    const EMPTY: Self;
}

impl Value for u32 {
    const EMPTY: Self = NONE;
}

/// An n-gram's column and those of its first 3 and 4 characters, in 16 bits (`u16::MAX` when
/// not stored or not shorter than the n-gram): a slot is 16 bytes, four to a cache line.
impl Value for [u16; 3] {
    const EMPTY: Self = [u16::MAX; 3];
}

/// A column of 16 bits as a column ([`NONE`] for `u16::MAX`).
#[inline(always)]
fn wide(c: u16) -> u32 {
    if c == u16::MAX {
        NONE
    } else {
        u32::from(c)
    }
}

/// A map of integer keys to values by open addressing, at most two-thirds full: a hit reads
/// one slot. The compiled heads' one kind of table (words by hash, bigrams by word indices,
/// n-grams by packed bytes).
#[derive(Debug, Clone, Default)]
pub(crate) struct IntMap<V = u32> {
    slots: Vec<(u64, V)>,
    shift: u32,
    len: usize,
    /// One bit per key (by a second hash), eight bits per slot: a key whose bit is clear is not
    /// in the table, which a lookup learns without touching the slots (measured: most bigram
    /// lookups are misses, and the bitmap stays in cache).
    filter: Vec<u64>,
    filter_shift: u32,
}

impl<V: Value> IntMap<V> {
    #[inline(always)]
    fn home(&self, key: u64) -> usize {
        (key.wrapping_mul(crate::hashing::BASE) >> (self.shift & 63)) as usize
    }

    /// An empty map with room for `n` keys.
    pub fn with_capacity(n: usize) -> Self {
        let mut map = IntMap::default();
        map.resize(n + n / 2 + 1);
        map
    }

    /// Adds `key` → `value` (a key added twice is found first with its first value).
    pub fn insert(&mut self, key: u64, value: V) {
        if 3 * (self.len + 1) > 2 * self.slots.len() {
            self.resize(2 * self.slots.len());
        }
        self.put(key, value);
    }

    /// The word and bit of `key` in the filter.
    #[inline(always)]
    fn filter_bit(&self, key: u64) -> (usize, u64) {
        let h = (key.wrapping_mul(0xD6E8_FEB8_6659_FD93) >> (self.filter_shift & 63)) as usize;
        (h >> 6, 1 << (h & 63))
    }

    /// Adds `key` → `value` into a free slot (there must be one).
    fn put(&mut self, key: u64, value: V) {
        let (w, b) = self.filter_bit(key);
        self.filter[w] |= b;
        let mask = self.slots.len() - 1;
        let mut at = self.home(key) & mask;
        while self.slots[at].1 != V::EMPTY {
            at = (at + 1) & mask;
        }
        self.slots[at] = (key, value);
        self.len += 1;
    }

    /// Rebuilds the table with `size` slots (rounded up to a power of two) and a filter of
    /// eight bits per slot.
    fn resize(&mut self, size: usize) {
        let size = size.max(16).next_power_of_two();
        let old = std::mem::replace(&mut self.slots, vec![(0, V::EMPTY); size]);
        self.shift = 64 - size.trailing_zeros();
        self.filter = vec![0; size / 8];
        self.filter_shift = 64 - (8 * size).trailing_zeros();
        self.len = 0;
        for (k, v) in old.into_iter().filter(|s| s.1 != V::EMPTY) {
            self.put(k, v);
        }
    }

    /// Shrinks a table grown by insertions to its smallest size at most two-thirds full: a
    /// smaller table stays in cache (measured: the bigram lookups of the sentence head miss it
    /// less).
    pub fn compact(&mut self) {
        let size = (self.len + self.len / 2 + 1).max(16).next_power_of_two();
        if size < self.slots.len() {
            self.resize(size);
        }
    }

    /// The first value stored under `key` for which `confirm` holds.
    #[inline(always)]
    pub fn find(&self, key: u64, confirm: impl Fn(V) -> bool) -> Option<V> {
        let (w, b) = self.filter_bit(key);
        if self.filter.get(w).is_none_or(|&x| x & b == 0) {
            return None;
        }
        let mask = self.slots.len().checked_sub(1)?;
        let mut at = self.home(key) & mask;
        loop {
            let (k, v) = *self.slots.get(at)?;
            if v == V::EMPTY {
                return None;
            }
            if k == key && confirm(v) {
                return Some(v);
            }
            at = (at + 1) & mask;
        }
    }

    /// The value stored under `key`, or the empty value.
    #[inline(always)]
    pub fn get(&self, key: u64) -> V {
        self.find(key, |_| true).unwrap_or(V::EMPTY)
    }
}

impl<V: Value> FromIterator<(u64, V)> for IntMap<V> {
    fn from_iter<I: IntoIterator<Item = (u64, V)>>(iter: I) -> Self {
        let items: Vec<(u64, V)> = iter.into_iter().collect();
        let mut map = IntMap::with_capacity(items.len());
        for (k, v) in items {
            map.insert(k, v);
        }
        map
    }
}

/// The n-gram table of the `c:` names of `index` (see [`CompiledHead::grams`]).
fn gram_table(index: &FeatureIndex) -> Option<IntMap<[u16; 3]>> {
    let narrow = |c: u32| u16::try_from(c).unwrap_or(u16::MAX);
    if index.len() >= usize::from(u16::MAX) {
        return None;
    }
    let grams: Vec<(&str, u32)> = index
        .columns()
        .filter_map(|(c, name)| Some((name.strip_prefix("c:")?, c)))
        .filter(|(g, _)| gram_key(g).is_some())
        .collect();
    let cols: IntMap = grams
        .iter()
        .filter_map(|&(g, c)| Some((gram_key(g)?, c)))
        .collect();
    let prefix = |g: &str, n: usize| match g.char_indices().nth(n) {
        Some((end, _)) => gram_key(&g[..end]).map_or(NONE, |k| cols.get(k)),
        None => NONE,
    };
    let entry = |g: &str, c: u32| [narrow(c), narrow(prefix(g, 3)), narrow(prefix(g, 4))];
    Some(
        grams
            .iter()
            .filter_map(|&(g, c)| Some((gram_key(g)?, entry(g, c))))
            .collect(),
    )
}

/// The packed key of an n-gram of 1 to [`GRAM_BYTES`] bytes.
#[inline]
fn gram_key(gram: &str) -> Option<u64> {
    let b = gram.as_bytes();
    if b.is_empty() || b.len() > GRAM_BYTES {
        return None;
    }
    let packed = b.iter().rev().fold(0u64, |k, &x| (k << 8) | x as u64);
    Some(packed | (b.len() as u64) << 56)
}

/// The emitter of the compiled heads: answers each feature of a feature function with its
/// column in `head` (features that are not stored are dropped), calling `out(column, anchor)`.
/// `ids` are the word-table indices of `tokens` ([`WordTable::ids`]).
pub(crate) struct Columns<'a, F> {
    pub head: &'a CompiledHead,
    /// The head's names (for the features the tables cannot hold).
    pub index: &'a FeatureIndex,
    pub words: &'a WordTable,
    pub tokens: &'a [Token],
    pub ids: &'a [u32],
    pub out: F,
}

impl<F: FnMut(u32, Option<i8>)> Columns<'_, F> {
    #[inline(always)]
    fn id(&self, at: At) -> u32 {
        match at {
            At::Tok(i) => self.ids.get(i).copied().unwrap_or(self.words.eos),
            At::Bos => self.words.bos,
            At::Eos => self.words.eos,
        }
    }

    #[inline(always)]
    fn put(&mut self, c: u32, anchor: Option<i8>) {
        if c != NONE {
            (self.out)(c, anchor);
        }
    }
}

impl<F: FnMut(u32, Option<i8>)> Emit for Columns<'_, F> {
    #[inline(always)]
    fn lit(&mut self, f: Lit, anchor: Option<i8>) {
        self.put(self.head.lits[f as usize], anchor);
    }

    #[inline(always)]
    fn word(&mut self, f: WordFeature, at: At, anchor: Option<i8>) {
        let Some(slot) = self.head.slots[f.index()] else {
            return;
        };
        let id = self.id(at);
        let c = if id != NONE {
            self.words.col(id, slot)
        } else if f == WordFeature::Suf {
            // The one feature of a word absent from the table that may be stored.
            match at {
                At::Tok(i) => self
                    .tokens
                    .get(i)
                    .and_then(|t| crate::features::suffix(&t.norm))
                    .map_or(NONE, |s| col(self.index, f.name(Piece::new(s)))),
                At::Bos | At::Eos => NONE,
            }
        } else {
            NONE
        };
        self.put(c, anchor);
    }

    #[inline(always)]
    fn pair(&mut self, f: PairFeature, a: At, b: At, anchor: Option<i8>) {
        let Some((slot, map)) = &self.head.pairs[f as usize] else {
            return;
        };
        let (a, b) = (self.id(a), self.id(b));
        if a == NONE || b == NONE {
            return;
        }
        let (first, second) = (1u32 << (2 * slot), 1u32 << (2 * slot + 1));
        if self.words.col(a, PAIRS) & first == 0 || self.words.col(b, PAIRS) & second == 0 {
            return;
        }
        let c = map.get(pair(a, b));
        self.put(c, anchor);
    }

    #[inline(always)]
    fn tag(&mut self, f: TagFeature, v: usize, anchor: Option<i8>) {
        let c = self.head.tags[f.index()].get(v).copied().unwrap_or(NONE);
        self.put(c, anchor);
    }

    #[inline(always)]
    fn grams(&mut self, grams: [Option<&str>; 3]) {
        // From the longest: a stored n-gram's entry gives the shorter ones at its start.
        let mut cols = [NONE; 3];
        for k in (0..3).rev() {
            let Some(g) = grams[k] else { continue };
            let (Some(key), Some(table)) = (gram_key(g), &self.head.grams) else {
                cols[k] = col(self.index, crate::features::gram_name(g));
                continue;
            };
            let [c, p3, p4] = table.get(key).map(wide);
            if c != NONE {
                cols[k] = c;
                if k >= 1 {
                    cols[0] = p3;
                }
                if k == 2 {
                    cols[1] = p4;
                }
                break;
            }
        }
        for c in cols {
            self.put(c, None);
        }
    }

    #[inline(always)]
    fn lex(&self, i: usize) -> u32 {
        self.ids.get(i).map_or(0, |&id| self.words.lex_of(id))
    }
}
