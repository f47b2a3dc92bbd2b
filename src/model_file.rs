//! Model files: the only place the library touches the file system.
//!
//! Layout (all integers little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 0..8 | magic `SLANTMDL` |
//! | 8..12 | format version ([`FORMAT_VERSION`]) |
//! | 12..20 | payload length |
//! | 20..24 | CRC-32 of the payload |
//! | 24.. | payload: the [`Model`] in `postcard` encoding |
//!
//! Loading checks each field in turn, so a truncated, altered, future-version or foreign file is
//! a clear [`Error::InvalidModel`], never a panic. Saving writes a temporary file and renames it.

use crate::error::{Error, Result};
use crate::model::Model;
use std::path::Path;

/// Current model format version. Bump it whenever [`Model`]'s serialised shape changes.
pub const FORMAT_VERSION: u32 = 2;
const MAGIC: &[u8; 8] = b"SLANTMDL";
const HEADER: usize = 24;

/// The default model, embedded in the binary at build time.
static EMBEDDED: &[u8] = include_bytes!("../models/default.slant");

/// Encodes a model into the file format.
pub fn to_bytes(model: &Model) -> Result<Vec<u8>> {
    let payload = postcard::to_stdvec(model)
        .map_err(|e| Error::InvalidModel(format!("cannot encode: {e}")))?;
    Ok(frame(&payload))
}

/// Puts the header (magic, current version, length, CRC-32) in front of any payload. Fuzzing and
/// tests use it to get arbitrary payloads past the header checks, into decoding and validation.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// Length of the header in front of the payload.
pub const HEADER_LEN: usize = HEADER;

/// Decodes a model from the file format, checking magic, version, length and checksum.
pub fn from_bytes(bytes: &[u8]) -> Result<Model> {
    if bytes.len() < HEADER {
        return Err(Error::InvalidModel(format!(
            "file too short ({} bytes): not a slant model or truncated",
            bytes.len()
        )));
    }
    if &bytes[0..8] != MAGIC {
        return Err(Error::InvalidModel(
            "not a slant model file (bad magic)".into(),
        ));
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if version != FORMAT_VERSION {
        return Err(Error::InvalidModel(format!(
            "format version {version}, this slant reads version {FORMAT_VERSION}"
        )));
    }
    let mut len8 = [0u8; 8];
    len8.copy_from_slice(&bytes[12..20]);
    let len = u64::from_le_bytes(len8);
    let payload = &bytes[HEADER..];
    if payload.len() as u64 != len {
        return Err(Error::InvalidModel(format!(
            "payload is {} bytes, header says {len}: truncated or altered",
            payload.len()
        )));
    }
    let crc = u32::from_le_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
    if crc32fast::hash(payload) != crc {
        return Err(Error::InvalidModel(
            "checksum mismatch: the file is corrupt".into(),
        ));
    }
    // `model::decode` reads the payload as `postcard::from_bytes` would, in bulk.
    let model = crate::model::decode(payload)
        .map_err(|e| Error::InvalidModel(format!("cannot decode payload: {e}")))?;
    validate(&model)?;
    Ok(model)
}

/// Largest magnitude accepted for a model parameter. Fitted weights are many orders of magnitude
/// smaller; the bound keeps every sum of weights times feature values finite, so that no score
/// can become infinite or NaN.
pub const MAX_PARAMETER: f32 = 1e6;

/// Refuses a parameter that is NaN, infinite or beyond ±[`MAX_PARAMETER`].
fn check_numbers(what: &str, values: &[f32]) -> Result<()> {
    // `|x| ≤ MAX` is false for NaN and ±∞, so it alone is the test. Blocks of 64 checked without
    // an early exit inside a block vectorise; only a model that fails looks for the position.
    let ok = values.chunks(64).all(|block| {
        block
            .iter()
            .fold(true, |ok, x| ok & (x.abs() <= MAX_PARAMETER))
    });
    if ok {
        return Ok(());
    }
    match values
        .iter()
        .position(|x| !(x.is_finite() && x.abs() <= MAX_PARAMETER))
    {
        None => Ok(()),
        Some(i) => Err(Error::InvalidModel(format!(
            "{what} parameter {i} is {}: not a finite number within ±{MAX_PARAMETER:e}",
            values[i]
        ))),
    }
}

/// Structural checks that make analysis safe on a decoded model: the heads match their
/// vocabularies, and every parameter is a finite number of sane size.
fn validate(model: &Model) -> Result<()> {
    let s = &model.sentence;
    check_numbers("sentence idf", &s.vectorizer.idf)?;
    check_numbers("sentence head", &s.head.weights)?;
    check_numbers(
        "sentence bias and calibration",
        &[s.head.bias, s.calibration.a, s.calibration.b],
    )?;
    let d = &model.span.decode;
    check_numbers("span head", &model.span.head.weights)?;
    check_numbers(
        "span bias and decoding",
        &[
            model.span.head.bias,
            d.high,
            d.low,
            d.sentence_gate,
            d.sentence_span,
        ],
    )?;
    check_numbers("technique head", &model.technique.head.weights)?;
    check_numbers("technique bias", &model.technique.head.bias)?;
    let c = &model.document.calibration;
    check_numbers("document calibration", &[c.a, c.b])?;
    let v = &model.sentence.vectorizer;
    if v.idf.len() != v.index.len() || model.sentence.head.weights.len() != v.index.len() {
        return Err(Error::InvalidModel(
            "sentence head does not match its vocabulary".into(),
        ));
    }
    if model.span.head.weights.len() != model.span.index.len() {
        return Err(Error::InvalidModel(
            "span head does not match its vocabulary".into(),
        ));
    }
    let t = &model.technique;
    let k = t.head.classes.len();
    if k == 0 || t.head.bias.len() != k || t.head.weights.len() != t.index.len() * k {
        return Err(Error::InvalidModel(
            "technique head does not match its vocabulary".into(),
        ));
    }
    Ok(())
}

/// Loads a model file.
pub fn load(path: &Path) -> Result<Model> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    from_bytes(&bytes).map_err(|e| match e {
        Error::InvalidModel(m) => Error::InvalidModel(format!("{}: {m}", path.display())),
        other => other,
    })
}

