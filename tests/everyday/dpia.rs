//! DPIA generation end to end: golden Markdown for every sample agreement, hostile text that
//! must come out escaped, `accord dpia` as a user runs it, and the HTML printed to PDF by a
//! real headless Chromium.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use accord::agreement::check_source;
use accord::dpia::{self, Format, Renderer};
use jiff::civil::{Date, date};
use support::{accord, golden, repo, samples, stderr, stdout};

/// The date every generated document in these tests is prepared on.
fn today() -> Date {
    date(2026, 11, 21)
}

/// The DPIA for an agreement source, rendered with the built-in template.
fn render(source: &[u8], format: Format) -> String {
    let checked = check_source(source, today());
    let Some(a) = checked.agreement else {
        panic!("invalid agreement: {:#?}", checked.diagnostics);
    };
    let doc = dpia::build(&a, &dpia::screen(&a), today());
    let renderer = Renderer::builtin(format).unwrap_or_else(|e| panic!("{e}"));
    renderer.render(&doc).unwrap_or_else(|e| panic!("{e}"))
}

fn render_file(path: &Path, format: Format) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    render(&bytes, format)
}

fn stem(path: &Path) -> String {
    path.file_stem().unwrap().to_string_lossy().into_owned()
}

#[test]
fn markdown_for_every_sample_matches_its_golden_file() {
    for sample in samples() {
        let md = render_file(&sample, Format::Markdown);
        golden(&format!("dpia/{}.md", stem(&sample)), &md);
    }
}

#[test]
fn html_for_every_sample_has_all_seven_steps_and_the_diagram() {
    for sample in samples() {
        let html = render_file(&sample, Format::Html);
        let name = sample.display();
        for step in 1..=7 {
            assert!(
                html.contains(&format!("Step {step}</span>")),
                "{name}: step {step}"
            );
        }
        assert_eq!(html.matches("<svg ").count(), 1, "{name}");
        assert!(
            html.contains("@page") && html.contains("size: A4"),
            "{name}"
        );
        assert!(!html.contains("{{"), "{name}: an unrendered template tag");
    }
}

#[test]
fn every_sample_screens_as_needing_a_dpia() {
    // The samples share special category data with vulnerable people or at scale, so each must
    // come out as required, with its reasons; a change here is a change in legal judgement.
    for sample in samples() {
        let md = render_file(&sample, Format::Markdown);
        assert!(
            md.contains("| Screening | A DPIA is required |"),
            "{}",
            sample.display()
        );
    }
}

const HOSTILE: &str = r#"accord: 1
id: hostile
title: "<script>alert(1)</script> {{title}} {{{x}}}"
version: 1
owner: { name: "<b>Owner</b>", email: owner@council.example }
summary: "<img src=x onerror=alert(1)> {{summary}} # not a heading"
parties:
  - id: council
    name: "<script>alert(1)</script> Council {{{x}}}"
    role: controller
    sector: local_authority
    dpo: { name: "DPO <i>x</i>", email: dpo@council.example }
  - id: charity
    name: "Charity | pipe *bold* [link](javascript:alert(1))"
    role: recipient
    sector: vcs
    signatory: { name: Signer, email: s@charity.example }
purposes:
  - { id: help, description: "{{#each x}}<script>alert(1)</script>{{/each}}" }
lawful_basis:
  article6: public_task
  legal_power: "Act <2020> & s.1"
  article9: health_social_care
  schedule1: p2_health_social_care
data_subjects: [residents, "<script>alert(1)</script>"]
fields:
  - { id: full-name, description: "<script>alert(1)</script> {{title}}", category: identity }
  - { id: diagnosis, description: "</td></tr><script>alert(1)</script>", category: health }
flows:
  - { id: referral, from: council, to: charity, purpose: help, fields: [full-name, diagnosis] }
retention:
  - { holder: charity, keep_for: P1Y, from: receipt, then: delete }
