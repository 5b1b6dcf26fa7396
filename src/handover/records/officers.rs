//! An officer adds an item for a contractor, or completes an engagement (every item accepted,
//! or a waiver for what is not).

use super::*;

impl Handover {
    /// An officer adds an item for one of the agreement's contractors.
    pub async fn add_item(
        &self,
        who: &Principal,
        agreement_id: &str,
        new: NewItem,
    ) -> Result<Item> {
        who.allow(OFFICERS)
            .map_err(|d| HandoverError::NotAllowed(d.0))?;
        let title = text(&new.title, "what is to be handed over", MAX_TEXT)?;
        let agreement = self.current(agreement_id).await?;
        let Some(_) = agreement
            .contractors
            .iter()
            .find(|c| c.party.as_str() == new.party_id)
        else {
            return Err(HandoverError::BadInput(format!(
                "'{}' is not a contractor of this agreement",
                new.party_id
            )));
        };
        let (owner_name, owner_email) = match new.owner {
            Some((n, e)) => {
                let n = text(&n, "the owner's name", MAX_CELL)?;
                let e = crate::people::normal_email(&e).map_err(|_| {
                    HandoverError::BadInput(
                        "enter the owner's email address, like name@example.org".into(),
                    )
                })?;
                (n, e)
            }
            None => (
                agreement.owner.name.clone(),
                agreement.owner.email.as_str().to_owned(),
            ),
        };
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let now = self.clock.now();
        handover_items::declare(&txn, &mut log, &agreement, &who.actor(), now).await?;
        self.engagement_open(&txn, agreement_id, &new.party_id)
            .await?;
        let taken: Vec<String> = item::Entity::find()
            .filter(item::Column::AgreementId.eq(agreement_id))
            .filter(item::Column::PartyId.eq(&new.party_id))
            .all(&txn)
            .await?
            .into_iter()
            .map(|r| r.item_key)
            .collect();
        let key = crate::access::drafting::slug(&title, "item", &taken);
        let d = Declared {
            party: new.party_id.clone(),
            key,
            kind: new.kind,
            title,
            due: new.due,
        };
        let mut row = handover_items::new_row(&agreement, &d, &stamp(now));
        row.declared = Set(false);
        row.owner_name = Set(owner_name);
        row.owner_email = Set(owner_email);
        let r = row.insert(&txn).await?;
        let details = serde_json::json!({
            "item": r.item_key, "party": r.party_id, "kind": r.kind, "title": r.title, "due": r.due,
            "owner": r.owner_email,
        });
        let actor = who.actor();
        log.append(now, event(&actor, "handover.item_added", &r, details));
        log.commit(txn).await?;
        Ok(self.view(&r))
    }

    /// An officer marks the engagement complete. Refused while any item is not accepted,
    /// unless `waiver` gives the reason (recorded, with the items it waives).
    pub async fn complete(
        &self,
        who: &Principal,
        agreement_id: &str,
        party: &str,
        waiver: Option<&str>,
    ) -> Result<Engagement> {
        who.allow(OFFICERS)
            .map_err(|d| HandoverError::NotAllowed(d.0))?;
        let waiver = match waiver.map(str::trim).filter(|w| !w.is_empty()) {
            Some(w) => Some(text(w, "the reason for the waiver", MAX_TEXT)?),
            None => None,
        };
        let agreement = self.current(agreement_id).await?;
        if !agreement
            .contractors
            .iter()
            .any(|c| c.party.as_str() == party)
        {
            return Err(HandoverError::NotFound(format!(
                "'{party}' is not a contractor of this agreement"
            )));
        }
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let now = self.clock.now();
        let rows = handover_items::declare(&txn, &mut log, &agreement, &who.actor(), now).await?;
        self.engagement_open(&txn, agreement_id, party).await?;
        let open: Vec<&item::Model> = rows
            .iter()
            .filter(|r| r.party_id == party && r.state != State::Accepted.as_str())
            .collect();
        if !open.is_empty() && waiver.is_none() {
            let names: Vec<&str> = open.iter().map(|r| r.item_key.as_str()).collect();
            return Err(HandoverError::Conflict(format!(
                "{} items are not accepted yet ({}); accept them, or give the reason for a waiver",
                open.len(),
                names.join(", ")
            )));
        }
        let now = self.clock.now();
        let waived: Vec<&str> = open.iter().map(|r| r.item_key.as_str()).collect();
        let waiver = if waived.is_empty() { None } else { waiver };
        let (at, by) = (Some(stamp(now)), Some(who.actor()));
        let kept = waiver.clone();
        save_engagement(&txn, agreement_id, party, |m| {
            m.completed_at = Set(at);
            m.completed_by = Set(by);
            m.waiver = Set(kept);
        })
        .await?;
        log.append(
            now,
            Event {
                actor: &who.actor(),
                action: "handover.completed",
                subject: format!("agreement:{agreement_id}"),
                details: serde_json::json!({ "party": party, "waiver": waiver, "waived": waived }),
            },
        );
        log.commit(txn).await?;
        let view = self.handover(who, agreement_id).await?;
        view.engagements
            .into_iter()
            .find(|e| e.party_id == party)
            .ok_or_else(|| HandoverError::NotFound("no such engagement".into()))
    }

    /// `Conflict` once the engagement is complete: nothing changes after.
    pub(super) async fn engagement_open(
        &self,
        db: &impl ConnectionTrait,
        agreement_id: &str,
        party: &str,
    ) -> Result<()> {
        let e = engagement::Entity::find_by_id((agreement_id.to_owned(), party.to_owned()))
            .one(db)
            .await?;
        match e.and_then(|e| e.completed_at) {
            Some(at) => Err(HandoverError::Conflict(format!(
                "the engagement was marked complete on {at}; its handover no longer changes"
            ))),
            None => Ok(()),
        }
    }
}
