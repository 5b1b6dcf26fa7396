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
    ActiveValue::Set, ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter,
    QuerySelect, TransactionTrait,
};
use serde::Serialize;

use super::items::{self, Notice, State};
use super::records::{Handover, Result, save_engagement};
use crate::agreement::model::{Agreement, Contractor};
use crate::audit::{Event, Planned, Writer};
use crate::mail::compose::HandoverMail;
use crate::mail::{Kind as MailKind, recipients};
use crate::registry::handover_items;
use crate::retention::calendar::CalEvent;
use crate::store::entity::{handover_engagement as engagement, holding};
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
    /// The audit records the run wrote (or, in a dry run, would write). Not kept with the
    /// scheduled run's outcome.
    #[serde(skip)]
    #[oai(skip)]
    pub recorded: Vec<Planned>,
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
            for r in handover_items::rows(&self.db, a.id.as_str()).await? {
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

    /// Items past their due date that are open or returned (nothing waiting for an officer),
    /// under engagements not completed. Items are counted once made from their agreement,
    /// which the first read or the daily reminders run does.
    pub async fn overdue(&self) -> Result<u64> {
        use crate::store::entity::handover_item as item;
        let completed: BTreeSet<(String, String)> = engagement::Entity::find()
            .filter(engagement::Column::CompletedAt.is_not_null())
            .all(&self.db)
            .await?
            .into_iter()
            .map(|e| (e.agreement_id, e.party_id))
            .collect();
        let late: Vec<(String, String)> = item::Entity::find()
            .select_only()
            .column(item::Column::AgreementId)
            .column(item::Column::PartyId)
            .filter(item::Column::State.is_in([State::Open.as_str(), State::Returned.as_str()]))
            .filter(item::Column::Due.lt(self.today().to_string()))
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(late.into_iter().filter(|k| !completed.contains(k)).count() as u64)
    }

    /// One run of the reminders and the end of access; see the module. One transaction per
    /// agreement with contractors.
    pub async fn enforce(&self) -> Result<EnforcementReport> {
        self.enforce_or_try(false).await
    }

    /// [`Handover::enforce`], or with `dry_run` the same work with each transaction rolled
    /// back: the report says what a run would do, and nothing changes.
    pub async fn enforce_or_try(&self, dry_run: bool) -> Result<EnforcementReport> {
        let today = self.today();
        let in_force = self.registry.agreements_in_force().await?;
        let mut report = EnforcementReport::default();
        // Parties with an engagement still running somewhere keep their access.
        let running: BTreeSet<&str> = in_force
            .iter()
            .flat_map(|(_, a)| a.contractors.iter())
            .filter(|c| c.engagement_end >= today)
            .map(|c| c.party.as_str())
            .collect();
        for (_, a) in in_force.iter().filter(|(_, a)| !a.contractors.is_empty()) {
            let txn = self.db.begin().await?;
            let mut log = Writer::begin(&txn).await?;
            report.queued += self.remind(&txn, &mut log, a).await?;
            for c in a.contractors.iter().filter(|c| c.engagement_end < today) {
                let keep = running.contains(c.party.as_str());
                self.end_access(&txn, &mut log, a, c, keep, JOB, &mut report)
                    .await?;
            }
            report.recorded.extend(log.planned());
            if dry_run {
                txn.rollback().await?;
            } else {
                log.commit(txn).await?;
            }
        }
        Ok(report)
    }

    /// Queues each reminder or escalation due today for the agreement's items not accepted
    /// (none for an engagement already complete); returns the messages newly queued.
    async fn remind(
        &self,
        txn: &DatabaseTransaction,
        log: &mut Writer,
        a: &Agreement,
    ) -> Result<usize> {
        let (today, now) = (self.today(), self.clock.now());
        let completed: BTreeSet<String> = engagement::Entity::find()
            .filter(engagement::Column::AgreementId.eq(a.id.as_str()))
            .filter(engagement::Column::CompletedAt.is_not_null())
            .all(txn)
            .await?
            .into_iter()
            .map(|e| e.party_id)
            .collect();
        let mut queued = 0;
        for r in handover_items::declare(txn, log, a, JOB, now).await? {
            if r.state == State::Accepted.as_str() || completed.contains(&r.party_id) {
                continue;
            }
            let Some(notice) = r.due.parse().ok().and_then(|due| items::notice(due, today)) else {
                continue;
            };
            let (kind, days, action, to) = match notice {
                Notice::Due { days_left, .. } => {
                    let mut to = self.contractor_emails(txn, &r).await?;
                    to.push(r.owner_email.clone());
                    (
                        MailKind::HandoverDue,
                        days_left,
                        "handover.reminder_queued",
                        to,
                    )
                }
                Notice::Overdue { days_over } => (
                    MailKind::HandoverOverdue,
                    days_over,
                    "handover.escalated",
                    Handover::escalation_emails(a, &r),
                ),
            };
            let composed = self.templates.handover(
                kind,
                &HandoverMail {
                    days,
                    ..self.item_mail(&r)
                },
            )?;
            let key = format!("handover:{}:{}", r.id, notice.key());
            let fresh = self
                .send(txn, now, kind, &composed, &to, Some(&key))
                .await?;
            if fresh > 0 {
                queued += fresh;
                log.append(
                    now,
                    Event {
                        actor: "reminders job",
                        action,
                        subject: format!("handover:{}:{}", r.agreement_id, r.id),
                        details: serde_json::json!({ "item": r.item_key, "party": r.party_id, "notice": notice.key(), "messages": fresh }),
                    },
                );
            }
        }
        Ok(queued)
    }

    /// Ends a contractor's access once, after its engagement's end: its tokens and accounts
    /// (unless `keep`: it still has an engagement running elsewhere), and its holdings under
    /// the agreement fall due now. Tells the owner and the DPOs. `actor` is who the audit log
    /// names: the job, or the officer who ended the engagement early.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn end_access(
        &self,
        txn: &DatabaseTransaction,
        log: &mut Writer,
        a: &Agreement,
        c: &Contractor,
        keep: bool,
        actor: &str,
        report: &mut EnforcementReport,
    ) -> Result<()> {
        let now = self.clock.now();
        let party = c.party.as_str();
        let done = engagement::Entity::find_by_id((a.id.as_str().to_owned(), party.to_owned()))
            .one(txn)
            .await?
            .is_some_and(|e| e.access_ended_at.is_some());
        if done {
            return Ok(());
        }
        let why = format!(
            "the engagement of contractor '{party}' under {} has ended; its last day was {}",
            a.id,
            crate::dpia::labels::date(c.engagement_end)
        );
        let (tokens, accounts) = if keep {
            (0, 0)
        } else {
            (
                crate::auth::revoke_party_tokens(txn, log, now, party, actor, &why).await?,
                crate::people::accounts::disable_party(txn, log, now, party, actor, &why).await?,
            )
        };
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
            .exec(txn)
            .await?
            .rows_affected;
        save_engagement(txn, a.id.as_str(), party, |m| {
            m.access_ended_at = Set(Some(stamp(now)))
        })
        .await?;
        log.append(
            now,
            Event {
                actor,
                action: "handover.access_ended",
                subject: format!("agreement:{}", a.id),
                details: serde_json::json!({
                    "party": party, "reason": why, "tokens_revoked": tokens,
                    "accounts_disabled": accounts, "holdings_due": due_now,
                    "kept_for_running_engagement": keep,
                }),
            },
        );
        let what = format!(
            "revoked {} and disabled {} of {party}, and brought {} forward for deletion",
            crate::text::count(tokens as u64, "API token", "API tokens"),
            crate::text::count(accounts as u64, "account", "accounts"),
            crate::text::count(due_now as u64, "holding", "holdings"),
        );
        let mail = HandoverMail {
            agreement_id: a.id.as_str().to_owned(),
            party: party.to_owned(),
            due: c.engagement_end.to_string(),
            what,
            link: format!("{}/agreements/{}/handover", self.public_url, a.id),
            ..Default::default()
        };
        let composed = self
            .templates
            .handover(MailKind::HandoverAccessEnded, &mail)?;
        let to: Vec<String> = recipients(a)
            .iter()
            .map(|e| e.as_str().to_owned())
            .collect();
        let key = format!("handover-access-ended:{}:{party}", a.id);
        self.send(
            txn,
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
        Ok(())
    }
}

/// Who the audit log names for what the job does at an engagement's end.
const JOB: &str = "handover job";