term: { start: 2026-01-01, review_every: P1Y, termination: "<script>alert(1)</script>" }
dpia:
  data_subject_views: "<script>alert(1)</script>\n\n# Injected heading\n- injected item"
  risks:
    - id: leak
      description: "<script>alert(1)</script> {{{x}}}"
      likelihood: probable
      severity: severe
      measures:
        - { description: "<style>body{display:none}</style>", effect: accepted, residual: high, approved: true }
"#;

#[test]
fn hostile_text_is_escaped_in_html() {
    let html = render(HOSTILE.as_bytes(), Format::Html);
    for raw in [
        "<script",
        "<img",
        "<b>",
        "<i>",
        "</td></tr><script",
        "<style>body",
    ] {
        assert!(!html.contains(raw), "raw {raw:?} in the HTML");
    }
    assert!(
        html.contains(
            "<title>DPIA: &lt;script&gt;alert(1)&lt;/script&gt; {{title}} {{{x}}}</title>"
        )
    );
    assert!(html.contains("<td>full-name</td>") || html.contains("<strong>full-name</strong>"));
    assert!(html.contains("&lt;/td&gt;&lt;/tr&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt; {{summary}}"));
    // In the diagram, which diagram.rs escapes itself.
    assert!(html.contains("Data flows: &lt;script&gt;alert(1)&lt;/script&gt; {{title}} {{{x}}}"));
    // The article 36 notice still appears: the measure leaves a high residual risk.
    assert!(html.contains("The ICO must be consulted before processing."));
}

#[test]
fn hostile_text_is_escaped_in_markdown() {
    let md = render(HOSTILE.as_bytes(), Format::Markdown);
    for raw in ["<script", "<img", "<b>", "<i>", "<style"] {
        assert!(!md.contains(raw), "raw {raw:?} in the Markdown");
    }
    assert!(md.contains(
        "# Data protection impact assessment: &lt;script&gt;alert(1)&lt;/script&gt; {{title}} {{{x}}}"
    ));
    assert!(md.contains(r"Charity \| pipe \*bold\* \[link\](javascript:alert(1))"));
    // User text cannot start a heading or a list item of its own.
    assert!(
        !md.lines()
            .any(|l| l.starts_with("# Injected") || l.starts_with("- injected"))
    );
    assert!(
        md.contains(r"&lt;script&gt;alert(1)&lt;/script&gt; # Injected heading - injected item")
    );
}

/// Runs `accord` in `dir` (not the repository), so only built-in templates are found.
fn accord_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run accord")
}

fn sample(name: &str) -> String {
    repo()
        .join("agreements")
        .join(format!("{name}.yaml"))
        .display()
        .to_string()
}

#[test]
fn cli_renders_a_file_to_stdout() {
    let file = sample("camden-foodbank-referrals");
    let out = accord(&["dpia", &file, "--format", "md", "--as-of", "2026-11-21"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        render_file(Path::new(&file), Format::Markdown)
    );
}

#[test]
fn cli_finds_an_agreement_by_id_from_any_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let agreements = repo().join("agreements").display().to_string();
    let args = [
        "dpia",
        "hospital-discharge",
        "--agreements",
        &agreements,
        "--as-of",
        "2026-11-21",
    ];
    let out = accord_in(tmp.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("<!DOCTYPE html>"));
    assert!(stdout(&out).contains("<svg "));
}

#[test]
fn cli_writes_the_output_file_whole_and_leaves_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("dpia.html");
    let args = ["dpia", "vulnerability-hub", "-o", target.to_str().unwrap()];
    let out = accord(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "nothing on stdout with -o");
    let html = std::fs::read_to_string(&target).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    let names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["dpia.html"]);
}

