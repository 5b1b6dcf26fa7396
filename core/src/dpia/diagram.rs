//! The data-flow diagram: an SVG of the parties and the flows between them.
//!
//! Laid out as a sequence diagram, one lane per party and one row per flow, because that never
//! overlaps however many parties and flows an agreement has, and reads top to bottom on an A4
//! page. Each arrow is labelled with its purpose and field count; arrows that carry special
//! category or criminal offence data are drawn in red.
//!
//! The SVG is embedded in the HTML unescaped, so every piece of user text is escaped here.

use std::fmt::Write;

use crate::agreement::Agreement;
use crate::agreement::model::{Flow, Party};

use super::labels;

const WIDTH: f64 = 680.0;
const MARGIN: f64 = 6.0;
/// Average advance of a character at the 11px label size; good enough to wrap and centre.
const CHAR_W: f64 = 6.0;
const LINE_H: f64 = 13.0;
const ROW_H: f64 = 36.0;
const MAX_NAME_LINES: usize = 5;
const PLAIN: &str = "#1f4e79";
const SENSITIVE: &str = "#b3261e";

/// The diagram of `a`'s parties and flows, as a standalone `<svg>` element.
pub fn svg(a: &Agreement) -> String {
    let lanes = Lanes::new(a.parties.len());
    let names: Vec<Vec<String>> = a
        .parties
        .iter()
        .map(|p| wrap(&p.name, lanes.chars_per_line()))
        .collect();
    let name_lines = names.iter().map(Vec::len).max().unwrap_or(1);
    let header_h = 12.0 + name_lines as f64 * LINE_H + 16.0;
    let top = MARGIN + header_h + 18.0;
    let bottom = top + a.flows.len() as f64 * ROW_H;
    let height = bottom + 30.0;

    let mut out = String::with_capacity(4096 + a.flows.len() * 600);
    open(&mut out, &a.title, height);
    for (i, (party, lines)) in a.parties.iter().zip(&names).enumerate() {
        party_lane(&mut out, &lanes, i, party, lines, header_h, bottom);
    }
    for (row, flow) in a.flows.iter().enumerate() {
        if let Some(arrow) = Arrow::of(a, flow) {
            flow_row(&mut out, &lanes, &arrow, top + row as f64 * ROW_H + 20.0);
        }
    }
    legend(&mut out, height - 10.0);
    out.push_str("</svg>");
    out
}

/// Horizontal geometry: one equal lane per party.
struct Lanes {
    width: f64,
}

impl Lanes {
    fn new(parties: usize) -> Lanes {
        Lanes {
            width: (WIDTH - 2.0 * MARGIN) / parties.max(1) as f64,
        }
    }

    fn centre(&self, i: usize) -> f64 {
        MARGIN + self.width * (i as f64 + 0.5)
    }

    fn box_width(&self) -> f64 {
        self.width - 8.0
    }

    fn chars_per_line(&self) -> usize {
        (((self.box_width() - 10.0) / CHAR_W) as usize).max(4)
    }
}

fn open(out: &mut String, title: &str, height: f64) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"dfd\" viewBox=\"0 0 {WIDTH} {height:.0}\" \
         width=\"100%\" role=\"img\" aria-labelledby=\"dfd-title\" \
         font-family=\"Helvetica, Arial, sans-serif\">\
         <title id=\"dfd-title\">Data flows: {}</title>\
         <defs>{}{}</defs>",
        escape(title),
        marker("plain", PLAIN),
        marker("sensitive", SENSITIVE),
    );
}

fn marker(id: &str, colour: &str) -> String {
    format!(
        "<marker id=\"arrow-{id}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" \
         markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" \
         fill=\"{colour}\"/></marker>"
    )
}

fn party_lane(
    out: &mut String,
    lanes: &Lanes,
    i: usize,
    party: &Party,
    lines: &[String],
    header_h: f64,
    bottom: f64,
) {
    let x = lanes.centre(i);
    let w = lanes.box_width();
    let _ = write!(
        out,
        "<g class=\"party\"><rect x=\"{:.1}\" y=\"{MARGIN}\" width=\"{w:.1}\" height=\"{header_h:.1}\" \
         rx=\"4\" fill=\"#f2f5f9\" stroke=\"#44546a\"/>",
        x - w / 2.0
    );
    for (n, line) in lines.iter().enumerate() {
        let y = MARGIN + 16.0 + n as f64 * LINE_H;
        let _ = write!(
            out,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"11\" font-weight=\"bold\" \
             text-anchor=\"middle\" fill=\"#1b1b1b\">{}</text>",
            escape(line)
        );
    }
    let _ = write!(
        out,
        "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"9.5\" font-style=\"italic\" \
         text-anchor=\"middle\" fill=\"#44546a\">{}</text>\
         <line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{bottom:.1}\" stroke=\"#9aa5b1\" \
         stroke-dasharray=\"3,3\"/></g>",
        MARGIN + header_h - 7.0,
        escape(short_role(party)),
        MARGIN + header_h
    );
}

/// The role in a word, to fit under a narrow box.
fn short_role(p: &Party) -> &'static str {
    match p.role {
        crate::agreement::vocab::PartyRole::Recipient => "recipient",
        role => labels::role(role),
    }
}

/// What one arrow needs, resolved from the agreement.
struct Arrow<'a> {
    from: usize,
    to: usize,
    flow: &'a Flow,
    sensitive: usize,
}

