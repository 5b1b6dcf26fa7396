//! An officer accepts a submitted version, or returns it with comments.

use super::*;

impl Handover {
    /// An officer accepts the latest submission. A deletion certificate is accepted only once
    /// the ledger holds nothing more for the contractor under the agreement.
    pub async fn accept(
        &self,
        who: &Principal,
        agreement_id: &str,
        id: Uuid,
        comments: &str,
    ) -> Result<Item> {
        who.allow(OFFICERS)
            .map_err(|d| HandoverError::NotAllowed(d.0))?;
        let comments = comments.trim().to_owned();
        if chars(&comments) > MAX_TEXT {
            return Err(HandoverError::BadInput(format!(
                "comments must be {MAX_TEXT} characters or fewer"
            )));
        }
        self.review(who, agreement_id, id, Move::Accept, comments)
            .await
    }

    /// An officer returns the latest submission with comments saying what to change.
    pub async fn return_item(
        &self,
        who: &Principal,
        agreement_id: &str,
        id: Uuid,
        comments: &str,
    ) -> Result<Item> {
        who.allow(OFFICERS)
            .map_err(|d| HandoverError::NotAllowed(d.0))?;
        let comments = text(comments, "what the contractor should change", MAX_TEXT)?;
        self.review(who, agreement_id, id, Move::Return, comments)
            .await
    }

    async fn review(
        &self,
        who: &Principal,
        agreement_id: &str,
        id: Uuid,
        m: Move,
        comments: String,
    ) -> Result<Item> {
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let r = self.row(&txn, agreement_id, id).await?;
        let state = State::parse(&r.state).unwrap_or(State::Accepted);
        let next = items::next(state, m).ok_or(HandoverError::WrongState {
            state,
            what: m.verb(),
        })?;
        if m == Move::Accept && r.kind == Kind::DeletionCertificate.as_str() {
            let h = self.holdings(&txn, &r.agreement_id, &r.party_id).await?;
            if h.held + h.deletion_requested > 0 {
                return Err(HandoverError::Conflict(format!(
                    "the ledger still lists {} holdings of {} under this agreement ({} held, {} \
                     waiting for deletion to be confirmed); close each through its deletion \
                     request before accepting the certificate",
                    h.held + h.deletion_requested,
                    r.party_id,
                    h.held,
                    h.deletion_requested
                )));
            }
        }
        let now = self.clock.now();
        review::ActiveModel {
            id: Set(Uuid::now_v7()),
            item_id: Set(id),
            number: Set(r.latest),
            action: Set(m.verb().to_owned()),
            comments: Set(comments.clone()),
            by: Set(who.actor()),
            at: Set(stamp(now)),
        }
        .insert(&txn)
        .await?;
        let accepted = (m == Move::Accept).then(|| who.actor());
        let latest = r.latest;
        let r = self.moved(&txn, r, next, latest, now, accepted).await?;
        if m == Move::Accept {
            let latest = submission::Entity::find()
                .filter(submission::Column::ItemId.eq(id))
                .filter(submission::Column::Number.eq(r.latest))
                .one(&txn)
                .await?;
            if let Some(s) = latest {
                search::index(&txn, &r, &searchable(&s)).await?;
            }
        }
        let details = serde_json::json!({
            "item": r.item_key, "party": r.party_id, "number": r.latest, "comments": comments,
        });
        let action = if m == Move::Accept {
            "handover.accepted"
        } else {
            "handover.returned"
        };
        let actor = who.actor();
        log.append(now, event(&actor, action, &r, details));
        let to = self.contractor_emails(&txn, &r).await?;
        self.mail(
            &txn,
            now,
            &r,
            MailKind::HandoverUpdate,
            m.verb(),
            &comments,
            &to,
        )
        .await?;
        log.commit(txn).await?;
        Ok(self.view(&r))
    }

    pub(super) async fn moved(
        &self,
        txn: &DatabaseTransaction,
        r: item::Model,
        state: State,
        latest: i32,
        now: Timestamp,
        accepted_by: Option<String>,
    ) -> Result<item::Model> {
        let mut m = r.into_active_model();
        m.state = Set(state.as_str().to_owned());
        m.latest = Set(latest);
        m.updated_at = Set(stamp(now));
        if let Some(by) = accepted_by {
            m.accepted_at = Set(Some(stamp(now)));
            m.accepted_by = Set(Some(by));
        }
        Ok(m.update(txn).await?)
    }
}
