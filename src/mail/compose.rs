//! Composing messages: a subject and a plain-text body from the handlebars templates in
//! `templates/email/`, filled from a small serializable context per kind. Pure: no I/O once the
//! templates are loaded, and no clock (a reminder carries its own "days left").
//!
//! Each template's first line is `Subject: …`; the body follows a blank line, so editing a
//! template can change the subject too. Templates are looked up as
//! `<templates>/email/<kind>.txt.hbs`; when a file is not there the copy compiled into the
//! binary is used (as the DPIA templates are). Strict mode is on, for `{{#if}}` too: a misspelt
//! variable is an error, not a blank in a message to a DPO. Nothing is HTML-escaped: the body is
//! plain text, and the subject is made one line whatever the agreement's text holds.

use std::io;
use std::iter;
use std::path::Path;

use handlebars::Handlebars;
use jiff::civil::Date;
use serde::Serialize;

use super::outbox::NewMessage;
use super::reminders::{About, Reminder};
use super::{Composed, Kind, MailError, Result};
use crate::agreement::model::Agreement;
use crate::agreement::values::Email;
use crate::dpia::labels;
use crate::text::one_line;

const BUILTIN: [(Kind, &str); 16] = [
    (
        Kind::ReviewDue,
        include_str!("../../templates/email/review-due.txt.hbs"),
    ),
    (
        Kind::TermEnding,
        include_str!("../../templates/email/term-ending.txt.hbs"),
    ),
    (
        Kind::AssuranceExpiring,
        include_str!("../../templates/email/assurance-expiring.txt.hbs"),
    ),
    (
        Kind::Escalation,
        include_str!("../../templates/email/escalation.txt.hbs"),
    ),
    (
        Kind::DeletionRequest,
        include_str!("../../templates/email/deletion-request.txt.hbs"),
    ),
    (
        Kind::AccessConfirm,
        include_str!("../../templates/email/access-confirm.txt.hbs"),
    ),
    (
        Kind::AccessLink,
        include_str!("../../templates/email/access-link.txt.hbs"),
    ),
    (
        Kind::AccessReceived,
        include_str!("../../templates/email/access-received.txt.hbs"),
    ),
    (
        Kind::AccessNew,
        include_str!("../../templates/email/access-new.txt.hbs"),
    ),
    (
        Kind::AccessQuestion,
        include_str!("../../templates/email/access-question.txt.hbs"),
    ),
    (
        Kind::AccessUpdate,
        include_str!("../../templates/email/access-update.txt.hbs"),
    ),
    (
        Kind::AccessDecision,
        include_str!("../../templates/email/access-decision.txt.hbs"),
    ),
    (
        Kind::HandoverUpdate,
        include_str!("../../templates/email/handover-update.txt.hbs"),
    ),
    (
        Kind::HandoverDue,
        include_str!("../../templates/email/handover-due.txt.hbs"),
    ),
    (
        Kind::HandoverOverdue,
        include_str!("../../templates/email/handover-overdue.txt.hbs"),
    ),
    (
        Kind::HandoverAccessEnded,
        include_str!("../../templates/email/handover-access-ended.txt.hbs"),
    ),
];

/// The compiled email templates, one per [`Kind`].
pub struct Templates {
    registry: Handlebars<'static>,
    /// A line every message ends with (where the privacy notice is), if set.
    footer: Option<String>,
    /// Where each template came from (its path, or "built-in …"), by kind.
    names: Vec<(Kind, String)>,
}

impl Templates {
    /// The templates from `<templates>/email/` where there are files, else the built-in copies.
    pub fn load(templates: &Path) -> Result<Templates> {
        let mut sources = Vec::new();
        for (kind, builtin) in BUILTIN {
            let path = templates.join("email").join(file_name(kind));
            match std::fs::read_to_string(&path) {
                Ok(text) => sources.push((kind, path.display().to_string(), text)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    sources.push((kind, builtin_name(kind), builtin.to_owned()))
                }
                Err(source) => {
                    return Err(MailError::TemplateRead {
                        path: path.display().to_string(),
                        source,
                    });
                }
            }
        }
        Templates::compile(sources)
    }

