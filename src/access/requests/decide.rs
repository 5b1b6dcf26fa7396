//! The decision: the preview of what approval would draft (with any clash of party ids), the
//! approval (the draft into the registry and the signatory account, in one transaction), and
//! rejection.

use super::*;

impl Access {
    /// The draft approval would make now, with its findings and DPIA screening.
    pub async fn preview(&self, id: Uuid) -> Result<Preview> {
        let r = self.find(id).await?;
        let answers: Answers = serde_json::from_str(&r.answers).unwrap_or_default();
        let draft = self.draft(&r, &answers, None).await?;
        let checked =
            crate::check::check_blocking(draft.yaml.clone().into_bytes(), self.clock.today()).await;
        let findings: Vec<String> = checked
            .diagnostics
            .iter()
            .map(|d| format!("line {}: {} {}", d.pos.line, d.severity(), d.message))
            .collect();
        let errors = checked
            .diagnostics
            .iter()
            .filter(|d| d.severity() == Severity::Error)
            .count();
        let (screening, dpia_required) = match &checked.agreement {
            Some(a) => {
                let s = crate::dpia::screening::screen(a);
                (
                    s.fired_criteria().map(|c| c.title.to_owned()).collect(),
                    s.outcome == crate::dpia::screening::Outcome::Required,
                )
            }
            None => (Vec::new(), false),
        };
        Ok(Preview {
            agreement_id: draft.agreement_id,
            party_id: draft.party_id,
            clash: draft.clash,
            yaml: draft.yaml,
            findings,
            errors,
            screening,
            dpia_required,
        })
    }

    async fn draft(
        &self,
        r: &row::Model,
        answers: &Answers,
        as_party: Option<&str>,
    ) -> Result<drafting::Draft> {
        let target = self.addressed(answers).await?;
        let choices = self.choices(answers).await?;
        let taken = self.party_ids_in_use().await?;
        if let Some(id) = as_party
            && !self.registry.party_exists(id).await?
        {
            return Err(AccessError::BadInput(format!(
                "no agreement has a party '{id}' to map the requester to"
            )));
        }
        let addressed = match &target {
            Target::Agreement(a) => Addressed::Agreement(a),
            Target::Party(p) => Addressed::Organisation(p),
        };
        let d = Drafting {
            addressed,
            reference: &r.reference,
            today: self.clock.today(),
            choices: &choices,
            taken: &taken,
            as_party,
        };
        let mut drafted =
            drafting::draft(answers, &d).map_err(|e| AccessError::BadInput(e.to_string()))?;
        if matches!(target, Target::Party(_)) {
            // A new agreement needs an id nobody has used.
            let base = drafted.agreement_id.clone();
            let mut n = 2;
            while self.registry.agreement(&drafted.agreement_id).await.is_ok() {
                let id = format!("{base}-{n}");
                drafted.yaml = drafted.yaml.replacen(
                    &format!("\nid: {}\n", drafted.agreement_id),
                    &format!("\nid: {id}\n"),
                    1,
                );
                drafted.agreement_id = id;
                n += 1;
            }
        }
        Ok(drafted)
    }

