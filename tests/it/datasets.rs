//! Validator of our own corpus (`datasets/*.jsonl`): schema, offsets, technique names, pair
//! links and splits. Runs in `cargo test` on every machine (no `../shared` needed).

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn rows() -> Vec<(String, usize, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("datasets");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "datasets/*.jsonl present");
    let mut out = Vec::new();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        for (i, line) in std::fs::read_to_string(&f).unwrap().lines().enumerate() {
            let v: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}:{}: {e}", i + 1));
            out.push((name.clone(), i + 1, v));
        }
    }
    out
}

#[test]
fn own_corpus_is_valid() {
    let techniques: BTreeSet<&str> = slant::corpus::TECHNIQUES.into_iter().collect();
    let mut ids = BTreeSet::new();
    let mut pairs: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let (mut n_docs, mut n_spans, mut used) = (0, 0, BTreeSet::new());
    for (file, line, v) in rows() {
        let at = format!("{file}:{line}");
        let id = v["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{at}: id"))
            .to_string();
        assert!(ids.insert(id.clone()), "{at}: duplicate id {id}");
        let text = v["text"].as_str().unwrap_or_else(|| panic!("{at}: text"));
        assert!(!text.trim().is_empty(), "{at}: empty text");
        let split = v["split"].as_str().unwrap_or_else(|| panic!("{at}: split"));
        assert!(split == "train" || split == "test", "{at}: split {split}");
        let chars: Vec<char> = text.chars().collect();
        let mut last_end = 0;
        for s in v["spans"]
            .as_array()
            .unwrap_or_else(|| panic!("{at}: spans"))
        {
            let (a, b) = (
                s["start"].as_u64().unwrap() as usize,
                s["end"].as_u64().unwrap() as usize,
            );
            assert!(
                a < b && b <= chars.len(),
                "{at}: span {a}..{b} out of bounds"
            );
            let covered: String = chars[a..b].iter().collect();
            assert_eq!(covered, s["text"].as_str().unwrap(), "{at}: span text");
            assert_eq!(covered.trim(), covered, "{at}: span with edge whitespace");
            let t = s["technique"].as_str().unwrap();
            assert!(techniques.contains(t), "{at}: unknown technique {t}");
            assert!(a >= last_end, "{at}: spans sorted");
            last_end = b;
            used.insert(t.to_string());
            n_spans += 1;
        }
        if let Some(p) = v.get("pair_id").and_then(Value::as_str) {
            let variant = v["variant"]
                .as_str()
                .unwrap_or_else(|| panic!("{at}: variant"))
                .to_string();
            assert!(variant == "loaded" || variant == "neutral", "{at}: variant");
            if variant == "neutral" {
                assert!(
                    v["spans"].as_array().unwrap().is_empty(),
                    "{at}: neutral rewrite with spans"
                );
            }
            pairs
                .entry(p.to_string())
                .or_default()
                .push((variant, split.to_string()));
        }
        n_docs += 1;
    }
    for (p, members) in &pairs {
        let mut v: Vec<&str> = members.iter().map(|m| m.0.as_str()).collect();
        v.sort();
        assert_eq!(v, vec!["loaded", "neutral"], "pair {p}");
        assert_eq!(
            members[0].1, members[1].1,
            "pair {p} split across train/test"
        );
    }
    assert!(n_docs >= 400, "{n_docs} documents");
    assert!(n_spans >= 300, "{n_spans} spans");
    assert!(used.len() >= 10, "{} techniques", used.len());
    assert!(pairs.len() >= 150, "{} pairs", pairs.len());
}

#[test]
fn own_corpus_reads_through_the_library() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("datasets");
    let docs = slant::corpus::read_own(&dir).expect("library reader accepts our corpus");
    for d in &docs {
        for r in &d.spans {
            assert!(d.text.is_char_boundary(r.start) && d.text.is_char_boundary(r.end));
        }
    }
}

#[test]
fn held_out_sentence_is_not_in_training_data() {
    for (file, line, v) in rows() {
        let t = v["text"].as_str().unwrap().to_lowercase();
        assert!(
            !t.contains("chaotic") && !t.contains("geopolitical initiatives"),
            "{file}:{line}: the test sentence must stay out of training data"
        );
    }
}

/// Our corpus as fixtures: every document through the real pipeline, offsets exact, and the
/// held-out minimal pairs mostly ordered correctly by the shipped model.
#[test]
fn shipped_model_on_our_documents() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("datasets");
    let docs = slant::corpus::read_own(&dir).unwrap();
    let model = slant::Model::embedded().unwrap();
    let analyzer = slant::Analyzer::new(&model, slant::Options::default());
    let mut pairs: BTreeMap<String, [f32; 2]> = BTreeMap::new();
    for d in &docs {
        let r = analyzer.analyze(&d.text).unwrap();
        for s in &r.spans {
            assert_eq!(&d.text[s.byte_start..s.byte_end], s.text, "{}", d.id);
        }
        if let (Some((p, loaded)), Some("test")) = (&d.pair, d.split.as_deref()) {
            pairs.entry(p.clone()).or_default()[*loaded as usize] = r.score;
        }
    }
    let wins = pairs.values().filter(|v| v[1] > v[0]).count();
    assert!(pairs.len() >= 30, "{} held-out pairs", pairs.len());
    assert!(
        wins * 10 >= pairs.len() * 8,
        "pair accuracy {wins}/{}",
        pairs.len()
    );
}
