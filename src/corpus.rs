//! Reading annotated corpora (an edge module: the only other file-system access of the library).
//!
//! Three JSONL schemas are read into one [`Document`] type with **byte** offsets:
//! PTC (SemEval-2020 Task 11), BABE, and the project's own `datasets/` files (PTC schema plus
//! `pair_id`/`variant`/`split`). Code-point offsets are converted once, here, and each span's
//! `text` (when the row gives one) is checked against the slice it names.

use crate::error::{Error, Result};
use crate::lexicon::Lexicon;
use crate::text::CharOffsets;
use serde_json::Value;
use std::io::BufRead;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One annotated document, offsets in bytes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    /// Corpus id.
    pub id: String,
    /// The text.
    pub text: String,
    /// Gold loaded/propaganda spans (technique-agnostic), sorted and merged.
    pub spans: Vec<Range<usize>>,
    /// Gold technique instances (may overlap).
    pub techniques: Vec<(Range<usize>, String)>,
    /// Document-level label when the corpus has one (BABE: Biased = true).
    pub label: Option<bool>,
    /// Own data: minimal-pair id and whether this is the loaded member.
    pub pair: Option<(String, bool)>,
    /// Own data: `train` or `test`.
    pub split: Option<String>,
}

/// The corpora `slant train` and `slant eval` read.
#[derive(Debug, Clone, Default)]
pub struct Corpora {
    /// PTC train articles.
    pub ptc_train: Vec<Document>,
    /// PTC dev articles.
    pub ptc_dev: Vec<Document>,
    /// BABE train sentences.
    pub babe_train: Vec<Document>,
    /// BABE dev sentences.
    pub babe_dev: Vec<Document>,
    /// The project's own annotated documents.
    pub own: Vec<Document>,
    /// Cue lexicons.
    pub lexicon: Lexicon,
    /// Ids of the PTC train articles held out for technique classification.
    pub tc_holdout: std::collections::BTreeSet<String>,
}

/// The 14 technique labels of SemEval-2020 Task 11, in the official spelling.
pub const TECHNIQUES: [&str; 14] = {
    let mut names = [""; 14];
    let mut i = 0;
    while i < names.len() {
        names[i] = crate::report::Technique::ALL[i].as_str();
        i += 1;
    }
    names
};

fn read_lines(path: &Path) -> Result<Vec<(usize, Value)>> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| Error::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: Value =
            serde_json::from_str(&line).map_err(|e| corpus_err(path, i + 1, e.to_string()))?;
        out.push((i + 1, v));
    }
    Ok(out)
}

fn corpus_err(path: &Path, line: usize, message: impl Into<String>) -> Error {
    Error::Corpus {
        path: path.to_path_buf(),
        line,
        message: message.into(),
    }
}

fn str_field(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(|x| x.as_str()).map(str::to_string)
}

/// Converts one `{start, end, text?}` object (code points) to a byte range, checking the text.
fn span_of(
    v: &Value,
    text: &str,
    offsets: &CharOffsets,
    path: &Path,
    line: usize,
) -> Result<Range<usize>> {
    let get = |k: &str| {
        v.get(k)
            .and_then(Value::as_u64)
            .ok_or_else(|| corpus_err(path, line, format!("span without integer `{k}`")))
    };
    let (s, e) = (get("start")? as usize, get("end")? as usize);
    let (bs, be) = match (offsets.byte_of_char(s), offsets.byte_of_char(e)) {
        (Some(a), Some(b)) if a <= b => (a, b),
        _ => {
            return Err(corpus_err(
                path,
                line,
                format!("span {s}..{e} out of bounds"),
            ))
        }
    };
    let want = v
        .get("text")
        .or_else(|| v.get("surface"))
        .and_then(Value::as_str);
    if let Some(w) = want {
        if &text[bs..be] != w {
            return Err(corpus_err(
                path,
                line,
                format!("span {s}..{e} covers {:?}, row says {w:?}", &text[bs..be]),
            ));
        }
    }
    Ok(bs..be)
}

