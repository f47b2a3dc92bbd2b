//! The embedded model: loads, round-trips through bytes and files, and refuses damage.

use slant::model_file::{from_bytes, to_bytes};
use slant::Model;

#[test]
fn embedded_model_round_trips() {
    let m = crate::common::model();
    assert_eq!(m.card.name, "default");
    assert!(m.card.metrics.contains_key("ptc_dev_si_f1"));
    let bytes = to_bytes(m).unwrap();
    assert!(bytes.len() < 30 * 1024 * 1024, "model under 30 MB");
    let back = from_bytes(&bytes).unwrap();
    assert_eq!(&back, m);
    let path = std::env::temp_dir().join(format!("slant-model-{}.slant", std::process::id()));
    m.save(&path).unwrap();
    assert_eq!(&Model::load(&path).unwrap(), m);
    std::fs::remove_file(path).ok();
}

#[test]
fn damaged_model_bytes_are_errors_not_panics() {
    let bytes = to_bytes(crate::common::model()).unwrap();
    for cut in [0, 5, 23, 24, 100, bytes.len() / 2, bytes.len() - 1] {
        assert!(from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    for pos in [0, 8, 13, 21, 30, bytes.len() / 3, bytes.len() - 2] {
        let mut b = bytes.clone();
        b[pos] ^= 0x5A;
        assert!(from_bytes(&b).is_err(), "flip at {pos}");
    }
}
