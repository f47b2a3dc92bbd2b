//! The terminal and HTML renderers on our own example documents (`datasets/examples/*.txt`).
//!
//! Golden files (`tests/golden/`) are rendered from fixed, hand-built reports, so retraining the
//! model never moves them. After an intended change of the output, regenerate them with
//! `SLANT_BLESS=1 cargo test --release --test render` and review the diff.

use slant::render::html::{index, page, IndexError, IndexRow};
use slant::render::{self, text_with, HtmlOptions, TextOptions};
use slant::report::{Evidence, Label, ModelInfo, Report, SentenceReport, SpanReport};
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------------
// Fixtures: the example documents with hand-built reports.

struct Span {
    text: &'static str,
    technique: &'static str,
    score: f32,
    technique_score: f32,
    evidence: &'static [(&'static str, f32)],
}

struct Fixture {
    name: &'static str,
    doc: String,
    report: Report,
}

fn example(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("datasets/examples")
        .join(format!("{name}.txt"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn cp(doc: &str, byte: usize) -> usize {
    doc[..byte].chars().count()
}

/// Byte range of `needle` in `doc` at or after `from`.
fn locate(doc: &str, needle: &str, from: usize) -> (usize, usize) {
    let b = from
        + doc[from..]
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} not in the document"));
    (b, b + needle.len())
}

/// A report over `doc`: sentences and spans given by their text (found in order), scores by hand.
fn build(doc: &str, score: f32, sentences: &[(&str, f32)], spans: &[Span]) -> Report {
    let mut at = 0;
    let sentences = sentences
        .iter()
        .map(|(s, p)| {
            let (a, b) = locate(doc, s, at);
            at = b;
            SentenceReport {
                start: cp(doc, a),
                end: cp(doc, b),
                byte_start: a,
                byte_end: b,
                score: *p,
            }
        })
        .collect();
    let mut at = 0;
    let spans = spans
        .iter()
        .map(|s| {
            let (a, b) = locate(doc, s.text, at);
            at = b;
            let evidence = s
                .evidence
                .iter()
                .map(|(w, weight)| {
                    let (ea, eb) = locate(doc, w, a);
                    assert!(eb <= b, "evidence {w:?} outside {:?}", s.text);
                    Evidence {
                        start: cp(doc, ea),
                        end: cp(doc, eb),
                        byte_start: ea,
                        byte_end: eb,
                        text: w.to_string(),
                        weight: *weight,
                    }
                })
                .collect();
            SpanReport {
                start: cp(doc, a),
                end: cp(doc, b),
                byte_start: a,
                byte_end: b,
                text: s.text.to_string(),
                score: s.score,
                technique: slant::Technique::from_name(s.technique),
                technique_score: s.technique_score,
                evidence,
            }
        })
        .collect();
    Report {
        score,
        label: Label::of(score),
        sentences,
        spans,
        model: ModelInfo {
            name: "fixture".into(),
            version: "1.0.0".into(),
        },
    }
}

fn withdrawal() -> Fixture {
    let doc = example("withdrawal");
    let report = build(
        &doc,
        0.91,
        &[
            ("Adviser defends pullout as critics pile on", 0.38),
            ("WASHINGTON — The chaotic withdrawal was one of the most effective geopolitical initiatives in decades, a senior adviser to the administration told reporters on Thursday.", 0.81),
            ("Opposition leaders were having none of it.", 0.22),
            ("\"This was a humiliating fiasco dressed up as strategy,\" said Senator Dana Whitcombe, who has demanded hearings.", 0.74),
            ("Her allies went further, calling the planners reckless cowards who abandoned loyal partners to a brutal regime.", 0.88),
            ("The last transport aircraft left the capital on Tuesday night.", 0.06),
            ("According to the defence ministry, about 4,200 personnel and 1,100 civilian staff were moved in eleven days.", 0.03),
            ("Supporters of the plan say history will vindicate it.", 0.31),
            ("Anyone who still doubts the strategy, one commentator wrote, simply hates this country and wants it to fail.", 0.79),
        ],
        &[
            Span {
                text: "chaotic withdrawal",
                technique: "Loaded_Language",
                score: 0.74,
                technique_score: 0.81,
                evidence: &[("chaotic", 2.3), ("withdrawal", 0.4)],
            },
            Span {
                text: "most effective geopolitical initiatives",
                technique: "Exaggeration,Minimisation",
                score: 0.61,
                technique_score: 0.55,
                evidence: &[("effective", 1.2), ("most", 0.9)],
            },
            Span {
                text: "humiliating fiasco",
                technique: "Loaded_Language",
                score: 0.83,
                technique_score: 0.77,
                evidence: &[("humiliating", 1.91), ("fiasco", 1.53)],
            },
            Span {
                text: "reckless cowards",
                technique: "Name_Calling,Labeling",
                score: 0.79,
                technique_score: 0.68,
                evidence: &[("cowards", 2.1), ("reckless", 1.81)],
            },
            Span {
                text: "brutal regime",
                technique: "Loaded_Language",
                score: 0.52,
                technique_score: 0.49,
                evidence: &[("brutal", 0.99)],
            },
            Span {
                text: "simply hates this country and wants it to fail",
                technique: "Black-and-White_Fallacy",
                score: 0.57,
                technique_score: 0.42,
                evidence: &[("hates", 0.88), ("fail", 0.79), ("country", 0.76)],
            },
        ],
    );
    Fixture {
        name: "withdrawal",
        doc,
        report,
    }
}

fn withdrawal_neutral() -> Fixture {
    let doc = example("withdrawal-neutral");
    let report = build(
        &doc,
        0.18,
        &[
            ("Adviser defends pullout as critics raise concerns", 0.21),
            ("WASHINGTON — The withdrawal was completed on schedule, a senior adviser to the administration told reporters on Thursday.", 0.12),
            ("Opposition leaders disputed that account.", 0.09),
            ("Senator Dana Whitcombe, who has requested hearings, said the operation had been poorly planned.", 0.14),
            ("Other members of her party questioned whether partner forces had been given enough notice.", 0.07),
            ("The last transport aircraft left the capital on Tuesday night.", 0.04),
            ("According to the defence ministry, about 4,200 personnel and 1,100 civilian staff were moved in eleven days.", 0.03),
            ("Supporters of the plan said its long-term effects would take years to assess.", 0.1),
            ("A commentator wrote that the debate over the strategy was likely to continue.", 0.08),
        ],
        &[],
    );
    Fixture {
        name: "withdrawal-neutral",
        doc,
        report,
    }
}

fn crlf() -> Fixture {
    let doc = example("crlf");
    let report = build(
        &doc,
        0.77,
        &[
            ("Council approves budget", 0.2),
            ("The council approved the budget on Monday.", 0.05),
            (
                "Opponents called it an outrageous, reckless betrayal of taxpayers.",
                0.82,
            ),
        ],
        &[Span {
            text: "outrageous, reckless betrayal",
            technique: "Loaded_Language",
            score: 0.66,
            technique_score: 0.71,
            evidence: &[("reckless", 2.07), ("outrageous", 1.91), ("betrayal", 0.92)],
        }],
    );
    Fixture {
        name: "crlf",
        doc,
        report,
    }
}

fn mixed_scripts() -> Fixture {
    let doc = example("mixed-scripts");
    let report = build(
        &doc,
        0.93,
        &[
            ("Zoë Łukasiewicz, mayor of São Paulo’s twin city, announced a €2 million budget on Monday 🙂.", 0.11),
            ("Critics called the plan a “disgraceful, shameless giveaway” — and the mayor a puppet of developers!", 0.89),
        ],
        &[
            Span {
                text: "“disgraceful, shameless giveaway”",
                technique: "Loaded_Language",
                score: 0.72,
                technique_score: 0.66,
                evidence: &[("disgraceful", 1.53), ("shameless", 1.32)],
            },
            Span {
                text: "puppet of developers",
                technique: "Name_Calling,Labeling",
                score: 0.64,
                technique_score: 0.71,
                evidence: &[("puppet", 0.99)],
            },
        ],
    );
    Fixture {
        name: "mixed-scripts",
        doc,
        report,
    }
}

fn fixtures() -> Vec<Fixture> {
    vec![withdrawal(), withdrawal_neutral(), crlf(), mixed_scripts()]
}

fn source(f: &Fixture) -> String {
    format!("datasets/examples/{}.txt", f.name)
}

// ---------------------------------------------------------------------------------------------
// Golden files.

/// Compares `actual` with `tests/golden/<file>`, or writes it there when `SLANT_BLESS=1`.
fn golden(file: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(file);
    if std::env::var_os("SLANT_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run `SLANT_BLESS=1 cargo test --release --test render` to create it",
            path.display()
        )
    });
    if expected != actual {
        let (n, (want, got)) = expected
            .split('\n')
            .zip(actual.split('\n'))
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .unwrap_or((
                expected.split('\n').count().min(actual.split('\n').count()),
                ("<end of file>", "<end of file>"),
            ));
        panic!(
            "{} differs at line {}:\n  expected: {want:?}\n  actual:   {got:?}\n\
             If the change is intended, regenerate with `SLANT_BLESS=1 cargo test --release --test render`.",
            path.display(),
            n + 1
        );
    }
}

