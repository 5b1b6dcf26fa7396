//! Access requests' pure parts: the form's questions, the request's states, and the agreement an
//! approved request drafts. The service's use cases are `accord::access`.

pub mod drafting;
pub mod form;
pub mod states;