/// Sorts ranges and merges overlapping or touching ones.
pub fn merge_ranges(mut v: Vec<Range<usize>>) -> Vec<Range<usize>> {
    v.retain(|r| r.start < r.end);
    v.sort_by_key(|r| (r.start, r.end));
    let mut out: Vec<Range<usize>> = Vec::with_capacity(v.len());
    for r in v {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// Reads a PTC-schema file (also our own `datasets/*.jsonl`).
pub fn read_ptc(path: &Path) -> Result<Vec<Document>> {
    let mut docs = Vec::new();
    for (line, v) in read_lines(path)? {
        let text =
            str_field(&v, "text").ok_or_else(|| corpus_err(path, line, "row without `text`"))?;
        let offsets = CharOffsets::new(&text);
        let mut techniques = Vec::new();
        let mut all = Vec::new();
        for s in v
            .get("spans")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let r = span_of(s, &text, &offsets, path, line)?;
            all.push(r.clone());
            if let Some(t) = str_field(s, "technique") {
                techniques.push((r, t));
            }
        }
        let si = match v.get("si_spans").and_then(Value::as_array) {
            Some(arr) => arr
                .iter()
                .map(|s| span_of(s, &text, &offsets, path, line))
                .collect::<Result<Vec<_>>>()?,
            None => all,
        };
        let pair = match (str_field(&v, "pair_id"), str_field(&v, "variant")) {
            (Some(p), Some(var)) => Some((p, var == "loaded")),
            _ => None,
        };
        docs.push(Document {
            id: v
                .get("id")
                .map(id_string)
                .unwrap_or_else(|| format!("line{line}")),
            spans: merge_ranges(si),
            techniques,
            label: None,
            pair,
            split: str_field(&v, "split"),
            text,
        });
    }
    Ok(docs)
}

fn id_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Reads a BABE file: label, and the biased-word spans as gold spans.
pub fn read_babe(path: &Path) -> Result<Vec<Document>> {
    let mut docs = Vec::new();
    for (line, v) in read_lines(path)? {
        let text =
            str_field(&v, "text").ok_or_else(|| corpus_err(path, line, "row without `text`"))?;
        let label = match v.get("label").and_then(Value::as_str) {
            Some("Biased") => true,
            Some("Non-biased") => false,
            other => return Err(corpus_err(path, line, format!("unknown label {other:?}"))),
        };
        let offsets = CharOffsets::new(&text);
        let spans = v
            .get("biased_word_spans")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|s| span_of(s, &text, &offsets, path, line))
            .collect::<Result<Vec<_>>>()?;
        docs.push(Document {
            id: v
                .get("id")
                .map(id_string)
                .unwrap_or_else(|| format!("line{line}")),
            spans: merge_ranges(spans),
            label: Some(label),
            text,
            ..Default::default()
        });
    }
    Ok(docs)
}

/// Reads the cue lexicons (`lexicons.jsonl`; single-word entries) plus the built-in list.
pub fn read_lexicons(path: &Path) -> Result<Lexicon> {
    let mut lex = Lexicon::new().with_builtin();
    for (line, v) in read_lines(path)? {
        let list = str_field(&v, "lexicon")
            .ok_or_else(|| corpus_err(path, line, "row without `lexicon`"))?;
        let entry =
            str_field(&v, "entry").ok_or_else(|| corpus_err(path, line, "row without `entry`"))?;
        if !entry.contains(' ') {
            lex.insert(&list, &entry);
        }
    }
    Ok(lex)
}

/// Reads every `*.jsonl` file of the project's own `datasets/` folder (sorted by name).
pub fn read_own(dir: &Path) -> Result<Vec<Document>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let mut docs = Vec::new();
    for f in files {
        docs.extend(read_ptc(&f)?);
    }
    Ok(docs)
}