fn plain(width: usize, context: Option<usize>) -> TextOptions {
    TextOptions {
        color: false,
        width,
        context,
    }
}

#[test]
fn golden_text_reports() {
    for f in fixtures() {
        let src = source(&f);
        golden(
            &format!("{}.txt", f.name),
            &text_with(&f.report, &src, &f.doc, &plain(80, None)),
        );
        golden(
            &format!("{}.ansi", f.name),
            &text_with(
                &f.report,
                &src,
                &f.doc,
                &TextOptions {
                    color: true,
                    ..plain(80, None)
                },
            ),
        );
    }
    let f = withdrawal();
    for n in [0, 1] {
        golden(
            &format!("withdrawal.context{n}.txt"),
            &text_with(&f.report, &source(&f), &f.doc, &plain(60, Some(n))),
        );
    }
    let f = mixed_scripts();
    golden(
        "mixed-scripts.width32.txt",
        &text_with(&f.report, &source(&f), &f.doc, &plain(32, None)),
    );
}

#[test]
fn golden_html_reports() {
    for f in fixtures() {
        golden(
            &format!("{}.html", f.name),
            &render::html(&f.report, &source(&f), &f.doc),
        );
    }
    golden("index.html", &batch_index());
}

fn batch_index() -> String {
    let rows: Vec<IndexRow> = fixtures()
        .iter()
        .map(|f| IndexRow::new(f.name, &format!("{}.html", f.name), &f.report))
        .collect();
    let errors = [IndexError {
        line: 5,
        id: Some("broken".into()),
        error: "malformed JSON: expected value at line 1 column 1".into(),
    }];
    index(&rows, &errors, "examples.jsonl")
}

