//! Cue lexicons: word lists whose membership is a feature of the sentence, span and technique
//! heads. The lists are embedded in the fitted model (see `models/README.md` for their sources
//! and licences) so analysis needs nothing but the model.

use serde::{Deserialize, Serialize};
// FxHash: feature lookups are the hot path, and the keys are not attacker-chosen collisions
// that matter (a slow lookup is the worst case).
use rustc_hash::FxHashMap as HashMap;

/// Intensifiers and absolutes written by the slant project (not from any public list).
pub const INTENSIFIERS: &[&str] = &[
    "very",
    "extremely",
    "utterly",
    "totally",
    "completely",
    "absolutely",
    "truly",
    "deeply",
    "incredibly",
    "hugely",
    "massively",
    "wildly",
    "so",
    "really",
    "highly",
    "most",
    "least",
    "ever",
    "never",
    "always",
    "entirely",
    "simply",
    "outright",
    "sheer",
    "unprecedented",
    "unbelievable",
    "staggering",
    "stunning",
    "shocking",
    "literally",
    "blatantly",
    "clearly",
    "obviously",
    "undeniably",
    "grossly",
    "dangerously",
    "desperately",
    "brutally",
];

/// English function words (articles, pronouns, prepositions, conjunctions, auxiliaries),
/// written by the slant project. They never count as evidence: a loaded phrase is loaded because
/// of its content words, even when a function word carries model weight in context.
#[cfg(test)]
pub(crate) const FUNCTION_WORDS: &[&str] = &[
    "a", "an", "the", "this", "that", "these", "those", "some", "any", "each", "every", "no", "i",
    "me", "my", "we", "us", "our", "you", "your", "he", "him", "his", "she", "her", "it", "its",
    "they", "them", "their", "who", "whom", "whose", "which", "what", "there", "here", "of", "in",
    "on", "at", "by", "for", "with", "from", "to", "into", "onto", "about", "as", "than", "over",
    "under", "after", "before", "between", "through", "during", "without", "within", "against",
    "up", "down", "out", "off", "and", "or", "but", "nor", "so", "yet", "if", "because", "while",
    "when", "where", "whether", "though", "although", "is", "are", "was", "were", "be", "been",
    "being", "am", "do", "does", "did", "has", "have", "had", "will", "would", "shall", "should",
    "can", "could", "may", "might", "must", "not", "s", "t", "'s", "one", "also", "just", "then",
    "its", "which",
];

/// True for a normalised token that is a function word (see [`FUNCTION_WORDS`]).
pub fn is_function_word(norm: &str) -> bool {
    // The same set as `FUNCTION_WORDS.contains(&norm)` (checked by a test), as a `match` the
    // compiler turns into a switch on the length and a few comparisons, not a scan of the list.
    matches!(
        norm,
        "a" | "an"
            | "the"
            | "this"
            | "that"
            | "these"
            | "those"
            | "some"
            | "any"
            | "each"
            | "every"
            | "no"
            | "i"
            | "me"
            | "my"
            | "we"
            | "us"
            | "our"
            | "you"
            | "your"
            | "he"
            | "him"
            | "his"
            | "she"
            | "her"
            | "it"
            | "its"
            | "they"
            | "them"
            | "their"
            | "who"
            | "whom"
            | "whose"
            | "which"
            | "what"
            | "there"
            | "here"
            | "of"
            | "in"
            | "on"
            | "at"
            | "by"
            | "for"
            | "with"
            | "from"
            | "to"
            | "into"
            | "onto"
            | "about"
            | "as"
            | "than"
            | "over"
            | "under"
            | "after"
            | "before"
            | "between"
            | "through"
            | "during"
            | "without"
            | "within"
            | "against"
            | "up"
            | "down"
            | "out"
            | "off"
            | "and"
            | "or"
            | "but"
            | "nor"
            | "so"
            | "yet"
            | "if"
            | "because"
            | "while"
            | "when"
            | "where"
            | "whether"
            | "though"
            | "although"
            | "is"
            | "are"
            | "was"
            | "were"
            | "be"
            | "been"
            | "being"
            | "am"
            | "do"
            | "does"
            | "did"
            | "has"
            | "have"
            | "had"
            | "will"
            | "would"
            | "shall"
            | "should"
            | "can"
            | "could"
            | "may"
            | "might"
            | "must"
            | "not"
            | "s"
            | "t"
            | "'s"
            | "one"
            | "also"
            | "just"
            | "then"
    )
}

