//! The terminal report: the document score as a labelled gauge, then the text with every flagged
//! span highlighted (in the colour of its technique, or in `[brackets]` without colour) and
//! followed by a footnote marker `[n]`; the footnotes (technique, scores, offsets, evidence) come
//! right after the line of text that holds their span.
//!
//! Pure: [`text_with`] takes the report, the text and [`TextOptions`] and returns a `String`.
//! Deciding whether to colour and how wide to wrap ([`ColorChoice::enabled`], [`width_for`],
//! [`stdout_width`]) is the caller's business.
//!
//! Text from the document never reaches the terminal raw: control characters (an article could
//! carry escape sequences) and bidirectional overrides become `�`, tabs become spaces.

use super::{
    drawable_sentences, drawable_spans, num, sentence_score_of, technique_counts, technique_style,
    unit, weight,
};
use crate::report::{Label, Report, SpanReport};
use std::ffi::OsStr;
use unicode_width::UnicodeWidthChar;

/// Narrowest wrap width used (narrower requests are widened to this).
pub const MIN_WIDTH: usize = 24;
/// Widest wrap width used: longer lines are hard to read even on a wide terminal.
pub const MAX_WIDTH: usize = 120;
/// Wrap width when neither the terminal nor `COLUMNS` says otherwise.
pub const DEFAULT_WIDTH: usize = 80;

/// When to colour the terminal report (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorChoice {
    /// Colour when standard output is a terminal, `NO_COLOR` is unset or empty and `TERM` is not
    /// `dumb`.
    #[default]
    Auto,
    /// Always colour (an explicit request overrides `NO_COLOR`, as <https://no-color.org> asks).
    Always,
    /// Never colour.
    Never,
}

impl ColorChoice {
    /// Parses `auto`, `always` or `never`.
    pub fn parse(s: &str) -> Option<ColorChoice> {
        match s {
            "auto" => Some(ColorChoice::Auto),
            "always" => Some(ColorChoice::Always),
            "never" => Some(ColorChoice::Never),
            _ => None,
        }
    }

    /// Whether to colour, given whether the output is a terminal and the values of the
    /// `NO_COLOR` and `TERM` environment variables.
    pub fn enabled(
        self,
        is_terminal: bool,
        no_color: Option<&OsStr>,
        term: Option<&OsStr>,
    ) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                is_terminal
                    && no_color.is_none_or(|v| v.is_empty())
                    && term.is_none_or(|t| t != "dumb")
            }
        }
    }
}

/// The width of the terminal on standard output, if standard output is a terminal.
pub fn stdout_width() -> Option<usize> {
    terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| w.0 as usize)
}

/// The wrap width: the terminal's width when there is one, else a numeric `COLUMNS`, else
/// [`DEFAULT_WIDTH`]; always within [`MIN_WIDTH`]..=[`MAX_WIDTH`].
pub fn width_for(terminal_width: Option<usize>, columns_env: Option<&str>) -> usize {
    terminal_width
        .filter(|&w| w > 0)
        .or_else(|| columns_env.and_then(|c| c.trim().parse::<usize>().ok()))
        .unwrap_or(DEFAULT_WIDTH)
        .clamp(MIN_WIDTH, MAX_WIDTH)
}

/// How to lay out the terminal report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextOptions {
    /// Colour with ANSI escape sequences (else spans are marked `[like this][1]`).
    pub color: bool,
    /// Wrap lines to this many columns (clamped to [`MIN_WIDTH`]..=[`MAX_WIDTH`]).
    pub width: usize,
    /// Show only the sentences with a flagged span and this many sentences either side of them
    /// (`None`: the whole text).
    pub context: Option<usize>,
}

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions {
            color: false,
            width: DEFAULT_WIDTH,
            context: None,
        }
    }
}

/// The terminal report without colour, wrapped at [`DEFAULT_WIDTH`], with the whole text.
pub fn text(report: &Report, source: &str, doc: &str) -> String {
    text_with(report, source, doc, &TextOptions::default())
}

/// The terminal report of `report`, computed from `doc`, read from `source` (a name for the
/// header line).
pub fn text_with(report: &Report, source: &str, doc: &str, opts: &TextOptions) -> String {
    let width = opts.width.clamp(MIN_WIDTH, MAX_WIDTH);
    let mut w = Writer {
        out: String::new(),
        color: opts.color,
        width,
    };
    let spans = drawable_spans(report, doc);
    header(&mut w, report, source, &spans);
    body(&mut w, report, doc, &spans, opts.context);
    if spans.is_empty() {
        w.blank();
        w.line(&[("  no span flagged", Sty::Dim)], "  ");
    }
    w.out
}

