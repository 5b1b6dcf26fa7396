//! The officers' side before a decision: the queue, a request and its messages, starting a
//! review, questions and answers, and the requester's withdrawal.

use super::*;

impl Access {
    /// One request, for someone who may see it: readers, or the token that made it.
    pub async fn get(&self, who: &Principal, id: Uuid) -> Result<AccessRequest> {
        let r = self.find(id).await?;
        may_see(who, &r)?;
        Ok(self.view(&r))
    }

    /// The approved requests that drafted versions of `agreement_id` (the link back from the
    /// agreement to its requests), oldest first; at most 100.
    pub async fn drafted_into(&self, agreement_id: &str) -> Result<Vec<AccessRequest>> {
        let rows = row::Entity::find()
            .filter(row::Column::DraftedAgreement.eq(agreement_id))
            .order_by_asc(row::Column::Id)
            .limit(100)
            .all(&self.db)
            .await?;
        Ok(rows.iter().map(|r| self.view(r)).collect())
    }

    /// A request's thread, oldest first.
    pub async fn messages(&self, id: Uuid) -> Result<Vec<AccessMessage>> {
        let rows = msg::Entity::find()
            .filter(msg::Column::RequestId.eq(id))
            .order_by_asc(msg::Column::Id)
            .limit(1000)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|m| AccessMessage {
                id: m.id,
                at: m.at,
                author: m.author,
                from_officer: m.from_officer,
                body: m.body,
            })
            .collect())
    }

    /// The officers' queue: one indexed query and a count, paged by key, newest last.
    pub async fn queue(&self, who: &Principal, f: &QueueFilter) -> Result<QueuePage> {
        who.allow(crate::auth::READERS)
            .map_err(|d| AccessError::NotAllowed(d.to_string()))?;
        let mut cond = Condition::all();
        cond = match f.status {
            Some(s) => cond.add(row::Column::Status.eq(s.as_str())),
            None => cond.add(row::Column::Status.is_in([
                Status::Submitted.as_str(),
                Status::InReview.as_str(),
                Status::InfoRequested.as_str(),
            ])),
        };
        if let Some(p) = &f.party {
            cond = cond.add(row::Column::PartyId.eq(p.as_str()));
        }
        let total = row::Entity::find()
            .filter(cond.clone())
            .count(&self.db)
            .await?;
        if let Some(after) = f.after {
            cond = cond.add(row::Column::Id.gt(after));
        }
        let limit = f.limit.clamp(1, MAX_PAGE);
        let rows = row::Entity::find()
            .filter(cond)
            .order_by_asc(row::Column::Id)
            .limit(limit + 1)
            .all(&self.db)
            .await?;
        let more = rows.len() as u64 > limit;
        let items: Vec<AccessRequest> = rows
            .iter()
            .take(limit as usize)
            .map(|r| self.view(r))
            .collect();
        let next_after = more.then(|| items.last().map(|r| r.id)).flatten();
        Ok(QueuePage {
            items,
            total,
            next_after,
        })
    }

    /// The requester answers the officer's question: a message, and the request goes back to
    /// review.
    pub async fn answer(
        &self,
        actor: Actor<'_>,
        id_or_link: Either<'_>,
        body: &str,
    ) -> Result<AccessRequest> {
        let body = text(body, "your answer", true)?;
        let r = self.resolve(&actor, id_or_link).await?;
        self.move_to(r, Move::Answer, &actor, self.now(), |_, _| {}, Some(body))
            .await
    }

    /// The requester withdraws the request.
    pub async fn withdraw(
        &self,
        actor: Actor<'_>,
        id_or_link: Either<'_>,
    ) -> Result<AccessRequest> {
        let r = self.resolve(&actor, id_or_link).await?;
        self.move_to(r, Move::Withdraw, &actor, self.now(), |_, _| {}, None)
            .await
    }

    /// An officer picks the request up.
    pub async fn start_review(&self, who: &Principal, id: Uuid) -> Result<AccessRequest> {
        officer(who)?;
        let r = self.find(id).await?;
        self.move_to(
            r,
            Move::StartReview,
            &Actor::Principal(who),
            self.now(),
            |_, _| {},
            None,
        )
        .await
    }

    /// An officer asks the requester a question (a message; the request waits for them).
    pub async fn ask(&self, who: &Principal, id: Uuid, question: &str) -> Result<AccessRequest> {
        officer(who)?;
        let question = text(question, "your question", true)?;
        let r = self.find(id).await?;
        self.move_to(
            r,
            Move::AskRequester,
            &Actor::Principal(who),
            self.now(),
            |_, _| {},
            Some(question),
        )
        .await
    }

    /// A message in the thread without a move: from an officer, or the requester.
    pub async fn post_message(
        &self,
        actor: Actor<'_>,
        id_or_link: Either<'_>,
        body: &str,
    ) -> Result<AccessMessage> {
        let body = text(body, "a message", true)?;
        let r = self.resolve(&actor, id_or_link).await?;
        if status_of(&r).is_final() {
            return Err(AccessError::WrongState {
                status: status_of(&r),
                what: "written to",
            });
        }
        let now = self.now();
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let m = self.add_message(&txn, now, &r, &actor, &body).await?;
        log.append(
            now,
            Event {
                actor: &actor_name(&actor),
                action: "access.message",
                subject: subject(&r),
                details: serde_json::json!({ "reference": r.reference, "from_officer": m.from_officer }),
            },
        );
        let mail = self.mail_for(&r, "a new message", &body);
        if m.from_officer {
            self.send(
                &txn,
                now,
                &r.email,
                Kind::AccessUpdate,
                &AccessMail {
                    link: String::new(),
                    ..mail
                },
                None,
            )
            .await?;
        } else {
            self.notify_officers(&txn, now, &r, Kind::AccessUpdate, &mail)
                .await?;
        }
        log.commit(txn).await?;
        Ok(m)
    }
}
