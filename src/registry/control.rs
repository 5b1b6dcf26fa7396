//! An officer's controls: suspend, reinstate or terminate an agreement; suspend a party across
//! every agreement (after a breach) and reinstate it. Each needs a reason; each is audited.

use poem_openapi::Object;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use serde::Serialize;
use uuid::Uuid;

use super::gate_index::Touched;
use super::stored::find_version;
use super::{Registry, RegistryError, Result};
use crate::agreement::lifecycle::Control;
use crate::agreement::retention::retention_ends;
use crate::agreement::validate::covers;
use crate::audit::{Event, Writer};
use crate::inputs::PartyId;
use crate::inputs::Reason;
use crate::store::entity::{agreement, holding, party_suspension};
use crate::store::time::stamp;

/// An agreement's control as it now stands.
#[derive(Debug, Clone, Serialize, Object)]
pub struct ControlState {
    pub agreement_id: String,
    pub control: crate::openapi_types::Control,
    #[oai(nullable)]
    pub reason: Option<String>,
    #[oai(nullable)]
    pub changed_at: Option<String>,
    #[oai(nullable)]
    pub changed_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, Object)]
pub struct PartySuspension {
    pub id: Uuid,
    pub party: String,
    pub reason: String,
    pub suspended_at: String,
    pub suspended_by: String,
    #[oai(nullable)]
    pub lifted_at: Option<String>,
    #[oai(nullable)]
    pub lifted_by: Option<String>,
    #[oai(nullable)]
    pub lift_reason: Option<String>,
}

impl Registry {
    pub async fn suspend(&self, id: &str, why: &Reason, actor: &str) -> Result<ControlState> {
        self.set_control(id, Control::Suspended, why, actor).await
    }

    pub async fn reinstate(&self, id: &str, why: &Reason, actor: &str) -> Result<ControlState> {
        self.set_control(id, Control::Open, why, actor).await
    }

    /// Terminates an agreement for good: no version of it is active again, and it takes no new
    /// versions.
    pub async fn terminate(&self, id: &str, why: &Reason, actor: &str) -> Result<ControlState> {
        self.set_control(id, Control::Terminated, why, actor).await
    }