/// Saves a model atomically (temporary file in the same folder, then rename).
pub fn save(model: &Model, path: &Path) -> Result<()> {
    let bytes = to_bytes(model)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, &bytes).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// The bytes of the embedded default model file (what [`embedded`] decodes).
pub fn embedded_bytes() -> &'static [u8] {
    EMBEDDED
}

/// The default model embedded in the binary.
pub fn embedded() -> Result<Model> {
    from_bytes(EMBEDDED)
}

impl Model {
    /// Loads a model file (see [`load`]).
    pub fn load(path: &Path) -> Result<Model> {
        load(path)
    }

    /// Saves this model atomically (see [`save`]).
    pub fn save(&self, path: &Path) -> Result<()> {
        save(self, path)
    }

    /// The default model shipped inside the binary.
    pub fn embedded() -> Result<Model> {
        embedded()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::FeatureIndex;

    fn tiny() -> Model {
        let mut m = Model::default();
        m.card.name = "tiny".into();
        m.technique.index = FeatureIndex::from_names(vec!["w:x".into()]);
        m.technique.head.classes = vec!["A".into(), "B".into()];
        m.technique.head.weights = vec![0.5, -0.5];
        m.technique.head.bias = vec![0.0, 0.0];
        m
    }

    #[test]
    fn round_trip_bytes_and_file() {
        let m = tiny();
        let bytes = to_bytes(&m).unwrap();
        assert_eq!(from_bytes(&bytes).unwrap(), m);
        let path = std::env::temp_dir().join(format!("slant-rt-{}.slant", std::process::id()));
        m.save(&path).unwrap();
        assert_eq!(Model::load(&path).unwrap(), m);
        std::fs::remove_file(&path).ok();
    }

    #[test]
    fn damaged_files_are_clear_errors() {
        let bytes = to_bytes(&tiny()).unwrap();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (bytes[..10].to_vec(), "too short"),
            (bytes[..bytes.len() - 3].to_vec(), "truncated"),
            (
                b"PK\x03\x04 not a model at all, really not".to_vec(),
                "bad magic",
            ),
            (
                {
                    let mut b = bytes.clone();
                    b[8] = 99;
                    b
                },
                "format version 99",
            ),
            (
                {
                    let mut b = bytes.clone();
                    let n = b.len();
                    b[n - 1] ^= 0xFF;
                    b
                },
                "checksum",
            ),
        ];
        for (b, want) in cases {
            let err = from_bytes(&b).unwrap_err().to_string();
            assert!(err.contains(want), "{err} should mention {want}");
        }
    }