impl Corpora {
    /// Loads PTC, BABE and the lexicons from `shared` (the `../shared/datasets` layout), and the
    /// project's own documents from `own` when given and present.
    pub fn load(shared: &Path, own: Option<&Path>) -> Result<Corpora> {
        Ok(Corpora {
            ptc_train: read_ptc(&shared.join("ptc/train.jsonl"))?,
            ptc_dev: read_ptc(&shared.join("ptc/dev.jsonl"))?,
            babe_train: read_babe(&shared.join("babe/train.jsonl"))?,
            babe_dev: read_babe(&shared.join("babe/dev.jsonl"))?,
            own: match own {
                Some(d) if d.is_dir() => read_own(d)?,
                _ => Vec::new(),
            },
            lexicon: read_lexicons(&shared.join("lexicons/lexicons.jsonl"))?,
            tc_holdout: Default::default(),
        })
    }
}

impl Corpora {
    /// Loads what evaluation needs from `dir`, leniently: PTC dev and BABE dev when `dir` has the
    /// `../shared/datasets` layout, and our own documents from `own` and from any `*.jsonl` at the
    /// top of `dir` (so `slant eval --data datasets` evaluates on our held-out documents).
    /// Training data is not read. Fails only when `dir` does not exist or a present file is bad.
    ///
    /// With `tc_holdout` naming an existing file of article ids (one per line, as `slant train`
    /// writes to `training/tc_holdout_ids.txt`), the PTC train articles with those ids are read
    /// too, for technique classification.
    pub fn load_for_eval(
        dir: &Path,
        own: Option<&Path>,
        tc_holdout: Option<&Path>,
    ) -> Result<Corpora> {
        if !dir.is_dir() {
            return Err(Error::io(
                dir,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder"),
            ));
        }
        let optional =
            |p: PathBuf, read: fn(&Path) -> Result<Vec<Document>>| -> Result<Vec<Document>> {
                if p.is_file() {
                    read(&p)
                } else {
                    Ok(Vec::new())
                }
            };
        let mut own_docs = read_own(dir)?;
        if let Some(o) = own {
            if o.is_dir() && o.canonicalize().ok() != dir.canonicalize().ok() {
                own_docs.extend(read_own(o)?);
            }
        }
        let mut ids = std::collections::BTreeSet::new();
        let mut ptc_train = Vec::new();
        let train_path = dir.join("ptc/train.jsonl");
        if let Some(f) = tc_holdout.filter(|f| f.is_file() && train_path.is_file()) {
            let text = std::fs::read_to_string(f).map_err(|e| Error::io(f, e))?;
            ids = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect();
            ptc_train = read_ptc(&train_path)?;
            ptc_train.retain(|d| ids.contains(&d.id));
        }
        Ok(Corpora {
            ptc_dev: optional(dir.join("ptc/dev.jsonl"), read_ptc)?,
            babe_dev: optional(dir.join("babe/dev.jsonl"), read_babe)?,
            own: own_docs,
            ptc_train,
            tc_holdout: ids,
            ..Default::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges() {
        assert_eq!(
            merge_ranges(vec![5..9, 0..2, 1..3, 9..10, 4..4]),
            vec![0..3, 5..10]
        );
    }

    #[test]
    fn reads_own_schema_with_non_ascii_offsets() {
        let dir = std::env::temp_dir().join(format!("slant-corpus-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.jsonl");
        let row = r#"{"id":"x1","text":"Zoë’s 🙂 reckless plan","spans":[{"start":8,"end":16,"technique":"Loaded_Language","text":"reckless"}],"pair_id":"p1","variant":"loaded","split":"train"}"#;
        std::fs::write(&p, format!("{row}\n\n")).unwrap();
        let docs = read_own(&dir).unwrap();
        assert_eq!(docs.len(), 1);
        let d = &docs[0];
        assert_eq!(&d.text[d.spans[0].clone()], "reckless");
        assert_eq!(d.techniques[0].1, "Loaded_Language");
        assert_eq!(d.pair, Some(("p1".to_string(), true)));
        let bad = row.replace("\"end\":16", "\"end\":15");
        std::fs::write(&p, bad).unwrap();
        let err = read_own(&dir).unwrap_err().to_string();
        assert!(err.contains("a.jsonl:1"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