    /// These templates, with `footer` as the last line of every message.
    pub fn with_footer(mut self, footer: &str) -> Templates {
        self.footer = Some(crate::text::one_line(footer));
        self
    }

    /// The templates compiled into the binary.
    pub fn builtin() -> Result<Templates> {
        let sources = BUILTIN
            .iter()
            .map(|&(kind, text)| (kind, builtin_name(kind), text.to_owned()))
            .collect();
        Templates::compile(sources)
    }

    fn compile(sources: Vec<(Kind, String, String)>) -> Result<Templates> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_escape_fn(handlebars::no_escape);
        crate::templates::strict_conditionals(&mut registry);
        let mut names = Vec::new();
        for (kind, name, text) in sources {
            registry
                .register_template_string(kind.as_str(), text)
                .map_err(|e| MailError::Template {
                    name: name.clone(),
                    message: e.to_string(),
                })?;
            names.push((kind, name));
        }
        Ok(Templates {
            registry,
            footer: None,
            names,
        })
    }

    fn name(&self, kind: Kind) -> String {
        self.names
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or_else(|| kind.as_str().to_owned(), |(_, n)| n.clone())
    }

    fn render(&self, kind: Kind, context: &impl Serialize) -> Result<Composed> {
        let failed = |message: String| MailError::Render {
            name: self.name(kind),
            message,
        };
        let text = self
            .registry
            .render(kind.as_str(), context)
            .map_err(|e| failed(e.to_string()))?;
        let (first, body) = text.split_once('\n').unwrap_or((&text, ""));
        let subject = first
            .strip_prefix("Subject:")
            .map(one_line)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| failed("the first line must be 'Subject: …'".into()))?;
        let mut body = body.trim_start_matches(['\r', '\n']).trim_end().to_owned();
        if let Some(footer) = &self.footer {
            body.push('\n');
            body.push_str(footer);
        }
        body.push('\n');
        Ok(Composed { subject, body })
    }

    /// A reminder's subject and body (the agreement is the version the reminder is for).
    pub fn reminder(&self, agreement: &Agreement, reminder: &Reminder) -> Result<Composed> {
        let common = Common::of(agreement, reminder.version);
        match &reminder.about {
            &About::ReviewDue { due, days_left } => {
                let term = &agreement.term;
                let context = ReviewDueContext {
                    common,
                    due: labels::date(due),
                    when: when(days_left),
                    overdue: days_left < 0,
                    review_every: labels::duration(&term.review_every),
                    last_reviewed: labels::date(term.last_reviewed.unwrap_or(term.start)),
                };
                self.render(Kind::ReviewDue, &context)
            }
            &About::TermEnding {
                end,
                days_left,
                threshold,
            } => {
                let context = TermEndingContext {
                    common,
                    end: labels::date(end),
                    when: when(days_left),
                    threshold,
                    termination: one_line(&agreement.term.termination),
                };
                self.render(Kind::TermEnding, &context)
            }
            About::AssuranceExpiring {
                party,
                scheme,
                expires,
                days_left,
            } => {
                let party_name = agreement
                    .parties
                    .iter()
                    .find(|p| p.id.as_str() == party)
                    .map_or_else(|| party.clone(), |p| one_line(&p.name));
                let context = AssuranceContext {
                    common,
                    party_id: party.clone(),
                    party_name,
                    scheme: scheme.label(),
                    expires: labels::date(*expires),
                    when: when(*days_left),
                    expired: *days_left < 0,
                };
                self.render(Kind::AssuranceExpiring, &context)
            }
        }
    }

    /// An escalation about `version` of `agreement` (what is escalated is the caller's: the
    /// retention engine's overdue deletion, for example).
    pub fn escalation(
        &self,
        agreement: &Agreement,
        version: i32,
        escalation: &Escalation,
    ) -> Result<Composed> {
        let context = EscalationContext {
            common: Common::of(agreement, version),
            summary: one_line(&escalation.summary),
            details: escalation.details.trim().to_owned(),
            action: escalation.action.trim().to_owned(),
        };
        self.render(Kind::Escalation, &context)
    }

    /// A request to a holder to delete (or anonymise, or return) what it holds under `version`
    /// of `agreement`, with the one-time link that confirms it was done.
    pub fn deletion_request(
        &self,
        agreement: &Agreement,
        version: i32,
        request: &DeletionRequest,
    ) -> Result<Composed> {
        let holder_name = agreement
            .parties
            .iter()
            .find(|p| p.id.as_str() == request.holder)
            .map_or_else(|| request.holder.clone(), |p| one_line(&p.name));
        let context = DeletionContext {
            common: Common::of(agreement, version),
            holder_id: request.holder.clone(),
            holder_name,
            reference: request.reference.clone(),
            flow_id: request.flow_id.clone(),
            purpose: request.purpose.clone(),
            fields: labels::and_list(&request.fields),
            record_count: request.record_count,
            received_on: labels::date(request.received_on),
            delete_by: labels::date(request.delete_by),
            action: request.then_action.clone(),
            returning: request.then_action == "return",
            confirm_url: request.confirm_url.clone(),
        };
        self.render(Kind::DeletionRequest, &context)
    }
}

