//! Fault injection on the real binary: `slant batch --output OUT` stopped by SIGINT, SIGTERM and
//! SIGKILL (plus a torn last row), then resumed with `--resume`. Interrupted runs must leave no
//! file at OUT and only whole rows in `OUT.partial`; the resumed OUT must be byte-identical to an
//! uninterrupted run's, with every input line exactly once. A checkpoint that does not belong to
//! the input is refused. Signals are sent with `kill(1)`.

use crate::common::{slant, slant_command};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Input rows of the big synthetic batch: with `--jobs 1` a run takes several seconds.
const ROWS: usize = 60_000;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("slant-faults-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Our own made-up news sentences, mixed deterministically (a linear congruential generator),
/// with a few rows that cannot be scored (malformed JSON, no `text`, no `id`) among them.
fn synthetic_input(rows: usize, seed: u64) -> String {
    const WHO: [&str; 8] = [
        "The council",
        "Officials",
        "Critics",
        "The minister",
        "Local residents",
        "The committee",
        "Analysts",
        "The harbour authority",
    ];
    const DID: [&str; 8] = [
        "approved",
        "rejected",
        "called",
        "described",
        "debated",
        "announced",
        "condemned",
        "praised",
    ];
    const WHAT: [&str; 10] = [
        "the budget plan",
        "a shameful betrayal of loyal voters",
        "the new bridge",
        "a reckless, chaotic fiasco",
        "the ferry timetable",
        "the quiet reform of the school board",
        "an outrageous scandal",
        "the annual report",
        "a humiliating disaster for everyone",
        "the road repairs",
    ];
    let mut state = seed;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize % n
    };
    let mut out = String::new();
    for i in 0..rows {
        let mut text = String::new();
        for _ in 0..3 + next(3) {
            text.push_str(&format!(
                "{} {} {} on day {}. ",
                WHO[next(WHO.len())],
                DID[next(DID.len())],
                WHAT[next(WHAT.len())],
                1 + next(28)
            ));
        }
        let text = text.trim_end();
        let outlet = ["north", "south", "east"][next(3)];
        match i % 1000 {
            17 => out.push_str("{\"id\": \"broken\", \"text\": \n"),
            401 => out.push_str(&format!("{{\"id\":\"doc-{i}\",\"outlet\":\"{outlet}\"}}\n")),
            802 => out.push_str(&format!("{{\"text\":\"{text}\",\"score\":7}}\n")),
            _ => out.push_str(&format!(
                "{{\"id\":\"doc-{i}\",\"outlet\":\"{outlet}\",\"text\":\"{text}\"}}\n"
            )),
        }
    }
    out
}

/// The big input and an uninterrupted run's output (made once per test binary).
struct Reference {
    input: PathBuf,
    output: Vec<u8>,
}

fn reference() -> &'static Reference {
    static R: OnceLock<Reference> = OnceLock::new();
    R.get_or_init(|| {
        let d = dir("reference");
        let input = d.join("in.jsonl");
        std::fs::write(&input, synthetic_input(ROWS, 7)).unwrap();
        let out = d.join("reference.jsonl");
        let o = slant(
            &[
                "batch",
                "--input",
                path_str(&input),
                "--output",
                path_str(&out),
            ],
            None,
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let output = std::fs::read(&out).unwrap();
        assert_eq!(output.iter().filter(|&&b| b == b'\n').count(), ROWS);
        Reference { input, output }
    })
}

fn partial_of(out: &Path) -> PathBuf {
    PathBuf::from(format!("{}.partial", out.display()))
}

fn newlines(p: &Path) -> usize {
    std::fs::read(p)
        .map(|b| b.iter().filter(|&&c| c == b'\n').count())
        .unwrap_or(0)
}

/// Starts `slant batch --jobs 1` on the reference input, waits until its checkpoint holds more
/// than one chunk of whole rows, sends `signal` with kill(1) and returns the exit status and
/// stderr.
fn interrupt(out: &Path, signal: &str) -> (ExitStatus, String) {
    let r = reference();
    let child = slant_command()
        .args(["batch", "--jobs", "1", "--input"])
        .arg(&r.input)
        .arg("--output")
        .arg(out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let partial = partial_of(out);
    let started = Instant::now();
    while newlines(&partial) < 600 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no rows in {}",
            partial.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(sent.success(), "kill -{signal} failed");
    let o = child.wait_with_output().unwrap();
    (o.status, String::from_utf8_lossy(&o.stderr).into_owned())
}

/// The checkpoint holds whole rows only, and they are the reference's first rows; returns how many.
fn assert_whole_rows(partial: &Path) -> usize {
    let r = reference();
    let saved = std::fs::read(partial).unwrap();
    assert!(saved.ends_with(b"\n"), "checkpoint ends in a torn row");
    let rows = saved.iter().filter(|&&b| b == b'\n').count();
    assert!(rows > 0 && rows < ROWS, "{rows} rows saved of {ROWS}");
    for line in saved.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        serde_json::from_slice::<serde_json::Value>(line).expect("a whole JSON row");
    }
    assert_eq!(
        saved[..],
        r.output[..saved.len()],
        "saved rows differ from the reference"
    );
    rows
}

