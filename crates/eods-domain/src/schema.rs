//! JSON Schemas generated from the catalog types, and whole-document validation: the envelope
//! and payload against the schema first, then the semantic checks of `crate::validate`.

use crate::artifact::{ArtifactType, Envelope, Payload};
use crate::validate::{Violation, Violations, validate_payload};
use serde_json::{Map, Value, json};

/// The JSON Schema of a whole stored document (envelope + payload) of type `t`.
pub fn envelope_schema(t: ArtifactType) -> Value {
    let payload = t.payload_schema().to_value();
    let mut payload = match payload {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let defs = payload.remove("$defs").unwrap_or_else(|| json!({}));
    payload.remove("$schema");
    let mut defs = match defs {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    if let Value::Object(r) = schemars::schema_for!(crate::artifact::ArtifactRef).to_value() {
        if let Some(Value::Object(d)) = r.get("$defs") {
            for (k, v) in d {
                defs.insert(k.clone(), v.clone());
            }
        }
        let mut r = r;
        r.remove("$defs");
        r.remove("$schema");
        defs.insert("ArtifactRef".into(), Value::Object(r));
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("https://eods.dev/schemas/{}/{}.json", t.as_str(), t.schema_version()),
        "title": t.as_str(),
        "description": format!("EODS artifact `{}` (schema {}): envelope and payload.", t.as_str(), t.schema_version()),
        "type": "object",
        "additionalProperties": false,
        "required": ["id", "event_id", "type", "revision", "schema_version", "created_at", "created_by", "correlation_id", "derived_from", "payload"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "event_id": {"type": "string", "format": "uuid"},
            "type": {"const": t.as_str()},
            "revision": {"type": "integer", "minimum": 1},
            "schema_version": {"type": "string", "pattern": "^[0-9]+\\.[0-9]+\\.[0-9]+$"},
            "created_at": {"type": "string", "format": "date-time"},
            "created_by": {"type": "string", "pattern": "^(agent|user|system):.+$"},
            "correlation_id": {"type": "string", "minLength": 1},
            "derived_from": {"type": "array", "items": {"$ref": "#/$defs/ArtifactRef"}},
            "payload": Value::Object(payload),
        },
        "$defs": Value::Object(defs),
    })
}

/// Compiles `schema` once for the process: for schemas generated from types, which never change
/// while it runs. `cell` is the caller's `static`.
pub fn compiled(
    cell: &'static std::sync::OnceLock<Result<jsonschema::Validator, String>>,
    schema: impl FnOnce() -> Value,
) -> Result<&'static jsonschema::Validator, String> {
    cell.get_or_init(|| jsonschema::validator_for(&schema()).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(Clone::clone)
}

/// Checks `instance` against `schema`, returning every violation with its JSON pointer.
/// Compiles the schema on every call: for the fixed schemas of the catalog, use
/// [`validate_document`], which compiles each type's schema once per process.
pub fn schema_violations(schema: &Value, instance: &Value) -> Vec<Violation> {
    match jsonschema::validator_for(schema) {
        Ok(v) => violations_of(&v, instance),
        Err(e) => vec![Violation {
            pointer: String::new(),
            message: format!("internal schema error: {e}"),
        }],
    }
}

/// Like [`schema_violations`] with a validator compiled once and kept by the caller.
pub fn violations_of(validator: &jsonschema::Validator, instance: &Value) -> Vec<Violation> {
    // Deciding validity alone is far cheaper than collecting every error; most documents pass.
    if validator.is_valid(instance) {
        return vec![];
    }
    validator
        .iter_errors(instance)
        .map(|e| Violation {
            pointer: e.instance_path().as_str().to_owned(),
            message: e.to_string(),
        })
        .collect()
}

/// The compiled validator of each artifact type's [`envelope_schema`], compiled on first use and
/// kept for the process (generating and compiling a schema costs far more than validating a
/// document against it). The schemas are generated from the types, so they never change while
/// the process runs.
fn envelope_validator(t: ArtifactType) -> Result<&'static jsonschema::Validator, String> {
    use std::sync::OnceLock;
    type Slot = OnceLock<Result<jsonschema::Validator, String>>;
    static SLOTS: OnceLock<Vec<Slot>> = OnceLock::new();
    let slots = SLOTS.get_or_init(|| ArtifactType::ALL.iter().map(|_| OnceLock::new()).collect());
    let i = ArtifactType::ALL
        .iter()
        .position(|x| *x == t)
        .ok_or_else(|| format!("{t} is not in the catalog"))?;
    compiled(&slots[i], || envelope_schema(t))
}