#[test]
fn cli_refuses_an_unknown_id() {
    let out = accord(&["dpia", "vulnerability-hubb"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty());
    let err = stderr(&out);
    assert!(
        err.contains("'vulnerability-hubb' is neither a file nor the id of an agreement"),
        "{err}"
    );
    assert!(err.contains("did you mean 'vulnerability-hub'?"), "{err}");
}

#[test]
fn cli_refuses_an_agreement_with_errors_and_prints_its_findings() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("out.html");
    let file = "tests/fixtures/check/no-controller.yaml";
    let out = accord(&["dpia", file, "-o", target.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{file}:13:1: error[no-controller]: ")),
        "{err}"
    );
    assert!(
        err.contains("has errors, so no DPIA was generated"),
        "{err}"
    );
    assert!(!target.exists());
}

/// A templates folder holding one DPIA template.
fn templates_with(name: &str, source: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("dpia")).unwrap();
    std::fs::write(tmp.path().join("dpia").join(name), source).unwrap();
    tmp
}

#[test]
fn cli_uses_templates_from_the_templates_folder() {
    let custom = templates_with(
        "dpia.md.hbs",
        "Custom: {{title}} ({{need.outcome_label}})\n",
    );
    let dir = custom.path().to_str().unwrap();
    let out = accord(&[
        "dpia",
        "camden-foodbank-referrals",
        "--format",
        "md",
        "--templates",
        dir,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "Custom: Emergency food support referrals (A DPIA is required)\n"
    );
    // The HTML template is not overridden there, so the built-in one is used.
    let out = accord(&["dpia", "camden-foodbank-referrals", "--templates", dir]);
    assert!(stdout(&out).starts_with("<!DOCTYPE html>"));
}

#[test]
fn cli_reports_a_template_typo_and_writes_nothing() {
    let custom = templates_with("dpia.html.hbs", "<p>{{titel}}</p>");
    let out_dir = tempfile::tempdir().unwrap();
    let target = out_dir.path().join("out.html");
    let args = [
        "dpia",
        "camden-foodbank-referrals",
        "--templates",
        custom.path().to_str().unwrap(),
        "-o",
        target.to_str().unwrap(),
    ];
    let out = accord(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("titel"), "{}", stderr(&out));
    assert_eq!(std::fs::read_dir(out_dir.path()).unwrap().count(), 0);

    let broken = templates_with("dpia.html.hbs", "{{#if title}}unclosed");
    let out = accord(&[
        "dpia",
        "camden-foodbank-referrals",
        "--templates",
        broken.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is invalid"), "{}", stderr(&out));
}

#[test]
fn cli_reports_an_output_folder_that_does_not_exist() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("missing").join("out.html");
    let out = accord(&[
        "dpia",
        "camden-foodbank-referrals",
        "-o",
        target.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
}

fn chromium() -> PathBuf {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!("headless Chromium not found: run scripts/test.sh, which installs it")
        })
}

/// Runs `cmd`, killing it if it has not finished within `limit`.
fn run_with_timeout(cmd: &mut Command, limit: Duration) -> std::process::ExitStatus {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_html_prints_to_pdf_in_headless_chromium() {
    let chromium = chromium();
    let largest = samples()
        .into_iter()
        .max_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let html = tmp.path().join("dpia.html");
    let pdf = tmp.path().join("out.pdf");
    std::fs::write(&html, render_file(&largest, Format::Html)).unwrap();
    let status = run_with_timeout(
        Command::new(chromium).args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
            &format!("--user-data-dir={}", tmp.path().join("profile").display()),
            &format!("--print-to-pdf={}", pdf.display()),
            &format!("file://{}", html.display()),
        ]),
        Duration::from_secs(60),
    );
    assert!(status.success(), "chromium exited with {status}");
    let bytes = std::fs::read(&pdf).unwrap_or_else(|e| panic!("{}: {e}", pdf.display()));
    assert!(bytes.starts_with(b"%PDF"), "not a PDF");
    assert!(bytes.len() > 5 * 1024, "PDF of only {} bytes", bytes.len());
}
