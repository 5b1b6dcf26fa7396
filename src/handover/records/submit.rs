//! A contractor submits a version of an item: its text, its credentials table (for access
//! revocation) and its attachments, each checked for secrets, in one transaction with its
//! search entry and mail.

use super::*;

impl Handover {
    /// A contractor submits a version of one of its items.
    pub async fn submit(
        &self,
        who: &Principal,
        agreement_id: &str,
        id: Uuid,
        new: NewSubmission,
    ) -> Result<Item> {
        if who.role != Role::Contractor {
            return Err(HandoverError::NotAllowed(
                "only the contractor submits its handover".into(),
            ));
        }
        let body = new.body.trim().to_owned();
        if chars(&body) > MAX_BODY {
            return Err(HandoverError::BadInput(format!(
                "the text must be {MAX_BODY} characters or fewer"
            )));
        }
        if body.is_empty() {
            return Err(HandoverError::BadInput(
                "enter what you are handing over".into(),
            ));
        }
        if let Some(found) = secrets::find(&body) {
            return Err(HandoverError::Secret {
                field: "body",
                file: None,
                found,
            });
        }
        check_credentials(&new.credentials, self.today())?;
        if new.attachments.len() > MAX_ATTACHMENTS {
            return Err(Refused::TooMany.into());
        }
        let mut checked = Vec::with_capacity(new.attachments.len());
        for a in &new.attachments {
            let file = files::check(&a.name, &a.bytes)?;
            // Text is read with the same rules as typed text: a key in a .txt is a key.
            if let Some(text) = files::text(&file, &a.bytes)
                && let Some(found) = secrets::find(text)
            {
                return Err(HandoverError::Secret {
                    field: "files",
                    file: Some(file.name),
                    found,
                });
            }
            checked.push(file);
        }
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let r = self.row(&txn, agreement_id, id).await?;
        if who.bound_party() != Ok(r.party_id.as_str()) {
            return Err(forbidden());
        }
        let kind = Kind::parse(&r.kind).unwrap_or(Kind::Other);
        if kind.lists_credentials() && new.credentials.is_empty() {
            return Err(HandoverError::Credentials(vec![
                "list every account, key and credential you hold, who rotates each and when it was done".into(),
            ]));
        }
        if kind.lists_credentials()
            && let Some(unread) = checked.iter().find(|c| !files::is_text(c.media_type))
        {
            return Err(HandoverError::Unreadable(unread.name.clone()));
        }
        if !kind.lists_credentials() && !new.credentials.is_empty() {
            return Err(HandoverError::Credentials(vec![
                "credentials are listed only on an access-revocation item".into(),
            ]));
        }
        self.engagement_open(&txn, agreement_id, &r.party_id)
            .await?;
        let state = State::parse(&r.state).unwrap_or(State::Accepted);
        let next = items::next(state, Move::Submit).ok_or(HandoverError::WrongState {
            state,
            what: Move::Submit.verb(),
        })?;
        let now = self.clock.now();
        let number = r.latest + 1;
        let credentials = serde_json::to_string(&new.credentials).unwrap_or_else(|_| "[]".into());
        let mut hash = Sha256::new();
        hash.update(body.as_bytes());
        hash.update([0]);
        hash.update(credentials.as_bytes());
        for c in &checked {
            hash.update([0]);
            hash.update(c.sha256.as_bytes());
        }
        let sha256 = hex::encode(hash.finalize());
        let sub_id = Uuid::now_v7();
        submission::ActiveModel {
            id: Set(sub_id),
            item_id: Set(id),
            number: Set(number),
            body: Set(body),
            credentials: Set(credentials),
            submitted_at: Set(stamp(now)),
            submitted_by: Set(who.actor()),
            sha256: Set(sha256.clone()),
        }
        .insert(&txn)
        .await?;
        for (c, a) in checked.iter().zip(new.attachments) {
            attachment::ActiveModel {
                id: Set(Uuid::now_v7()),
                submission_id: Set(sub_id),
                item_id: Set(id),
                file_name: Set(c.name.clone()),
                media_type: Set(c.media_type.to_owned()),
                size: Set(c.size as i64),
                sha256: Set(c.sha256.clone()),
                content: Set(a.bytes),
            }
            .insert(&txn)
            .await?;
        }
        let r = self.moved(&txn, r, next, number, now, None).await?;
        let details = serde_json::json!({
            "item": r.item_key, "party": r.party_id, "number": number, "sha256": sha256,
            "attachments": checked.iter().map(|c| serde_json::json!({"name": c.name, "sha256": c.sha256})).collect::<Vec<_>>(),
        });
        let actor = who.actor();
        log.append(now, event(&actor, "handover.submitted", &r, details));
        self.mail(
            &txn,
            now,
            &r,
            MailKind::HandoverUpdate,
            Move::Submit.verb(),
            "",
            std::slice::from_ref(&r.owner_email),
        )
        .await?;
        log.commit(txn).await?;
        Ok(self.view(&r))
    }
}

/// The access-revocation rows: at most [`MAX_CREDENTIALS`], each cell given and within
/// [`MAX_CELL`], no secret in either, done on a real date no later than `today`.
fn check_credentials(rows: &[Credential], today: Date) -> Result<()> {
    if rows.len() > MAX_CREDENTIALS {
        return Err(HandoverError::Credentials(vec![format!(
            "list at most {MAX_CREDENTIALS} credentials"
        )]));
    }
    // Every problem of every row at once, so the contractor mends them in one go. A secret is
    // refused apart, naming the row and never the text.
    let mut problems = Vec::new();
    for (i, c) in rows.iter().enumerate() {
        let n = i + 1;
        for (what, cell) in [
            ("the account", &c.account),
            ("who rotates it", &c.rotated_by),
        ] {
            let cell = cell.trim();
            if cell.is_empty() || chars(cell) > MAX_CELL {
                problems.push(format!(
                    "credential {n}: enter {what}, in at most {MAX_CELL} characters"
                ));
            } else if secrets::find(cell).is_some() {
                return Err(HandoverError::Secret {
                    field: "credentials",
                    file: None,
                    found: secrets::Found {
                        line: n,
                        what: "a secret (name the credential, never its value)",
                    },
                });
            }
        }
        match c.done_on.parse::<Date>() {
            Err(_) => problems.push(format!(
                "credential {n}: the date it was done must be a date, YYYY-MM-DD"
            )),
            Ok(done) if done > today => problems.push(format!(
                "credential {n}: the date it was done cannot be in the future"
            )),
            Ok(_) => {}
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(HandoverError::Credentials(problems))
    }
}
