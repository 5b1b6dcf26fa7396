//! One sea-orm entity per table (see migrations/ for the schema and its reasons).

pub mod access_request;
pub mod access_request_message;
pub mod agreement;
pub mod agreement_party;
pub mod api_token;
pub mod audit_head;
pub mod audit_record;
pub mod deletion_request;
pub mod deletion_request_holding;
pub mod handover_attachment;
pub mod handover_engagement;
pub mod handover_item;
pub mod handover_review;
pub mod handover_submission;
pub mod holding;
pub mod holding_subject;
pub mod job_run;
pub mod legal_hold;
pub mod outbox_message;
pub mod party_suspension;
pub mod password_link;
pub mod sign_in_failure;
pub mod signature;
pub mod user;
pub mod version;
pub mod web_session;
