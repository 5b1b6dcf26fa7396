//! The JSON Schema (draft 2020-12) of the agreement format, generated from the model so it
//! cannot drift from what `accord check` accepts. For editors: VS Code's YAML extension and
//! others complete keys and flag mistakes as one types.

use super::model::Agreement;

pub const SCHEMA_ID: &str = "https://accord.example/schema/agreement-v1.json";

pub fn json_schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(Agreement).to_value();
    if let Some(obj) = schema.as_object_mut() {
        obj.insert("$id".into(), SCHEMA_ID.into());
    }
    schema
}
