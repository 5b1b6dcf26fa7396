//! `accord schema` is generated from the model; these tests hold it to what `accord check`
//! accepts, so editors and the engine never disagree about the shape of an agreement.

use crate::support;

use std::path::PathBuf;

use accord::agreement::schema::{SCHEMA_ID, json_schema};
use accord::agreement::{Code, check_source};
use jiff::civil::date;
use serde_yaml::Value as Yaml;
use support::{accord, repo, samples, stdout};

struct Validator {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl Validator {
    fn new() -> Self {
        let mut compiler = boon::Compiler::new();
        compiler.enable_format_assertions();
        compiler.add_resource(SCHEMA_ID, json_schema()).unwrap();
        let mut schemas = boon::Schemas::new();
        let index = compiler.compile(SCHEMA_ID, &mut schemas).unwrap();
        Validator { schemas, index }
    }

    fn errors(&self, instance: &serde_json::Value) -> Option<String> {
        self.schemas
            .validate(instance, self.index)
            .err()
            .map(|e| format!("{e:#}"))
    }
}

fn valid_files() -> Vec<PathBuf> {
    let mut files = samples();
    for name in ["base.yaml", "kitchen-sink.yaml"] {
        files.push(repo().join("tests/fixtures/check/valid").join(name));
    }
    files
}

fn yaml_to_json(text: &str) -> serde_json::Value {
    serde_yaml::from_str(text).unwrap()
}

/// Whether `accord check` finds the document's *shape* wrong (stage 2, or the one stage-3
/// schema rule), as opposed to rule findings.
fn shape_rejected(text: &str) -> bool {
    let checked = check_source(text.as_bytes(), date(2026, 11, 21));
    checked.diagnostics.iter().any(|d| {
        matches!(
            d.code,
            Code::Schema | Code::FormatVersion | Code::InvalidId | Code::InvalidDuration
        )
    })
}

#[test]
fn the_command_prints_a_draft_2020_12_schema() {
    let out = accord(&["schema"]);
    assert_eq!(out.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["additionalProperties"], false);
    let required = schema["required"].as_array().unwrap();
    for key in ["accord", "id", "parties", "flows", "retention", "term"] {
        assert!(required.iter().any(|r| r == key), "{key} required");
    }
}

#[test]
fn every_sample_and_valid_fixture_validates_against_the_schema() {
    let v = Validator::new();
    for file in valid_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        if let Some(e) = v.errors(&yaml_to_json(&text)) {
            panic!("{}: {e}", file.display());
        }
    }
}

#[test]
fn the_typed_model_round_trips_through_serde_yaml_and_fits_the_schema() {
    let v = Validator::new();
    for file in valid_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let first = check_source(text.as_bytes(), date(2026, 11, 21))
            .agreement
            .unwrap();
        let as_json = serde_json::to_value(&*first).unwrap();
        assert!(
            v.errors(&as_json).is_none(),
            "{}: {:?}",
            file.display(),
            v.errors(&as_json)
        );
        let again = serde_yaml::to_string(&*first).unwrap();
        let second = check_source(again.as_bytes(), date(2026, 11, 21));
        assert_eq!(
            second.agreement.as_deref(),
            Some(&*first),
            "{}",
            file.display()
        );
    }
}

/// Keys whose need depends on another key's value, which JSON Schema here does not express
/// (docs/diagnostics.md): the checker is stricter than the schema for exactly these.
const CONDITIONAL: &[&str] = &["email", "url", "flows", "holder", "schedule1"];

#[test]
fn checker_and_schema_agree_on_every_key_of_the_kitchen_sink() {
    let v = Validator::new();
    let path = repo().join("tests/fixtures/check/valid/kitchen-sink.yaml");
    let doc: Yaml = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut mutations = Vec::new();
    collect_mutations(&doc, &mut Vec::new(), &mut mutations);
    assert!(mutations.len() > 150, "only {} mutations", mutations.len());
    let mut disagreements = Vec::new();
    for (what, key, mutated) in mutations {
        let text = serde_yaml::to_string(&mutated).unwrap();
        let checker = shape_rejected(&text);
        let schema = v.errors(&yaml_to_json(&text)).is_some();
        let conditional_removal = what.starts_with("remove") && CONDITIONAL.contains(&key.as_str());
        if checker != schema && !(conditional_removal && checker && !schema) {
            disagreements.push(format!(
                "{what}: checker rejects={checker}, schema rejects={schema}"
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

/// For every mapping in the document: a copy without each key, and a copy with an unknown key.
fn collect_mutations(node: &Yaml, path: &mut Vec<String>, out: &mut Vec<(String, String, Yaml)>) {
    match node {
        Yaml::Mapping(map) => {
            let mut with_extra = map.clone();
            with_extra.insert(Yaml::from("zz_not_a_key"), Yaml::from("x"));
            out.push((
                format!("add unknown key at /{}", path.join("/")),
                String::new(),
                Yaml::Null,
            ));
            let last = out.len() - 1;
            out[last].2 = replace_at(path, Yaml::Mapping(with_extra));
            for (k, child) in map {
                let key = k.as_str().unwrap().to_owned();
                let mut without = map.clone();
                without.remove(k);
                let what = format!("remove /{}/{key}", path.join("/"));
                out.push((what, key.clone(), replace_at(path, Yaml::Mapping(without))));
                path.push(key);
                collect_mutations(child, path, out);
                path.pop();
            }
        }
        Yaml::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                collect_mutations(item, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

thread_local! {
    static ROOT: std::cell::RefCell<Yaml> = const { std::cell::RefCell::new(Yaml::Null) };
}

/// The kitchen sink with the node at `path` replaced.
fn replace_at(path: &[String], value: Yaml) -> Yaml {
    let text = std::fs::read_to_string(repo().join("tests/fixtures/check/valid/kitchen-sink.yaml"))
        .unwrap();
    let mut root: Yaml = ROOT.with(|r| {
        if r.borrow().is_null() {
            *r.borrow_mut() = serde_yaml::from_str(&text).unwrap();
        }
        r.borrow().clone()
    });
    let mut node = &mut root;
    for step in path {
        node = match node {
            Yaml::Mapping(m) => m.get_mut(step.as_str()).unwrap(),
            Yaml::Sequence(s) => &mut s[step.parse::<usize>().unwrap()],
            _ => unreachable!(),
        };
    }
    *node = value;
    root
}