/// A set of named word lists; each word maps to the bit set of the lists it belongs to.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(from = "LexiconData", into = "LexiconData")]
pub struct Lexicon {
    names: Vec<String>,
    words: HashMap<String, u32>,
    /// The list names as feature-name pieces (hashes), derived from `names`.
    pieces: Vec<(u64, u64)>,
}

/// The serialised form of a [`Lexicon`] (list names, then words in key order).
#[derive(Serialize, Deserialize)]
struct LexiconData {
    names: Vec<String>,
    #[serde(serialize_with = "sorted")]
    words: HashMap<String, u32>,
}

/// Serialises a map in key order, so the same lexicon always gives the same bytes.
fn sorted<S: serde::Serializer>(map: &HashMap<String, u32>, s: S) -> Result<S::Ok, S::Error> {
    let ordered: std::collections::BTreeMap<&String, &u32> = map.iter().collect();
    ordered.serialize(s)
}

impl From<LexiconData> for Lexicon {
    fn from(d: LexiconData) -> Self {
        let mut l = Lexicon {
            names: d.names,
            words: d.words,
            pieces: Vec::new(),
        };
        l.refresh_pieces();
        l
    }
}

impl From<Lexicon> for LexiconData {
    fn from(l: Lexicon) -> Self {
        LexiconData {
            names: l.names,
            words: l.words,
        }
    }
}

impl Lexicon {
    /// An empty lexicon.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `word` (any case; stored lower-cased) to the list `list`. At most 32 lists.
    pub fn insert(&mut self, list: &str, word: &str) {
        let id = match self.names.iter().position(|n| n == list) {
            Some(i) => i,
            None if self.names.len() < 32 => {
                self.names.push(list.to_string());
                self.names.len() - 1
            }
            None => return,
        };
        *self.words.entry(word.to_lowercase()).or_insert(0) |= 1 << id;
        self.refresh_pieces();
    }

    fn refresh_pieces(&mut self) {
        self.pieces = self
            .names
            .iter()
            .map(|n| crate::hashing::hash_bytes(n.as_bytes()))
            .collect();
    }

    /// The bit set of the lists a token's normalised form belongs to.
    #[inline]
    pub fn bits_of(&self, token: &crate::tokens::Token) -> u32 {
        if self.words.is_empty() {
            return 0;
        }
        self.words.get(token.norm.as_str()).copied().unwrap_or(0)
    }

    /// The bit set of the lists a normalised word belongs to.
    pub fn bits_of_str(&self, word: &str) -> u32 {
        self.words.get(word).copied().unwrap_or(0)
    }

    /// All listed words (any order).
    pub fn words(&self) -> Vec<&str> {
        self.words.keys().map(String::as_str).collect()
    }

    /// The name of list `i` as a feature-name piece.
    #[inline]
    pub(crate) fn tag_piece(&self, i: usize) -> Option<crate::hashing::Piece<'_>> {
        let (n, &(h, p)) = (self.names.get(i)?, self.pieces.get(i)?);
        Some(crate::hashing::Piece::with_hash(n, h, p))
    }

    /// Adds the project's own intensifier list under the name `intensifier`.
    pub fn with_builtin(mut self) -> Self {
        for w in INTENSIFIERS {
            self.insert("intensifier", w);
        }
        self
    }

    /// The list names, in bit order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Number of distinct words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True when no word is listed.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Names of the lists a normalised word belongs to.
    pub fn tags<'a>(&'a self, word: &str) -> impl Iterator<Item = &'a str> + 'a {
        let bits = self.words.get(word).copied().unwrap_or(0);
        self.names
            .iter()
            .enumerate()
            .filter(move |(i, _)| bits & (1 << i) != 0)
            .map(|(_, n)| n.as_str())
    }

    /// True when the word is in at least one list.
    pub fn contains(&self, word: &str) -> bool {
        self.words.get(word).is_some_and(|b| *b != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_word_match_is_the_list() {
        for w in FUNCTION_WORDS {
            assert!(is_function_word(w), "{w}");
        }
        for w in [
            "", "A", "the ", "thee", "shameful", "'", "ss", "whic", "althoug", "betweens",
        ] {
            assert_eq!(is_function_word(w), FUNCTION_WORDS.contains(&w), "{w}");
        }
    }

    #[test]
    fn tags_by_list() {
        let mut l = Lexicon::new();
        l.insert("bias", "Slammed");
        l.insert("negative", "slammed");
        l.insert("hedge", "perhaps");
        let t: Vec<_> = l.tags("slammed").collect();
        assert_eq!(t, vec!["bias", "negative"]);
        assert!(l.contains("perhaps"));
        assert!(!l.contains("table"));
        assert_eq!(l.tags("table").count(), 0);
    }
}
