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
//! Features are generated as names (strings) into a [`Sink`]. At training time the sink interns
//! names and counts document frequencies ([`Interner`]); at analysis time it looks them up in the
//! fitted [`FeatureIndex`] and never allocates a dense row.

use crate::lexicon::Lexicon;
use crate::tokens::Token;
use serde::{Deserialize, Serialize};
// FxHash: feature lookups are the hot path, and the keys are not attacker-chosen collisions
// that matter (a slow lookup is the worst case).
use rustc_hash::FxHashMap as HashMap;

/// Receives generated features.
pub trait Sink {
    /// One feature occurrence: its name, the token it describes relative to the current token
    /// (`None` for context features that describe no single word), and its value.
    fn emit(&mut self, name: &str, anchor: Option<i8>, value: f32);
}

/// A sparse row: (column, value) pairs.
pub type SparseRow = Vec<(u32, f32)>;

/// Maps feature names to columns (the fitted vocabulary of one head). Serialised as the list of
/// names in column order, so the same fit always gives the same bytes.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(from = "Vec<String>", into = "Vec<String>")]
pub struct FeatureIndex {
    map: HashMap<String, u32>,
}

impl From<Vec<String>> for FeatureIndex {
    fn from(names: Vec<String>) -> Self {
        FeatureIndex::from_names(names)
    }
}

impl From<FeatureIndex> for Vec<String> {
    fn from(index: FeatureIndex) -> Self {
        let mut v: Vec<(String, u32)> = index.map.into_iter().collect();
        v.sort_by_key(|x| x.1);
        v.into_iter().map(|x| x.0).collect()
    }
}

impl FeatureIndex {
    /// Builds an index from names in column order.
    pub fn from_names(names: Vec<String>) -> Self {
        let map = names
            .into_iter()
            .enumerate()
            .map(|(i, n)| (n, i as u32))
            .collect();
        FeatureIndex { map }
    }

