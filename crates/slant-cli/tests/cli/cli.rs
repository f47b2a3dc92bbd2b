//! The real binary, end to end, on our own example documents.

use crate::common::slant;
use std::path::PathBuf;
use std::process::Output;

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// `slant batch --input - --output - ARGS…` fed `input` on standard input.
fn batch_stdio(args: &[&str], input: &[u8]) -> Output {
    let mut all = vec!["batch", "--input", "-", "--output", "-"];
    all.extend_from_slice(args);
    slant(&all, Some(input))
}

/// The JSONL rows a run printed.
fn jsonl_rows(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slant-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

const EXAMPLE: &str = "datasets/examples/withdrawal.txt";

#[test]
fn analyze_text_report() {
    let o = slant(&["analyze", EXAMPLE], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("document score"), "{out}");
    assert!(out.contains("technique:"), "{out}");
    assert!(out.contains("evidence:"), "{out}");
}

#[test]
fn analyze_json_follows_the_contract() {
    let o = slant(&["analyze", EXAMPLE, "--format", "json"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let text = std::fs::read_to_string(PathBuf::from(crate::common::ROOT).join(EXAMPLE)).unwrap();
    for k in ["score", "label", "sentences", "spans", "model"] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    let spans = v["spans"].as_array().unwrap();
    assert!(!spans.is_empty());
    for s in spans {
        let (a, b) = (
            s["byte_start"].as_u64().unwrap() as usize,
            s["byte_end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&text[a..b], s["text"].as_str().unwrap());
        for k in [
            "start",
            "end",
            "score",
            "technique",
            "technique_score",
            "evidence",
        ] {
            assert!(s.get(k).is_some(), "span missing {k}");
        }
    }
    assert_eq!(v["model"]["name"], "default");
}

#[test]
fn analyze_stdin_and_semeval() {
    let text = "Critics called the plan a shameful, reckless betrayal of voters.";
    let o = slant(
        &[
            "analyze",
            "-",
            "--format",
            "semeval",
            "--id",
            "42",
            "--techniques",
        ],
        Some(text.as_bytes()),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for line in stdout(&o).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 4, "{line}");
        assert_eq!(f[0], "42");
        let (a, b): (usize, usize) = (f[2].parse().unwrap(), f[3].parse().unwrap());
        assert!(a < b && b <= text.chars().count());
    }
}

#[test]
fn errors_exit_2_with_one_line_naming_the_input() {
    let bad_utf8 = tmp("bad.txt");
    std::fs::write(&bad_utf8, b"ok text \xff\xfe more").unwrap();
    let bad_model = tmp("bad.slant");
    std::fs::write(&bad_model, b"definitely not a model").unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["analyze".into(), "no/such/file.txt".into()],
            "no/such/file.txt",
        ),
        (
            vec!["analyze".into(), bad_utf8.display().to_string()],
            "not valid UTF-8",
        ),
        (
            vec![
                "analyze".into(),
                EXAMPLE.into(),
                "--model".into(),
                bad_model.display().to_string(),
            ],
            "bad.slant",
        ),
        (
            vec![
                "analyze".into(),
                EXAMPLE.into(),
                "--threshold".into(),
                "7".into(),
            ],
            "--threshold",
        ),
        (
            vec![
                "batch".into(),
                "--input".into(),
                "missing.jsonl".into(),
                "--output".into(),
                "-".into(),
            ],
            "missing.jsonl",
        ),
    ];
    for (args, needle) in cases {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = slant(&a, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn batch_keeps_every_row_in_order() {
    let input = concat!(
        "{\"id\":\"a\",\"text\":\"Critics called the plan a shameful, reckless betrayal.\"}\n",
        "not json\n",
        "\n",
        "{\"id\":7,\"text\":\"The council met on Monday.\",\"outlet\":\"x\"}\n",
        "{\"id\":\"no-text\"}\n",
        "{\"id\":\"num\",\"text\":5}\n",
        "{\"id\":\"z\",\"text\":\"Zoë’s 🙂 “disgraceful” plan.\"}\n"
    );
    let mut bytes = input.as_bytes().to_vec();
    bytes.extend_from_slice(b"{\"id\":\"bad-utf8\",\"text\":\"\xff\"}\n");
    let out_path = tmp("out.jsonl");
    let in_path = tmp("in.jsonl");
    std::fs::write(&in_path, &bytes).unwrap();
    let o = slant(
        &[
            "batch",
            "--input",
            in_path.to_str().unwrap(),
            "--output",
            out_path.to_str().unwrap(),
            "--jobs",
            "2",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("8 rows, 3 ok, 5 errors"),
        "{}",
        stderr(&o)
    );
    let out = std::fs::read_to_string(&out_path).unwrap();
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 8);
    let expect: [(serde_json::Value, bool); 8] = [
        ("a".into(), true),
        (serde_json::Value::Null, false),
        (serde_json::Value::Null, false),
        (7.into(), true),
        ("no-text".into(), false),
        ("num".into(), false),
        ("z".into(), true),
        (serde_json::Value::Null, false),
    ];
    for (i, (row, (id, ok))) in rows.iter().zip(expect).enumerate() {
        assert_eq!(row.get("error").is_none(), ok, "row {i}: {row}");
        if ok {
            assert_eq!(row["id"], id, "row {i}");
            assert!(row.get("spans").is_some() && row.get("score").is_some());
        } else {
            assert_eq!(row["line"], (i + 1) as u64, "row {i}");
            if !id.is_null() {
                assert_eq!(row["id"], id);
            }
        }
    }
    // Same through stdin/stdout.
    let o = slant(&["batch", "--input", "-", "--output", "-"], Some(&bytes));
    assert!(o.status.success());
    assert_eq!(stdout(&o).lines().count(), 8);
}

#[test]
fn model_info_and_help() {
    let model = PathBuf::from(crate::common::ROOT).join("models/default.slant");
    let model = model.to_str().unwrap();
    let embedded = slant(&["model", "info"], None);
    assert!(embedded.status.success(), "{}", stderr(&embedded));
    let out = stdout(&embedded);
    for want in [
        "file     embedded (",
        "format version",
        "name     default",
        "version  ",
        "trained on:",
        "metrics:",
        "features: sentence",
        "decoding:",
        "configuration:",
    ] {
        assert!(out.contains(want), "{want:?} missing from {out}");
    }
    // A file gives the same card, under its own name.
    let file = slant(&["model", "info", model], None);
    assert!(file.status.success(), "{}", stderr(&file));
    let card = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(card(&stdout(&file)), card(&out));
    assert!(stdout(&file).starts_with(&format!("file     {model} (")));
    // The old name is a hidden alias.
    let old = slant(&["model-info", model], None);
    assert!(old.status.success(), "{}", stderr(&old));
    assert_eq!(stdout(&old), stdout(&file));
    let help = stdout(&slant(&["--help"], None));
    assert!(help.contains("Examples:") && help.contains("slant model info"));
    assert!(!help.contains("model-info"), "{help}");
    assert!(stdout(&slant(&["model", "--help"], None)).contains("info"));
}

#[test]
fn model_info_refuses_damaged_and_foreign_files() {
    let good =
        std::fs::read(PathBuf::from(crate::common::ROOT).join("models/default.slant")).unwrap();
    let truncated = tmp("info-truncated.slant");
    std::fs::write(&truncated, &good[..good.len() / 3]).unwrap();
    let foreign = tmp("info-foreign.slant");
    std::fs::write(
        &foreign,
        "{\"id\": 1, \"text\": \"a JSONL row, not a model\"}\n",
    )
    .unwrap();
    let short = tmp("info-short.slant");
    std::fs::write(&short, &good[..10]).unwrap();
    for (path, want) in [
        (&truncated, "truncated"),
        (&foreign, "not a slant model"),
        (&short, "too short"),
        (&tmp("info-missing.slant"), "cannot load model"),
    ] {
        let path = path.to_str().unwrap();
        for args in [vec!["model", "info", path], vec!["model-info", path]] {
            let o = slant(&args, None);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert!(o.stdout.is_empty(), "{args:?} printed a card");
            assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
            assert!(
                err.starts_with("slant: cannot load model") && err.contains(path),
                "{args:?}: {err}"
            );
            assert!(err.contains(want), "{args:?}: {err} should mention {want}");
        }
    }
}

/// A tiny corpus folder in the `../shared/datasets` layout, written from our own sentences.
fn tiny_shared() -> PathBuf {
    let dir = tmp("shared");
    for sub in ["ptc", "babe", "lexicons"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let ptc = r#"{"id":"1","text":"The reckless, shameful plan failed.\n\nThe council met on Monday.","spans":[{"start":4,"end":26,"technique":null,"text":"reckless, shameful plan"}]}"#;
    let ptc = ptc.replace("\"end\":26", "\"end\":27");
    std::fs::write(dir.join("ptc/dev.jsonl"), format!("{ptc}\n")).unwrap();
    std::fs::write(dir.join("ptc/train.jsonl"), format!("{ptc}\n")).unwrap();
    let babe = concat!(
        "{\"id\":\"b1\",\"text\":\"A disgraceful betrayal of voters.\",\"label\":\"Biased\",\"biased_word_spans\":[]}\n",
        "{\"id\":\"b2\",\"text\":\"The vote is on Monday.\",\"label\":\"Non-biased\",\"biased_word_spans\":[]}\n"
    );
    std::fs::write(dir.join("babe/dev.jsonl"), babe).unwrap();
    std::fs::write(dir.join("babe/train.jsonl"), babe).unwrap();
    std::fs::write(
        dir.join("lexicons/lexicons.jsonl"),
        "{\"lexicon\":\"bias-lexicon\",\"entry\":\"reckless\",\"n_tokens\":1}\n",
    )
    .unwrap();
    dir
}

#[test]
fn eval_reports_metrics_and_enforces_floors() {
    let data = tiny_shared();
    let d = data.to_str().unwrap();
    let o = slant(&["eval", "--data", d, "--own", "no-such-dir"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("PTC dev SI") && out.contains("BABE dev"),
        "{out}"
    );
    let o = slant(
        &["eval", "--data", d, "--own", "no-such-dir", "--json"],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v["ptc_dev_si"]["f1"].is_number());
    let o = slant(
        &[
            "eval",
            "--data",
            d,
            "--own",
            "no-such-dir",
            "--min-si-f1",
            "1.01",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("below the floor"), "{}", stderr(&o));
    let o = slant(&["eval", "--data", "no/such/dir"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no/such/dir"));
}

#[test]
fn eval_on_our_own_datasets_folder() {
    let o = slant(&["eval", "--data", "datasets"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("own test SI") && out.contains("own test pairs"),
        "{out}"
    );
    assert!(!out.contains("PTC dev"), "{out}");
}

#[test]
fn batch_passes_input_fields_through_and_bounds_line_length() {
    let long = format!("{{\"id\":\"big\",\"text\":\"{}\"}}", "word ".repeat(400));
    let input = format!(
        "{{\"id\":\"a\",\"outlet\":\"Daily X\",\"date\":\"2026-11-24\",\"score\":7,\"text\":\"A shameful betrayal.\"}}\n{long}\n{{\"id\":\"b\",\"text\":\"The vote is on Monday.\"}}\n"
    );
    let o = batch_stdio(&["--max-bytes", "1000"], input.as_bytes());
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = jsonl_rows(&o);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["id"], "a");
    assert_eq!(rows[0]["outlet"], "Daily X");
    assert_eq!(rows[0]["date"], "2026-11-24");
    assert_eq!(
        rows[0]["input.score"], 7,
        "colliding input field kept under input.NAME"
    );
    assert!(rows[0]["score"].is_number() && rows[0]["score"] != 7);
    assert!(rows[0].get("text").is_none(), "text is not echoed");
    assert_eq!(rows[1]["line"], 2);
    assert!(
        rows[1]["error"].as_str().unwrap().contains("--max-bytes"),
        "{}",
        rows[1]
    );
    assert_eq!(rows[2]["id"], "b");
    assert!(rows[2].get("error").is_none());
}

#[test]
fn batch_formats_and_summary() {
    let input = concat!(
        "{\"id\":\"a\",\"outlet\":\"X\",\"text\":\"Critics called the plan a shameful, reckless betrayal of voters.\"}\n",
        "{\"id\":\"b\",\"outlet\":\"Y\",\"text\":\"The council met on Monday.\"}\n",
        "bad\n",
        "{\"id\":\"c\",\"outlet\":\"X\",\"text\":\"This corrupt, incompetent regime must go!\"}\n"
    );
    let o = batch_stdio(
        &["--format", "tsv", "--summary", "outlet"],
        input.as_bytes(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "id\tline\tscore\tlabel\tspans\ttechniques\terror");
    assert_eq!(lines.len(), 5, "header + one line per input row: {out}");
    assert!(
        lines.iter().skip(1).all(|l| l.split('\t').count() == 7),
        "{out}"
    );
    assert!(
        lines[3].starts_with("\t3\t") && lines[3].contains("malformed JSON"),
        "{}",
        lines[3]
    );
    let err = stderr(&o);
    assert!(err.contains("outlet\tdocs\tmean_score"), "{err}");
    assert!(err.lines().any(|l| l.starts_with("X\t2\t")), "{err}");
    assert!(err.lines().any(|l| l.starts_with("Y\t1\t")), "{err}");

    let o = batch_stdio(&["--format", "semeval", "--techniques"], input.as_bytes());
    assert!(o.status.success());
    for line in stdout(&o).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 4, "{line}");
        assert!(["a", "b", "c"].contains(&f[0]));
        assert!(f[2].parse::<usize>().unwrap() < f[3].parse::<usize>().unwrap());
    }

    let o = batch_stdio(&["--format", "tsv", "--html-dir", "x"], input.as_bytes());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--html-dir needs --format jsonl"));
}

/// `--output` naming a pipe or a device (`/dev/null`, a FIFO) is written in place: the
/// checkpoint-and-rename of regular files must never replace the node with a regular file
/// (running as root, `--output /dev/null` once turned /dev/null into a file).
#[test]
fn batch_output_to_a_fifo_is_written_in_place() {
    let dir = tmp("fifo");
    let _ = std::fs::create_dir_all(&dir);
    let fifo = dir.join("out.fifo");
    let _ = std::fs::remove_file(&fifo);
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("note: mkfifo unavailable; test skipped");
        return;
    }
    let input = dir.join("in.jsonl");
    std::fs::write(
        &input,
        "{\"id\":\"a\",\"text\":\"A calm note.\"}\n{\"id\":\"b\",\"text\":\"A shameful, reckless betrayal!\"}\n",
    )
    .unwrap();
    // The reader must open the FIFO for the writer's open to return.
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let o = slant(
        &[
            "batch",
            "--input",
            input.to_str().unwrap(),
            "--output",
            fifo.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let got = reader.join().unwrap();
    let ids: Vec<String> = got
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].to_string())
        .collect();
    assert_eq!(ids, vec!["\"a\"", "\"b\""]);
    use std::os::unix::fs::FileTypeExt;
    let meta = std::fs::symlink_metadata(&fifo).unwrap();
    assert!(
        meta.file_type().is_fifo(),
        "the FIFO was replaced: {meta:?}"
    );
    assert!(!dir.join("out.fifo.partial").exists());
    // --resume needs a regular file.
    let o = slant(
        &[
            "batch",
            "--input",
            input.to_str().unwrap(),
            "--output",
            fifo.to_str().unwrap(),
            "--resume",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("device or a pipe"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A document over `analyze::STREAM_JSON_BYTES` through the real binary takes the lean path of
/// `--format json` and `--format semeval`: the same bytes as the library's report of it,
/// serialised and rendered (our own documents joined into one, CRLF paragraphs, repeated).
#[test]
fn a_document_over_the_lean_limit_reports_as_the_library_does() {
    let mut text = crate::common::corpus_texts(&[]).join("\r\n\r\n");
    let one = text.clone();
    while text.len() <= slant::analyze::STREAM_JSON_BYTES + (1 << 16) {
        text.push_str("\n\n");
        text.push_str(&one);
    }
    let path = tmp("lean.txt");
    std::fs::write(&path, &text).unwrap();
    let report = crate::common::analyze(&text);
    assert!(report.spans.len() > 1000, "{}", report.spans.len());
    let p = path.to_str().unwrap();
    let o = slant(&["analyze", p, "--format", "json"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let want = serde_json::to_string(&report).unwrap() + "\n";
    assert!(o.stdout == want.as_bytes(), "JSON differs from the report");
    let o = slant(
        &[
            "analyze",
            p,
            "--format",
            "semeval",
            "--id",
            "9",
            "--techniques",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), slant::render::semeval(&report, "9", true));
    std::fs::remove_file(&path).ok();
}
