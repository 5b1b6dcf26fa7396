//! Rendering: the edge where the document model meets handlebars templates.
//!
//! The templates are looked up as `<templates>/dpia/dpia.html.hbs` and `…/dpia.md.hbs`, the same
//! layout as the repository's `templates/` folder, so pointing `--templates` at a copy of that
//! folder overrides them. When a file is not there, the copy compiled into the binary is used,
//! so `accord dpia` works from any directory.
//!
//! Strict mode is on: a misspelt variable is an error, not a blank in a document that goes to
//! the DPO. HTML output escapes every `{{…}}`; the diagram goes in with `{{{…}}}` because
//! [`super::diagram`] escaped it. Markdown output escapes with [`escape_markdown`], so user text
//! can neither inject HTML into a rendered `.md` nor change its structure.

use std::io;
use std::path::{Path, PathBuf};

use handlebars::Handlebars;

use super::DpiaDocument;

const BUILTIN_HTML: &str = include_str!("../../templates/dpia/dpia.html.hbs");
const BUILTIN_MD: &str = include_str!("../../templates/dpia/dpia.md.hbs");

/// The output formats of a DPIA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Markdown,
}

impl Format {
    /// The template's file name under `<templates>/dpia/`.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Html => "dpia.html.hbs",
            Format::Markdown => "dpia.md.hbs",
        }
    }

    fn builtin(self) -> &'static str {
        match self {
            Format::Html => BUILTIN_HTML,
            Format::Markdown => BUILTIN_MD,
        }
    }
}

/// Why a DPIA could not be rendered; each says which template.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot read template {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("template {name} is invalid: {message}")]
    Template { name: String, message: String },
    #[error("template {name} failed: {message}")]
    Render { name: String, message: String },
}

/// A compiled DPIA template for one format.
pub struct Renderer {
    registry: Handlebars<'static>,
    /// Where the template came from: its path, or "built-in …".
    name: String,
}

impl Renderer {
    /// The template from `<templates>/dpia/` when there is one, else the built-in copy.
    pub fn load(format: Format, templates: &Path) -> Result<Renderer, RenderError> {
        let path = templates.join("dpia").join(format.file_name());
        match std::fs::read_to_string(&path) {
            Ok(source) => Renderer::compile(format, path.display().to_string(), &source),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Renderer::builtin(format),
            Err(source) => Err(RenderError::Read { path, source }),
        }
    }

    /// The template compiled into the binary.
    pub fn builtin(format: Format) -> Result<Renderer, RenderError> {
        let name = format!("built-in {}", format.file_name());
        Renderer::compile(format, name, format.builtin())
    }

    fn compile(format: Format, name: String, source: &str) -> Result<Renderer, RenderError> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        crate::templates::strict_conditionals(&mut registry);
        if format == Format::Markdown {
            registry.register_escape_fn(escape_markdown);
        }
        registry
            .register_template_string(&name, source)
            .map_err(|e| RenderError::Template {
                name: name.clone(),
                message: e.to_string(),
            })?;
        Ok(Renderer { registry, name })
    }

    pub fn render(&self, doc: &DpiaDocument) -> Result<String, RenderError> {
        self.registry
            .render(&self.name, doc)
            .map_err(|e| RenderError::Render {
                name: self.name.clone(),
                message: e.to_string(),
            })
    }
}

/// Escapes user text for Markdown: `&`, `<` and `>` become entities, so no HTML or autolink
/// survives; characters that start emphasis, code, links or table cells are backslash-escaped;
/// and a value that would open a heading, list, quote or rule at the start of a line is
/// defused. Runs of whitespace, newlines included, collapse to one space, so a value can never
/// start a new block of its own.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        for (j, c) in word.char_indices() {
            let at_start = i == 0 && j == 0;
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                    out.push('\\');
                    out.push(c);
                }
                '#' | '-' | '+' | '=' if at_start => {
                    out.push('\\');
                    out.push(c);
                }
                '.' | ')' if i == 0 && is_list_number(&word[..j]) => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            }
        }
    }
    out
}

/// "1" in "1. item": digits that would make the punctuation after them an ordered list marker.
fn is_list_number(before: &str) -> bool {
    !before.is_empty() && before.len() <= 9 && before.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_escaping_defuses_html_and_structure() {
        assert_eq!(
            escape_markdown("<script>alert(1)</script> & co"),
            "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"
        );
        assert_eq!(
            escape_markdown("a *b* _c_ `d` [e](f) g|h"),
            r"a \*b\* \_c\_ \`d\` \[e\](f) g\|h"
        );
        assert_eq!(escape_markdown("# Heading"), r"\# Heading");
        assert_eq!(escape_markdown("- item"), r"\- item");
        assert_eq!(escape_markdown("1. first"), r"1\. first");
        assert_eq!(
            escape_markdown("2026-04-01 s.42 C# a-b"),
            "2026-04-01 s.42 C# a-b"
        );
        assert_eq!(
            escape_markdown("one\n\n# two\n- three"),
            r"one # two - three"
        );
        assert_eq!(escape_markdown("{{title}} {{{x}}}"), "{{title}} {{{x}}}");
    }

    #[test]
    fn built_in_templates_compile() {
        for format in [Format::Html, Format::Markdown] {
            assert!(Renderer::builtin(format).is_ok(), "{format:?}");
        }
    }

    #[test]
    fn a_missing_folder_falls_back_to_the_built_in_template() {
        let r = Renderer::load(Format::Html, Path::new("/nonexistent/templates"));
        assert_eq!(
            r.map(|r| r.name).ok().as_deref(),
            Some("built-in dpia.html.hbs")
        );
    }

    fn render(source: &str) -> Result<String, RenderError> {
        let today = jiff::civil::date(2026, 6, 1);
        let sample = include_str!("../../agreements/camden-foodbank-referrals.yaml");
        let checked = crate::agreement::check_source(sample.as_bytes(), today);
        let a = checked.agreement.expect("the sample is valid").into_inner();
        let mut doc = crate::dpia::build(&a, &crate::dpia::screen(&a), today);
        // Present but empty, so that `if` and `each` must take their `else`.
        doc.need.benefits = None;
        doc.risks.clear();
        Renderer::compile(Format::Html, "t".into(), source).and_then(|r| r.render(&doc))
    }

    #[test]
    fn strict_mode_turns_a_typo_into_an_error() {
        for typo in [
            "{{titel}}",
            "{{#each riskz}}x{{/each}}",
            "{{#if titel}}x{{/if}}",
            "{{#unless need.benfits}}x{{/unless}}",
        ] {
            let err = render(typo).err().map(|e| e.to_string());
            assert!(err.is_some_and(|e| e.contains("strict")), "{typo}");
        }
    }

    #[test]
    fn if_and_unless_still_branch_on_present_values() {
        let t = "{{#if title}}a{{else}}b{{/if}}{{#if need.benefits}}c{{else}}d{{/if}}\
                 {{#unless need.benefits}}e{{/unless}}{{#each risks}}{{else}}f{{/each}}";
        assert_eq!(render(t).ok().as_deref(), Some("adef"));
    }
}
