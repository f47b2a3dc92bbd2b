//! A small deterministic random sequence for the unit tests (xorshift64).

/// Marsaglia's xorshift64: each call of [`XorShift::next`] steps the state and returns it.
pub(crate) struct XorShift(u64);

impl XorShift {
    /// A sequence from `seed` (not zero).
    pub(crate) fn new(seed: u64) -> Self {
        XorShift(seed)
    }

    /// The next number of the sequence.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The `text` of every row of our own `datasets/*.jsonl` (and the `loaded`/`neutral` texts of
/// the pairs), then of the given `../shared/datasets` files when present (a note otherwise).
pub(crate) fn corpus_texts(shared_files: &[&str]) -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = ["documents.jsonl", "neutral.jsonl", "pairs.jsonl"]
        .iter()
        .map(|f| root.join("datasets").join(f))
        .collect();
    let shared = root.join("../shared/datasets");
    if shared.is_dir() {
        files.extend(shared_files.iter().map(|f| shared.join(f)));
    } else if !shared_files.is_empty() {
        eprintln!("note: ../shared/datasets is absent; compared on datasets/ only");
    }
    let mut texts = Vec::new();
    for f in files.iter().filter(|f| f.exists()) {
        for line in std::fs::read_to_string(f).unwrap_or_default().lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            for key in ["text", "loaded", "neutral"] {
                if let Some(t) = v.get(key).and_then(|t| t.as_str()) {
                    texts.push(t.to_string());
                }
            }
        }
    }
    texts
}
