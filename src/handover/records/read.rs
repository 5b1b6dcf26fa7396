//! What each reader may see: an agreement's handover by contractor, a contractor's own items
//! across agreements, one item with its versions and reviews, an attachment, the holdings an
//! item covers, and search over accepted knowledge.

use super::*;

impl Handover {
    /// The agreement's current version (in force, else the newest), with engagements ended
    /// early applied.
    pub(super) async fn current(
        &self,
        agreement_id: &str,
    ) -> Result<Arc<crate::agreement::ValidAgreement>> {
        let (_, a) = self.registry.agreement_enforced(agreement_id).await?;
        Ok(a)
    }

    /// The items of the agreement's contractors that `who` may see, by contractor.
    pub async fn handover(&self, who: &Principal, agreement_id: &str) -> Result<HandoverView> {
        let readable = who.allow(HANDOVER_READERS).is_ok();
        if !readable {
            return Err(forbidden());
        }
        let agreement = match self.current(agreement_id).await {
            Ok(x) => x,
            // A contractor cannot probe for agreement ids.
            Err(HandoverError::Registry(RegistryError::NotFound(_)))
                if who.role == Role::Contractor =>
            {
                return Err(forbidden());
            }
            Err(e) => return Err(e),
        };
        if who.role == Role::Contractor {
            let mine = who.bound_party().ok();
            if !agreement
                .contractors
                .iter()
                .any(|c| Some(c.party.as_str()) == mine)
            {
                return Err(forbidden());
            }
        }
        let rows = handover_items::rows(&self.db, agreement_id).await?;
        let done: HashMap<String, engagement::Model> = engagement::Entity::find()
            .filter(engagement::Column::AgreementId.eq(agreement_id))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|e| (e.party_id.clone(), e))
            .collect();
        let mut ended_early = self.registry.ended_early(agreement_id).await?;
        let mut by_party: BTreeMap<String, Vec<Item>> = BTreeMap::new();
        for r in &rows {
            by_party
                .entry(r.party_id.clone())
                .or_default()
                .push(self.view(r));
        }
        let today = self.today();
        let mut engagements = Vec::new();
        for c in &agreement.contractors {
            let party = c.party.as_str();
            if !may_read(who, party) {
                continue;
            }
            let mut items = by_party.remove(party).unwrap_or_default();
            items.sort_by(|a, b| a.due.cmp(&b.due).then(a.key.cmp(&b.key)));
            let e = done.get(party);
            engagements.push(Engagement {
                party_id: party.to_owned(),
                party_name: agreement
                    .party(party)
                    .map_or_else(|| party.to_owned(), |p| p.name.clone()),
                engagement_end: c.engagement_end.to_string(),
                days_to_end: crate::mail::reminders::days_between(today, c.engagement_end),
                accepted: items.iter().filter(|i| i.state == State::Accepted).count(),
                overdue: items.iter().filter(|i| i.overdue).count(),
                total: items.len(),
                items,
                completed_at: e.and_then(|e| e.completed_at.clone()),
                completed_by: e.and_then(|e| e.completed_by.clone()),
                waiver: e.and_then(|e| e.waiver.clone()),
                access_ended_at: e.and_then(|e| e.access_ended_at.clone()),
                ended_early: ended_early.remove(party),
            });
        }
        Ok(HandoverView {
            agreement_id: agreement_id.to_owned(),
            title: agreement.title.clone(),
            engagements,
        })
    }

    /// The items `who` may see across every agreement in force: a contractor's own, or for
    /// readers every contractor's. What the contractor's task list and "my work" read.
    pub async fn my_items(&self, who: &Principal) -> Result<Vec<(String, Item)>> {
        if who.allow(HANDOVER_READERS).is_err() {
            return Err(forbidden());
        }
        let mut out = Vec::new();
        for (_, a) in self.registry.agreements_in_force().await? {
            if a.contractors.is_empty() {
                continue;
            }
            for r in handover_items::rows(&self.db, a.id.as_str()).await? {
                if may_read(who, &r.party_id) {
                    out.push((a.title.clone(), self.view(&r)));
                }
            }
        }
        out.sort_by(|a, b| a.1.due.cmp(&b.1.due).then(a.1.key.cmp(&b.1.key)));
        Ok(out)
    }

    pub(super) async fn row(
        &self,
        db: &impl ConnectionTrait,
        agreement_id: &str,
        id: Uuid,
    ) -> Result<item::Model> {
        item::Entity::find_by_id(id)
            .filter(item::Column::AgreementId.eq(agreement_id))
            .one(db)
            .await?
            .ok_or_else(|| HandoverError::NotFound("no such handover item".into()))
    }

    /// The item `text` names in an agreement: its id, or its key when only one item there has
    /// that key among those the caller may read (a contractor reads only its own party's). An
    /// unknown key, or one several contractors' items share, is `NotFound` saying so.
    pub async fn item_id(&self, who: &Principal, agreement_id: &str, text: &str) -> Result<Uuid> {
        if let Ok(id) = Uuid::parse_str(text) {
            return Ok(id);
        }
        let mut find = item::Entity::find()
            .filter(item::Column::AgreementId.eq(agreement_id))
            .filter(item::Column::ItemKey.eq(text));
        if who.allow(READERS).is_err() {
            find = find.filter(item::Column::PartyId.eq(who.bound_party().unwrap_or_default()));
        }
        let found = find.limit(2).all(&self.db).await?;
        match found.as_slice() {
            [one] => Ok(one.id),
            [] => Err(HandoverError::NotFound(format!(
                "no handover item has the id or key '{}' in this agreement",
                crate::text::one_line(text)
            ))),
            _ => Err(HandoverError::NotFound(format!(
                "several contractors have an item with the key '{}': name the item by its id",
                crate::text::one_line(text)
            ))),
        }
    }

    /// One item with its submissions and reviews.
    pub async fn item(&self, who: &Principal, agreement_id: &str, id: Uuid) -> Result<ItemDetail> {
        let r = match self.row(&self.db, agreement_id, id).await {
            Ok(r) => r,
            Err(HandoverError::NotFound(_)) if who.allow(READERS).is_err() => {
                return Err(forbidden());
            }
            Err(e) => return Err(e),
        };
        if !may_read(who, &r.party_id) {
            return Err(forbidden());
        }
        let subs = submission::Entity::find()
            .filter(submission::Column::ItemId.eq(id))
            .order_by_desc(submission::Column::Number)
            .all(&self.db)
            .await?;
        let mut files = attachments_listed(&self.db, &[id]).await?;
        let submissions = subs
            .into_iter()
            .map(|s| Submission {
                number: s.number,
                credentials: serde_json::from_str(&s.credentials).unwrap_or_default(),
                attachments: files.remove(&s.id).unwrap_or_default(),
                body: s.body,
                submitted_at: s.submitted_at,
                submitted_by: s.submitted_by,
                sha256: s.sha256,
            })
            .collect();
        let reviews = review::Entity::find()
            .filter(review::Column::ItemId.eq(id))
            .order_by_desc(review::Column::At)
            .order_by_desc(review::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|v| Review {
                number: v.number,
                action: v.action,
                comments: v.comments,
                by: v.by,
                at: v.at,
            })
            .collect();
        let item = self.view(&r);
        let holdings = if matches!(*item.kind, Kind::DataReturn | Kind::DeletionCertificate) {
            Some(
                self.holdings(&self.db, &r.agreement_id, &r.party_id)
                    .await?,
            )
        } else {
            None
        };
        Ok(ItemDetail {
            item,
            submissions,
            reviews,
            holdings,
        })
    }

    /// An attachment's name, type and bytes.
    pub async fn attachment(
        &self,
        who: &Principal,
        agreement_id: &str,
        item_id: Uuid,
        id: Uuid,
    ) -> Result<(String, String, Vec<u8>)> {
        let r = match self.row(&self.db, agreement_id, item_id).await {
            Ok(r) => r,
            Err(HandoverError::NotFound(_)) if who.allow(READERS).is_err() => {
                return Err(forbidden());
            }
            Err(e) => return Err(e),
        };
        if !may_read(who, &r.party_id) {
            return Err(forbidden());
        }
        let f = attachment::Entity::find_by_id(id)
            .filter(attachment::Column::ItemId.eq(item_id))
            .one(&self.db)
            .await?
            .ok_or_else(|| HandoverError::NotFound("no such attachment".into()))?;
        Ok((f.file_name, f.media_type, f.content))
    }

    pub(in crate::handover) async fn holdings(
        &self,
        db: &impl ConnectionTrait,
        agreement_id: &str,
        party: &str,
    ) -> Result<HoldingsSummary> {
        let count = |state: &'static str| {
            holding::Entity::find()
                .filter(holding::Column::AgreementId.eq(agreement_id))
                .filter(holding::Column::Holder.eq(party))
                .filter(holding::Column::State.eq(state))
                .count(db)
        };
        Ok(HoldingsSummary {
            held: count("held").await?,
            deletion_requested: count("deletion_requested").await?,
            closed: count("deleted").await?
                + count("anonymised").await?
                + count("returned").await?,
        })
    }

    /// Searches what `who` may read: readers everything, a contractor its own party's.
    pub async fn search(
        &self,
        who: &Principal,
        query: &str,
        limit: u64,
    ) -> Result<Vec<search::Hit>> {
        let party = if who.role == Role::Contractor {
            Some(
                who.bound_party()
                    .map_err(|e| HandoverError::NotAllowed(e.to_string()))?,
            )
        } else {
            who.allow(READERS)
                .map_err(|d| HandoverError::NotAllowed(d.0))?;
            None
        };
        if query.chars().count() > search::MAX_QUERY {
            return Err(HandoverError::BadInput(format!(
                "the search must be {} characters or fewer",
                search::MAX_QUERY
            )));
        }
        Ok(search::search(&self.db, query, party, limit).await?)
    }
}
