//! The OpenAPI document as served, finished once at start-up, and what the middleware learns
//! from it: the methods each path supports, for the `Allow` header of a 405.
//!
//! poem-openapi writes the document from the handlers and types. A few rules it cannot express
//! are added here, each a rule about the API rather than a patch of one operation:
//!
//! - **Request bodies are read strictly.** Every object schema a request body uses (directly or
//!   nested) is `additionalProperties: false`: the server refuses unknown keys in every body
//!   (serde's `deny_unknown_fields`, poem-openapi's `deny_unknown_fields`), so the document says
//!   so. A test (`tests/openapi_contract.rs`, Schemathesis) sends unknown keys and expects 400.
//! - **Object-level constraints** poem-openapi has no attribute for ([`OBJECT_RULES`]).
//! - **A body has a deadline.** Every operation that takes a body may answer 408: the body
//!   did not arrive in time (`--body-timeout-secs`), which the body limit checks for every
//!   request before any handler (`middleware::limit_body`), so no handler names it.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// Constraints on whole objects, by schema name, that poem-openapi's derives cannot state.
const OBJECT_RULES: &[(&str, &str, u64)] = &[
    // A hold needs a scope: at least one of agreement, party, subject_ref (none may be null).
    ("HoldScope", "minProperties", 1),
];

/// The finished document, and the methods of every path Accord serves.
pub struct Spec {
    pub json: String,
    pub methods: PathMethods,
}

impl Spec {
    /// Finishes poem-openapi's document (`raw`, JSON). `extra` adds the routes served outside
    /// the document (health, the document itself, the docs) to the map of methods.
    pub fn finish(raw: &str, extra: &[(&str, &[&str])]) -> Result<Spec, String> {
        let mut doc: Value =
            serde_json::from_str(raw).map_err(|e| format!("the OpenAPI document: {e}"))?;
        strict_request_bodies(&mut doc);
        body_deadline(&mut doc);
        object_rules(&mut doc, OBJECT_RULES)?;
        let methods = PathMethods::from_document(&doc, extra);
        let json = serde_json::to_string(&doc).map_err(|e| e.to_string())?;
        Ok(Spec { json, methods })
    }
}

/// Every component schema reachable from a request body gets `additionalProperties: false`.
fn strict_request_bodies(doc: &mut Value) {
    let mut pending: Vec<String> = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for item in paths.values() {
            for op in item.as_object().into_iter().flat_map(Map::values) {
                if let Some(body) = op.get("requestBody") {
                    refs(body, &mut pending);
                }
            }
        }
    }
    let mut seen = BTreeSet::new();
    let Some(schemas) = doc.pointer_mut("/components/schemas") else {
        return;
    };
    while let Some(name) = pending.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let Some(schema) = schemas.get_mut(&name) else {
            continue;
        };
        refs(schema, &mut pending);
        if let Some(obj) = schema.as_object_mut()
            && obj.get("type").and_then(Value::as_str) == Some("object")
            && obj.contains_key("properties")
        {
            obj.insert("additionalProperties".into(), Value::Bool(false));
        }
    }
}

/// Every operation with a request body documents the 408 of a body that did not arrive in time.
fn body_deadline(doc: &mut Value) {
    use super::error::{ErrorStatus, S408};
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        for op in item.as_object_mut().into_iter().flat_map(Map::values_mut) {
            let Some(op) = op
                .as_object_mut()
                .filter(|op| op.contains_key("requestBody"))
            else {
                continue;
            };
            let answer = serde_json::json!({
                "description": S408::DESCRIPTION,
                "content": {"application/json; charset=utf-8": {
                    "schema": {"$ref": "#/components/schemas/Error"}}}
            });
            if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                responses.insert(S408::STATUS.to_string(), answer);
            } else {
                op.insert("responses".into(), serde_json::json!({ "408": answer }));
            }
        }
    }
}

