//! The versioned JSON envelope shared by records and protocol messages:
//! `{"format": N, "<name>": {…}}`. The version is read first, on its own, so a message from
//! a newer build is refused with a clear error instead of being half understood.

use std::collections::HashMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use thiserror::Error;

/// Longest error message and field path a refusal carries: serde quotes whole values, and a
/// hostile value may be megabytes long.
const MAX_MESSAGE: usize = 300;
const MAX_PATH: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    #[error("format {found} is not supported (this build reads format {supported}); update this program")]
    UnsupportedFormat { found: u64, supported: u16 },
    #[error("the message has no \"format\" number")]
    MissingFormat,
    #[error("{at}: {message}")]
    Malformed { at: String, message: String },
}

impl WireError {
    /// The JSON path of the field at fault, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            WireError::Malformed { at, .. } => Some(at),
            WireError::UnsupportedFormat { .. } | WireError::MissingFormat => Some("format"),
        }
    }
}

pub(crate) fn encode<T: Serialize>(format: u16, name: &str, value: &T) -> String {
    let mut envelope = serde_json::Map::new();
    envelope.insert("format".into(), format.into());
    // Serialising these types cannot fail: every map key is a string and no value is a float.
    envelope.insert(name.into(), serde_json::to_value(value).unwrap_or(serde_json::Value::Null));
    serde_json::Value::Object(envelope).to_string()
}

/// Reads `{"format": N, "<name>": {…}}` into `T`. The envelope is read in one pass that keeps
/// its members as raw text, and the body is then read straight from its own text: no
/// intermediate tree (a push of 500 records used to build each one's tree three times).
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8], format: u16, name: &str) -> Result<T, WireError> {
    let envelope: HashMap<String, &RawValue> =
        serde_json::from_slice(bytes).map_err(|e| WireError::Malformed {
            at: "(document)".into(),
            message: crate::text::truncate(&e.to_string(), MAX_MESSAGE),
        })?;
    let found = envelope.get("format").ok_or(WireError::MissingFormat)?;
    match serde_json::from_str::<serde_json::Value>(found.get()) {
        Ok(serde_json::Value::Number(n)) if n.as_u64() == Some(u64::from(format)) => {}
        Ok(serde_json::Value::Number(n)) if n.as_u64().is_some() => {
            return Err(WireError::UnsupportedFormat {
                found: n.as_u64().unwrap_or_default(),
                supported: format,
            });
        }
        _ => {
            return Err(WireError::Malformed {
                at: "format".into(),
                message: "expected a whole number".into(),
            });
        }
    }
    if let Some(extra) = envelope.keys().find(|k| *k != "format" && *k != name) {
        return Err(WireError::Malformed {
            at: crate::text::truncate(extra, MAX_PATH),
            message: format!("unknown field; expected \"format\" and \"{name}\""),
        });
    }
    let body = envelope
        .get(name)
        .ok_or_else(|| WireError::Malformed { at: name.into(), message: "missing".into() })?;
    let mut reader = serde_json::Deserializer::from_str(body.get());
    serde_path_to_error::deserialize(&mut reader).map_err(|e| {
        let path = crate::text::truncate(&e.path().to_string(), MAX_PATH);
        let error = e.into_inner();
        // Said as it was when the body was read from a tree: without a position in its text.
        let message = error.to_string();
        let position = format!(" at line {} column {}", error.line(), error.column());
        let message = message.strip_suffix(&position).unwrap_or(&message);
        WireError::Malformed {
            at: if path == "." { name.to_owned() } else { format!("{name}.{path}") },
            message: crate::text::truncate(message, MAX_MESSAGE),
        }
    })
}
