//! The handover's daily enforcement, run by the reminders job:
//!
//! - **Reminders**: for each item not accepted, to the contractor and the item's owner 30, 14
//!   and 7 days before it is due, and an escalation to the DPOs (and the owner) once it is
//!   overdue. Each is keyed by item and notice in the outbox, so it goes once however often the
//!   job runs, on however many instances.
//! - **Access ends with the engagement**: the day after a contractor's `engagement_end` (the
//!   gate already refuses its flows), every API token and web account bound to its party is
//!   revoked or disabled (each audited, the account's sessions ended), unless the party still
//!   has an engagement running under another agreement in force. Its holdings under the
//!   agreement fall due for deletion now, so the next retention sweep asks for each. Done once
//!   per engagement (`handover_engagements.access_ended_at`).

use std::collections::BTreeSet;

use poem_openapi::Object;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, IntoActiveModel,
    QueryFilter, TransactionTrait,
};
use serde::Serialize;

use super::items::{self, Notice, State};
use super::records::{Handover, Result};
use crate::audit::{Event, Writer};
use crate::mail::Kind as MailKind;
use crate::mail::compose::HandoverMail;
use crate::retention::calendar::CalEvent;
use crate::store::entity::{
    api_token, handover_engagement as engagement, holding, user, web_session,
};
use crate::store::time::stamp;

/// What one run did.
#[derive(Debug, Clone, Default, Serialize, Object)]
pub struct EnforcementReport {
    /// Reminder and escalation messages newly queued.
    pub queued: usize,
    /// Engagements whose access was ended in this run.
    pub engagements_ended: usize,
    /// API tokens revoked and accounts disabled in this run.
    pub tokens_revoked: usize,
    pub accounts_disabled: usize,
    /// Holdings brought forward to fall due for deletion now.
    pub holdings_due: u64,
}

impl Handover {
    /// The calendar's handover events: each item not yet accepted on its due date, and each
    /// contractor's engagement end, for the agreements in force.
    pub async fn calendar_events(&self) -> Result<Vec<CalEvent>> {
        let mut out = Vec::new();
        for (_, a) in self.registry.agreements_in_force().await? {
            if a.contractors.is_empty() {
                continue;
            }
            for c in &a.contractors {
                out.push(CalEvent {
                    uid: format!("engagement-end-{}-{}@accord", a.id, c.party),
                    date: c.engagement_end,
                    summary: format!("Engagement ends: {} ({})", c.party, a.id),
                    description: format!(
                        "The engagement of contractor {} under {} ends; its access ends the day after.",
                        c.party, a.id
                    ),
                });
            }
            for r in self.sync(&self.db, &a).await? {
                let (Some(date), false) = (r.due.parse().ok(), r.state == State::Accepted.as_str())
                else {
                    continue;
                };
                out.push(CalEvent {
                    uid: format!("handover-{}@accord", r.id),
                    date,
                    summary: format!("Handover due: {} ({})", r.title, r.party_id),
                    description: format!(
                        "Handover item {} of contractor {} under {}; owner {}.",
                        r.item_key, r.party_id, r.agreement_id, r.owner_name
                    ),
                });
            }
        }
        Ok(out)
    }