/// What a character looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sty {
    Plain,
    Bold,
    Dim,
    /// Inside a flagged span (xterm-256 highlight colour).
    Span(u8),
    /// A footnote marker (`[n]`) in the text.
    Marker,
    /// A footnote's own `[n]`, in its technique's colour.
    Tag(u8),
    /// The filled part of the gauge.
    Gauge(Label),
}

impl Sty {
    fn open(self) -> String {
        match self {
            Sty::Plain => String::new(),
            Sty::Bold | Sty::Marker => "\x1b[1m".into(),
            Sty::Dim => "\x1b[2m".into(),
            Sty::Span(c) => format!("\x1b[38;5;16;48;5;{c}m"),
            Sty::Tag(c) => format!("\x1b[1;38;5;16;48;5;{c}m"),
            Sty::Gauge(Label::Loaded) => "\x1b[1;38;5;160m".into(),
            Sty::Gauge(Label::Neutral) => "\x1b[1;38;5;28m".into(),
        }
    }
}

const RESET: &str = "\x1b[0m";
const NBSP: char = '\u{A0}';

/// `s` with its spaces made no-break: a unit that wrapping keeps on one line.
fn glued(s: &str) -> String {
    s.replace(' ', "\u{A0}")
}

/// One character on screen.
#[derive(Debug, Clone, Copy)]
struct Cell {
    ch: char,
    sty: Sty,
}

/// A character made safe for a terminal: controls and bidi overrides become U+FFFD, tabs spaces.
fn safe(c: char) -> char {
    match c {
        '\t' => ' ',
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => '\u{FFFD}',
        c if c.is_control() => '\u{FFFD}',
        c => c,
    }
}

fn cells(s: &str, sty: Sty) -> impl Iterator<Item = Cell> + '_ {
    s.chars().map(move |c| Cell { ch: safe(c), sty })
}

fn cw(c: &Cell) -> usize {
    c.ch.width().unwrap_or(0)
}

/// May a line break at this character (a space, not a no-break space)?
fn breaks(c: char) -> bool {
    c.is_whitespace() && !matches!(c, '\u{A0}' | '\u{2007}' | '\u{202F}')
}

struct Writer {
    out: String,
    color: bool,
    width: usize,
}