impl<'a> Arrow<'a> {
    /// `None` when a flow names an unknown party (a checked agreement never does).
    fn of(a: &Agreement, flow: &'a Flow) -> Option<Arrow<'a>> {
        let lane = |id: &str| a.parties.iter().position(|p| p.id.as_str() == id);
        let sensitive = flow
            .fields
            .iter()
            .filter_map(|r| a.field(r.as_str()))
            .filter(|f| f.category.is_sensitive())
            .count();
        Some(Arrow {
            from: lane(flow.from.as_str())?,
            to: lane(flow.to.as_str())?,
            flow,
            sensitive,
        })
    }

    fn label(&self) -> String {
        let n = self.flow.fields.len();
        let mut text = format!(
            "{} · {n} field{}",
            self.flow.purpose,
            if n == 1 { "" } else { "s" }
        );
        if self.sensitive > 0 {
            let _ = write!(text, " ({} sensitive)", self.sensitive);
        }
        text
    }
}

fn flow_row(out: &mut String, lanes: &Lanes, arrow: &Arrow, y: f64) {
    let (x1, x2) = (lanes.centre(arrow.from), lanes.centre(arrow.to));
    let (colour, kind) = if arrow.sensitive > 0 {
        (SENSITIVE, "sensitive")
    } else {
        (PLAIN, "plain")
    };
    let label = arrow.label();
    let id = arrow.flow.id.as_str();
    let _ = write!(
        out,
        "<g class=\"flow\"><line x1=\"{x1:.1}\" y1=\"{y:.1}\" x2=\"{x2:.1}\" y2=\"{y:.1}\" \
         stroke=\"{colour}\" stroke-width=\"1.6\" marker-end=\"url(#arrow-{kind})\"/>\
         {}{}</g>",
        text_at(&label, (x1 + x2) / 2.0, y - 5.0, 11.0, colour),
        text_at(id, (x1 + x2) / 2.0, y + 12.0, 9.0, "#5f6b7a"),
    );
}

/// Centred text with a white halo so it reads across lifelines, kept inside the drawing.
fn text_at(text: &str, centre: f64, y: f64, size: f64, colour: &str) -> String {
    let half = text.chars().count() as f64 * CHAR_W * size / 11.0 / 2.0;
    let x = centre.clamp(MARGIN + half, (WIDTH - MARGIN - half).max(MARGIN + half));
    format!(
        "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"{size}\" text-anchor=\"middle\" \
         fill=\"{colour}\" stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\">{}</text>",
        escape(text)
    )
}

fn legend(out: &mut String, y: f64) {
    let _ = write!(
        out,
        "<text x=\"{MARGIN}\" y=\"{y:.1}\" font-size=\"9.5\" fill=\"#44546a\">Each arrow is one \
         flow: purpose · fields shared; red arrows carry special category or criminal offence \
         data.</text>"
    );
}

/// Greedy word wrap to `width` characters; over-long words are broken, and text beyond
/// [`MAX_NAME_LINES`] is cut with an ellipsis (the full name is in the document's tables).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        for piece in chunks(word, width) {
            let fits = line.is_empty() || line.chars().count() + 1 + piece.chars().count() <= width;
            if !fits {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&piece);
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    if lines.len() > MAX_NAME_LINES {
        lines.truncate(MAX_NAME_LINES);
        if let Some(last) = lines.last_mut() {
            last.push('…');
        }
    }
    lines
}

fn chunks(word: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    chars
        .chunks(width.max(1))
        .map(|c| c.iter().collect())
        .collect()
}

/// Escapes text for XML content and attribute values. Control characters, which XML forbids,
/// become spaces.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dpia::screening::tests::Parts;

    #[test]
    fn escapes_markup_and_drops_control_characters() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>\u{1}"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt; "
        );
    }

    #[test]
    fn wraps_names_to_the_lane() {
        assert_eq!(
            wrap("Test Council of Somewhere", 12),
            ["Test Council", "of Somewhere"]
        );
        assert_eq!(
            wrap("Supercalifragilistic", 8),
            ["Supercal", "ifragili", "stic"]
        );
        assert_eq!(wrap("", 8), [""]);
        assert_eq!(wrap(&"a ".repeat(40), 3).len(), MAX_NAME_LINES);
    }

    #[test]
    fn draws_a_lane_per_party_and_an_arrow_per_flow() {
        let a = Parts {
            fields: "  - { id: diagnosis, category: health }",
            flows: "  - { id: back, from: charity, to: council, purpose: help, fields: [full-name, diagnosis] }",
            lawful_basis: "  article9: health_social_care\n  schedule1: p2_health_social_care",
            ..Parts::default()
        }
        .agreement();
        let svg = svg(&a);
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("class=\"party\"").count(), 2);
        assert_eq!(svg.matches("class=\"flow\"").count(), 2);
        assert!(svg.contains(">help · 1 field<"));
        assert!(svg.contains(">help · 2 fields (1 sensitive)<"));
        assert!(svg.contains("url(#arrow-sensitive)"));
        assert!(svg.contains(">Test Council<"));
    }

    #[test]
    fn user_text_is_escaped() {
        let mut a = Parts::default().agreement();
        a.title = "<script>alert(1)</script>".to_owned();
        a.parties[0].name = "A & <b>B</b>".to_owned();
        let svg = svg(&a);
        assert!(!svg.contains("<script>") && !svg.contains("<b>"));
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(svg.contains("A &amp; &lt;b&gt;B&lt;/b&gt;"));
    }
}