/// `--resume` finishes the run: OUT equals the reference byte for byte, the checkpoint is gone,
/// and every input line is there exactly once, in order.
fn resume_and_check(out: &Path) -> String {
    let r = reference();
    let o = slant(
        &[
            "batch",
            "--input",
            path_str(&r.input),
            "--output",
            path_str(out),
            "--resume",
        ],
        None,
    );
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}");
    assert!(err.contains("resumed"), "{err}");
    let got = std::fs::read(out).unwrap();
    assert!(got == r.output, "resumed output differs from the reference");
    assert!(!partial_of(out).exists(), "checkpoint left behind");
    let input = std::fs::read_to_string(&r.input).unwrap();
    let got = String::from_utf8(got).unwrap();
    assert_eq!(got.lines().count(), input.lines().count());
    let mut ids = std::collections::HashSet::new();
    for (n, (row, line)) in got.lines().zip(input.lines()).enumerate() {
        let row: serde_json::Value = serde_json::from_str(row).unwrap();
        let want_id = serde_json::from_str::<serde_json::Value>(line)
            .ok()
            .and_then(|v| v.get("id").cloned());
        match want_id {
            Some(id) => {
                assert_eq!(row["id"], id, "row {}", n + 1);
                assert!(ids.insert(id.to_string()), "{id} twice");
            }
            None => assert!(
                row["id"].is_null() || row.get("error").is_some(),
                "row {}",
                n + 1
            ),
        }
        if row.get("error").is_some() {
            assert_eq!(row["line"], n + 1);
        }
    }
    err
}