/// Compiles every artifact type's validator now rather than on first use (a server does it
/// before it listens, so no request pays for it). Returns the first schema that fails to compile.
pub fn compile_all() -> Result<(), String> {
    for t in ArtifactType::ALL {
        envelope_validator(*t)?;
    }
    Ok(())
}

/// Validates one stored document: the type named in it, the schema, then the semantic checks.
/// Returns the typed envelope and payload, or every violation found.
pub fn validate_document(doc: &Value) -> Result<(Envelope, Payload), Vec<Violation>> {
    let mut v = Violations::default();
    let Some(type_name) = doc.get("type").and_then(Value::as_str) else {
        v.push(
            "/type",
            "the document names no artifact type (a string field `type`, e.g. \"task_register\")",
        );
        return Err(v.into_vec());
    };
    let t = match ArtifactType::parse(type_name) {
        Ok(t) => t,
        Err(e) => {
            v.push("/type", e);
            return Err(v.into_vec());
        }
    };
    let errors = match envelope_validator(t) {
        Ok(v) => violations_of(v, doc),
        Err(e) => vec![Violation {
            pointer: String::new(),
            message: format!("internal schema error: {e}"),
        }],
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let envelope: Envelope = serde_json::from_value(doc.clone()).map_err(|e| {
        vec![Violation {
            pointer: String::new(),
            message: e.to_string(),
        }]
    })?;
    let payload = Payload::from_value(t, envelope.payload.clone()).map_err(|e| {
        vec![Violation {
            pointer: "/payload".into(),
            message: e.to_string(),
        }]
    })?;
    let semantic = semantic_violations(&payload);
    if semantic.is_empty() {
        Ok((envelope, payload))
    } else {
        Err(semantic)
    }
}

/// Validates a document the caller built from its typed payload (an agent's output): the
/// envelope as JSON against its schema, then `payload`'s semantics, as [`validate_document`]
/// does, without parsing the JSON back into the type it was just written from. The envelope's
/// payload is moved into the document for the check and back afterwards, not copied.
pub fn validate_built(envelope: &mut Envelope, payload: &Payload) -> Result<(), Vec<Violation>> {
    let violation = |message: String| Violation {
        pointer: String::new(),
        message,
    };
    let body = std::mem::take(&mut envelope.payload);
    let (errors, body) = match serde_json::to_value(&*envelope) {
        Ok(Value::Object(mut m)) => {
            m.insert("payload".into(), body);
            let doc = Value::Object(m);
            let errors = match envelope_validator(envelope.artifact_type) {
                Ok(v) => violations_of(v, &doc),
                Err(e) => vec![violation(format!("internal schema error: {e}"))],
            };
            let body = match doc {
                Value::Object(mut m) => m.remove("payload").unwrap_or_default(),
                _ => Value::Null,
            };
            (errors, body)
        }
        Ok(_) => (vec![violation("an envelope is a JSON object".into())], body),
        Err(e) => (vec![violation(e.to_string())], body),
    };
    envelope.payload = body;
    if !errors.is_empty() {
        return Err(errors);
    }
    let semantic = semantic_violations(payload);
    if semantic.is_empty() {
        Ok(())
    } else {
        Err(semantic)
    }
}

/// [`validate_payload`]'s findings, pointed into the envelope.
fn semantic_violations(payload: &Payload) -> Vec<Violation> {
    validate_payload(payload)
        .into_iter()
        .map(|x| Violation {
            pointer: format!("/payload{}", x.pointer),
            message: x.message,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_a_compilable_schema() {
        for t in ArtifactType::ALL {
            let s = envelope_schema(*t);
            assert!(
                jsonschema::validator_for(&s).is_ok(),
                "schema of {t} does not compile"
            );
            assert_eq!(s["properties"]["type"]["const"], t.as_str());
        }
    }

    #[test]
    fn unknown_type_names_the_allowed_values() {
        let err = validate_document(&json!({"type": "budget_sheet"})).unwrap_err();
        assert_eq!(err[0].pointer, "/type");
        assert!(
            err[0].message.contains("task_register"),
            "{}",
            err[0].message
        );
    }
}