impl Writer {
    fn blank(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    /// Writes styled pieces as one logical line, wrapped; continuation lines start with `hang`.
    fn line(&mut self, pieces: &[(&str, Sty)], hang: &str) {
        let cs: Vec<Cell> = pieces.iter().flat_map(|(s, sty)| cells(s, *sty)).collect();
        self.cells("", hang, &cs);
    }

    /// Writes cells as one logical line, wrapped to the width: the first visual line starts with
    /// `indent`, the others with `hang`. Spaces at a wrap point are dropped; a word wider than a
    /// whole line is cut.
    fn cells(&mut self, indent: &str, hang: &str, cs: &[Cell]) {
        let width_of = |run: &[Cell]| run.iter().map(cw).sum::<usize>();
        let hang_w = hang.chars().count();
        let mut lines: Vec<Vec<Cell>> = Vec::new();
        let mut cur: Vec<Cell> = Vec::new();
        let mut col = indent.chars().count();
        let mut pending: &[Cell] = &[];
        let mut i = 0;
        while i < cs.len() {
            let is_space = breaks(cs[i].ch);
            let mut j = i;
            while j < cs.len() && breaks(cs[j].ch) == is_space {
                j += 1;
            }
            let run = &cs[i..j];
            i = j;
            if is_space {
                // Spaces wait for the next word; at the start of a continuation line they go.
                pending = if cur.is_empty() && !lines.is_empty() {
                    &[]
                } else {
                    run
                };
                continue;
            }
            let (pw, ww) = (width_of(pending), width_of(run));
            if !cur.is_empty() && col + pw + ww > self.width {
                lines.push(std::mem::take(&mut cur));
                col = hang_w;
            } else {
                cur.extend_from_slice(pending);
                col += pw;
            }
            pending = &[];
            for c in run {
                let w = cw(c);
                if col + w > self.width && !cur.is_empty() {
                    lines.push(std::mem::take(&mut cur));
                    col = hang_w;
                }
                if c.ch == NBSP && cur.is_empty() && !lines.is_empty() {
                    continue;
                }
                col += w;
                cur.push(*c);
            }
        }
        if !cur.is_empty() || lines.is_empty() {
            lines.push(cur);
        }
        for (k, l) in lines.iter().enumerate() {
            self.out.push_str(if k == 0 { indent } else { hang });
            self.emit(l);
            while self.out.ends_with(' ') {
                self.out.pop();
            }
            self.out.push('\n');
        }
    }

    fn emit(&mut self, l: &[Cell]) {
        let mut cur = Sty::Plain;
        for c in l {
            if self.color && c.sty != cur {
                if cur != Sty::Plain {
                    self.out.push_str(RESET);
                }
                self.out.push_str(&c.sty.open());
                cur = c.sty;
            }
            // A no-break space only glues words for wrapping; on screen it is a space.
            self.out.push(if c.ch == NBSP { ' ' } else { c.ch });
        }
        if self.color && cur != Sty::Plain {
            self.out.push_str(RESET);
        }
    }
}

fn header(w: &mut Writer, report: &Report, source: &str, spans: &[&SpanReport]) {
    w.line(&[(source, Sty::Bold)], "  ");
    let gauge_len = 20;
    let filled = (unit(report.score) * gauge_len as f32).round() as usize;
    let filled = filled.min(gauge_len);
    let score = format!("  document score {} ", num(report.score));
    let label = report.label.as_str();
    if w.color {
        let on = "█".repeat(filled);
        let off = "░".repeat(gauge_len - filled);
        w.line(
            &[
                (&score, Sty::Plain),
                (&on, Sty::Gauge(report.label)),
                (&off, Sty::Dim),
                (" ", Sty::Plain),
                (label, Sty::Gauge(report.label)),
            ],
            "  ",
        );
    } else {
        let bar = format!(
            "[{}{}] {label}",
            "#".repeat(filled),
            "-".repeat(gauge_len - filled)
        );
        w.line(&[(&score, Sty::Plain), (&bar, Sty::Plain)], "  ");
    }
    let loaded = report.sentences.iter().filter(|s| s.score >= 0.5).count();
    let summary = format!(
        "  {} sentences ({} scored loaded), {} flagged spans; model {} {}",
        report.sentences.len(),
        loaded,
        report.spans.len(),
        report.model.name,
        report.model.version
    );
    w.line(&[(&summary, Sty::Plain)], "    ");
    let counts = technique_counts(spans.iter().copied());
    if !counts.is_empty() {
        let mut cs: Vec<Cell> = cells("  techniques: ", Sty::Plain).collect();
        for (k, (t, n)) in counts.iter().enumerate() {
            if k > 0 {
                cs.extend(cells(", ", Sty::Plain));
            }
            let sty = if w.color {
                Sty::Span(technique_style(t).ansi256)
            } else {
                Sty::Plain
            };
            cs.extend(cells(t, sty));
            cs.extend(cells(&glued(&format!(" ({n})")), Sty::Plain));
        }
        w.cells("", "    ", &cs);
    }
}

/// The parts of the text to show: byte ranges, each with the number of sentences left out
/// before it; plus the number left out after the last.
fn regions(
    report: &Report,
    doc: &str,
    spans: &[&SpanReport],
    context: Option<usize>,
) -> (Vec<(usize, std::ops::Range<usize>)>, usize) {
    let Some(n) = context else {
        return (vec![(0, 0..doc.len())], 0);
    };
    let sentences = drawable_sentences(report, doc);
    let flagged: Vec<usize> = sentences
        .iter()
        .enumerate()
        .filter(|(_, (_, s))| {
            spans
                .iter()
                .any(|p| p.byte_start < s.byte_end && s.byte_start < p.byte_end)
        })
        .map(|(k, _)| k)
        .collect();
    let mut windows: Vec<(usize, usize)> = Vec::new();
    for k in flagged {
        let (a, b) = (
            k.saturating_sub(n),
            k.saturating_add(n).min(sentences.len() - 1),
        );
        match windows.last_mut() {
            Some(last) if a <= last.1 + 1 => last.1 = last.1.max(b),
            _ => windows.push((a, b)),
        }
    }
    if windows.is_empty() {
        return if spans.is_empty() {
            (Vec::new(), sentences.len())
        } else {
            // Spans outside every sentence (a hand-made report): show the whole text.
            (vec![(0, 0..doc.len())], 0)
        };
    }
    let mut out = Vec::new();
    let mut next = 0;
    for (a, b) in windows {
        out.push((a - next, sentences[a].1.byte_start..sentences[b].1.byte_end));
        next = b + 1;
    }
    (out, sentences.len().saturating_sub(next))
}

fn omitted(w: &mut Writer, n: usize) {
    if n > 0 {
        let s = format!(
            "  [… {n} sentence{} not shown …]",
            if n == 1 { "" } else { "s" }
        );
        w.blank();
        w.line(&[(&s, Sty::Dim)], "  ");
        w.blank();
    }
}

fn body(w: &mut Writer, report: &Report, doc: &str, spans: &[&SpanReport], context: Option<usize>) {
    let (regions, after) = regions(report, doc, spans, context);
    for (before, range) in regions {
        if before > 0 {
            omitted(w, before);
        } else {
            w.blank();
        }
        region(w, report, doc, spans, range);
    }
    omitted(w, after);
}

/// One hard line of text: its cells and the spans whose footnotes follow it.
struct HardLine {
    cells: Vec<Cell>,
    notes: Vec<usize>,
}

/// Renders `doc[range]` line by line, each line wrapped, followed by the footnotes of the spans
/// that end on it.
fn region(
    w: &mut Writer,
    report: &Report,
    doc: &str,
    spans: &[&SpanReport],
    range: std::ops::Range<usize>,
) {
    let Some(text) = doc.get(range.clone()) else {
        return;
    };
    let mut lines: Vec<HardLine> = vec![HardLine {
        cells: Vec::new(),
        notes: Vec::new(),
    }];
    let colours: Vec<u8> = spans
        .iter()
        .map(|s| technique_style(s.technique_name()).ansi256)
        .collect();
    // The first span that does not end before the region.
    let mut k = spans.partition_point(|s| s.byte_end <= range.start);
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let at = range.start + i;
        // Close a span that ends here.
        while k < spans.len() && spans[k].byte_end <= at {
            close_span(w.color, &mut lines, k);
            k += 1;
        }
        let inside = k < spans.len() && spans[k].byte_start <= at;
        if !w.color && k < spans.len() && spans[k].byte_start == at {
            push(&mut lines, '[', Sty::Plain);
        }
        match c {
            '\r' if chars.peek().is_some_and(|(_, n)| *n == '\n') => {}
            '\n' | '\r' | '\u{2028}' | '\u{2029}' | '\u{85}' => lines.push(HardLine {
                cells: Vec::new(),
                notes: Vec::new(),
            }),
            c => {
                let sty = match (inside, w.color) {
                    (true, true) => Sty::Span(colours[k]),
                    _ => Sty::Plain,
                };
                push(&mut lines, safe(c), sty);
            }
        }
    }
    while k < spans.len() && spans[k].byte_start < range.end {
        close_span(w.color, &mut lines, k);
        k += 1;
    }
    // Drop blank lines at both ends.
    let is_blank = |l: &HardLine| l.notes.is_empty() && l.cells.iter().all(|c| breaks(c.ch));
    let first = lines
        .iter()
        .position(|l| !is_blank(l))
        .unwrap_or(lines.len());
    let last = lines
        .iter()
        .rposition(|l| !is_blank(l))
        .map_or(first, |p| p + 1);
    let mut prev_notes = false;
    for l in &lines[first..last.max(first)] {
        if is_blank(l) {
            w.blank();
            prev_notes = false;
            continue;
        }
        if prev_notes {
            w.blank();
        }
        w.cells("  ", "  ", &l.cells);
        for &n in &l.notes {
            footnote(w, report, spans[n], n + 1);
        }
        prev_notes = !l.notes.is_empty();
    }
}

