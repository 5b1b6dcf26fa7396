//! The core's types as the OpenAPI document describes them. The pure core
//! (`accord_core`) cannot name poem-openapi, so each of its types that an answer or a request
//! of the API carries has a twin here deriving poem-openapi's traits, spelt the same on the
//! wire (the same serde names). The conversions match every variant and every field, so a
//! variant added to the core and not here is a compile error, not a drift in the document.
//!
//! An enum's twin also reads as the core's (`Deref`) and compares equal to it, so code that
//! holds an answer may ask it what the core's type knows (`status.label()`).

use poem_openapi::{Enum, Object};
use serde::Serialize;

use accord_core::access::states;
use accord_core::agreement::lifecycle;
use accord_core::gate;
use accord_core::gate::records;
use accord_core::handover::items;

/// Declares the twin of a core enum: the same variants, both conversions, `Deref` to the
/// core's value, and equality with it in both directions.
macro_rules! twin_enum {
    (
        $(#[$attr:meta])*
        $name:ident = $core:ty { $($variant:ident),+ $(,)? }
    ) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Enum)]
        $(#[$attr])*
        pub enum $name {
            $($variant),+
        }

        impl From<$core> for $name {
            fn from(core: $core) -> $name {
                match core {
                    $(<$core>::$variant => $name::$variant),+
                }
            }
        }

        impl From<$name> for $core {
            fn from(twin: $name) -> $core {
                match twin {
                    $($name::$variant => <$core>::$variant),+
                }
            }
        }

        impl std::ops::Deref for $name {
            type Target = $core;
            fn deref(&self) -> &$core {
                match self {
                    $($name::$variant => &<$core>::$variant),+
                }
            }
        }

        impl PartialEq<$core> for $name {
            fn eq(&self, other: &$core) -> bool {
                **self == *other
            }
        }

        impl PartialEq<$name> for $core {
            fn eq(&self, other: &$name) -> bool {
                *self == **other
            }
        }
    };
}

twin_enum! {
    /// The officer's control over a whole agreement.
    #[serde(rename_all = "snake_case")]
    #[oai(rename_all = "snake_case")]
    Control = lifecycle::Control { Open, Suspended, Terminated }
}

twin_enum! {
    /// A version's status, as the agreement format defines it.
    #[serde(rename_all = "snake_case")]
    #[oai(rename_all = "snake_case")]
    Status = lifecycle::Status { Draft, Active, Expired, Superseded, Suspended, Terminated }
}

twin_enum! {
    /// An access request's state.
    #[serde(rename_all = "snake_case")]
    #[oai(rename = "AccessRequestStatus", rename_all = "snake_case")]
    AccessRequestStatus = states::Status {
        Draft, Submitted, InReview, InfoRequested, Approved, Rejected, Withdrawn,
    }
}

twin_enum! {
    /// A handover item's state.
    #[serde(rename_all = "snake_case")]
    #[oai(rename = "HandoverItemState", rename_all = "snake_case")]
    HandoverItemState = items::State { Open, Submitted, Returned, Accepted }
}

twin_enum! {
    /// A handover item's kind, as the agreement format's `handover[].kind` spells it.
    #[serde(rename_all = "snake_case")]
    #[oai(rename = "HandoverItemKind", rename_all = "snake_case")]
    HandoverItemKind = items::Kind {
        Document, Training, AccessRevocation, DataReturn, DeletionCertificate, Code, Licence,
        Other,
    }
}

twin_enum! {
    /// The gate's answer: allow or deny.
    #[serde(rename_all = "lowercase")]
    #[oai(rename_all = "lowercase")]
    Outcome = gate::Outcome { Allow, Deny }
}

twin_enum! {
    /// The reason codes of docs/api.md, deny reasons in the order they are listed.
    #[serde(rename_all = "kebab-case")]
    #[oai(rename_all = "kebab-case")]
    ReasonCode = gate::ReasonCode {
        UnknownAgreement, AgreementNotActive, OutsideTerm, UnknownParty, PartySuspended,
        NoMatchingFlow, FieldNotPermitted, AssuranceExpired, ContractorEngagementEnded,
        Permitted,
    }
}