/// What a message about an access request says; the access use cases fill it. Every kind's
/// template reads from the same fields (those it does not need are empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccessMail {
    /// "AR-…"
    pub reference: String,
    /// The requesting organisation (one line).
    pub organisation: String,
    /// The agreement or organisation the request is addressed to (one line).
    pub addressed: String,
    /// Who is asked: "Accord" or the operator's service name.
    pub service: String,
    /// One line: "approved", "withdrawn by the requester"…
    pub what: String,
    /// The message, question or reasons, as written.
    pub message: String,
    pub conditions: String,
    pub decided_by: String,
    /// The link the message is about, or empty.
    pub link: String,
    /// Where the requester signs the drafted agreement, or empty.
    pub agreement_link: String,
}

impl Templates {
    /// A message about an access request.
    pub fn access(&self, kind: Kind, mail: &AccessMail) -> Result<Composed> {
        let mut context = mail.clone();
        for one in [
            &mut context.reference,
            &mut context.organisation,
            &mut context.addressed,
            &mut context.what,
            &mut context.decided_by,
        ] {
            *one = one_line(one);
        }
        self.render(kind, &context)
    }
}

/// What a message about a contractor's handover says; the handover use cases fill it. Every
/// kind's template reads from the same fields (those it does not need are empty or 0).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HandoverMail {
    pub agreement_id: String,
    /// The contractor's party id.
    pub party: String,
    /// The item's title (one line).
    pub item: String,
    /// The item's kind, in words.
    pub kind: String,
    /// `YYYY-MM-DD`.
    pub due: String,
    /// Who takes it over: "Name <email>".
    pub owner: String,
    /// What happened to the item, as "was …" ends: "submitted", "accepted", "returned"…
    pub what: String,
    /// The officer's comments, as written.
    pub comments: String,
    /// The item's page.
    pub link: String,
    /// Days left (a reminder) or days overdue (an escalation).
    pub days: i64,
}

impl Templates {
    /// A message about a handover item or engagement.
    pub fn handover(&self, kind: Kind, mail: &HandoverMail) -> Result<Composed> {
        let mut context = mail.clone();
        for one in [&mut context.item, &mut context.what, &mut context.owner] {
            *one = one_line(one);
        }
        self.render(kind, &context)
    }
}

/// What an escalation says; the retention engine fills it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Escalation {
    /// One line, used in the subject: "Deletion overdue at Camden Community Foodbank".
    pub summary: String,
    /// What happened, in sentences.
    pub details: String,
    /// What the reader should do.
    pub action: String,
}

/// A deletion request for one holding; the retention engine fills it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeletionRequest {
    /// The holder's party id.
    pub holder: String,
    /// The holding's id, quoted back in the confirmation.
    pub reference: String,
    pub flow_id: String,
    pub purpose: String,
    /// The field ids held.
    pub fields: Vec<String>,
    pub record_count: i64,
    pub received_on: Date,
    pub delete_by: Date,
    /// The retention rule's `then`: `delete`, `anonymise` or `return`.
    pub then_action: String,
    /// The one-time link that confirms it was done.
    pub confirm_url: String,
}

