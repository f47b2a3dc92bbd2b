//! The real binary's report formats: `--format html`, `--color`, `NO_COLOR`, `--context`, and
//! `batch --html-dir`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const EXAMPLE: &str = "datasets/examples/withdrawal.txt";

fn slant(args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_slant"));
    cmd.args(args)
        .current_dir(crate::common::ROOT)
        .env_remove("NO_COLOR")
        .env_remove("COLUMNS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("binary runs");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().unwrap()
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn tmp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slant-render-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn example_text() -> String {
    std::fs::read_to_string(Path::new(crate::common::ROOT).join(EXAMPLE)).unwrap()
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn analyze_html_is_one_self_contained_page() {
    let out = ok(&slant(&["analyze", EXAMPLE, "--format", "html"], &[], None));
    assert!(out.starts_with("<!doctype html>"), "{}", &out[..100]);
    assert!(out.trim_end().ends_with("</html>"));
    let report: serde_json::Value = serde_json::from_str(&ok(&slant(
        &["analyze", EXAMPLE, "--format", "json"],
        &[],
        None,
    )))
    .unwrap();
    let spans = report["spans"].as_array().unwrap().len();
    assert_eq!(out.matches("tabindex=\"0\"").count(), spans);
    let lower = out.to_lowercase();
    for bad in [
        "http://",
        "https://",
        "<link",
        "<script src",
        "src=\"//",
        "href=\"//",
    ] {
        assert!(!lower.contains(bad), "{bad}");
    }
    assert_eq!(out.matches("<script").count(), 1);
    // Colour flags never leak escape sequences into HTML.
    let again = ok(&slant(
        &["analyze", EXAMPLE, "--format", "html", "--color", "always"],
        &[],
        None,
    ));
    assert_eq!(again, out);
}

#[test]
fn html_of_a_hostile_document_stays_text() {
    let doc = b"<script>alert('x')</script> Critics called the plan a shameful, reckless betrayal & a <b>disgrace</b>.";
    let out = ok(&slant(
        &["analyze", "-", "--format", "html"],
        &[],
        Some(doc),
    ));
    assert_eq!(out.matches("<script").count(), 1, "only slant's own script");
    assert!(
        out.contains("&lt;script&gt;alert('x')&lt;/script&gt;")
            || out.contains("&lt;script&gt;alert(&#39;x&#39;)")
    );
    assert!(!out.contains("<b>disgrace"));
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let has_escape = |o: &Output| ok(o).contains('\x1b');
    assert!(has_escape(&slant(
        &["analyze", EXAMPLE, "--color", "always"],
        &[],
        None
    )));
    assert!(!has_escape(&slant(
        &["analyze", EXAMPLE, "--color", "never"],
        &[],
        None
    )));
    // A pipe is not a terminal: `auto` (the default) stays plain.
    assert!(!has_escape(&slant(&["analyze", EXAMPLE], &[], None)));
    assert!(!has_escape(&slant(
        &["analyze", EXAMPLE, "--color", "auto"],
        &[],
        None
    )));
    assert!(!has_escape(&slant(
        &["analyze", EXAMPLE],
        &[("NO_COLOR", "1")],
        None
    )));
    // An explicit request beats NO_COLOR (https://no-color.org).
    assert!(has_escape(&slant(
        &["analyze", EXAMPLE, "--color", "always"],
        &[("NO_COLOR", "1")],
        None
    )));
    // The plain report keeps score, spans, technique and evidence.
    let plain = ok(&slant(&["analyze", EXAMPLE, "--color", "never"], &[], None));
    for needle in [
        "document score",
        "technique:",
        "evidence:",
        "flagged spans",
        "[1]",
    ] {
        assert!(plain.contains(needle), "{needle}: {plain}");
    }
    let o = slant(&["analyze", EXAMPLE, "--color", "sometimes"], &[], None);
    assert_eq!(o.status.code(), Some(2));
}

/// `script` (util-linux) runs the binary on a pseudo-terminal, where `auto` colours.
#[test]
fn auto_colours_a_terminal_unless_no_color() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("`script` not installed: skipped");
        return;
    }
    let run = |no_color: Option<&str>| {
        let cmd = format!("{} analyze {EXAMPLE}", env!("CARGO_BIN_EXE_slant"));
        let mut c = Command::new("script");
        c.args(["-qec", &cmd, "/dev/null"])
            .current_dir(crate::common::ROOT)
            .env("TERM", "xterm-256color")
            .env_remove("NO_COLOR")
            .stdin(Stdio::null());
        if let Some(v) = no_color {
            c.env("NO_COLOR", v);
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let tty = run(None);
    assert!(tty.contains("document score"), "{tty}");
    assert!(tty.contains('\x1b'), "a terminal gets colour");
    assert!(!run(Some("1")).contains('\x1b'), "NO_COLOR turns it off");
    assert!(run(Some("")).contains('\x1b'), "an empty NO_COLOR does not");
}

#[test]
fn context_shows_flagged_sentences_and_their_neighbours() {
    let text = example_text();
    let report: serde_json::Value = serde_json::from_str(&ok(&slant(
        &["analyze", EXAMPLE, "--format", "json"],
        &[],
        None,
    )))
    .unwrap();
    let spans = report["spans"].as_array().unwrap();
    let sentences: Vec<(usize, usize)> = report["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["byte_start"].as_u64().unwrap() as usize,
                s["byte_end"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    let flagged: Vec<bool> = sentences
        .iter()
        .map(|&(a, b)| {
            spans.iter().any(|s| {
                let (x, y) = (
                    s["byte_start"].as_u64().unwrap() as usize,
                    s["byte_end"].as_u64().unwrap() as usize,
                );
                x < b && a < y
            })
        })
        .collect();
    assert!(
        flagged.iter().any(|f| *f),
        "the example has flagged sentences"
    );
    let full = one_line(&ok(&slant(&["analyze", EXAMPLE], &[], None)));
    for n in [0usize, 1] {
        let out = ok(&slant(
            &["analyze", EXAMPLE, "--context", &n.to_string()],
            &[],
            None,
        ));
        let flat = one_line(&out);
        assert!(flat.len() <= full.len());
        for (k, &(a, b)) in sentences.iter().enumerate() {
            if flagged[k] {
                continue; // its spans are bracketed: the text differs
            }
            let near = (k.saturating_sub(n)..=k + n).any(|j| flagged.get(j) == Some(&true));
            let sentence = one_line(&text[a..b]);
            assert_eq!(
                flat.contains(&sentence),
                near,
                "--context {n}: sentence {k} {sentence:?}"
            );
        }
        if flagged.iter().any(|f| !f) && n == 0 {
            assert!(out.contains("not shown"), "{out}");
        }
        assert_eq!(out.matches("technique:").count(), spans.len());
    }
}

#[test]
fn wraps_to_columns_when_not_a_terminal() {
    let out = ok(&slant(&["analyze", EXAMPLE], &[("COLUMNS", "50")], None));
    for l in out.lines() {
        assert!(l.chars().count() <= 50, "{l:?}");
    }
    assert!(out.lines().any(|l| l.chars().count() > 40));
}

fn jsonl() -> Vec<u8> {
    let mut rows = String::new();
    for (id, name) in [
        ("w", "withdrawal"),
        ("n", "withdrawal-neutral"),
        ("m/../x", "mixed-scripts"),
    ] {
        let text = std::fs::read_to_string(
            Path::new(crate::common::ROOT).join(format!("datasets/examples/{name}.txt")),
        )
        .unwrap();
        rows.push_str(&serde_json::json!({"id": id, "text": text}).to_string());
        rows.push('\n');
    }
    rows.push_str("not json\n");
    rows.push_str("{\"text\":\"<script>alert(1)</script> A shameful, reckless betrayal.\"}\n");
    rows.into_bytes()
}

fn check_html_dir(dir: &Path) {
    let index = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(index.starts_with("<!doctype html>"));
    assert!(index.contains("class=\"sortable\""));
    assert!(index.contains("line 4: malformed JSON"), "{index}");
    let mut pages: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    pages.sort();
    assert_eq!(
        pages,
        [
            "00001-w.html",
            "00002-n.html",
            "00003-m-x.html",
            "00005.html",
            "index.html"
        ],
        "one page per scored row, no spool files left"
    );
    for p in &pages {
        let page = std::fs::read_to_string(dir.join(p)).unwrap();
        assert!(page.starts_with("<!doctype html>"), "{p}");
        assert!(!page.to_lowercase().contains("http://"), "{p}");
        assert!(!page.to_lowercase().contains("https://"), "{p}");
        assert_eq!(page.matches("<script").count(), 1, "{p}");
        if p != "index.html" {
            assert!(index.contains(&format!("href=\"{p}\"")), "index links {p}");
            assert!(page.contains("href=\"index.html\""), "{p} links back");
        }
    }
}

#[test]
fn batch_html_dir_writes_a_page_per_document_and_an_index() {
    let dir = tmp_dir("files");
    let input = dir.join("in.jsonl");
    std::fs::write(&input, jsonl()).unwrap();
    let html = dir.join("html");
    let out = dir.join("out.jsonl");
    let o = slant(
        &[
            "batch",
            "--input",
            input.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
            "--html-dir",
            html.to_str().unwrap(),
        ],
        &[],
        None,
    );
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stderr).contains("4 pages and index.html"));
    check_html_dir(&html);
    // The JSONL is the same as without --html-dir.
    let plain_out = dir.join("plain.jsonl");
    ok(&slant(
        &[
            "batch",
            "--input",
            input.to_str().unwrap(),
            "--output",
            plain_out.to_str().unwrap(),
        ],
        &[],
        None,
    ));
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(&plain_out).unwrap()
    );

    // Standard input to standard output.
    let html2 = dir.join("html2");
    let o = slant(
        &[
            "batch",
            "--input",
            "-",
            "--output",
            "-",
            "--html-dir",
            html2.to_str().unwrap(),
        ],
        &[],
        Some(&jsonl()),
    );
    let stdout = ok(&o);
    assert_eq!(stdout.as_bytes(), std::fs::read(&out).unwrap().as_slice());
    check_html_dir(&html2);
}