twin_enum! {
    /// What to do with fields the flow does not permit.
    #[serde(rename_all = "snake_case")]
    #[oai(rename_all = "snake_case")]
    OnExtraFields = records::OnExtraFields { Reject, Strip }
}

/// The gate's answer, without the `decision_id` the service adds.
///
/// Every distinct requested field appears exactly once, in request order, in either
/// `permitted_fields` or `denied_fields`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Object)]
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

impl From<gate::Decision> for Decision {
    fn from(d: gate::Decision) -> Decision {
        let gate::Decision {
            decision,
            agreement_version,
            flow,
            permitted_fields,
            denied_fields,
            reasons,
            retention,
        } = d;
        Decision {
            decision: decision.into(),
            agreement_version,
            flow,
            permitted_fields,
            denied_fields,
            reasons: reasons.into_iter().map(Reason::from).collect(),
            retention: retention.map(Retention::from),
        }
    }
}

/// One rule's verdict, worded for an IG officer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Object)]
pub struct Reason {
    pub code: ReasonCode,
    pub message: String,
}

impl From<gate::Reason> for Reason {
    fn from(r: gate::Reason) -> Reason {
        let gate::Reason { code, message } = r;
        Reason {
            code: code.into(),
            message,
        }
    }
}

/// The retention rule covering the flow for its recipient, in the agreement format's own words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Object)]
pub struct Retention {
    /// ISO 8601 duration, e.g. `P90D`.
    pub keep_for: String,
    /// `receipt` or `agreement_end`.
    pub from: String,
    /// `delete`, `anonymise` or `return`.
    pub then: String,
}

impl From<gate::Retention> for Retention {
    fn from(r: gate::Retention) -> Retention {
        let gate::Retention {
            keep_for,
            from,
            then,
        } = r;
        Retention {
            keep_for,
            from,
            then,
        }
    }
}

// Read by serde as `accord_core::gate::CheckRequest`; this is its description in the document.
/// May `from` send `fields` to `to` for `purpose` under `agreement` (by `flow`, if named)?
/// Unknown keys are refused: a misspelt `flow` must not silently widen the question.
#[derive(Object)]
#[oai(rename = "CheckRequest", deny_unknown_fields)]
pub struct CheckRequestSchema {
    /// The agreement's id.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub agreement: String,
    /// The sending party's id.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub from: String,
    /// The receiving party's id.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub to: String,
    /// The purpose's id.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub purpose: String,
    /// The field ids to be sent (the keys of the records), at most 10,000.
    #[oai(validator(max_items = 10000, max_length = 200))]
    pub fields: Vec<String>,
    /// The flow's id. Without it, any flow of the agreement with this `from`, `to` and
    /// `purpose` matches.
    #[oai(nullable, validator(min_length = 1, max_length = 200))]
    pub flow: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_twin_reads_and_compares_as_the_core_type() {
        for core in lifecycle::Status::ALL {
            let twin = Status::from(core);
            assert_eq!(twin, core);
            assert_eq!(*twin, core);
            assert_eq!(lifecycle::Status::from(twin), core);
        }
    }

    #[test]
    fn twins_are_spelt_as_the_core_types_on_the_wire() {
        for core in gate::ReasonCode::ALL {
            assert_eq!(
                serde_json::to_value(ReasonCode::from(core)).unwrap(),
                serde_json::to_value(core).unwrap()
            );
        }
        for core in items::Kind::ALL {
            assert_eq!(
                serde_json::to_value(HandoverItemKind::from(core)).unwrap(),
                serde_json::to_value(core).unwrap()
            );
        }
        for core in states::Status::ALL {
            assert_eq!(
                serde_json::to_value(AccessRequestStatus::from(core)).unwrap(),
                serde_json::to_value(core).unwrap()
            );
        }
    }
}