/// Who hears about an agreement: its owner and each party's DPO, once each (addresses compared
/// without regard to case), owner first, then in the order of the parties.
pub fn recipients(agreement: &Agreement) -> Vec<Email> {
    let dpos = agreement
        .parties
        .iter()
        .filter_map(|p| p.dpo.as_ref().map(|d| &d.email));
    let mut out: Vec<Email> = Vec::new();
    for email in iter::once(&agreement.owner.email).chain(dpos) {
        if !out
            .iter()
            .any(|o| o.as_str().eq_ignore_ascii_case(email.as_str()))
        {
            out.push(email.clone());
        }
    }
    out
}

/// A reminder as outbox messages: one per [recipient](recipients), each keyed
/// `REMINDER-KEY:recipient` so each person gets it once.
pub fn messages(
    templates: &Templates,
    agreement: &Agreement,
    reminder: &Reminder,
) -> Result<Vec<NewMessage>> {
    let composed = templates.reminder(agreement, reminder)?;
    Ok(to_recipients(
        agreement,
        reminder.kind(),
        &composed,
        Some(&reminder.dedupe_key),
    ))
}

/// The same message for each [recipient](recipients) of `agreement`; with a key, each copy's
/// dedupe key is `KEY:recipient` (lower case).
pub fn to_recipients(
    agreement: &Agreement,
    kind: Kind,
    composed: &Composed,
    dedupe_key: Option<&str>,
) -> Vec<NewMessage> {
    recipients(agreement)
        .into_iter()
        .map(|to| {
            let key = dedupe_key.map(|k| format!("{k}:{}", to.as_str().to_ascii_lowercase()));
            NewMessage::new(to.as_str(), kind, composed.clone()).dedupe_key(key)
        })
        .collect()
}

fn file_name(kind: Kind) -> String {
    format!("{}.txt.hbs", kind.as_str())
}

fn builtin_name(kind: Kind) -> String {
    format!("built-in {}", file_name(kind))
}

/// "today", "tomorrow", "in 14 days", "yesterday", "19 days ago".
fn when(days_left: i64) -> String {
    match days_left {
        0 => "today".into(),
        1 => "tomorrow".into(),
        -1 => "yesterday".into(),
        n if n > 1 => format!("in {n} days"),
        n => format!("{} days ago", n.unsigned_abs()),
    }
}

/// What every template can use.
#[derive(Serialize)]
struct Common {
    agreement_id: String,
    title: String,
    version: i32,
    owner_name: String,
    owner_email: String,
}

impl Common {
    fn of(a: &Agreement, version: i32) -> Common {
        Common {
            agreement_id: a.id.as_str().to_owned(),
            title: one_line(&a.title),
            version,
            owner_name: one_line(&a.owner.name),
            owner_email: a.owner.email.as_str().to_owned(),
        }
    }
}

#[derive(Serialize)]
struct ReviewDueContext {
    #[serde(flatten)]
    common: Common,
    due: String,
    when: String,
    overdue: bool,
    review_every: String,
    last_reviewed: String,
}

#[derive(Serialize)]
struct TermEndingContext {
    #[serde(flatten)]
    common: Common,
    end: String,
    when: String,
    threshold: i64,
    termination: String,
}

#[derive(Serialize)]
struct AssuranceContext {
    #[serde(flatten)]
    common: Common,
    party_id: String,
    party_name: String,
    scheme: &'static str,
    expires: String,
    when: String,
    expired: bool,
}

#[derive(Serialize)]
struct EscalationContext {
    #[serde(flatten)]
    common: Common,
    summary: String,
    details: String,
    action: String,
}

#[derive(Serialize)]
struct DeletionContext {
    #[serde(flatten)]
    common: Common,
    holder_id: String,
    holder_name: String,
    reference: String,
    flow_id: String,
    purpose: String,
    fields: String,
    record_count: i64,
    received_on: String,
    delete_by: String,
    action: String,
    /// `then: return`: the records go back to the sender and no copy stays.
    returning: bool,
    confirm_url: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agreement::check_source;
    use crate::mail::reminders::{self, Scheme};
    use jiff::civil::date;

