//! What the gate is asked and what it answers, as the JSON of `POST /api/v1/flows/check`
//! (docs/api.md, "The gate"), read and written by serde. The OpenAPI document's description of
//! them is the service's (`accord::openapi_types`), whose conversions match every variant here,
//! so the two cannot drift apart without a compile error.
//!
//! `decision_id` is not here: the service mints it (a UUID v7) when it records the decision.

use crate::agreement::model::RetentionRule;
use serde::{Deserialize, Serialize};

use super::limits;
use super::records::{OnExtraFields, Record};

/// May `from` send `fields` to `to` for `purpose` under `agreement` (by `flow`, if named)?
/// Unknown keys are refused: a misspelt `flow` must not silently widen the question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// The agreement's id.
    #[serde(deserialize_with = "limits::name")]
    pub agreement: String,
    /// The sending party's id.
    #[serde(deserialize_with = "limits::name")]
    pub from: String,
    /// The receiving party's id.
    #[serde(deserialize_with = "limits::name")]
    pub to: String,
    /// The purpose's id.
    #[serde(deserialize_with = "limits::name")]
    pub purpose: String,
    /// The field ids to be sent (the keys of the records), at most 10,000.
    #[serde(deserialize_with = "limits::names")]
    pub fields: Vec<String>,
    /// The flow's id. Without it, any flow of the agreement with this `from`, `to` and
    /// `purpose` matches.
    #[serde(
        default,
        deserialize_with = "limits::optional_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub flow: Option<String>,
}

/// `POST /api/v1/flows`: the check's fields plus the records, as one flat object with every
/// key known (serde cannot refuse unknown keys through a flattened `CheckRequest`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendRequest {
    #[serde(deserialize_with = "limits::name")]
    pub agreement: String,
    #[serde(deserialize_with = "limits::name")]
    pub from: String,
    #[serde(deserialize_with = "limits::name")]
    pub to: String,
    #[serde(deserialize_with = "limits::name")]
    pub purpose: String,
    #[serde(deserialize_with = "limits::names")]
    pub fields: Vec<String>,
    #[serde(default, deserialize_with = "limits::optional_name")]
    pub flow: Option<String>,
    #[serde(deserialize_with = "super::records::bounded_records")]
    pub records: Vec<Record>,
    #[serde(default)]
    pub subject_refs: Option<Vec<String>>,
    #[serde(default)]
    pub on_extra_fields: OnExtraFields,
}

impl SendRequest {
    /// The question this send asks, with `fields` as given.
    pub fn check(&self) -> CheckRequest {
        CheckRequest {
            agreement: self.agreement.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            purpose: self.purpose.clone(),
            fields: self.fields.clone(),
            flow: self.flow.clone(),
        }
    }
}

/// The gate's answer, without the `decision_id` the service adds.
///
/// Every distinct requested field appears exactly once, in request order, in either
/// `permitted_fields` or `denied_fields`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub decision: Outcome,
    /// The registry's number of the version decided under; null when there is none.
    pub agreement_version: Option<i32>,
    /// The flow decided under: the one named, else the first matching flow (in agreement order)
    /// that carries every permitted field requested, else the first matching flow. Null when
    /// no flow matched.
    pub flow: Option<String>,
    /// Requested fields the matched flow(s) carry.
    pub permitted_fields: Vec<String>,
    /// Requested fields they do not (all requested fields when no flow matched).
    pub denied_fields: Vec<String>,
    /// Every failing rule in a fixed order; an allow carries the single reason `permitted`.
    pub reasons: Vec<Reason>,
    /// How long the recipient keeps what it receives by `flow`; null when no flow matched.
    pub retention: Option<Retention>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Allow,
    Deny,
}

/// One rule's verdict, worded for an IG officer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: ReasonCode,
    pub message: String,
}