// ---------------------------------------------------------------------------------------------
// Properties of the pages and the text.

/// Every `src`/`href` attribute value of `html`.
fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["src=", "href="] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            let v = match rest.chars().next() {
                Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or(""),
                _ => rest
                    .split(|c: char| c.is_whitespace() || c == '>')
                    .next()
                    .unwrap_or(""),
            };
            out.push(v.to_string());
        }
    }
    out
}

fn assert_self_contained(html: &str) {
    assert!(html.starts_with("<!doctype html>"), "doctype");
    let lower = html.to_lowercase();
    for bad in [
        "http://",
        "https://",
        "<link",
        "<script src",
        "@import",
        "url(",
        "<iframe",
    ] {
        assert!(!lower.contains(bad), "page contains {bad:?}");
    }
    for l in links(&lower) {
        assert!(!l.starts_with("//"), "protocol-relative link {l:?}");
        assert!(!l.contains(':'), "link with a scheme {l:?}");
        assert!(!l.contains(".."), "link leaving the folder {l:?}");
    }
    assert!(lower.contains("content-security-policy"), "CSP");
    assert!(lower.contains("default-src 'none'"), "CSP forbids fetching");
}

#[test]
fn pages_make_no_external_requests() {
    for f in fixtures() {
        let p = render::html(&f.report, &source(&f), &f.doc);
        assert_self_contained(&p);
        let back = page(
            &f.report,
            &f.doc,
            &HtmlOptions {
                title: f.name,
                index_href: Some("index.html"),
            },
        );
        assert_self_contained(&back);
        assert!(back.contains("href=\"index.html\""));
    }
    let idx = batch_index();
    assert_self_contained(&idx);
    for f in fixtures() {
        assert!(
            idx.contains(&format!("href=\"{}.html\"", f.name)),
            "{}",
            f.name
        );
    }
}