fn push(lines: &mut [HardLine], ch: char, sty: Sty) {
    if let Some(l) = lines.last_mut() {
        l.cells.push(Cell { ch, sty });
    }
}

/// Ends span `k` on the current line: its closing bracket and marker; its footnote follows the
/// line.
fn close_span(color: bool, lines: &mut [HardLine], k: usize) {
    if !color {
        push(lines, ']', Sty::Plain);
    }
    for c in format!("[{}]", k + 1).chars() {
        push(lines, c, Sty::Marker);
    }
    if let Some(l) = lines.last_mut() {
        l.notes.push(k);
    }
}

/// The footnote of span number `n`:
/// `[n] technique: T (0.52) · span score 0.28 · sentence score 0.65 · chars 8..34`, then
/// `evidence: word +1.04, …` on a line of its own.
fn footnote(w: &mut Writer, report: &Report, s: &SpanReport, n: usize) {
    // Narrow terminals get shallower indents.
    let (indent, hang, ev_hang) = if w.width >= 48 {
        ("    ", " ".repeat(4 + format!("[{n}] ").len()), 10)
    } else {
        ("  ", "    ".to_string(), 0)
    };
    let tag_sty = if w.color {
        Sty::Tag(technique_style(s.technique_name()).ansi256)
    } else {
        Sty::Plain
    };
    // Units that wrapping keeps whole, each separator staying with the unit before it.
    let sep = format!("{NBSP}· ");
    let sentence = sentence_score_of(report, s)
        .map(|x| format!("{sep}{}", glued(&format!("sentence score {}", num(x)))))
        .unwrap_or_default();
    let rest = format!(
        "{sep}{}{sentence}{sep}{}",
        glued(&format!("span score {}", num(s.score))),
        glued(&format!("chars {}..{}", s.start, s.end)),
    );
    let tech = glued(&format!(
        "{} ({})",
        s.technique_name(),
        num(s.technique_score)
    ));
    w.line(
        &[
            (indent, Sty::Plain),
            (&format!("[{n}]"), tag_sty),
            (&glued(" technique:"), Sty::Plain),
            (" ", Sty::Plain),
            (&tech, Sty::Bold),
            (&rest, Sty::Dim),
        ],
        &hang,
    );
    if !s.evidence.is_empty() {
        let ev: Vec<String> = s
            .evidence
            .iter()
            .map(|e| glued(&format!("{} {}", e.text, weight(e.weight))))
            .collect();
        let ev = ev.join(", ");
        w.line(
            &[
                (&hang, Sty::Plain),
                ("evidence: ", Sty::Plain),
                (&ev, Sty::Plain),
            ],
            &format!("{hang}{}", " ".repeat(ev_hang)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::*;

    fn span(doc: &str, needle: &str, technique: &str) -> SpanReport {
        let b = doc.find(needle).unwrap();
        let cp = |x: usize| doc[..x].chars().count();
        SpanReport {
            start: cp(b),
            end: cp(b + needle.len()),
            byte_start: b,
            byte_end: b + needle.len(),
            text: needle.into(),
            score: 0.7,
            technique: crate::report::Technique::from_name(technique),
            technique_score: 0.6,
            evidence: vec![Evidence {
                start: cp(b),
                end: cp(b) + 3,
                byte_start: b,
                byte_end: b + 3,
                text: needle[..3].into(),
                weight: 1.5,
            }],
        }
    }

    fn sentence(doc: &str, needle: &str, score: f32) -> SentenceReport {
        let b = doc.find(needle).unwrap();
        let cp = |x: usize| doc[..x].chars().count();
        SentenceReport {
            start: cp(b),
            end: cp(b + needle.len()),
            byte_start: b,
            byte_end: b + needle.len(),
            score,
        }
    }

    const DOC: &str = "One calm sentence here. Critics called it a shameful betrayal.\n\nA second calm one. And a third. Then a fourth, reckless and brutal.\nLast.";

    fn report() -> Report {
        let sentences = [
            ("One calm sentence here.", 0.1),
            ("Critics called it a shameful betrayal.", 0.8),
            ("A second calm one.", 0.1),
            ("And a third.", 0.2),
            ("Then a fourth, reckless and brutal.", 0.7),
            ("Last.", 0.0),
        ]
        .iter()
        .map(|(s, p)| sentence(DOC, s, *p))
        .collect();
        Report {
            score: 0.81,
            label: Label::Loaded,
            sentences,
            spans: vec![
                span(DOC, "shameful betrayal", "Loaded_Language"),
                span(DOC, "reckless and brutal", "Name_Calling,Labeling"),
            ],
            model: ModelInfo {
                name: "m".into(),
                version: "1".into(),
            },
        }
    }

    fn plain(opts: TextOptions) -> String {
        text_with(&report(), "doc.txt", DOC, &opts)
    }

    #[test]
    fn plain_marks_spans_with_brackets_and_footnotes() {
        let t = plain(TextOptions::default());
        assert!(!t.contains('\x1b'), "{t}");
        assert!(
            t.contains("document score 0.81 [################----] loaded"),
            "{t}"
        );
        assert!(t.contains("[shameful betrayal][1]"), "{t}");
        assert!(t.contains("[reckless and brutal][2]"), "{t}");
        assert!(t.contains("[1] technique: Loaded_Language (0.60)"), "{t}");
        assert!(t.contains("evidence: sha +1.50"), "{t}");
        assert!(t.contains("Last."), "{t}");
    }

    #[test]
    fn colour_uses_ansi_and_no_brackets() {
        let t = plain(TextOptions {
            color: true,
            ..TextOptions::default()
        });
        assert!(
            t.contains("\x1b[38;5;16;48;5;228mshameful betrayal\x1b[0m"),
            "{t}"
        );
        assert!(!t.contains("[shameful"), "{t}");
        // The last escape of every line is a reset: no style bleeds into the next line.
        for l in t.lines() {
            if let Some(i) = l.rfind('\x1b') {
                assert!(l[i..].starts_with(RESET), "{l:?}");
            }
        }
    }

    #[test]
    fn context_keeps_flagged_sentences_and_neighbours() {
        let t = plain(TextOptions {
            context: Some(0),
            ..TextOptions::default()
        });
        assert!(!t.contains("One calm"), "{t}");
        assert!(!t.contains("And a third"), "{t}");
        assert!(t.contains("[… 1 sentence not shown …]"), "{t}");
        assert!(t.contains("[… 2 sentences not shown …]"), "{t}");
        let t = plain(TextOptions {
            context: Some(1),
            ..TextOptions::default()
        });
        assert!(t.contains("One calm") && t.contains("And a third") && t.contains("Last."));
        assert!(!t.contains("not shown"), "{t}");
    }

    #[test]
    fn lines_fit_the_width() {
        for width in [24, 40, 80] {
            for color in [false, true] {
                let t = plain(TextOptions {
                    color,
                    width,
                    context: None,
                });
                for l in t.lines() {
                    let visible: String = strip_ansi(l);
                    let cols: usize = visible.chars().map(|c| c.width().unwrap_or(0)).sum();
                    assert!(cols <= width, "{width}: {l:?}");
                }
            }
        }
    }

    fn strip_ansi(s: &str) -> String {
        let mut o = String::new();
        let mut esc = false;
        for c in s.chars() {
            match (esc, c) {
                (false, '\x1b') => esc = true,
                (true, 'm') => esc = false,
                (true, _) => {}
                (false, c) => o.push(c),
            }
        }
        o
    }

    #[test]
    fn escape_sequences_in_the_text_are_neutralised() {
        let doc = "Evil \x1b[31mred\x1b[0m text\u{202E}.";
        let r = Report {
            sentences: vec![],
            spans: vec![],
            ..report()
        };
        let t = text_with(&r, "x\x1b[2J", doc, &TextOptions::default());
        assert!(!t.contains('\x1b'), "{t:?}");
        assert!(!t.contains('\u{202E}'), "{t:?}");
    }

    #[test]
    fn colour_choice() {
        let no = Some(OsStr::new("1"));
        let empty = Some(OsStr::new(""));
        let dumb = Some(OsStr::new("dumb"));
        assert!(ColorChoice::Auto.enabled(true, None, None));
        assert!(ColorChoice::Auto.enabled(true, empty, None));
        assert!(!ColorChoice::Auto.enabled(false, None, None));
        assert!(!ColorChoice::Auto.enabled(true, no, None));
        assert!(!ColorChoice::Auto.enabled(true, None, dumb));
        assert!(ColorChoice::Always.enabled(false, no, dumb));
        assert!(!ColorChoice::Never.enabled(true, None, None));
        assert_eq!(ColorChoice::parse("always"), Some(ColorChoice::Always));
        assert_eq!(ColorChoice::parse("sometimes"), None);
        assert_eq!(width_for(Some(100), Some("50")), 100);
        assert_eq!(width_for(None, Some("50")), 50);
        assert_eq!(width_for(None, Some("wide")), DEFAULT_WIDTH);
        assert_eq!(width_for(Some(0), None), DEFAULT_WIDTH);
        assert_eq!(width_for(Some(500), None), MAX_WIDTH);
        assert_eq!(width_for(None, Some("3")), MIN_WIDTH);
    }
}