    /// Found by `cargo fuzz run model_load`: a payload with NaN technique weights (and a correct
    /// header) loaded, and analysis then reported a technique score of NaN.
    #[test]
    fn non_finite_or_huge_parameters_are_refused() {
        type Damage = fn(&mut Model);
        let cases: Vec<(Damage, &str)> = vec![
            (|m| m.technique.head.weights[0] = f32::NAN, "technique head"),
            (
                |m| m.technique.head.bias[1] = f32::INFINITY,
                "technique bias",
            ),
            (|m| m.span.decode.low = f32::NAN, "span bias and decoding"),
            (|m| m.document.calibration.a = 1e30, "document calibration"),
            (
                |m| m.sentence.calibration.b = f32::NEG_INFINITY,
                "sentence bias",
            ),
        ];
        for (damage, want) in cases {
            let mut m = tiny();
            damage(&mut m);
            let err = from_bytes(&to_bytes(&m).unwrap()).unwrap_err().to_string();
            assert!(
                err.contains(want) && err.contains("not a finite number"),
                "{err}"
            );
        }
        let mut m = tiny();
        m.technique.head.weights[0] = -MAX_PARAMETER;
        assert!(from_bytes(&to_bytes(&m).unwrap()).is_ok());
    }

    /// The reference decoder: serde over the whole payload.
    fn reference(payload: &[u8]) -> postcard::Result<Model> {
        postcard::from_bytes(payload)
    }

    /// Equal models, NaN parameters included (bit for bit): the same encoding, and the same
    /// indexes (their columns, repeated names included, which the encoding leaves out).
    fn same(a: &Model, b: &Model) -> bool {
        postcard::to_stdvec(a).unwrap() == postcard::to_stdvec(b).unwrap()
            && a.sentence.vectorizer.index == b.sentence.vectorizer.index
            && a.span.index == b.span.index
            && a.technique.index == b.technique.index
    }

    /// `model::decode` gives what `postcard::from_bytes` gives: the same model or the same error.
    fn assert_same_decoding(payload: &[u8], what: &str) -> bool {
        let fast = crate::model::decode(payload);
        let slow = reference(payload);
        match (&fast, &slow) {
            (Ok(a), Ok(b)) => assert!(same(a, b), "{what}: models differ"),
            (Err(a), Err(b)) => assert_eq!(a, b, "{what}"),
            _ => panic!(
                "{what}: fast {:?}, reference {:?}",
                fast.is_ok(),
                slow.is_ok()
            ),
        }
        fast.is_ok()
    }

    /// Every column of `index` is found under its name, by `find` and through a plain map.
    fn assert_lookups(index: &FeatureIndex) {
        let map: std::collections::HashMap<&str, u32> =
            index.columns().map(|(c, n)| (n, c)).collect();
        assert_eq!(map.len(), index.len());
        for (name, &col) in &map {
            assert_eq!(index.get(name), Some(col), "{name}");
        }
        for miss in ["", "w:", "w:zzzz-not-a-word", "c:", "b:a b c"] {
            assert_eq!(index.get(miss), map.get(miss).copied(), "{miss}");
        }
    }

