//! What the gate is asked and what it answers, as the JSON of `POST /api/v1/flows/check`
//! (docs/api.md, "The gate"). The types derive poem-openapi's `Object` so the HTTP layer can
//! take and return them as they are, and the OpenAPI document cannot drift from the decision.
//!
//! `decision_id` is not here: the service mints it (a UUID v7) when it records the decision, and
//! wraps a [`Decision`] with `#[oai(flatten)]` / `#[serde(flatten)]`. The core stays pure.

use poem_openapi::{Enum, Object};

use crate::agreement::model::RetentionRule;
use serde::{Deserialize, Serialize};

use super::limits;

/// May `from` send `fields` to `to` for `purpose` under `agreement` (by `flow`, if named)?
/// Unknown keys are refused: a misspelt `flow` must not silently widen the question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Object)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// The agreement's id.
    #[serde(deserialize_with = "limits::name")]
    #[oai(validator(min_length = 1, max_length = 200))]
    pub agreement: String,
    /// The sending party's id.
    #[serde(deserialize_with = "limits::name")]
    #[oai(validator(min_length = 1, max_length = 200))]
    pub from: String,
    /// The receiving party's id.
    #[serde(deserialize_with = "limits::name")]
    #[oai(validator(min_length = 1, max_length = 200))]
    pub to: String,
    /// The purpose's id.
    #[serde(deserialize_with = "limits::name")]
    #[oai(validator(min_length = 1, max_length = 200))]
    pub purpose: String,
    /// The field ids to be sent (the keys of the records), at most 10,000.
    #[serde(deserialize_with = "limits::names")]
    #[oai(validator(max_items = 10000, max_length = 200))]
    pub fields: Vec<String>,
    #[oai(nullable)]
    /// The flow's id. Without it, any flow of the agreement with this `from`, `to` and
    /// `purpose` matches.
    #[serde(
        default,
        deserialize_with = "limits::optional_name",
        skip_serializing_if = "Option::is_none"
    )]
    #[oai(validator(min_length = 1, max_length = 200))]
    pub flow: Option<String>,
}

/// The gate's answer, without the `decision_id` the service adds.
///
/// Every distinct requested field appears exactly once, in request order, in either
/// `permitted_fields` or `denied_fields`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Object)]
pub struct Decision {
    pub decision: Outcome,
    /// The registry's number of the version decided under; null when there is none.
    #[oai(nullable)]
    pub agreement_version: Option<i32>,
    /// The flow decided under: the one named, else the first matching flow (in agreement order)
    /// that carries every permitted field requested, else the first matching flow. Null when
    /// no flow matched.
    #[oai(nullable)]
    pub flow: Option<String>,
    /// Requested fields the matched flow(s) carry.
    pub permitted_fields: Vec<String>,
    /// Requested fields they do not (all requested fields when no flow matched).
    pub denied_fields: Vec<String>,
    /// Every failing rule in a fixed order; an allow carries the single reason `permitted`.
    pub reasons: Vec<Reason>,
    /// How long the recipient keeps what it receives by `flow`; null when no flow matched.
    #[oai(nullable)]
    pub retention: Option<Retention>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "lowercase")]
#[oai(rename_all = "lowercase")]
pub enum Outcome {
    Allow,
    Deny,
}

/// One rule's verdict, worded for an IG officer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Object)]
pub struct Reason {
    pub code: ReasonCode,
    pub message: String,
}

/// The reason codes of docs/api.md. Declared in the order deny reasons are listed, so that
/// order is also `Ord`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Enum,
)]
#[serde(rename_all = "kebab-case")]
#[oai(rename_all = "kebab-case")]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Object)]
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