/// The reason codes of docs/api.md. Declared in the order deny reasons are listed, so that
/// order is also `Ord`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReasonCode {
    UnknownAgreement,
    AgreementNotActive,
    OutsideTerm,
    UnknownParty,
    PartySuspended,
    NoMatchingFlow,
    FieldNotPermitted,
    AssuranceExpired,
    ContractorEngagementEnded,
    Permitted,
}

impl ReasonCode {
    pub const ALL: [ReasonCode; 10] = [
        ReasonCode::UnknownAgreement,
        ReasonCode::AgreementNotActive,
        ReasonCode::OutsideTerm,
        ReasonCode::UnknownParty,
        ReasonCode::PartySuspended,
        ReasonCode::NoMatchingFlow,
        ReasonCode::FieldNotPermitted,
        ReasonCode::AssuranceExpired,
        ReasonCode::ContractorEngagementEnded,
        ReasonCode::Permitted,
    ];

    /// The code as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::UnknownAgreement => "unknown-agreement",
            ReasonCode::AgreementNotActive => "agreement-not-active",
            ReasonCode::OutsideTerm => "outside-term",
            ReasonCode::UnknownParty => "unknown-party",
            ReasonCode::PartySuspended => "party-suspended",
            ReasonCode::NoMatchingFlow => "no-matching-flow",
            ReasonCode::FieldNotPermitted => "field-not-permitted",
            ReasonCode::AssuranceExpired => "assurance-expired",
            ReasonCode::ContractorEngagementEnded => "contractor-engagement-ended",
            ReasonCode::Permitted => "permitted",
        }
    }
}

/// The retention rule covering the flow for its recipient, in the agreement format's own
/// words. `from` goes beyond the first design's `{keep_for, then}`: without it a recipient (and the
/// holdings ledger) cannot tell when `keep_for` starts counting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// ISO 8601 duration, e.g. `P90D`.
    pub keep_for: String,
    /// `receipt` or `agreement_end`.
    pub from: String,
    /// `delete`, `anonymise` or `return`.
    pub then: String,
}

impl From<&RetentionRule> for Retention {
    fn from(rule: &RetentionRule) -> Retention {
        Retention {
            keep_for: rule.keep_for.to_string(),
            from: rule.from.as_str().to_owned(),
            then: rule.then.as_str().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_request_reads_as_in_the_api_docs() {
        let req: CheckRequest = serde_json::from_value(json!({
            "agreement": "camden-foodbank-referrals", "from": "camden", "to": "foodbank",
            "purpose": "food-parcels", "fields": ["full_name", "address"]
        }))
        .unwrap();
        assert_eq!(req.flow, None);
        assert_eq!(req.fields, ["full_name", "address"]);
    }

    #[test]
    fn the_answer_writes_as_in_the_api_docs() {
        let d = Decision {
            decision: Outcome::Deny,
            agreement_version: Some(2),
            flow: Some("referral".into()),
            permitted_fields: vec!["full_name".into()],
            denied_fields: vec!["nhs_number".into()],
            reasons: vec![Reason {
                code: ReasonCode::FieldNotPermitted,
                message: "field 'nhs_number' is not in flow 'referral'".into(),
            }],
            retention: Some(Retention {
                keep_for: "P90D".into(),
                from: "receipt".into(),
                then: "delete".into(),
            }),
        };
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["decision"], "deny");
        assert_eq!(v["reasons"][0]["code"], "field-not-permitted");
        assert_eq!(v["retention"]["keep_for"], "P90D");
        assert_eq!(serde_json::from_value::<Decision>(v).unwrap(), d);
    }

    #[test]
    fn codes_are_kebab_case_in_the_order_of_the_spec() {
        let spelled =
            serde_json::to_value([ReasonCode::ContractorEngagementEnded, ReasonCode::Permitted])
                .unwrap();
        assert_eq!(spelled, json!(["contractor-engagement-ended", "permitted"]));
        assert!(ReasonCode::UnknownAgreement < ReasonCode::AgreementNotActive);
        assert!(ReasonCode::FieldNotPermitted < ReasonCode::AssuranceExpired);
    }
}