    fn camden() -> Agreement {
        let source = include_str!("../../agreements/camden-foodbank-referrals.yaml");
        check_source(source.as_bytes(), date(2026, 11, 21))
            .agreement
            .expect("the sample is valid")
            .into_inner()
    }

    fn templates() -> Templates {
        Templates::builtin().expect("the built-in templates compile")
    }

    fn reminder(about: About) -> Reminder {
        Reminder {
            agreement_id: "camden-foodbank-referrals".into(),
            version: 3,
            dedupe_key: "k".into(),
            about,
        }
    }

    #[test]
    fn recipients_are_the_owner_and_each_dpo_once() {
        let mut a = camden();
        let got: Vec<_> = recipients(&a)
            .iter()
            .map(|e| e.as_str().to_owned())
            .collect();
        assert_eq!(
            got,
            [
                "priya.shah@camden.example",
                "dpo@camden.example",
                "dataprotection@camdenfoodbank.example"
            ]
        );
        // The owner is also a DPO (in another case): still one message.
        a.parties[0].dpo.as_mut().unwrap().email =
            Email::parse("Priya.Shah@Camden.example").unwrap();
        a.parties[1].dpo = None;
        let got: Vec<_> = recipients(&a)
            .iter()
            .map(|e| e.as_str().to_owned())
            .collect();
        assert_eq!(got, ["priya.shah@camden.example"]);
    }

    #[test]
    fn review_due_reads_well() {
        let r = reminder(About::ReviewDue {
            due: date(2027, 4, 1),
            days_left: 14,
        });
        let c = templates().reminder(&camden(), &r).unwrap();
        assert_eq!(
            c.subject,
            "Review due on 1 April 2027: Emergency food support referrals"
        );
        assert!(
            c.body
                .contains("is due for review on 1 April 2027 (in 14 days)"),
            "{}",
            c.body
        );
        assert!(c.body.contains("camden-foodbank-referrals"));
        assert!(c.body.contains("version 3"));
        assert!(
            c.body.contains("Last reviewed:  1 April 2026"),
            "{}",
            c.body
        );
        assert!(c.body.ends_with('\n') && !c.body.starts_with('\n'));

        let late = reminder(About::ReviewDue {
            due: date(2027, 4, 1),
            days_left: -3,
        });
        let c = templates().reminder(&camden(), &late).unwrap();
        assert!(c.subject.starts_with("Review overdue"), "{}", c.subject);
        assert!(c.body.contains("3 days ago"));
    }

    #[test]
    fn term_ending_reads_well() {
        let r = reminder(About::TermEnding {
            end: date(2028, 3, 31),
            days_left: 30,
            threshold: 30,
        });
        let c = templates().reminder(&camden(), &r).unwrap();
        assert_eq!(
            c.subject,
            "Agreement ends in 30 days (31 March 2028): Emergency food support referrals"
        );
        assert!(
            c.body
                .contains("Either party may end the agreement with 30 days")
        );
    }

    #[test]
    fn assurance_reads_well() {
        let r = reminder(About::AssuranceExpiring {
            party: "foodbank".into(),
            scheme: Scheme::CyberEssentials,
            expires: date(2027, 5, 31),
            days_left: -1,
        });
        let c = templates().reminder(&camden(), &r).unwrap();
        assert_eq!(
            c.subject,
            "Cyber Essentials expired for Camden Community Foodbank: Emergency food support referrals"
        );
        assert!(
            c.body.contains("expired on 31 May 2027 (yesterday)"),
            "{}",
            c.body
        );
    }

