//! The requester's answers: saved a step at a time (or all at once through the API), the
//! choices the form offers, and submitting.

use super::*;

impl Access {
    /// What the form may offer: the published agreements in force, and the organisations
    /// party to them that take requests (not processors, which act for another); when an
    /// agreement is addressed, its fields and data subjects. Nothing else is named.
    pub async fn choices(&self, answers: &Answers) -> Result<Choices> {
        let in_force = self.registry.agreements_in_force().await?;
        let in_force: Vec<_> = in_force.iter().filter(|(_, a)| a.published()).collect();
        let mut c = Choices::default();
        let mut parties: Vec<(String, String)> = Vec::new();
        for (_, a) in &in_force {
            c.targets.push((
                format!("agreement:{}", a.id),
                format!("Agreement: {}", a.title),
            ));
            for p in a.parties.iter().filter(|p| takes_requests(p)) {
                if !parties.iter().any(|(id, _)| id == p.id.as_str()) {
                    parties.push((p.id.to_string(), p.name.clone()));
                }
            }
        }
        parties.sort_by(|x, y| x.1.cmp(&y.1));
        c.targets.extend(
            parties
                .into_iter()
                .map(|(id, name)| (format!("party:{id}"), format!("Organisation: {name}"))),
        );
        if let Some(id) = answers.text("target").strip_prefix("agreement:")
            && let Some((_, a)) = in_force.iter().find(|(_, a)| a.id.as_str() == id)
        {
            c = c.with_agreement(a);
        }
        Ok(c)
    }

    /// What the request is addressed to, from the registry as it is now.
    pub(super) async fn addressed(&self, answers: &Answers) -> Result<Target> {
        let target = answers.text("target");
        let in_force = self.registry.agreements_in_force().await?;
        let in_force: Vec<_> = in_force.iter().filter(|(_, a)| a.published()).collect();
        if let Some(id) = target.strip_prefix("agreement:")
            && let Some((_, a)) = in_force.iter().find(|(_, a)| a.id.as_str() == id)
        {
            return Ok(Target::Agreement(Box::new((***a).clone())));
        }
        if let Some(id) = target.strip_prefix("party:") {
            for (_, a) in &in_force {
                if let Some(p) = a
                    .parties
                    .iter()
                    .find(|p| p.id.as_str() == id && takes_requests(p))
                {
                    return Ok(Target::Party(Box::new(p.clone())));
                }
            }
        }
        Err(AccessError::BadInput(
            "the agreement or organisation this request is addressed to is no longer in force"
                .into(),
        ))
    }

    /// Saves one step's answers from a posted form, if they pass; else every problem, and
    /// nothing saved. Only while the request is a draft or waiting for the requester.
    pub async fn save_step(
        &self,
        token: &str,
        step: Step,
        posted: &[(String, String)],
    ) -> Result<AccessRequest> {
        let r = self.row_by_link(token).await?;
        let status = status_of(&r);
        if !status.with_requester() {
            return Err(AccessError::WrongState {
                status,
                what: "changed",
            });
        }
        let answers: Answers = serde_json::from_str(&r.answers).unwrap_or_default();
        let answers = answers.with_step(step, posted);
        let choices = self.choices(&answers).await?;
        let problems = form::check_step(step, &answers, &choices, self.clock.today());
        if !problems.is_empty() {
            return Err(AccessError::Problems(problems));
        }
        let (organisation, agreement_id, party_id) = addressed_columns(&answers);
        let mut m = r.into_active_model();
        m.answers = Set(serde_json::to_string(&answers).unwrap_or_else(|_| "{}".into()));
        m.organisation = Set(organisation);
        m.agreement_id = Set(agreement_id);
        m.party_id = Set(party_id);
        m.updated_at = Set(stamp(self.now()));
        let r = m.update(&self.db).await?;
        Ok(self.view(&r))
    }

    /// Every step's problems (the task list), for the request's current answers.
    pub async fn progress(&self, req: &AccessRequest) -> Result<Vec<(Step, Vec<Problem>)>> {
        let choices = self.choices(&req.answers).await?;
        Ok(form::check_all(&req.answers, &choices, self.clock.today()))
    }

    /// Makes a request through the API, with all its answers at once: every problem of
    /// every step, or a draft owned by the calling token (it acts as the requester). The
    /// e-mail address gets its confirmation link, so the person can also use the pages.
    pub async fn create(
        &self,
        who: &Principal,
        email: &str,
        answers: Answers,
    ) -> Result<AccessRequest> {
        who.allow(crate::auth::REQUESTERS)
            .map_err(|d| AccessError::NotAllowed(d.to_string()))?;
        let email = people::normal_email(email)
            .map_err(|_| AccessError::Problems(vec![email_problem()]))?;
        let choices = self.choices(&answers).await?;
        let problems: Vec<Problem> = form::check_all(&answers, &choices, self.clock.today())
            .into_iter()
            .flat_map(|(_, p)| p)
            .collect();
        if !problems.is_empty() {
            return Err(AccessError::Problems(problems));
        }
        let now = self.now();
        let keys = start_keys(&format!("token:{}", who.id), &email);
        self.admit(now, &keys).await?;
        let token = random_secret()?;
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        throttle::note(&txn, now, &keys).await?;
        let r = self
            .insert(&txn, now, &email, Some(&token), Some(who.id), answers)
            .await?;
        log.append(
            now,
            Event {
                actor: &who.actor(),
                action: "access.started",
                subject: subject(&r),
                details: serde_json::json!({ "reference": r.reference, "email": email, "through": "api" }),
            },
        );
        self.send_confirm_link(&txn, now, &email, &token).await?;
        log.commit(txn).await?;
        Ok(self.view(&r))
    }

    /// Submits a complete draft. A second submit is refused (409), so one request results.
    pub async fn submit(&self, actor: Actor<'_>, id_or_link: Either<'_>) -> Result<AccessRequest> {
        let r = self.resolve(&actor, id_or_link).await?;
        let answers: Answers = serde_json::from_str(&r.answers).unwrap_or_default();
        let choices = self.choices(&answers).await?;
        let progress = form::check_all(&answers, &choices, self.clock.today());
        if progress.iter().any(|(_, p)| !p.is_empty()) {
            return Err(AccessError::Incomplete(
                progress
                    .into_iter()
                    .filter(|(_, p)| !p.is_empty())
                    .collect(),
            ));
        }
        let now = self.now();
        self.move_to(
            r,
            Move::Submit,
            &actor,
            now,
            |m, _| {
                m.submitted_at = Set(Some(stamp(now)));
            },
            None,
        )
        .await
    }
}