    /// Column of a feature name.
    pub fn get(&self, name: &str) -> Option<u32> {
        self.map.get(name).copied()
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when the index has no column.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Names in column order.
    pub fn names(&self) -> Vec<&str> {
        let mut v: Vec<(&str, u32)> = self.map.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        v.sort_by_key(|x| x.1);
        v.into_iter().map(|x| x.0).collect()
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
    fn emit(&mut self, name: &str, anchor: Option<i8>, value: f32) {
        if let Some(col) = self.index.and_then(|i| i.get(name)) {
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
    fn emit(&mut self, name: &str, _anchor: Option<i8>, value: f32) {
        let id = match self.ids.get(name) {
            Some(&id) => id,
            None => {
                let id = self.names.len() as u32;
                self.ids.insert(name.to_string(), id);
                self.names.push(name.to_string());
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

/// Writes `prefix` + `value` into `buf` and emits it.
fn emit2(sink: &mut impl Sink, buf: &mut String, prefix: &str, value: &str, anchor: Option<i8>) {
    buf.clear();
    buf.push_str(prefix);
    buf.push_str(value);
    sink.emit(buf, anchor, 1.0);
}

fn emit3(
    sink: &mut impl Sink,
    buf: &mut String,
    prefix: &str,
    a: &str,
    b: &str,
    anchor: Option<i8>,
) {
    buf.clear();
    buf.push_str(prefix);
    buf.push_str(a);
    buf.push(' ');
    buf.push_str(b);
    sink.emit(buf, anchor, 1.0);
}

/// The bag of terms shared by the sentence and technique heads: unigrams (`w:`), bigrams (`b:`),
/// lexicon tags (`lx:`) and all-caps words (`caps`) of `tokens`.
fn bag_of_terms(tokens: &[Token], lexicon: &Lexicon, sink: &mut impl Sink, buf: &mut String) {
    for (i, t) in tokens.iter().enumerate() {
        emit2(sink, buf, "w:", &t.norm, None);
        if let Some(next) = tokens.get(i + 1) {
            emit3(sink, buf, "b:", &t.norm, &next.norm, None);
        }
        for tag in lexicon.tags(&t.norm) {
            emit2(sink, buf, "lx:", tag, None);
        }
        if t.shape == "X" {
            sink.emit("caps", None, 1.0);
        }
    }
}

/// Terms of one sentence for the TF-IDF sentence head (see `bag_of_terms`; punctuation such as
/// `!` and quotes are unigrams too).
pub fn sentence_terms(tokens: &[Token], lexicon: &Lexicon, sink: &mut impl Sink) {
    bag_of_terms(tokens, lexicon, sink, &mut String::new());
}

/// Per-sentence context shared by the token features of one sentence.
#[derive(Debug, Clone)]
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
        let mut quoted = Vec::with_capacity(tokens.len());
        let mut inside = false;
        for t in tokens {
            let is_quote = t.norm == "\"";
            if is_quote {
                inside = !inside;
            }
            quoted.push(inside && !is_quote);
        }
        let hits: Vec<bool> = tokens.iter().map(|t| lexicon.contains(&t.norm)).collect();
        let density = (0..tokens.len())
            .map(|i| {
                let lo = i.saturating_sub(3);
                let hi = (i + 4).min(tokens.len());
                (lo..hi).filter(|&j| j != i && hits[j]).count().min(255) as u8
            })
            .collect();
        SentenceContext {
            sentence_prob,
            quoted,
            density,
        }
    }
}

fn bucket(p: f32, n: usize) -> usize {
    ((p.clamp(0.0, 1.0) * n as f32) as usize).min(n - 1)
}

const BUCKET_NAMES: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// Features of token `i` of a sentence for the span head.
pub fn token_features(
    tokens: &[Token],
    i: usize,
    lexicon: &Lexicon,
    ctx: &SentenceContext,
    sink: &mut impl Sink,
) {
    let mut buf = String::new();
    let word = |k: isize| -> &str {
        let j = i as isize + k;
        if j < 0 {
            "<s>"
        } else {
            tokens.get(j as usize).map_or("</s>", |t| t.norm.as_str())
        }
    };
    sink.emit("bias", None, 1.0);
    emit2(sink, &mut buf, "w0:", word(0), Some(0));
    for (k, p) in [(-1isize, "w-1:"), (1, "w+1:"), (-2, "w-2:"), (2, "w+2:")] {
        emit2(sink, &mut buf, p, word(k), Some(k as i8));
    }
    emit3(sink, &mut buf, "b-1:", word(-1), word(0), Some(0));
    emit3(sink, &mut buf, "b+1:", word(0), word(1), Some(0));
    let t = &tokens[i];
    let n = t.norm.chars().count();
    if n > 4 {
        let suffix: String = t.norm.chars().skip(n - 3).collect();
        emit2(sink, &mut buf, "suf:", &suffix, Some(0));
    }
    emit2(sink, &mut buf, "sh0:", t.shape, Some(0));
    for (k, p0) in [
        (-2isize, "lx-2:"),
        (-1, "lx-1:"),
        (0, "lx0:"),
        (1, "lx+1:"),
        (2, "lx+2:"),
    ] {
        let j = i as isize + k;
        if j < 0 || j as usize >= tokens.len() {
            continue;
        }
        for tag in lexicon.tags(&tokens[j as usize].norm) {
            emit2(sink, &mut buf, p0, tag, Some(k as i8));
        }
    }
    if ctx.quoted.get(i).copied().unwrap_or(false) {
        sink.emit("quoted", None, 1.0);
    }
    let d = ctx.density.get(i).copied().unwrap_or(0).min(4) as usize;
    emit2(sink, &mut buf, "dens:", BUCKET_NAMES[d], None);
    let b = bucket(ctx.sentence_prob, 10);
    emit2(sink, &mut buf, "sp:", BUCKET_NAMES[b], None);
    emit3(
        sink,
        &mut buf,
        "spw:",
        BUCKET_NAMES[b / 2],
        word(0),
        Some(0),
    );
    if i == 0 {
        sink.emit("first", None, 1.0);
    }
    if i + 1 == tokens.len() {
        sink.emit("last", None, 1.0);
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
    let mut buf = String::new();
    let span = &tokens[range.clone()];
    sink.emit("bias", None, 1.0);
    bag_of_terms(span, lexicon, sink, &mut buf);
    if let (Some(f), Some(l)) = (span.first(), span.last()) {
        emit2(sink, &mut buf, "first:", &f.norm, None);
        emit2(sink, &mut buf, "last:", &l.norm, None);
    }
    span_char_ngrams(span, sink, &mut buf);
    let len = match span.len() {
        0..=1 => "1",
        2 => "2",
        3 => "3",
        4..=6 => "4-6",
        7..=12 => "7-12",
        _ => "13+",
    };
    emit2(sink, &mut buf, "len:", len, None);
    for (k, p) in [(-2isize, "l2:"), (-1, "l1:")] {
        let j = range.start as isize + k;
        let w = if j < 0 {
            "<s>"
        } else {
            tokens[j as usize].norm.as_str()
        };
        emit2(sink, &mut buf, p, w, None);
    }
    for (k, p) in [(0usize, "r1:"), (1, "r2:")] {
        let w = tokens
            .get(range.end + k)
            .map_or("</s>", |t| t.norm.as_str());
        emit2(sink, &mut buf, p, w, None);
    }
    let rep = match repeats {
        0..=1 => "1",
        2 => "2",
        _ => "3+",
    };
    emit2(sink, &mut buf, "rep:", rep, None);
}

/// Character 3-, 4- and 5-grams (`c:`) of the span's normalised tokens joined by single spaces.
/// They let the technique head share evidence between inflections and rare words ("demonize",
/// "demonizing"), which word features cannot: on the TC hold-out they lift micro-F1 by ~3–5
/// points (docs/EVALUATION.md).
fn span_char_ngrams(span: &[Token], sink: &mut impl Sink, buf: &mut String) {
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
            emit2(sink, buf, "c:", &joined[bounds[i]..bounds[i + n]], None);
        }
    }
}

/// Counts how often a token sequence's normalised words occur in a document (for Repetition).
///
/// Punctuation is ignored. Occurrences are counted left to right and must not overlap or touch:
/// after an occurrence at word `i` of a sequence of `L` words, the next one counts from word
/// `i + L + 1` (a repeat directly adjacent to the previous one is not counted; this is the rule
/// the shipped model was trained with). Windows are compared by a 64-bit rolling hash of word
/// ids, computed once per distinct sequence length, so a document costs O(words) per length
/// rather than O(words) per span.
#[derive(Debug, Default)]
pub struct RepeatCounter {
    ids: HashMap<String, u32>,
    /// The document's content words as ids.
    seq: Vec<u32>,
    /// Occurrences of each word id.
    word_counts: Vec<usize>,
    /// Per sequence length: window hash → (count, start of the last counted window).
    windows: std::cell::RefCell<HashMap<usize, WindowCounts>>,
}

/// Window hash → (occurrences counted, start of the last counted window).
type WindowCounts = HashMap<u64, (usize, usize)>;

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
            let id = *ids.entry(t.norm.clone()).or_insert(next);
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
        }
    }

    fn window_hash(ids: impl Iterator<Item = u32>) -> u64 {
        ids.fold(0u64, |h, id| {
            h.wrapping_mul(REPEAT_BASE).wrapping_add(word_hash(id))
        })
    }

    /// Counts of every window of `len` words (rolling hash, one pass).
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

    /// Occurrences of the span's word sequence in the document (at least 1).
    pub fn count(&self, span: &[Token]) -> usize {
        let mut words = Vec::new();
        for t in span.iter().filter(|t| !t.is_punct()) {
            match self.ids.get(&t.norm) {
                Some(&id) => words.push(id),
                None => return 1,
            }
        }
        match words.len() {
            0 => 1,
            1 => self.word_counts[words[0] as usize].max(1),
            len => {
                let key = Self::window_hash(words.iter().copied());
                let mut cache = self.windows.borrow_mut();
                let windows = cache.entry(len).or_insert_with(|| self.index_length(len));
                windows.get(&key).map_or(1, |e| e.0.max(1))
            }
        }
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
}
