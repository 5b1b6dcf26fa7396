//! The typed agreement: one struct per mapping of docs/agreement-format.md, each with the `Decode`
//! that reads it (the keys it accepts are listed once, here). `Serialize` and `JsonSchema` follow
//! the same field names, so `accord schema` cannot drift from what `accord check` accepts; the
//! schema tests hold the two together.

use std::borrow::Cow;
use std::collections::HashSet;
use std::num::NonZeroU32;

use jiff::civil::Date;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Serialize, Serializer};

use super::decode::{Decode, Decoder, OneOrMany, clip};
use super::diagnostic::Code;
use super::values::{Email, FieldId, IsoDuration, Ref, Slug, date_schema};
use super::vocab::*;
use super::yaml::{Node, Resolved};

/// A data-sharing agreement (format version 1).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Accord data-sharing agreement")]
pub struct Agreement {
    /// Format version; must be 1.
    pub accord: FormatVersion,
    /// Unique across all agreements.
    pub id: Slug,
    pub title: String,
    /// Raised on every material change.
    pub version: NonZeroU32,
    /// The accountable IG officer.
    pub owner: Contact,
    /// Purpose, aims and benefits in plain English.
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub benefits: Option<String>,
    /// At least two; at least one controller or joint controller.
    pub parties: Vec<Party>,
    pub purposes: Vec<Purpose>,
    pub lawful_basis: LawfulBasis,
    /// Free words; `children` and `vulnerable_adults` are recognised by DPIA screening.
    pub data_subjects: Vec<String>,
    /// The data items, each shared only where a flow names it.
    pub fields: Vec<Field>,
    pub flows: Vec<Flow>,
    /// Every flow must be covered for its recipient.
    pub retention: Vec<RetentionRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rights: Option<Rights>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breach: Option<Breach>,
    pub term: Term,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpia: Option<Dpia>,
    /// Sign-off already given outside the engine.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<Signature>,
    /// Processors whose knowledge must stay when they leave.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contractors: Vec<Contractor>,
    /// Reference to the Article 26 arrangement; required with joint controllers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub joint_controller_arrangement: Option<String>,
    /// Whether the agreement, while in force, appears on the public transparency register.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transparency: Option<Transparency>,
}

impl Decode for Agreement {
    const EXPECTED: &'static str = "an agreement";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let mut m = d.mapping(node, "the agreement")?;
        let accord = m.required(d, "accord");
        let id = m.required(d, "id");
        let title = m.required(d, "title");
        let version = m.required(d, "version");
        let owner = m.required(d, "owner");
        let summary = m.required(d, "summary");
        let benefits = m.optional(d, "benefits");
        let parties = m.required(d, "parties");
        let purposes = m.required(d, "purposes");
        let lawful_basis = m.required(d, "lawful_basis");
        let data_subjects = m.required(d, "data_subjects");
        let fields = m.required(d, "fields");
        let flows = m.required(d, "flows");
        let retention = m.required(d, "retention");
        let security = m.list(d, "security");
        let rights = m.optional(d, "rights");
        let breach = m.optional(d, "breach");
        let term = m.required(d, "term");
        let dpia = m.optional(d, "dpia");
        let signatures = m.list(d, "signatures");
        let contractors = m.list(d, "contractors");
        let joint_controller_arrangement = m.optional(d, "joint_controller_arrangement");
        let transparency = m.optional(d, "transparency");
        m.finish(d);
        Some(Agreement {
            accord: accord?,
            id: id?,
            title: title?,
            version: version?,
            owner: owner?,
            summary: summary?,
            benefits,
            parties: parties?,
            purposes: purposes?,
            lawful_basis: lawful_basis?,
            data_subjects: data_subjects?,
            fields: fields?,
            flows: flows?,
            retention: retention?,
            security,
            rights,
            breach,
            term: term?,
            dpia,
            signatures,
            contractors,
            joint_controller_arrangement,
            transparency,
        })
    }
}

/// The format version marker, `accord: 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatVersion;

impl Serialize for FormatVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(1)
    }
}

impl JsonSchema for FormatVersion {
    fn schema_name() -> Cow<'static, str> {
        "FormatVersion".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "const": 1 })
    }
}

impl Decode for FormatVersion {
    const EXPECTED: &'static str = "the format version 1";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let scalar = node.as_scalar();
        if scalar.map(|s| s.resolve()) == Some(Resolved::Int(1)) {
            return Some(FormatVersion);
        }
        let shown = scalar.map_or("a list or mapping".to_owned(), |s| clip(&s.text));
        let msg = format!(
            "'accord' is {shown}, but this engine reads agreement format version 1 \
             (write 'accord: 1')"
        );
        d.report(Code::FormatVersion, node.pos, msg);
        None
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: String,
    pub email: Email,
}