    /// Every party id in use: named by any agreement, or bound to an account or a token.
    async fn party_ids_in_use(&self) -> Result<Vec<String>> {
        let mut ids = self.registry.party_ids().await?;
        let accounts: Vec<Option<String>> = user::Entity::find()
            .select_only()
            .column(user::Column::PartyId)
            .distinct()
            .into_tuple()
            .all(&self.db)
            .await?;
        let tokens: Vec<Option<String>> = api_token::Entity::find()
            .select_only()
            .column(api_token::Column::PartyId)
            .distinct()
            .into_tuple()
            .all(&self.db)
            .await?;
        ids.extend(accounts.into_iter().chain(tokens).flatten());
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    /// Rejects the request, with reasons.
    pub async fn reject(&self, who: &Principal, id: Uuid, reasons: &str) -> Result<AccessRequest> {
        officer(who)?;
        let reasons = text(reasons, "the reasons", true)?;
        let r = self.find(id).await?;
        let now = self.now();
        let by = who.name.clone();
        let role = who.role.to_string();
        self.move_to(
            r,
            Move::Reject,
            &Actor::Principal(who),
            now,
            |m, _| {
                m.decided_at = Set(Some(stamp(now)));
                m.decided_by = Set(Some(by));
                m.decided_role = Set(Some(role));
                m.decision_reasons = Set(Some(reasons));
            },
            None,
        )
        .await
    }

    /// Approves the request, with reasons and any conditions: drafts the agreement into the
    /// registry (in the same transaction), and, for the requester's organisation, makes a
    /// signatory account for the requester (unless one exists) whose set-password link goes in
    /// the decision's message.
    pub async fn approve(
        &self,
        who: &Principal,
        id: Uuid,
        reasons: &str,
        conditions: &str,
        as_party: Option<&str>,
    ) -> Result<AccessRequest> {
        officer(who)?;
        let reasons = text(reasons, "the reasons", true)?;
        let conditions = text(conditions, "the conditions", false)?;
        let r = self.find(id).await?;
        let status = status_of(&r);
        if states::next(status, Move::Approve).is_none() {
            return Err(AccessError::WrongState {
                status,
                what: "approved",
            });
        }
        if r.email_confirmed_at.is_none() {
            return Err(AccessError::Unconfirmed);
        }
        let answers: Answers = serde_json::from_str(&r.answers).unwrap_or_default();
        let drafted = self.draft(&r, &answers, as_party).await?;
        let checked =
            crate::check::check_blocking(drafted.yaml.clone().into_bytes(), self.clock.today())
                .await;
        if checked.agreement.is_none() {
            return Err(AccessError::DraftInvalid(checked.diagnostics));
        }
        let now = self.now();
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        // Re-read under the writers' lock: a racing decision loses here.
        let r = row::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or(AccessError::NotFound)?;
        let status = status_of(&r);
        if states::next(status, Move::Approve).is_none() {
            return Err(AccessError::WrongState {
                status,
                what: "approved",
            });
        }
        let account_link = self
            .signatory_account(&txn, &mut log, now, &r, &drafted.party_id, who)
            .await?;
        let mut m = r.clone().into_active_model();
        m.status = Set(Status::Approved.as_str().to_owned());
        m.status_since = Set(stamp(now));
        m.updated_at = Set(stamp(now));
        m.decided_at = Set(Some(stamp(now)));
        m.decided_by = Set(Some(who.name.clone()));
        m.decided_role = Set(Some(who.role.to_string()));
        m.decision_reasons = Set(Some(reasons.clone()));
        m.conditions = Set((!conditions.is_empty()).then(|| conditions.clone()));
        m.drafted_agreement = Set(Some(drafted.agreement_id.clone()));
        let updated = m.update(&txn).await?;
        log.append(
            now,
            Event {
                actor: &who.actor(),
                action: "access.approved",
                subject: subject(&r),
                details: serde_json::json!({
                    "reference": r.reference, "reasons": reasons, "conditions": conditions,
                    "agreement": drafted.agreement_id, "role": who.role.to_string(),
                    "party": drafted.party_id, "mapped_to_existing_party": as_party.is_some(),
                }),
            },
        );
        let mut mail = self.mail_for(
            &r,
            if conditions.is_empty() {
                "approved"
            } else {
                "approved with conditions"
            },
            &reasons,
        );
        mail.conditions = conditions.clone();
        mail.decided_by = format!("{} ({})", who.name, who.role);
        mail.link = account_link.unwrap_or_default();
        // An agreement id is a slug: safe in a path as it is.
        mail.agreement_link = self.link(&format!("/agreements/{}", drafted.agreement_id));
        self.send(&txn, now, &r.email, Kind::AccessDecision, &mail, None)
            .await?;
        let info = self
            .registry
            .add_version_in(txn, log, &drafted.yaml, &who.actor())
            .await
            .map_err(|e| match e {
                RegistryError::Invalid(d) => AccessError::DraftInvalid(d),
                other => AccessError::Registry(other),
            })?;
        // The version's number is known only once stored; record it (a second, small write).
        let mut m = updated.into_active_model();
        m.drafted_version = Set(Some(info.number));
        let updated = m.update(&self.db).await?;
        Ok(self.view(&updated))
    }

    /// A signatory account for the requester at their organisation's new party, with a
    /// set-password link, unless they have an account already.
    async fn signatory_account(
        &self,
        txn: &DatabaseTransaction,
        log: &mut Writer,
        now: Timestamp,
        r: &row::Model,
        party: &str,
        who: &Principal,
    ) -> Result<Option<String>> {
        let answers: Answers = serde_json::from_str(&r.answers).unwrap_or_default();
        let exists = user::Entity::find()
            .filter(user::Column::Email.eq(r.email.as_str()))
            .count(txn)
            .await?
            > 0;
        if exists {
            return Ok(None);
        }
        let name = match answers.text("requester_name") {
            "" => r.email.as_str(),
            n => n,
        };
        let (_, link) = people::accounts::create_in(
            txn,
            log,
            now,
            people::NewUser {
                email: &r.email,
                name,
                role: Role::Signatory,
                party: Some(party),
            },
            &who.actor(),
        )
        .await?;
        Ok(Some(self.link(&format!("/set-password/{link}"))))
    }
}
