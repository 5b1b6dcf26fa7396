//! A document one operation serves as HTML or as Markdown (the DPIA, the handover knowledge
//! pack): one 200 with two media types, so the OpenAPI document says which `format` answers
//! with which. `K` names the document and describes the answer.

use std::marker::PhantomData;

use poem::{IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;

const HTML: &str = "text/html; charset=utf-8";
const MARKDOWN: &str = "text/markdown; charset=utf-8";

/// What a [`Document`] is, for the OpenAPI document.
pub trait DocumentKind: Send {
    /// The 200's description.
    const DESCRIPTION: &'static str;
}

pub struct Document<K> {
    html: bool,
    body: String,
    kind: PhantomData<K>,
}

impl<K> Document<K> {
    pub fn html(body: String) -> Self {
        Document {
            html: true,
            body,
            kind: PhantomData,
        }
    }

    pub fn markdown(body: String) -> Self {
        Document {
            html: false,
            body,
            kind: PhantomData,
        }
    }
}

impl<K: DocumentKind> IntoResponse for Document<K> {
    fn into_response(self) -> Response {
        let content_type = if self.html { HTML } else { MARKDOWN };
        Response::builder()
            .content_type(content_type)
            .body(self.body)
    }
}

impl<K: DocumentKind> ApiResponse for Document<K> {
    fn meta() -> MetaResponses {
        let text = |content_type| MetaMediaType {
            content_type,
            schema: String::schema_ref(),
        };
        MetaResponses {
            responses: vec![MetaResponse {
                description: K::DESCRIPTION,
                status: Some(200),
                status_range: None,
                content: vec![text(HTML), text(MARKDOWN)],
                headers: vec![],
            }],
        }
    }

    fn register(_: &mut Registry) {}
}