    /// Moves an agreement's control to `to`, where the lifecycle allows it
    /// ([`Control::may_become`]); 409 otherwise. Audited under the action that names the move.
    pub async fn set_control(
        &self,
        id: &str,
        to: Control,
        why: &Reason,
        actor: &str,
    ) -> Result<ControlState> {
        let action = match to {
            Control::Suspended => "agreement.suspended",
            Control::Open => "agreement.reinstated",
            Control::Terminated => "agreement.terminated",
        };
        let why = why.as_str().to_owned();
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let row = agreement::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| RegistryError::NotFound(format!("no agreement '{id}'")))?;
        let current = Control::parse(&row.control);
        if !current.may_become(to) {
            let msg = format!(
                "agreement '{id}' is {}; it cannot become {}",
                current.as_str(),
                to.as_str()
            );
            return Err(RegistryError::Conflict(msg));
        }
        let update = agreement::ActiveModel {
            id: Set(id.to_owned()),
            control: Set(to.as_str().to_owned()),
            control_reason: Set(Some(why.clone())),
            control_changed_at: Set(Some(stamp(now))),
            control_changed_by: Set(Some(actor.to_owned())),
            ..Default::default()
        };
        agreement::Entity::update(update).exec(&txn).await?;
        let mut details =
            serde_json::json!({ "from": current.as_str(), "to": to.as_str(), "reason": why });
        if to == Control::Terminated {
            let ended = crate::clock::london_date(now);
            details["holdings_dated"] =
                self.date_open_ended_holdings(&txn, id, ended).await?.into();
        }
        log.append(
            now,
            Event {
                actor,
                action,
                subject: format!("agreement:{id}"),
                details,
            },
        );
        self.commit_change(txn, log, Touched::Agreements(&[id.to_owned()]))
            .await?;
        Ok(ControlState {
            agreement_id: id.to_owned(),
            control: to.into(),
            reason: Some(why),
            changed_at: Some(stamp(now)),
            changed_by: Some(actor.to_owned()),
        })
    }

    /// Termination ends an agreement whose term had no end: holdings kept until `keep_for`
    /// after the agreement's end had no deletion date, and get it now, in the transaction that
    /// ends it, so the sweep will find them. Returns how many were dated.
    async fn date_open_ended_holdings(
        &self,
        txn: &DatabaseTransaction,
        id: &str,
        ended: jiff::civil::Date,
    ) -> Result<u64> {
        use holding::Column as C;
        let undated: Vec<(i32, String)> = holding::Entity::find()
            .select_only()
            .column(C::Version)
            .column(C::FlowId)
            .distinct()
            .filter(C::AgreementId.eq(id))
            .filter(C::DeleteBy.is_null())
            .into_tuple()
            .all(txn)
            .await?;
        let mut dated = 0;
        for (number, flow_id) in undated {
            let version = self.parsed(&find_version(txn, id, number).await?)?;
            let rule = version
                .flows
                .iter()
                .find(|f| f.id.as_str() == flow_id)
                .and_then(|f| version.retention.iter().find(|r| covers(r, f)));
            let Some(due) = rule.and_then(|r| retention_ends(r, self.clock.now(), Some(ended)))
            else {
                continue;
            };
            let moved = holding::Entity::update_many()
                .col_expr(C::DeleteBy, Expr::value(stamp(due)))
                .filter(C::AgreementId.eq(id))
                .filter(C::Version.eq(number))
                .filter(C::FlowId.eq(flow_id.as_str()))
                .filter(C::DeleteBy.is_null())
                .exec(txn)
                .await?;
            dated += moved.rows_affected;
        }
        Ok(dated)
    }

    /// Suspends a party in every agreement it is part of.
    pub async fn suspend_party(
        &self,
        party: &str,
        why: &Reason,
        actor: &str,
    ) -> Result<PartySuspension> {
        self.set_party_suspended(party, true, why, actor).await
    }

    /// Lifts the party's suspension in force.
    pub async fn reinstate_party(
        &self,
        party: &str,
        why: &Reason,
        actor: &str,
    ) -> Result<PartySuspension> {
        self.set_party_suspended(party, false, why, actor).await
    }

    /// Suspends `party` (`suspend`) or lifts its suspension in force (`!suspend`): a new row,
    /// or the open row closed. Audited as `party.suspended` or `party.reinstated`.
    async fn set_party_suspended(
        &self,
        party: &str,
        suspend: bool,
        why: &Reason,
        actor: &str,
    ) -> Result<PartySuspension> {
        let why = why.as_str().to_owned();
        if PartyId::parse(party).is_err() {
            return Err(RegistryError::BadRequest(format!(
                "'{party}' is not a party id"
            )));
        }
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let (row, action) = match (suspend, active_suspension(&txn, party).await?) {
            (true, Some(_)) => {
                let msg = format!("party '{party}' is already suspended");
                return Err(RegistryError::Conflict(msg));
            }
            (false, None) => {
                let msg = format!("party '{party}' is not suspended");
                return Err(RegistryError::NotFound(msg));
            }
            (true, None) => {
                let row = party_suspension::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    party_id: Set(party.to_owned()),
                    reason: Set(why.clone()),
                    suspended_at: Set(stamp(now)),
                    suspended_by: Set(actor.to_owned()),
                    lifted_at: Set(None),
                    lifted_by: Set(None),
                    lift_reason: Set(None),
                };
                let row = party_suspension::Entity::insert(row)
                    .exec_with_returning(&txn)
                    .await?;
                (row, "party.suspended")
            }
            (false, Some(row)) => {
                let mut lifted: party_suspension::ActiveModel = row.into();
                lifted.lifted_at = Set(Some(stamp(now)));
                lifted.lifted_by = Set(Some(actor.to_owned()));
                lifted.lift_reason = Set(Some(why.clone()));
                let row = party_suspension::Entity::update(lifted).exec(&txn).await?;
                (row, "party.reinstated")
            }
        };
        let event = Event {
            actor,
            action,
            subject: format!("party:{party}"),
            details: serde_json::json!({ "reason": why }),
        };
        log.append(now, event);
        self.commit_change(txn, log, Touched::Parties).await?;
        Ok(suspension(row))
    }

    /// Party suspensions, newest first; only those in force when `active_only`.
    pub async fn party_suspensions(&self, active_only: bool) -> Result<Vec<PartySuspension>> {
        let mut q =
            party_suspension::Entity::find().order_by_desc(party_suspension::Column::SuspendedAt);
        if active_only {
            q = q.filter(party_suspension::Column::LiftedAt.is_null());
        }
        Ok(q.all(&self.db).await?.into_iter().map(suspension).collect())
    }
}

async fn active_suspension(
    txn: &impl sea_orm::ConnectionTrait,
    party: &str,
) -> Result<Option<party_suspension::Model>> {
    Ok(party_suspension::Entity::find()
        .filter(party_suspension::Column::PartyId.eq(party))
        .filter(party_suspension::Column::LiftedAt.is_null())
        .one(txn)
        .await?)
}

fn suspension(r: party_suspension::Model) -> PartySuspension {
    PartySuspension {
        id: r.id,
        party: r.party_id,
        reason: r.reason,
        suspended_at: r.suspended_at,
        suspended_by: r.suspended_by,
        lifted_at: r.lifted_at,
        lifted_by: r.lifted_by,
        lift_reason: r.lift_reason,
    }
}
