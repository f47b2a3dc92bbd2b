//! The bad-input matrix: the real binary on empty, odd, hostile and damaged inputs. Every case
//! must end with the expected exit code, no panic, no debug dump, at most one line on stderr for
//! an error, and (for JSON reports) every span's `text` equal to the slice its byte offsets name.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const EXAMPLE: &str = "datasets/examples/withdrawal.txt";

/// One row of the matrix.
struct Case {
    name: &'static str,
    /// Bytes written to `<name>.txt` in the temp dir and analysed (None: use `args` as given).
    input: Option<Vec<u8>>,
    /// Extra arguments after `analyze FILE`; `{dir}` is replaced with the temp dir.
    args: Vec<String>,
    /// Feed the input on standard input (`analyze -`) instead of as a file.
    stdin: bool,
    code: i32,
    /// Substrings stderr must contain.
    stderr_has: Vec<&'static str>,
    /// Exit-0 cases only: the document the report's offsets index (the lossy text for `--lossy`).
    lossy: bool,
    /// Exit-0 cases only: assert a zero score and no spans.
    empty_report: bool,
}

impl Case {
    fn ok(name: &'static str, input: Vec<u8>) -> Case {
        Case {
            name,
            input: Some(input),
            args: Vec::new(),
            stdin: false,
            code: 0,
            stderr_has: Vec::new(),
            lossy: false,
            empty_report: false,
        }
    }

    fn err(name: &'static str, input: Vec<u8>, stderr_has: Vec<&'static str>) -> Case {
        Case {
            code: 2,
            stderr_has,
            ..Case::ok(name, input)
        }
    }
}

fn tmp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slant-bad-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn model_bytes() -> Vec<u8> {
    std::fs::read(Path::new(crate::common::ROOT).join("models/default.slant")).unwrap()
}

