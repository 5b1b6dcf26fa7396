//! Query parameters read strictly, where poem-openapi has no type for them.

use super::error::ApiError;

/// An optional RFC 3339 time; a 400 naming the parameter otherwise.
pub fn instant(name: &str, text: Option<String>) -> Result<Option<jiff::Timestamp>, ApiError> {
    text.map(|t| {
        t.parse().map_err(|_| {
            ApiError::BadRequest(format!(
                "'{name}' must be an RFC 3339 time, like 2026-11-21T09:00:00Z"
            ))
        })
    })
    .transpose()
}