fn interrupted_then_resumed(name: &str, signal: &str, code: i32) {
    let out = dir(name).join("out.jsonl");
    let (status, err) = interrupt(&out, signal);
    assert_eq!(status.code(), Some(code), "{err}");
    assert!(!out.exists(), "{} exists after {signal}", out.display());
    let rows = assert_whole_rows(&partial_of(&out));
    let line = err.lines().last().unwrap_or("");
    assert!(
        line.contains(&format!("interrupted by SIG{signal}: {rows} rows saved in"))
            && line.contains("--resume"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    resume_and_check(&out);
    eprintln!("SIG{signal}: {rows} of {ROWS} rows saved, the rest resumed, 0 lost");
    std::fs::remove_dir_all(out.parent().unwrap()).ok();
}

#[test]
fn sigint_keeps_whole_rows_and_resume_completes() {
    interrupted_then_resumed("int", "INT", 130);
}

#[test]
fn sigterm_keeps_whole_rows_and_resume_completes() {
    interrupted_then_resumed("term", "TERM", 143);
}

#[test]
fn sigkill_and_a_torn_row_are_resumed() {
    let out = dir("kill").join("out.jsonl");
    let (status, err) = interrupt(&out, "KILL");
    assert_eq!(status.signal(), Some(9), "{err}");
    assert!(!out.exists());
    let partial = partial_of(&out);
    // The kill may already have torn the last row; tear one more for certain.
    let mut saved = std::fs::read(&partial).unwrap();
    let whole = saved.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let next_row = reference().output[whole..]
        .split(|&b| b == b'\n')
        .next()
        .unwrap();
    saved.truncate(whole);
    saved.extend_from_slice(&next_row[..next_row.len() / 2]);
    std::fs::write(&partial, &saved).unwrap();
    let err = resume_and_check(&out);
    assert!(err.contains("dropped a torn last row"), "{err}");
    eprintln!(
        "SIGKILL: {} of {ROWS} whole rows kept, a torn row dropped, the rest resumed, 0 lost",
        saved.iter().filter(|&&b| b == b'\n').count()
    );
    std::fs::remove_dir_all(out.parent().unwrap()).ok();
}

#[test]
fn stdout_output_stops_cleanly_on_sigint() {
    let r = reference();
    let d = dir("stdout");
    let captured = d.join("stdout.jsonl");
    let child = slant_command()
        .args(["batch", "--jobs", "1", "--output", "-", "--input"])
        .arg(&r.input)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&captured).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while newlines(&captured) < 600 {
        assert!(started.elapsed() < Duration::from_secs(120));
        std::thread::sleep(Duration::from_millis(20));
    }
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{err}");
    let rows = assert_whole_rows(&captured);
    assert!(
        err.contains(&format!(
            "interrupted by SIGINT: the first {rows} rows were written"
        )),
        "{err}"
    );
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn a_checkpoint_of_another_input_is_refused() {
    let r = reference();
    let d = dir("mismatch");
    let out = d.join("out.jsonl");
    let partial = partial_of(&out);
    let lines: Vec<&[u8]> = r.output.split_inclusive(|&b| b == b'\n').collect();
    let run = |checkpoint: &[u8], input: &Path| {
        std::fs::write(&partial, checkpoint).unwrap();
        let o = slant(
            &[
                "batch",
                "--input",
                path_str(input),
                "--output",
                path_str(&out),
                "--resume",
            ],
            None,
        );
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("cannot resume"), "{err}");
        assert!(!out.exists());
        assert_eq!(
            std::fs::read(&partial).unwrap(),
            checkpoint,
            "checkpoint changed"
        );
        err
    };
    // Row 700 swapped for row 701: a different id.
    let mut swapped: Vec<u8> = Vec::new();
    for (i, l) in lines[..1000].iter().enumerate() {
        swapped.extend_from_slice(if i == 699 { lines[700] } else { l });
    }
    let err = run(&swapped, &r.input);
    assert!(err.contains("row 700") && err.contains("doc-700"), "{err}");
    // An error row for a line that is a scorable row.
    let mut error_row = lines[..5].concat();
    error_row.extend_from_slice(b"{\"line\":6,\"error\":\"empty line\"}\n");
    let err = run(&error_row, &r.input);
    assert!(err.contains("row 6"), "{err}");
    // A pass-through field changed.
    let mut field = lines[..3].concat();
    let changed = String::from_utf8(lines[3].to_vec()).unwrap().replacen(
        "\"outlet\":\"",
        "\"outlet\":\"x",
        1,
    );
    field.extend_from_slice(changed.as_bytes());
    let err = run(&field, &r.input);
    assert!(err.contains("row 4") && err.contains("outlet"), "{err}");
    // More rows than a short input has lines.
    let short = d.join("short.jsonl");
    let input = std::fs::read_to_string(&r.input).unwrap();
    let three: String = input.lines().take(3).map(|l| format!("{l}\n")).collect();
    std::fs::write(&short, three).unwrap();
    let err = run(&lines[..5].concat(), &short);
    assert!(err.contains("more rows than the input"), "{err}");
    // Not JSON at all.
    let err = run(b"id\tline\tscore\n", &r.input);
    assert!(err.contains("row 1"), "{err}");
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn without_resume_a_checkpoint_is_overwritten_and_tsv_resumes_too() {
    let d = dir("small");
    let input = d.join("in.jsonl");
    std::fs::write(&input, synthetic_input(1200, 3)).unwrap();
    let batch = |out: &Path, extra: &[&str]| {
        let mut args = vec![
            "batch",
            "--input",
            path_str(&input),
            "--output",
            path_str(out),
        ];
        args.extend_from_slice(extra);
        let o = slant(&args, None);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(out).unwrap()
    };
    let reference = batch(&d.join("ref.jsonl"), &[]);
    let out = d.join("out.jsonl");
    std::fs::write(partial_of(&out), b"{\"id\":\"stale\"}\n").unwrap();
    assert_eq!(batch(&out, &[]), reference);
    assert!(!partial_of(&out).exists());
    // --resume without a checkpoint starts from the first row.
    std::fs::remove_file(&out).unwrap();
    assert_eq!(batch(&out, &["--resume"]), reference);
    // TSV: a checkpoint of the header and 700 rows, with a torn 701st.
    let tsv_ref = batch(&d.join("ref.tsv"), &["--format", "tsv"]);
    let tsv = d.join("out.tsv");
    let rows: Vec<&[u8]> = tsv_ref.split_inclusive(|&b| b == b'\n').collect();
    let mut saved = rows[..701].concat();
    saved.extend_from_slice(&rows[701][..rows[701].len() / 2]);
    std::fs::write(partial_of(&tsv), saved).unwrap();
    assert_eq!(batch(&tsv, &["--format", "tsv", "--resume"]), tsv_ref);
    // The header alone (killed before the first row).
    std::fs::write(partial_of(&tsv), rows[0]).unwrap();
    assert_eq!(batch(&tsv, &["--format", "tsv", "--resume"]), tsv_ref);
    // A run that fails before its first row (a folder as input) leaves neither file behind.
    let failed = d.join("failed.jsonl");
    let o = slant(
        &[
            "batch",
            "--input",
            path_str(&d),
            "--output",
            path_str(&failed),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(!failed.exists() && !partial_of(&failed).exists());
    // --resume needs a file and a resumable format.
    for args in [
        vec!["batch", "--input", "x", "--output", "-", "--resume"],
        vec![
            "batch", "--input", "x", "--output", "o", "--format", "semeval", "--resume",
        ],
    ] {
        let o = slant(&args, None);
        assert_eq!(o.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&o.stderr).contains("--resume needs"));
    }
    std::fs::remove_dir_all(&d).ok();
}
