//! One sea-orm entity per table (see migrations/ for the schema and its reasons).

pub mod agreement;
pub mod api_token;
pub mod audit_head;
pub mod audit_record;
pub mod holding;
pub mod holding_subject;
pub mod party_suspension;
pub mod signature;
pub mod version;