    /// One run of the reminders and the end of access; see the module.
    pub async fn enforce(&self) -> Result<EnforcementReport> {
        let today = self.today();
        let now = self.clock.now();
        let in_force = self.registry.agreements_in_force().await?;
        let mut report = EnforcementReport::default();
        // Parties with an engagement still running somewhere keep their access.
        let running: BTreeSet<String> = in_force
            .iter()
            .flat_map(|(_, a)| a.contractors.iter())
            .filter(|c| c.engagement_end >= today)
            .map(|c| c.party.as_str().to_owned())
            .collect();
        for (_, a) in &in_force {
            if a.contractors.is_empty() {
                continue;
            }
            let txn = self.db.begin().await?;
            let mut log = Writer::begin(&txn).await?;
            let rows = self.sync(&txn, a).await?;
            let completed: BTreeSet<String> = engagement::Entity::find()
                .filter(engagement::Column::AgreementId.eq(a.id.as_str()))
                .filter(engagement::Column::CompletedAt.is_not_null())
                .all(&txn)
                .await?
                .into_iter()
                .map(|e| e.party_id)
                .collect();
            for r in &rows {
                let state = State::parse(&r.state).unwrap_or(State::Open);
                if state == State::Accepted || completed.contains(&r.party_id) {
                    continue;
                }
                let Some(notice) = r.due.parse().ok().and_then(|due| items::notice(due, today))
                else {
                    continue;
                };
                let (kind, days, to) = match notice {
                    Notice::Due { days_left, .. } => {
                        let mut to = self.contractor_emails(&txn, r).await?;
                        to.push(r.owner_email.clone());
                        (MailKind::HandoverDue, days_left, to)
                    }
                    Notice::Overdue { days_over } => (
                        MailKind::HandoverOverdue,
                        days_over,
                        Handover::escalation_emails(a, r),
                    ),
                };
                let composed = self.templates.handover(
                    kind,
                    &HandoverMail {
                        agreement_id: r.agreement_id.clone(),
                        party: r.party_id.clone(),
                        item: r.title.clone(),
                        kind: items::Kind::parse(&r.kind)
                            .unwrap_or(items::Kind::Other)
                            .label()
                            .to_owned(),
                        due: r.due.clone(),
                        owner: format!("{} <{}>", r.owner_name, r.owner_email),
                        link: format!(
                            "{}/agreements/{}/handover/{}",
                            self.public_url, r.agreement_id, r.id
                        ),
                        days,
                        ..Default::default()
                    },
                )?;
                let key = format!("handover:{}:{}", r.id, notice.key());
                let fresh = self
                    .send(&txn, now, kind, &composed, &to, Some(&key))
                    .await?;
                if fresh > 0 {
                    report.queued += fresh;
                    log.append(
                        now,
                        Event {
                            actor: "reminders job",
                            action: if kind == MailKind::HandoverDue { "handover.reminder_queued" } else { "handover.escalated" },
                            subject: format!("handover:{}:{}", r.agreement_id, r.id),
                            details: serde_json::json!({ "item": r.item_key, "party": r.party_id, "notice": notice.key(), "messages": fresh }),
                        },
                    );
                }
            }
            for c in a.contractors.iter().filter(|c| c.engagement_end < today) {
                let party = c.party.as_str();
                let id = (a.id.as_str().to_owned(), party.to_owned());
                let existing = engagement::Entity::find_by_id(id.clone()).one(&txn).await?;
                if existing
                    .as_ref()
                    .is_some_and(|e| e.access_ended_at.is_some())
                {
                    continue;
                }
                let why = format!(
                    "the engagement of contractor '{party}' under {} ended on {}",
                    a.id, c.engagement_end
                );
                let mut tokens = 0;
                let mut accounts = 0;
                if !running.contains(party) {
                    let live = api_token::Entity::find()
                        .filter(api_token::Column::PartyId.eq(party))
                        .filter(api_token::Column::RevokedAt.is_null())
                        .all(&txn)
                        .await?;
                    for t in live {
                        let (tid, name, role) = (t.id, t.name.clone(), t.role.clone());
                        let mut m = t.into_active_model();
                        m.revoked_at = Set(Some(stamp(now)));
                        m.update(&txn).await?;
                        tokens += 1;
                        log.append(
                            now,
                            Event {
                                actor: "handover job",
                                action: "token.revoked",
                                subject: format!("token:{tid}"),
                                details: serde_json::json!({ "name": name, "role": role, "party": party, "reason": why }),
                            },
                        );
                    }
                    let people = user::Entity::find()
                        .filter(user::Column::PartyId.eq(party))
                        .filter(user::Column::DisabledAt.is_null())
                        .all(&txn)
                        .await?;
                    for u in people {
                        let (uid, email, role) = (u.id, u.email.clone(), u.role.clone());
                        let mut m = u.into_active_model();
                        m.disabled_at = Set(Some(stamp(now)));
                        m.update(&txn).await?;
                        web_session::Entity::update_many()
                            .col_expr(web_session::Column::EndedAt, Expr::value(stamp(now)))
                            .filter(web_session::Column::UserId.eq(uid))
                            .filter(web_session::Column::EndedAt.is_null())
                            .exec(&txn)
                            .await?;
                        accounts += 1;
                        log.append(
                            now,
                            Event {
                                actor: "handover job",
                                action: "user.disabled",
                                subject: format!("user:{uid}"),
                                details: serde_json::json!({ "email": email, "role": role, "party": party, "reason": why }),
                            },
                        );
                    }
                }
                let due_now = holding::Entity::update_many()
                    .col_expr(holding::Column::DeleteBy, Expr::value(stamp(now)))
                    .filter(holding::Column::AgreementId.eq(a.id.as_str()))
                    .filter(holding::Column::Holder.eq(party))
                    .filter(holding::Column::State.eq("held"))
                    .filter(
                        Condition::any()
                            .add(holding::Column::DeleteBy.is_null())
                            .add(holding::Column::DeleteBy.gt(stamp(now))),
                    )
                    .exec(&txn)
                    .await?
                    .rows_affected;
                match existing {
                    Some(e) => {
                        let mut m = e.into_active_model();
                        m.access_ended_at = Set(Some(stamp(now)));
                        m.update(&txn).await?;
                    }
                    None => {
                        engagement::ActiveModel {
                            agreement_id: Set(id.0.clone()),
                            party_id: Set(id.1.clone()),
                            completed_at: Set(None),
                            completed_by: Set(None),
                            waiver: Set(None),
                            access_ended_at: Set(Some(stamp(now))),
                        }
                        .insert(&txn)
                        .await?;
                    }
                }
                log.append(
                    now,
                    Event {
                        actor: "handover job",
                        action: "handover.access_ended",
                        subject: format!("agreement:{}", a.id),
                        details: serde_json::json!({
                            "party": party, "reason": why, "tokens_revoked": tokens,
                            "accounts_disabled": accounts, "holdings_due": due_now,
                            "kept_for_running_engagement": running.contains(party),
                        }),
                    },
                );
                let what = format!(
                    "revoked {tokens} API tokens and disabled {accounts} accounts of {party}, and brought {due_now} holdings forward for deletion"
                );
                let composed = self.templates.handover(
                    MailKind::HandoverAccessEnded,
                    &HandoverMail {
                        agreement_id: a.id.as_str().to_owned(),
                        party: party.to_owned(),
                        due: c.engagement_end.to_string(),
                        what,
                        link: format!("{}/agreements/{}/handover", self.public_url, a.id),
                        ..Default::default()
                    },
                )?;
                let to: Vec<String> = crate::mail::recipients(a)
                    .iter()
                    .map(|e| e.as_str().to_owned())
                    .collect();
                let key = format!("handover-access-ended:{}:{party}", a.id);
                self.send(
                    &txn,
                    now,
                    MailKind::HandoverAccessEnded,
                    &composed,
                    &to,
                    Some(&key),
                )
                .await?;
                report.engagements_ended += 1;
                report.tokens_revoked += tokens;
                report.accounts_disabled += accounts;
                report.holdings_due += due_now;
            }
            log.commit(txn).await?;
        }
        Ok(report)
    }
}