    /// The default model: the fast decoder's model is the reference decoder's (every field, and
    /// every index finds each of its names), and saving it gives back the embedded bytes.
    #[test]
    fn default_model_decodes_as_the_reference_does() {
        let payload = &EMBEDDED[HEADER..];
        let fast = crate::model::decode(payload).unwrap();
        let slow = reference(payload).unwrap();
        assert!(fast == slow);
        assert_eq!(fast.card, slow.card);
        assert_eq!(fast.lexicon, slow.lexicon);
        assert_eq!(fast.sentence, slow.sentence);
        assert_eq!(fast.span, slow.span);
        assert_eq!(fast.technique, slow.technique);
        assert_eq!(fast.document, slow.document);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(&fast.technique.head.weights),
            bits(&slow.technique.head.weights)
        );
        for (a, b) in [
            (
                &fast.sentence.vectorizer.index,
                &slow.sentence.vectorizer.index,
            ),
            (&fast.span.index, &slow.span.index),
            (&fast.technique.index, &slow.technique.index),
        ] {
            assert_eq!(a.names(), b.names());
            assert_lookups(a);
            assert_lookups(b);
        }
        let model = from_bytes(EMBEDDED).unwrap();
        assert!(model == slow);
        assert!(
            to_bytes(&model).unwrap() == EMBEDDED,
            "save → load is not byte-identical"
        );
    }

    /// Every input of the `model_load` fuzz corpus (and its saved findings), as the fuzz target
    /// frames it: the same model or the same error from both decoders.
    #[test]
    fn fuzz_corpus_decodes_as_the_reference_does() {
        let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
        let (mut inputs, mut loaded) = (0, 0);
        for kind in ["corpus", "regressions"] {
            let Ok(dir) = std::fs::read_dir(fuzz.join(kind).join("model_load")) else {
                continue;
            };
            for entry in dir {
                let path = entry.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                let payload = data.get(HEADER..).unwrap_or_default();
                inputs += 1;
                loaded += usize::from(assert_same_decoding(payload, &path.display().to_string()));
            }
        }
        assert!(
            inputs > 100 && loaded > 0,
            "{inputs} inputs, {loaded} decoded"
        );
    }

    /// A small model with every kind of field (non-ASCII and repeated feature names, 14
    /// classes), then its payload cut at every length and each byte replaced in turn: the two
    /// decoders agree on every one.
    #[test]
    fn damaged_payloads_decode_as_the_reference_does() {
        let mut m = tiny();
        m.card.trained_on = vec!["PTC".into(), "BABE".into()];
        m.card.metrics.insert("auc".into(), 0.75);
        m.lexicon.insert("hedges", "perhaps");
        m.lexicon.insert("bias-lexicon", "slammed");
        m.sentence.vectorizer.index =
            FeatureIndex::from_names(vec!["w:a".into(), "b:a b".into(), "lx:hedges".into()]);
        m.sentence.vectorizer.idf = vec![1.5, 2.0, 3.25];
        m.sentence.head.weights = vec![0.5, -1.0, 2.0];
        m.span.index = FeatureIndex::from_names(vec!["w0:ü".into(), "w0:x".into(), "w0:y".into()]);
        m.span.head.weights = vec![0.25, -0.25, 0.5];
        let classes: Vec<String> = (0..14).map(|k| format!("T{k}")).collect();
        m.technique.index = FeatureIndex::from_names(vec!["c:abc".into(), "w:é".into()]);
        m.technique.head.weights = (0..28).map(|i| i as f32 / 7.0 - 2.0).collect();
        m.technique.head.bias = (0..14).map(|i| -(i as f32)).collect();
        m.technique.head.classes = classes;
        let mut payload = postcard::to_stdvec(&m).unwrap();
        assert!(assert_same_decoding(&payload, "whole"));
        assert_eq!(crate::model::decode(&payload).unwrap(), m);
        // A repeated name (which no saved model has: the later column wins).
        let at = payload.windows(4).position(|w| w == b"w0:y").unwrap();
        payload[at + 3] = b'x';
        assert!(assert_same_decoding(&payload, "repeated name"));
        let decoded = crate::model::decode(&payload).unwrap();
        assert_eq!(decoded.span.index.get("w0:x"), Some(2));
        assert_eq!(decoded.span.index.len(), 2);
        for cut in 0..payload.len() {
            assert_same_decoding(&payload[..cut], &format!("cut at {cut}"));
        }
        for at in 0..payload.len() {
            for byte in [0x00, 0x01, 0x7F, 0x80, 0xC3, 0xFF, payload[at] ^ 0x01] {
                let mut p = payload.clone();
                p[at] = byte;
                assert_same_decoding(&p, &format!("byte {at} = {byte:#x}"));
                // A length that runs past the end, or a varint of many bytes.
                p.insert(at, 0xFF);
                assert_same_decoding(&p, &format!("0xff before {at}, byte {byte:#x}"));
            }
        }
        let mut long = payload.clone();
        long.extend_from_slice(b"trailing bytes are ignored by both");
        assert!(assert_same_decoding(&long, "trailing"));
    }
}