    #[test]
    fn escalation_and_deletion_request_read_well() {
        let t = templates();
        let a = camden();
        let e = Escalation {
            summary: "Deletion overdue\nat the foodbank".into(),
            details: "12 referrals were due for deletion on 1 March 2027.".into(),
            action: "Contact the foodbank's DPO.".into(),
        };
        let c = t.escalation(&a, 3, &e).unwrap();
        assert_eq!(
            c.subject,
            "Escalation: Deletion overdue at the foodbank (Emergency food support referrals)"
        );
        assert!(c.body.contains("12 referrals were due"));

        let d = DeletionRequest {
            holder: "foodbank".into(),
            reference: "0193-abc".into(),
            flow_id: "referral".into(),
            purpose: "food-parcels".into(),
            fields: vec!["full-name".into(), "address".into(), "phone".into()],
            record_count: 12,
            received_on: date(2026, 12, 1),
            delete_by: date(2027, 6, 1),
            then_action: "delete".into(),
            confirm_url: "https://accord.example/confirm/secret-token".into(),
        };
        let c = t.deletion_request(&a, 3, &d).unwrap();
        assert!(
            c.subject.contains("Camden Community Foodbank"),
            "{}",
            c.subject
        );
        assert!(
            c.body
                .contains("https://accord.example/confirm/secret-token")
        );
        assert!(c.body.contains("full-name, address and phone"));
        assert!(c.body.contains("by 1 June 2027"));
        assert!(c.body.contains("0193-abc"));
        assert!(c.body.contains("must now delete the records"), "{}", c.body);
        assert!(!c.body.contains("keep no copy"));
        let returned = DeletionRequest {
            then_action: "return".into(),
            ..d
        };
        let c = t.deletion_request(&a, 3, &returned).unwrap();
        assert!(c.body.contains("must now return the records"), "{}", c.body);
        assert!(c.body.contains("keep no copy"), "{}", c.body);
    }

    #[test]
    fn every_reminder_the_rules_make_renders() {
        let t = templates();
        let a = camden();
        let mut day = date(2027, 1, 1);
        while day < date(2028, 4, 2) {
            for r in reminders::due(&a, 3, day) {
                let c = t.reminder(&a, &r).unwrap();
                assert!(!c.subject.is_empty() && !c.subject.contains('\n'));
            }
            day = day.tomorrow().unwrap();
        }
    }

    #[test]
    fn one_message_per_recipient_keyed_by_recipient() {
        let a = camden();
        let r = &reminders::due(&a, 3, date(2027, 3, 20))[0];
        let msgs = messages(&templates(), &a, r).unwrap();
        let keys: Vec<_> = msgs.iter().map(|m| m.dedupe_key.clone().unwrap()).collect();
        assert_eq!(
            keys,
            [
                "review-due:camden-foodbank-referrals:3:2027-04-01:priya.shah@camden.example",
                "review-due:camden-foodbank-referrals:3:2027-04-01:dpo@camden.example",
                "review-due:camden-foodbank-referrals:3:2027-04-01:dataprotection@camdenfoodbank.example",
            ]
        );
        assert!(msgs.iter().all(|m| m.kind == Kind::ReviewDue));
        assert_eq!(msgs[1].to, "dpo@camden.example");
    }

    #[test]
    fn a_template_on_disk_overrides_the_builtin_and_typos_fail() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("email")).unwrap();
        let path = dir.path().join("email/review-due.txt.hbs");
        std::fs::write(&path, "Subject: Custom {{title}}\n\nDue {{due}}.\n").unwrap();
        let t = Templates::load(dir.path()).unwrap();
        let r = reminder(About::ReviewDue {
            due: date(2027, 4, 1),
            days_left: 14,
        });
        let c = t.reminder(&camden(), &r).unwrap();
        assert_eq!(c.subject, "Custom Emergency food support referrals");
        assert_eq!(c.body, "Due 1 April 2027.\n");
        // The others are still the built-in ones.
        let term = reminder(About::TermEnding {
            end: date(2028, 3, 31),
            days_left: 7,
            threshold: 7,
        });
        assert!(t.reminder(&camden(), &term).is_ok());

        std::fs::write(&path, "Subject: {{#if overdu}}x{{/if}}\n\nbody\n").unwrap();
        let err = Templates::load(dir.path())
            .unwrap()
            .reminder(&camden(), &r)
            .unwrap_err();
        assert!(err.to_string().contains("review-due.txt.hbs"), "{err}");
        std::fs::write(&path, "no subject line\n").unwrap();
        let err = Templates::load(dir.path())
            .unwrap()
            .reminder(&camden(), &r)
            .unwrap_err();
        assert!(err.to_string().contains("Subject:"), "{err}");
    }
}