/// The component names `value` refers to (`#/components/schemas/Name`), anywhere inside it.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    if let Some(name) = v
                        .as_str()
                        .and_then(|r| r.strip_prefix("#/components/schemas/"))
                    {
                        out.push(name.to_owned());
                    }
                } else {
                    refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

fn object_rules(doc: &mut Value, rules: &[(&str, &str, u64)]) -> Result<(), String> {
    for (schema, keyword, value) in rules {
        let target = doc
            .pointer_mut(&format!("/components/schemas/{schema}"))
            .and_then(Value::as_object_mut)
            .ok_or_else(|| format!("the OpenAPI document has no schema {schema}"))?;
        target.insert((*keyword).into(), Value::from(*value));
    }
    Ok(())
}

/// The methods each path supports: the document's paths (under its server's base path) and
/// the routes served beside it. `HEAD` is listed wherever `GET` is (poem answers it).
#[derive(Debug, Default)]
pub struct PathMethods {
    routes: Vec<Route>,
}

#[derive(Debug)]
struct Route {
    segments: Vec<Segment>,
    methods: Vec<String>,
    /// As the document writes it, base path included: `/api/v1/agreements/{id}`.
    template: String,
}

#[derive(Debug, PartialEq)]
enum Segment {
    Literal(String),
    /// `{name}`: any one non-empty segment.
    Param,
}

impl PathMethods {
    fn from_document(doc: &Value, extra: &[(&str, &[&str])]) -> PathMethods {
        let base = doc
            .pointer("/servers/0/url")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim_end_matches('/');
        let mut routes = Vec::new();
        if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
            for (template, item) in paths {
                let methods: Vec<&str> = item
                    .as_object()
                    .into_iter()
                    .flat_map(Map::keys)
                    .map(String::as_str)
                    .collect();
                routes.push(route(&format!("{base}{template}"), &methods));
            }
        }
        for (path, methods) in extra {
            routes.push(route(path, methods));
        }
        PathMethods { routes }
    }

    /// The `Allow` header's value for `path`: the methods of the most specific template it
    /// matches, or `None`.
    pub fn allow(&self, path: &str) -> Option<String> {
        self.route_of(path).map(|r| r.methods.join(", "))
    }

    /// The documented template `path` matches (`/api/v1/agreements/{id}`), or `None`.
    pub fn template(&self, path: &str) -> Option<&str> {
        self.route_of(path).map(|r| r.template.as_str())
    }

    /// The most specific route `path` matches: literal segments beat parameters, as the
    /// router picks.
    fn route_of(&self, path: &str) -> Option<&Route> {
        let asked: Vec<&str> = split(path).collect();
        self.routes
            .iter()
            .filter(|r| matches(&r.segments, &asked))
            .max_by_key(|r| {
                r.segments
                    .iter()
                    .filter(|s| matches!(s, Segment::Literal(_)))
                    .count()
            })
    }
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

fn route(template: &str, methods: &[&str]) -> Route {
    let segments = split(template)
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                Segment::Param
            } else {
                Segment::Literal(s.to_owned())
            }
        })
        .collect();
    let mut names: Vec<String> = methods.iter().map(|m| m.to_ascii_uppercase()).collect();
    if names.iter().any(|m| m == "GET") && !names.iter().any(|m| m == "HEAD") {
        names.push("HEAD".into());
    }
    const ORDER: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
    names.sort_by_key(|m| ORDER.iter().position(|o| o == m).unwrap_or(ORDER.len()));
    Route {
        segments,
        methods: names,
        template: template.to_owned(),
    }
}

fn matches(template: &[Segment], asked: &[&str]) -> bool {
    template.len() == asked.len()
        && template.iter().zip(asked).all(|(t, a)| match t {
            Segment::Literal(l) => l == a,
            Segment::Param => !a.is_empty(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "servers": [{"url": "/api/v1"}],
            "paths": {
                "/things": {"get": {}, "post": {"requestBody": {"content": {"application/json":
                    {"schema": {"$ref": "#/components/schemas/NewThing"}}}}}},
                "/things/{id}": {"get": {}},
                "/things/{id}/close": {"post": {}},
                "/things/mine": {"delete": {}},
                "/holds": {"post": {}}
            },
            "components": {"schemas": {
                "NewThing": {"type": "object", "properties": {
                    "part": {"$ref": "#/components/schemas/Part"},
                    "parts": {"type": "array", "items": {"$ref": "#/components/schemas/Part"}}}},
                "Part": {"type": "object", "properties": {"n": {"type": "integer"}}},
                "Thing": {"type": "object", "properties": {"id": {"type": "string"}}},
                "HoldScope": {"type": "object", "properties": {"party": {"type": "string"}}}
            }}
        })
    }

    #[test]
    fn request_schemas_and_what_they_nest_refuse_unknown_keys_answers_do_not() {
        let spec = Spec::finish(&doc().to_string(), &[]).unwrap();
        let v: Value = serde_json::from_str(&spec.json).unwrap();
        let strict = |name: &str| v["components"]["schemas"][name]["additionalProperties"].clone();
        assert_eq!(strict("NewThing"), json!(false));
        assert_eq!(strict("Part"), json!(false));
        assert_eq!(strict("Thing"), Value::Null);
    }

    #[test]
    fn every_operation_with_a_body_may_answer_408_others_do_not() {
        let spec = Spec::finish(&doc().to_string(), &[]).unwrap();
        let v: Value = serde_json::from_str(&spec.json).unwrap();
        let answer = &v["paths"]["/things"]["post"]["responses"]["408"];
        assert_eq!(
            answer["content"]["application/json; charset=utf-8"]["schema"]["$ref"],
            "#/components/schemas/Error"
        );
        assert!(
            answer["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty())
        );
        assert_eq!(
            v["paths"]["/things"]["get"]["responses"]["408"],
            Value::Null
        );
        assert_eq!(
            v["paths"]["/things/{id}/close"]["post"]["responses"],
            Value::Null
        );
    }

    #[test]
    fn object_rules_apply_by_name_and_a_missing_target_is_an_error() {
        let mut d = doc();
        object_rules(&mut d, &[("HoldScope", "minProperties", 1)]).unwrap();
        assert_eq!(d["components"]["schemas"]["HoldScope"]["minProperties"], 1);
        let err = object_rules(&mut d, &[("Gone", "minProperties", 1)]).unwrap_err();
        assert!(err.contains("Gone"), "{err}");
    }

    #[test]
    fn allow_lists_the_methods_of_the_most_specific_matching_template() {
        let spec = Spec::finish(&doc().to_string(), &[("/healthz", &["get"])]).unwrap();
        let m = &spec.methods;
        assert_eq!(
            m.allow("/api/v1/things").as_deref(),
            Some("GET, HEAD, POST")
        );
        assert_eq!(m.allow("/api/v1/things/7").as_deref(), Some("GET, HEAD"));
        assert_eq!(m.allow("/api/v1/things/mine").as_deref(), Some("DELETE"));
        assert_eq!(m.allow("/api/v1/things/7/close").as_deref(), Some("POST"));
        assert_eq!(m.allow("/healthz").as_deref(), Some("GET, HEAD"));
        assert_eq!(m.allow("/api/v1/nothing"), None);
        assert_eq!(m.allow("/things"), None);
    }
}
