//! The requester's links: the e-mail confirmation that starts a request, the private link that
//! is its key (sent, renewed, read), and erasing requests closed long enough ago.

use super::*;

impl Access {
    /// The request a private link opens. An unknown or unconfirmed link is [`AccessError::BadLink`].
    pub async fn by_link(&self, token: &str) -> Result<AccessRequest> {
        Ok(self.view(&self.row_by_link(token).await?))
    }

    /// Starts a request for `email` (from `address`): a draft, and a one-time link to confirm
    /// the address, sent through the outbox. Throttled per address and per e-mail. The answer
    /// is the same whether or not the e-mail has requests already, so nothing is revealed.
    pub async fn start(&self, email: &str, address: &str) -> Result<()> {
        let email = people::normal_email(email)
            .map_err(|_| AccessError::Problems(vec![email_problem()]))?;
        let now = self.now();
        let keys = start_keys(address, &email);
        self.admit(now, &keys).await?;
        let token = random_secret()?;
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        throttle::note(&txn, now, &keys).await?;
        let r = self
            .insert(&txn, now, &email, Some(&token), None, Answers::default())
            .await?;
        log.append(
            now,
            Event {
                actor: "requester",
                action: "access.started",
                subject: subject(&r),
                details: serde_json::json!({ "reference": r.reference, "email": email }),
            },
        );
        self.send_confirm_link(&txn, now, &email, &token).await?;
        log.commit(txn).await?;
        Ok(())
    }

    /// `Err(Throttled)` once the asker or the mailbox has started its share of requests in
    /// the window: the same limits for the public form and the API.
    pub(super) async fn admit(&self, now: Timestamp, [by, mailbox]: &[String; 2]) -> Result<()> {
        if throttle::count_recent(&self.db, now, by).await? >= STARTS_PER_ADDRESS
            || throttle::count_recent(&self.db, now, mailbox).await? >= STARTS_PER_EMAIL
        {
            return Err(AccessError::Throttled);
        }
        Ok(())
    }

    pub(super) async fn insert(
        &self,
        txn: &DatabaseTransaction,
        now: Timestamp,
        email: &str,
        confirm_token: Option<&str>,
        owner: Option<Uuid>,
        answers: Answers,
    ) -> Result<row::Model> {
        let mut reference = new_reference()?;
        while row::Entity::find()
            .filter(row::Column::Reference.eq(&reference))
            .count(txn)
            .await?
            > 0
        {
            reference = new_reference()?;
        }
        let at = stamp(now);
        let (organisation, agreement_id, party_id) = addressed_columns(&answers);
        let model = row::ActiveModel {
            id: Set(Uuid::now_v7()),
            reference: Set(reference),
            status: Set(Status::Draft.as_str().to_owned()),
            email: Set(email.to_owned()),
            email_confirmed_at: Set(None),
            confirm_hash: Set(confirm_token.map(hash_secret)),
            confirm_expires_at: Set(
                confirm_token.map(|_| stamp(people::after(now, CONFIRM_LIFETIME)))
            ),
            resume_hash: Set(None),
            resume_expires_at: Set(None),
            erased_at: Set(None),
            owner: Set(owner),
            answers: Set(serde_json::to_string(&answers).unwrap_or_else(|_| "{}".into())),
            organisation: Set(organisation),
            agreement_id: Set(agreement_id),
            party_id: Set(party_id),
            created_at: Set(at.clone()),
            updated_at: Set(at.clone()),
            submitted_at: Set(None),
            status_since: Set(at),
            requester_secs: Set(0),
            decided_at: Set(None),
            decided_by: Set(None),
            decided_role: Set(None),
            decision_reasons: Set(None),
            conditions: Set(None),
            drafted_agreement: Set(None),
            drafted_version: Set(None),
        };
        Ok(model.insert(txn).await?)
    }

    /// Uses a confirmation link (once): the e-mail address is confirmed, and the private link
    /// is made, sent by mail, and returned so the requester can go straight on.
    pub async fn confirm(&self, token: &str) -> Result<(AccessRequest, String)> {
        if token.len() != 64 {
            return Err(AccessError::BadLink);
        }
        let now = self.now();
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let Some(r) = row::Entity::find()
            .filter(row::Column::ConfirmHash.eq(hash_secret(token)))
            .one(&txn)
            .await?
        else {
            return Err(AccessError::BadLink);
        };
        let expired = r
            .confirm_expires_at
            .as_deref()
            .and_then(parse)
            .is_none_or(|t| t <= now);
        if expired {
            return Err(AccessError::BadLink);
        }
        let mut m = r.clone().into_active_model();
        m.confirm_hash = Set(None);
        m.confirm_expires_at = Set(None);
        m.email_confirmed_at = Set(Some(stamp(now)));
        let (r, resume) = self
            .send_private_link(&txn, &mut log, now, m, "access.email_confirmed")
            .await?;
        log.commit(txn).await?;
        Ok((self.view(&r), resume))
    }