impl Decode for Contact {
    const EXPECTED: &'static str = "a contact (name and email)";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let mut m = d.mapping(node, "contact")?;
        let name = m.required(d, "name");
        let email = m.required(d, "email");
        m.finish(d);
        Some(Contact {
            name: name?,
            email: email?,
        })
    }
}

/// The person who signs for a party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Signatory {
    pub name: String,
    pub email: Email,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

impl Decode for Signatory {
    const EXPECTED: &'static str = "a signatory (name, email, title)";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let mut m = d.mapping(node, "signatory")?;
        let name = m.required(d, "name");
        let email = m.required(d, "email");
        let title = m.optional(d, "title");
        m.finish(d);
        Some(Signatory {
            name: name?,
            email: email?,
            title,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Party {
    pub id: Slug,
    pub name: String,
    pub role: PartyRole,
    pub sector: Sector,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ico_registration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpo: Option<Contact>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signatory: Option<Signatory>,
    /// The gate refuses flows to a party whose assurance has expired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assurance: Option<Assurance>,
    /// How the engine asks this party to delete what it holds (default: manual).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion: Option<Deletion>,
    /// The Article 28 contract; required for processors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract: Option<String>,
}

impl Decode for Party {
    const EXPECTED: &'static str = "a party";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let mut m = d.mapping(node, "party")?;
        let id = m.required(d, "id");
        let name = m.required(d, "name");
        let role = m.required(d, "role");
        let sector = m.required(d, "sector");
        let ico_registration = m.optional(d, "ico_registration");
        let dpo = m.optional(d, "dpo");
        let signatory = m.optional(d, "signatory");
        let assurance = m.optional(d, "assurance");
        let deletion = m.optional(d, "deletion");
        let contract = m.optional(d, "contract");
        m.finish(d);
        Some(Party {
            id: id?,
            name: name?,
            role: role?,
            sector: sector?,
            ico_registration,
            dpo,
            signatory,
            assurance,
            deletion,
            contract,
        })
    }
}

impl Party {
    pub fn deletion_method(&self) -> DeletionMethod {
        self.deletion
            .as_ref()
            .map_or(DeletionMethod::Manual, |d| d.method)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Assurance {
    /// NHS Data Security and Protection Toolkit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dspt: Option<Dspt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cyber_essentials: Option<CyberEssentials>,
}

impl Decode for Assurance {
    const EXPECTED: &'static str = "assurance (dspt, cyber_essentials)";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let mut m = d.mapping(node, "assurance")?;
        let dspt = m.optional(d, "dspt");
        let cyber_essentials = m.optional(d, "cyber_essentials");
        m.finish(d);
        Some(Assurance {
            dspt,
            cyber_essentials,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dspt {
    pub status: DsptStatus,
    #[schemars(schema_with = "date_schema")]
    pub expires: Date,
}

impl Decode for Dspt {
    const EXPECTED: &'static str = "a DSPT status and expiry";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let mut m = d.mapping(node, "dspt")?;
        let status = m.required(d, "status");
        let expires = m.required(d, "expires");
        m.finish(d);
        Some(Dspt {
            status: status?,
            expires: expires?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CyberEssentials {
    #[schemars(schema_with = "date_schema")]
    pub expires: Date,
}

impl Decode for CyberEssentials {
    const EXPECTED: &'static str = "a Cyber Essentials expiry";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let mut m = d.mapping(node, "cyber_essentials")?;
        let expires = m.required(d, "expires");
        m.finish(d);
        Some(CyberEssentials { expires: expires? })
    }
}

/// How a holder is asked to delete. `email` needs `email:`, `webhook` needs `url:`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Deletion {
    pub method: DeletionMethod,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    /// An http(s) URL that receives signed deletion requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl Decode for Deletion {
    const EXPECTED: &'static str = "a deletion method";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let mut m = d.mapping(node, "deletion")?;
        let method: Option<DeletionMethod> = m.required(d, "method");
        let email = m.optional(d, "email");
        let url: Option<String> = m.optional(d, "url");
        m.finish(d);
        let method = method?;
        let method_pos = node.get("method").map_or(node.pos, |e| e.value.pos);
        let needed = match method {
            DeletionMethod::Email if email.is_none() => Some("email"),
            DeletionMethod::Webhook if url.is_none() => Some("url"),
            _ => None,
        };
        if let Some(key) = needed {
            let msg =
                format!("deletion method '{method}' needs '{key}:' saying where to send requests");
            d.report(Code::Schema, method_pos, msg);
        }
        if let Some(u) = &url
            && !is_http_url(u)
        {
            let pos = node.get("url").map_or(node.pos, |e| e.value.pos);
            let msg = format!("deletion url '{}' is not an http(s) URL", clip(u));
            d.report(Code::Schema, pos, msg);
        }
        Some(Deletion { method, email, url })
    }
}

fn is_http_url(text: &str) -> bool {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !r.chars().any(char::is_whitespace)
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Purpose {
    pub id: Slug,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// W3C Data Privacy Vocabulary purpose concept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpv: Option<String>,
}

impl Decode for Purpose {
    const EXPECTED: &'static str = "a purpose";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let mut m = d.mapping(node, "purpose")?;
        let id = m.required(d, "id");
        let description = m.optional(d, "description");
        let dpv = m.optional(d, "dpv");
        m.finish(d);
        Some(Purpose {
            id: id?,
            description,
            dpv,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LawfulBasis {
    pub article6: Article6,
    /// The statute relied on; required for public_task and legal_obligation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legal_power: Option<String>,
    /// Required when any shared field is special category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub article9: Option<Article9>,
    /// DPA 2018 Schedule 1 condition(s): one code or a list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "OneOrManySchedule1")]
    pub schedule1: Vec<Schedule1>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appropriate_policy_document: Option<String>,
    /// Required when any shared field is criminal offence data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub article10: Option<Article10>,
}

/// Schema stand-in for `schedule1`: a single code or a list of codes.
#[derive(JsonSchema)]
#[schemars(untagged)]
#[allow(dead_code)]
enum OneOrManySchedule1 {
    One(Schedule1),
    Many(Vec<Schedule1>),
}

impl Decode for LawfulBasis {
    const EXPECTED: &'static str = "a lawful basis";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let mut m = d.mapping(node, "lawful_basis")?;
        let article6 = m.required(d, "article6");
        let legal_power = m.optional(d, "legal_power");
        let article9 = m.optional(d, "article9");
        let schedule1: Option<OneOrMany<Schedule1>> = m.optional(d, "schedule1");
        let appropriate_policy_document = m.optional(d, "appropriate_policy_document");
        let article10 = m.optional(d, "article10");
        m.finish(d);
        Some(LawfulBasis {
            article6: article6?,
            legal_power,
            article9,
            schedule1: schedule1.map(|s| s.0).unwrap_or_default(),
            appropriate_policy_document,
            article10,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub id: FieldId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub category: FieldCategory,
}

impl Decode for Field {
    const EXPECTED: &'static str = "a field";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let mut m = d.mapping(node, "field")?;
        let id = m.required(d, "id");
        let description = m.optional(d, "description");
        let category = m.required(d, "category");
        m.finish(d);
        Some(Field {
            id: id?,
            description,
            category: category?,
        })
    }
}

/// Who sends which fields to whom, for which purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    pub id: Slug,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub from: Ref,
    pub to: Ref,
    pub purpose: Ref,
    pub fields: Vec<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency: Option<Frequency>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<TransferMethod>,
}

impl Decode for Flow {
    const EXPECTED: &'static str = "a flow";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let mut m = d.mapping(node, "flow")?;
        let id = m.required(d, "id");
        let description = m.optional(d, "description");
        let from = m.required(d, "from");
        let to = m.required(d, "to");
        let purpose = m.required(d, "purpose");
        let fields = m.required(d, "fields");
        let frequency = m.optional(d, "frequency");
        let method = m.optional(d, "method");
        m.finish(d);
        Some(Flow {
            id: id?,
            description,
            from: from?,
            to: to?,
            purpose: purpose?,
            fields: fields?,
            frequency,
            method,
        })
    }
}

/// How long a holder keeps what it received. Names `flows`, `holder`, or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionRule {
    /// Omitted: every flow into `holder`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flows: Vec<Ref>,
    /// Omitted: the recipient of each listed flow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<Ref>,
    pub keep_for: IsoDuration,
    pub from: RetentionStart,
    pub then: RetentionAction,
}

impl Decode for RetentionRule {
    const EXPECTED: &'static str = "a retention rule";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let mut m = d.mapping(node, "retention rule")?;
        let flows = m.list(d, "flows");
        let holder = m.optional(d, "holder");
        let keep_for = m.required(d, "keep_for");
        let from = m.required(d, "from");
        let then = m.required(d, "then");
        let names_something = m.has("flows") || m.has("holder");
        m.finish(d);
        if !names_something {
            let msg = "a retention rule must name 'flows', 'holder', or both";
            d.report(Code::Schema, node.pos, msg.to_owned());
        }
        Some(RetentionRule {
            flows,
            holder,
            keep_for: keep_for?,
            from: from?,
            then: then?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rights {
    pub contact: Contact,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

impl Decode for Rights {
    const EXPECTED: &'static str = "individual rights arrangements";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let mut m = d.mapping(node, "rights")?;
        let contact = m.required(d, "contact");
        let notes = m.optional(d, "notes");
        m.finish(d);
        Some(Rights {
            contact: contact?,
            notes,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Breach {
    pub notify_within: IsoDuration,
}

impl Decode for Breach {
    const EXPECTED: &'static str = "breach arrangements";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let mut m = d.mapping(node, "breach")?;
        let notify_within = m.required(d, "notify_within");
        m.finish(d);
        Some(Breach {
            notify_within: notify_within?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Term {
    #[schemars(schema_with = "date_schema")]
    pub start: Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "date_schema")]
    pub end: Option<Date>,
    pub review_every: IsoDuration,
    /// Default: `start`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "date_schema")]
    pub last_reviewed: Option<Date>,
    pub termination: String,
}

impl Decode for Term {
    const EXPECTED: &'static str = "the term";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let mut m = d.mapping(node, "term")?;
        let start = m.required(d, "start");
        let end = m.optional(d, "end");
        let review_every = m.required(d, "review_every");
        let last_reviewed = m.optional(d, "last_reviewed");
        let termination = m.required(d, "termination");
        m.finish(d);
        Some(Term {
            start: start?,
            end,
            review_every: review_every?,
            last_reviewed,
            termination: termination?,
        })
    }
}

impl Term {
    /// The date the next review falls due.
    pub fn next_review(&self) -> Option<Date> {
        self.review_every
            .after(self.last_reviewed.unwrap_or(self.start))
    }
}

/// Inputs to DPIA generation beyond what the rest of the agreement says.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dpia {
    #[serde(default, skip_serializing_if = "is_false")]
    pub large_scale: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub innovative_technology: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub automated_decisions: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub matching: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub monitoring: bool,
    /// Evaluation or scoring of people, including profiling (EDPB criterion 1).
    #[serde(default, skip_serializing_if = "is_false")]
    pub scoring: bool,
    /// The processing can prevent people exercising a right or using a service or contract
    /// (EDPB criterion 9).
    #[serde(default, skip_serializing_if = "is_false")]
    pub service_access: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_subject_views: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpo_advice: Option<DpoAdvice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub risks: Vec<Risk>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Decode for Dpia {
    const EXPECTED: &'static str = "DPIA inputs";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let mut m = d.mapping(node, "dpia")?;
        let dpia = Dpia {
            large_scale: m.flag(d, "large_scale"),
            innovative_technology: m.flag(d, "innovative_technology"),
            automated_decisions: m.flag(d, "automated_decisions"),
            matching: m.flag(d, "matching"),
            monitoring: m.flag(d, "monitoring"),
            scoring: m.flag(d, "scoring"),
            service_access: m.flag(d, "service_access"),
            data_subject_views: m.optional(d, "data_subject_views"),
            dpo_advice: m.optional(d, "dpo_advice"),
            risks: m.list(d, "risks"),
        };
        m.finish(d);
        Some(dpia)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DpoAdvice {
    pub summary: String,
    /// Whether the controller accepted the DPO's advice.
    pub accepted: bool,
}

impl Decode for DpoAdvice {
    const EXPECTED: &'static str = "the DPO's advice";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let mut m = d.mapping(node, "dpo_advice")?;
        let summary = m.required(d, "summary");
        let accepted = m.required(d, "accepted");
        m.finish(d);
        Some(DpoAdvice {
            summary: summary?,
            accepted: accepted?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Risk {
    pub id: Slug,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub likelihood: Likelihood,
    pub severity: Severity,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub measures: Vec<Measure>,
}

impl Decode for Risk {
    const EXPECTED: &'static str = "a risk";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let mut m = d.mapping(node, "risk")?;
        let id = m.required(d, "id");
        let description = m.optional(d, "description");
        let likelihood = m.required(d, "likelihood");
        let severity = m.required(d, "severity");
        let measures = m.list(d, "measures");
        m.finish(d);
        Some(Risk {
            id: id?,
            description,
            likelihood: likelihood?,
            severity: severity?,
            measures,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub effect: MeasureEffect,
    pub residual: RiskLevel,
    pub approved: bool,
}

impl Decode for Measure {
    const EXPECTED: &'static str = "a measure";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let mut m = d.mapping(node, "measure")?;
        let description = m.optional(d, "description");
        let effect = m.required(d, "effect");
        let residual = m.required(d, "residual");
        let approved = m.required(d, "approved");
        m.finish(d);
        Some(Measure {
            description,
            effect: effect?,
            residual: residual?,
            approved: approved?,
        })
    }
}

/// A sign-off given outside the engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    pub party: Ref,
    pub name: String,
    pub role: SignatureRole,
    #[schemars(schema_with = "date_schema")]
    pub date: Date,
}

impl Decode for Signature {
    const EXPECTED: &'static str = "a signature";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let mut m = d.mapping(node, "signature")?;
        let party = m.required(d, "party");
        let name = m.required(d, "name");
        let role = m.required(d, "role");
        let date = m.required(d, "date");
        m.finish(d);
        Some(Signature {
            party: party?,
            name: name?,
            role: role?,
            date: date?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contractor {
    /// A party with role `processor`.
    pub party: Ref,
    #[schemars(schema_with = "date_schema")]
    pub engagement_end: Date,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handover: Vec<HandoverItem>,
}

impl Decode for Contractor {
    const EXPECTED: &'static str = "a contractor";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let mut m = d.mapping(node, "contractor")?;
        let party = m.required(d, "party");
        let engagement_end = m.required(d, "engagement_end");
        let handover = m.list(d, "handover");
        m.finish(d);
        Some(Contractor {
            party: party?,
            engagement_end: engagement_end?,
            handover,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoverItem {
    pub id: Slug,
    pub kind: HandoverKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// On or before the contractor's `engagement_end`.
    #[schemars(schema_with = "date_schema")]
    pub due: Date,
}

impl Decode for HandoverItem {
    const EXPECTED: &'static str = "a handover item";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let mut m = d.mapping(node, "handover item")?;
        let id = m.required(d, "id");
        let kind = m.required(d, "kind");
        let description = m.optional(d, "description");
        let due = m.required(d, "due");
        m.finish(d);
        Some(HandoverItem {
            id: id?,
            kind: kind?,
            description,
            due: due?,
        })
    }
}

/// The public transparency register's view of an agreement: nothing is published unless the
/// file says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Transparency {
    /// Show the agreement on the public register while it is in force (default false).
    #[serde(default, skip_serializing_if = "is_false")]
    pub publish: bool,
    /// Why the data is shared, in plain English for residents. Names organisations, never a
    /// person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

impl Decode for Transparency {
    const EXPECTED: &'static str = "transparency (publish, summary)";

    fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
        let mut m = d.mapping(node, "transparency")?;
        let t = Transparency {
            publish: m.flag(d, "publish"),
            summary: m.optional(d, "summary"),
        };
        m.finish(d);
        Some(t)
    }
}

impl Agreement {
    /// Whether the file allows the public register to show it.
    pub fn published(&self) -> bool {
        self.transparency.as_ref().is_some_and(|t| t.publish)
    }

    pub fn party(&self, id: &str) -> Option<&Party> {
        self.parties.iter().find(|p| p.id.as_str() == id)
    }

    pub fn field(&self, id: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.id.as_str() == id)
    }

    pub fn flow(&self, id: &str) -> Option<&Flow> {
        self.flows.iter().find(|f| f.id.as_str() == id)
    }

    /// The flows that carry field `field_id`, in declaration order. A declared field that no
    /// flow carries is not shared.
    pub fn flows_carrying(&self, field_id: &str) -> impl Iterator<Item = &Flow> {
        self.flows
            .iter()
            .filter(move |f| f.fields.iter().any(|r| r.as_str() == field_id))
    }

    /// The ids of the fields some flow carries, for asking about every field at once (asking
    /// [`Agreement::flows_carrying`] of each would cost fields × references).
    pub fn carried_fields(&self) -> HashSet<&str> {
        self.flows
            .iter()
            .flat_map(|f| f.fields.iter().map(Ref::as_str))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::agreement::check_source;

    #[test]
    fn flows_carrying_names_every_flow_with_the_field_in_order() {
        let source = include_str!("../../../tests/fixtures/check/valid/kitchen-sink.yaml");
        let checked = check_source(source.as_bytes(), jiff::civil::date(2026, 11, 21));
        let a = checked.agreement.expect("kitchen-sink.yaml is valid");
        let carriers = |field| {
            a.flows_carrying(field)
                .map(|f| f.id.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            carriers("full-name"),
            [
                "discharge-notice",
                "care-summary",
                "home-visit-referral",
                "visit-outcome"
            ]
        );
        assert_eq!(carriers("risk-to-visitors"), ["risk-markers"]);
        // Whole ids only: a prefix of a carried field is not carried.
        assert!(carriers("full").is_empty());
    }
}