#[test]
fn pages_escape_every_text() {
    let doc = "Critics said <script>alert(1)</script> was a \"disgrace\" & <img src=x onerror=alert(2)> too.";
    let mut r = build(
        doc,
        0.8,
        &[(doc, 0.8)],
        &[Span {
            text: "<script>alert(1)</script>",
            // A technique is a `Technique`: it cannot carry markup.
            technique: "Loaded_Language",
            score: 0.7,
            technique_score: 0.6,
            evidence: &[("alert", 1.0)],
        }],
    );
    r.model.name = "</title><script>alert(3)</script>".into();
    r.spans[0].evidence[0].text = "\"><svg onload=alert(4)>".into();
    let p = render::html(&r, "<script>alert(5)</script>.txt", doc);
    assert_self_contained(&p);
    assert_eq!(
        p.matches("<script").count(),
        1,
        "only our own inline script"
    );
    for bad in ["<img", "<svg onload", "</title><script>"] {
        assert!(!p.contains(bad), "unescaped {bad:?}");
    }
    assert!(p.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(p.contains("&amp; &lt;img src=x onerror=alert(2)&gt;"));
    let idx = index(
        &[IndexRow::new("<script>x</script>", "a.html", &r)],
        &[IndexError {
            line: 2,
            id: Some("<i>".into()),
            error: "<b>bad</b>".into(),
        }],
        "<title>",
    );
    assert_eq!(idx.matches("<script").count(), 1);
    assert!(!idx.contains("<i>") && !idx.contains("<b>bad"));
}

#[test]
fn page_shows_every_span_sentence_and_technique() {
    let f = withdrawal();
    let p = render::html(&f.report, &source(&f), &f.doc);
    let spans = f.report.spans.len();
    assert_eq!(p.matches("<mark ").count(), spans);
    assert_eq!(
        p.matches("tabindex=\"0\"").count(),
        spans,
        "every mark focusable"
    );
    assert_eq!(p.matches("role=\"tooltip\"").count(), spans);
    for k in 1..=spans {
        assert!(
            p.contains(&format!("aria-describedby=\"tip{k}\"")),
            "tooltip {k}"
        );
        assert!(p.contains(&format!("id=\"tip{k}\"")), "tooltip {k}");
        assert!(
            p.contains(&format!("href=\"#m{k}\"")),
            "note {k} links to its mark"
        );
    }
    for k in 1..=f.report.sentences.len() {
        assert!(p.contains(&format!("href=\"#s{k}\"")), "strip bar {k}");
        assert!(p.contains(&format!("id=\"s{k}\"")), "sentence {k}");
    }
    // Legend: Loaded Language 3, the others 1.
    assert!(
        p.contains("Loaded Language</span> <span class=\"count\" aria-label=\"3 spans\">3</span>"),
        "legend counts"
    );
    assert!(p.contains("Name Calling, Labeling"));
    assert!(p.contains(">0.91<"), "document score");
    assert!(p.contains("@media print"), "print stylesheet");
    assert!(p.contains("mark:focus>.tip"), "tooltip on focus");
    // The text is all there, unchanged apart from the markup.
    let stripped = strip_tags_and_tooltips(&p);
    assert!(stripped.contains("Her allies went further, calling the planners reckless cowards who abandoned loyal partners to a brutal regime."), "{stripped}");
}

/// The article's text from a page: tags removed, tooltips dropped, entities decoded.
fn strip_tags_and_tooltips(p: &str) -> String {
    let start = p.find("<article").unwrap();
    let end = p.find("</article>").unwrap();
    let mut body = &p[start..end];
    let mut out = String::new();
    while let Some(i) = body.find('<') {
        out.push_str(&body[..i]);
        body = &body[i..];
        if body.starts_with("<span class=\"tip\"") {
            // Skip the tooltip: up to its closing tag, counting nested spans.
            let mut depth = 0;
            let mut j = 0;
            while j < body.len() {
                let rest = &body.as_bytes()[j..];
                if rest.starts_with(b"<span") {
                    depth += 1;
                } else if rest.starts_with(b"</span>") {
                    depth -= 1;
                    if depth == 0 {
                        j += "</span>".len();
                        break;
                    }
                }
                j += 1;
            }
            body = &body[j..];
        } else {
            let close = body.find('>').unwrap();
            body = &body[close + 1..];
        }
    }
    out.push_str(body);
    out.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[test]
fn page_text_is_the_document() {
    for f in fixtures() {
        let p = render::html(&f.report, &source(&f), &f.doc);
        // The HTML parser turns CRLF into LF; the text is otherwise byte for byte the document.
        assert_eq!(
            strip_tags_and_tooltips(&p).replace("\r\n", "\n"),
            f.doc.replace("\r\n", "\n"),
            "{}",
            f.name
        );
    }
}

#[test]
fn index_ranks_by_score_with_sortable_columns() {
    let idx = batch_index();
    let pos = |name: &str| idx.find(&format!("href=\"{name}.html\"")).unwrap();
    assert!(pos("mixed-scripts") < pos("withdrawal"));
    assert!(pos("withdrawal") < pos("crlf"));
    assert!(pos("crlf") < pos("withdrawal-neutral"));
    assert!(idx.contains("<table class=\"sortable\">"));
    assert!(idx.contains("aria-sort=\"ascending\""));
    assert_eq!(
        idx.matches("<th ").count(),
        7 + 4,
        "7 columns and 4 techniques"
    );
    assert!(idx.contains("line 5 (id broken): malformed JSON"));
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut esc = false;
    for c in s.chars() {
        match (esc, c) {
            (false, '\x1b') => esc = true,
            (true, 'm') => esc = false,
            (true, _) => {}
            (false, c) => out.push(c),
        }
    }
    out
}

fn display_width(line: &str) -> usize {
    use unicode_width::UnicodeWidthChar;
    let mut esc = false;
    let mut w = 0;
    for c in line.chars() {
        match (esc, c) {
            (false, '\x1b') => esc = true,
            (true, 'm') => esc = false,
            (true, _) => {}
            (false, c) => w += c.width().unwrap_or(0),
        }
    }
    w
}

#[test]
fn text_fits_the_width_and_keeps_the_plain_information() {
    for f in fixtures() {
        for width in [24, 40, 80, 120] {
            for color in [false, true] {
                let opts = TextOptions {
                    color,
                    width,
                    context: None,
                };
                let t = text_with(&f.report, &source(&f), &f.doc, &opts);
                for l in t.lines() {
                    assert!(display_width(l) <= width, "{} at {width}: {l:?}", f.name);
                    assert!(!l.ends_with(' '), "trailing space: {l:?}");
                }
                assert_eq!(t.contains('\x1b'), color);
                let t = strip_ansi(&t);
                assert!(t.contains("document score"));
                for (k, s) in f.report.spans.iter().enumerate() {
                    assert!(t.contains(&format!("[{}] technique:", k + 1)), "{t}");
                    if width >= 40 {
                        assert!(t.contains(s.technique_name()), "{t}");
                    }
                }
                if !f.report.spans.is_empty() {
                    assert!(t.contains("evidence:"), "{t}");
                }
            }
        }
    }
}

#[test]
fn renderers_survive_any_report() {
    let doc = "Zoë’s 🙂 plan.\nA second line.";
    let mut r = build(
        doc,
        0.5,
        &[("Zoë’s 🙂 plan.", 0.6), ("A second line.", 0.1)],
        &[],
    );
    let span = |bs: usize, be: usize| SpanReport {
        start: 0,
        end: 0,
        byte_start: bs,
        byte_end: be,
        text: String::new(),
        score: f32::NAN,
        technique: None,
        technique_score: f32::INFINITY,
        evidence: vec![],
    };
    // Inside a character, past the end, empty, reversed, overlapping, across sentences.
    r.spans = vec![
        span(3, 5),
        span(40, 90),
        span(2, 2),
        span(9, 4),
        span(0, 7),
        span(1, 12),
        span(14, 24),
    ];
    r.score = f32::NAN;
    r.sentences.push(SentenceReport {
        start: 0,
        end: 0,
        byte_start: 5,
        byte_end: 500,
        score: -3.0,
    });
    for opts in [
        plain(10, None),
        plain(80, Some(0)),
        TextOptions {
            color: true,
            width: 1000,
            context: Some(usize::MAX),
        },
    ] {
        let t = text_with(&r, "odd", doc, &opts);
        assert!(t.contains("n/a"), "{t}");
        let t = text_with(&r, "odd", "", &opts);
        assert!(t.contains("document score"));
    }
    let p = render::html(&r, "odd", doc);
    assert_self_contained(&p);
    // 0..7 and 14..24 are drawn; the second crosses a sentence end, so it is drawn in pieces.
    assert_eq!(p.matches("tabindex=\"0\"").count(), 2);
    assert_eq!(p.matches("<mark class=\"cont ").count(), 2);
    let p = render::html(&r, "odd", "");
    assert_self_contained(&p);
    assert!(!p.contains("<mark"));
}

#[test]
fn embedded_model_reports_render() {
    for f in fixtures() {
        let r = crate::common::analyze(&f.doc);
        let t = text_with(&r, &source(&f), &f.doc, &plain(80, None));
        let flat = t.split_whitespace().collect::<Vec<_>>().join(" ");
        for (k, s) in r.spans.iter().enumerate() {
            let want = format!(
                "[{}][{}]",
                s.text.split_whitespace().collect::<Vec<_>>().join(" "),
                k + 1
            );
            assert!(flat.contains(&want), "{}: {want} in {t}", f.name);
        }
        let p = render::html(&r, &source(&f), &f.doc);
        assert_self_contained(&p);
        assert_eq!(p.matches("<mark ").count(), r.spans.len(), "{}", f.name);
    }
}