fn write_model(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

fn cases(dir: &Path) -> Vec<Case> {
    let s = |v: &str| v.to_string();
    let mut cases = vec![
        Case {
            empty_report: true,
            ..Case::ok("empty", Vec::new())
        },
        Case {
            empty_report: true,
            ..Case::ok("whitespace only", b" \t\n\r\n   \n\x0b\x0c ".to_vec())
        },
        Case::err(
            "invalid UTF-8",
            b"The chaotic withdrawal \xff\xfe was shameful.".to_vec(),
            vec!["not valid UTF-8", "offset 23"],
        ),
        Case {
            args: vec![s("--lossy")],
            lossy: true,
            stderr_has: vec!["warning", "offset 23", "U+FFFD"],
            ..Case::ok(
                "invalid UTF-8 lossy",
                b"The chaotic withdrawal \xff\xfe was a shameful, reckless betrayal.".to_vec(),
            )
        },
        Case {
            args: vec![s("--lossy")],
            lossy: true,
            stderr_has: vec!["warning", "offset 5"],
            ..Case::ok(
                "truncated multibyte lossy",
                b"caf\xc3\xa9\xe2\x80 shameful \xf0\x9f\x98".to_vec(),
            )
        },
        Case::err(
            "binary (NUL)",
            b"PK\x03\x04\x00\x00 some zip-like bytes".to_vec(),
            vec!["binary file", "NUL byte at offset 4", "not analysed"],
        ),
        Case {
            args: vec![s("--lossy")],
            ..Case::err(
                "binary (NUL) with --lossy",
                b"\x7fELF\x02\x01\x01\x00\x00".to_vec(),
                vec!["binary file", "offset 7"],
            )
        },
        Case {
            stdin: true,
            ..Case::err(
                "binary on stdin",
                b"text\x00more".to_vec(),
                vec!["<stdin>", "binary file"],
            )
        },
        // A NUL after the first 8 KiB is valid UTF-8 text, analysed like any other character.
        Case::ok("NUL after 8 KiB", {
            let mut v = "A shameful betrayal. ".repeat(400).into_bytes();
            v.extend_from_slice(b"\x00 reckless cowards.");
            v
        }),
        Case::ok(
            "2 MB single line",
            "The reckless, shameful betrayal was a chaotic fiasco and "
                .repeat(2_000_000 / 57)
                .into_bytes(),
        ),
        Case::ok("200k exclamation marks", vec![b'!'; 200_000]),
        Case::ok(
            "100 KB without whitespace",
            "shamefulbetrayal,reckless;"
                .repeat(100_000 / 26)
                .into_bytes(),
        ),
        Case::ok(
            "combining characters",
            "The sha\u{301}meful\u{308}\u{323} betrayal e\u{301}\u{301}\u{301}\u{301} was re\u{300}ckless. "
                .repeat(50)
                .into_bytes(),
        ),
        Case::ok(
            "RTL marks",
            "\u{200F}The \u{202E}shameful\u{202C} betrayal \u{200E}شبكة\u{200F} was reckless.\u{2067}x\u{2069} "
                .repeat(50)
                .into_bytes(),
        ),
        Case::ok(
            "zero-width joiners",
            "The sha\u{200D}meful \u{200B}betrayal\u{FEFF} was reck\u{200C}less \u{200D}\u{200D}. "
                .repeat(50)
                .into_bytes(),
        ),
        Case::ok(
            "emoji sequences",
            "The 👨‍👩‍👧‍👦 shameful betrayal 🏳️‍🌈 was a reckless 🇺🇸🇫🇷 fiasco 👍🏽! "
                .repeat(50)
                .into_bytes(),
        ),
        Case::ok(
            "CRLF only",
            "\r\n".repeat(5_000).into_bytes(),
        ),
        Case::ok(
            "CRLF text",
            "The chaotic withdrawal was shameful.\r\nCritics called it a reckless betrayal.\r\n\r\n"
                .repeat(20)
                .into_bytes(),
        ),
        Case {
            input: None,
            args: vec![s("no/such/file.txt")],
            ..Case::err("missing file", Vec::new(), vec!["no/such/file.txt"])
        },
        Case {
            input: None,
            args: vec![dir.display().to_string()],
            ..Case::err("a directory", Vec::new(), vec!["cannot read"])
        },
    ];

    // Damaged model files, given with `--model` while analysing a good document.
    let good = model_bytes();
    let truncated = write_model(dir, "truncated.slant", &good[..good.len() / 2]);
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x01;
    let flipped = write_model(dir, "flipped.slant", &flipped);
    let mut future = good.clone();
    let next = slant::model_file::FORMAT_VERSION + 1;
    future[8..12].copy_from_slice(&next.to_le_bytes());
    let future = write_model(dir, "future.slant", &future);
    let foreign = write_model(dir, "foreign.slant", b"#!/bin/sh\necho not a model\n");
    for (name, path, needle) in [
        ("truncated model", truncated, "truncated"),
        ("model with one flipped byte", flipped, "checksum"),
        ("future model version", future, "format version"),
        ("foreign model file", foreign, "not a slant model"),
    ] {
        cases.push(Case {
            input: None,
            args: vec![s(EXAMPLE), s("--model"), path],
            ..Case::err(name, Vec::new(), vec!["cannot load model", needle])
        });
    }
    cases
}

fn run(dir: &Path, i: usize, case: &Case) -> (Output, Option<Vec<u8>>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_slant"));
    cmd.current_dir(crate::common::ROOT)
        .arg("analyze")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut feed = None;
    if let Some(bytes) = &case.input {
        if case.stdin {
            cmd.arg("-");
            feed = Some(bytes.clone());
        } else {
            let p = dir.join(format!("case-{i}.txt"));
            std::fs::write(&p, bytes).unwrap();
            cmd.arg(&p);
        }
    }
    cmd.args(&case.args).args(["--format", "json"]);
    let mut child = cmd.spawn().expect("binary runs");
    let mut stdin = child.stdin.take().unwrap();
    let writer = match feed {
        // The binary may refuse the input before reading all of it: ignore a broken pipe.
        Some(b) => Some(std::thread::spawn(move || {
            let _ = stdin.write_all(&b);
        })),
        None => {
            drop(stdin);
            None
        }
    };
    let out = child.wait_with_output().unwrap();
    if let Some(w) = writer {
        w.join().unwrap();
    }
    (out, case.input.clone())
}

/// True when `s` holds a Rust `Debug` struct dump such as `Error { kind: .. }` or `Os { code`.
fn has_debug_dump(s: &str) -> bool {
    s.match_indices(" { ").any(|(at, _)| {
        let word: String = s[..at]
            .chars()
            .rev()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        word.chars().last().is_some_and(char::is_uppercase)
    })
}

fn check(case: &Case, out: &Output, input: Option<&[u8]>) -> Result<(), String> {
    let err = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code();
    if code != Some(case.code) {
        return Err(format!("exit {code:?}, want {}; stderr: {err}", case.code));
    }
    for bad in ["panicked", "RUST_BACKTRACE"] {
        if err.contains(bad) {
            return Err(format!("stderr mentions {bad}: {err}"));
        }
    }
    if has_debug_dump(&err) {
        return Err(format!("stderr has a debug dump: {err}"));
    }
    let lines = err.trim_end().lines().count();
    if case.code != 0 && lines != 1 {
        return Err(format!("{lines} stderr lines, want exactly 1: {err}"));
    }
    if case.code == 0 && lines > usize::from(case.lossy) {
        return Err(format!("unexpected stderr: {err}"));
    }
    for want in &case.stderr_has {
        if !err.contains(want) {
            return Err(format!("stderr lacks {want:?}: {err}"));
        }
    }
    if case.code != 0 {
        if !out.stdout.is_empty() {
            return Err("an error also wrote to stdout".into());
        }
        return Ok(());
    }
    let text = match input {
        Some(b) if case.lossy => String::from_utf8_lossy(b).into_owned(),
        Some(b) => String::from_utf8(b.to_vec()).map_err(|e| e.to_string())?,
        None => return Ok(()),
    };
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("stdout is not JSON: {e}"))?;
    let score = v["score"].as_f64().ok_or("no score")?;
    if !(0.0..=1.0).contains(&score) {
        return Err(format!("score {score} outside [0, 1]"));
    }
    let spans = v["spans"].as_array().ok_or("no spans array")?;
    if case.empty_report && (score != 0.0 || !spans.is_empty()) {
        return Err(format!(
            "want score 0 and no spans, got {score} and {}",
            spans.len()
        ));
    }
    for s in spans {
        let (a, b) = (
            s["byte_start"].as_u64().ok_or("byte_start")? as usize,
            s["byte_end"].as_u64().ok_or("byte_end")? as usize,
        );
        let slice = text
            .get(a..b)
            .ok_or_else(|| format!("span {a}..{b} is not a slice of the text"))?;
        if Some(slice) != s["text"].as_str() {
            return Err(format!("span {a}..{b}: {slice:?} != {}", s["text"]));
        }
    }
    Ok(())
}

#[test]
fn bad_input_matrix() {
    let dir = tmp_dir();
    let cases = cases(&dir);
    assert!(cases.len() >= 20, "{} cases", cases.len());
    // Two at a time: the machine has two cores and the big inputs take about a second each.
    let failures: Vec<String> = std::thread::scope(|scope| {
        let chunks: Vec<Vec<(usize, &Case)>> = (0..2)
            .map(|k| cases.iter().enumerate().skip(k).step_by(2).collect())
            .collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let dir = &dir;
                scope.spawn(move || {
                    chunk
                        .into_iter()
                        .filter_map(|(i, case)| {
                            let (out, input) = run(dir, i, case);
                            check(case, &out, input.as_deref())
                                .err()
                                .map(|e| format!("{}: {e}", case.name))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    std::fs::remove_dir_all(&dir).ok();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn debug_dump_detector() {
    assert!(has_debug_dump("slant: Error { kind: NotFound }"));
    assert!(has_debug_dump("Os { code: 2, kind: NotFound }"));
    assert!(!has_debug_dump(
        "slant: no/such/file.txt: No such file (os error 2)"
    ));
    assert!(!has_debug_dump("slant: json: expected `{ ` at line 1"));
}