    /// Gives `m`'s request a new private link, saves it, audits `action` and mails the link to
    /// the requester: what confirming an address and renewing a link both do.
    async fn send_private_link(
        &self,
        txn: &DatabaseTransaction,
        log: &mut Writer,
        now: Timestamp,
        mut m: row::ActiveModel,
        action: &str,
    ) -> Result<(row::Model, String)> {
        let resume = self.new_private_link(&mut m, now)?;
        m.updated_at = Set(stamp(now));
        let r = m.update(txn).await?;
        log.append(
            now,
            Event {
                actor: "requester",
                action,
                subject: subject(&r),
                details: serde_json::json!({ "reference": r.reference }),
            },
        );
        let mail = AccessMail {
            reference: r.reference.clone(),
            link: self.link(&format!("/request-access/r/{resume}")),
            ..Default::default()
        };
        self.send(txn, now, &r.email, Kind::AccessLink, &mail, None)
            .await?;
        Ok((r, resume))
    }

    /// A new private link for a request: its hash and lifetime set on `m` (the old link stops
    /// working), and the link to mail.
    pub(super) fn new_private_link(
        &self,
        m: &mut row::ActiveModel,
        now: Timestamp,
    ) -> Result<String> {
        let resume = random_secret()?;
        m.resume_hash = Set(Some(hash_secret(&resume)));
        m.resume_expires_at = Set(Some(stamp(now + self.link_lifetime())));
        Ok(resume)
    }

    /// Sends `email` a new private link for each of its requests not yet decided or
    /// withdrawn whose address was confirmed (the old link stops working). Throttled as a
    /// start is, and the answer is the same whether or not there are any, so nothing is
    /// revealed about the address.
    pub async fn renew(&self, email: &str, address: &str) -> Result<()> {
        let email = people::normal_email(email)
            .map_err(|_| AccessError::Problems(vec![email_problem()]))?;
        let now = self.now();
        let keys = start_keys(address, &email);
        self.admit(now, &keys).await?;
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        throttle::note(&txn, now, &keys).await?;
        let open = row::Entity::find()
            .filter(row::Column::Email.eq(email.as_str()))
            .filter(row::Column::EmailConfirmedAt.is_not_null())
            .all(&txn)
            .await?;
        for r in open.into_iter().filter(|r| !status_of(r).is_final()) {
            self.send_private_link(
                &txn,
                &mut log,
                now,
                r.into_active_model(),
                "access.link_renewed",
            )
            .await?;
        }
        log.commit(txn).await?;
        Ok(())
    }

    /// Erases the requester's personal details from every request closed (approved, rejected
    /// or withdrawn) more than the kept period ago, as the privacy notice promises: the e-mail
    /// address, the people's names, roles and addresses among the answers, and the thread's
    /// messages; its links stop working. The reference, the organisation and the dates stay,
    /// for the record and the figures. One transaction, audited with how many (no details).
    pub async fn erase_closed(&self) -> Result<u64> {
        let now = self.now();
        let before =
            now - jiff::SignedDuration::from_hours(24 * i64::from(self.service.keep_closed_days));
        let closed = [Status::Approved, Status::Rejected, Status::Withdrawn].map(Status::as_str);
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let due = row::Entity::find()
            .filter(row::Column::Status.is_in(closed))
            .filter(row::Column::StatusSince.lt(stamp(before)))
            .filter(row::Column::ErasedAt.is_null())
            .all(&txn)
            .await?;
        for r in &due {
            let mut answers: Answers = serde_json::from_str(&r.answers).unwrap_or_default();
            for key in PERSONAL_ANSWERS {
                answers.0.remove(key);
            }
            let mut m = r.clone().into_active_model();
            m.email = Set(String::new());
            m.answers = Set(serde_json::to_string(&answers).unwrap_or_else(|_| "{}".into()));
            m.confirm_hash = Set(None);
            m.confirm_expires_at = Set(None);
            m.resume_hash = Set(None);
            m.resume_expires_at = Set(None);
            m.erased_at = Set(Some(stamp(now)));
            m.update(&txn).await?;
            msg::Entity::update_many()
                .col_expr(
                    msg::Column::Body,
                    sea_orm::sea_query::Expr::value("(erased)"),
                )
                .filter(msg::Column::RequestId.eq(r.id))
                .exec(&txn)
                .await?;
        }
        let erased = due.len() as u64;
        if erased > 0 {
            log.append(
                now,
                Event {
                    actor: "scheduler",
                    action: "access.erased",
                    subject: "access_requests".to_owned(),
                    details: serde_json::json!({
                        "requests": erased,
                        "closed_before": stamp(before),
                        "kept_days": self.service.keep_closed_days,
                    }),
                },
            );
        }
        log.commit(txn).await?;
        Ok(erased)
    }
}
