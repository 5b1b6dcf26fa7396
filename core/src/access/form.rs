//! The access-request form as data: its steps (the ICO data sharing code's request form, Annex
//! B, one thing per page), each step's questions, and the rules an answer must meet. Pure: the
//! choices that depend on the registry (which agreements and organisations can be asked, which
//! fields an agreement has) come in a [`Choices`].
//!
//! Answers are kept as typed in, by question name ([`Answers`]); a step is saved only when
//! [`check_step`] finds nothing wrong with it, and [`Complete`] is built only from answers where
//! every step passes.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::agreement::values::{Email, parse_date};
use crate::agreement::vocab::{
    Article6, Article9, Article10, DeletionMethod, DsptStatus, FieldCategory, Frequency,
    RetentionAction, Schedule1, Sector,
};
use crate::dpia::labels;

/// Longest one-line answer, in characters.
pub const SHORT: usize = 200;
/// Longest paragraph answer, in characters.
pub const LONG: usize = 4000;
/// Most choices one question takes.
pub const MAX_CHOICES: usize = 200;

/// What a question takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Paragraph,
    Email,
    Date,
    /// One of the choices (radios or a select).
    One(Source),
    /// Any number of the choices (checkboxes).
    Many(Source),
}

/// Where a question's choices come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    YesNo,
    Sectors,
    Dspt,
    /// Agreements in force and organisations in the registry ([`Choices::targets`]).
    Targets,
    /// The addressed agreement's fields, or field categories when an organisation is addressed.
    Data,
    Subjects,
    Frequencies,
    Article6,
    Article9,
    Schedule1,
    Article10,
    Durations,
    Actions,
    DeletionMethods,
}

/// One question.
#[derive(Debug, Clone, Copy)]
pub struct Question {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub kind: Kind,
    /// Must be answered (conditional requirements are in [`check_step`]).
    pub required: bool,
}

const fn q(name: &'static str, label: &'static str, hint: &'static str, kind: Kind) -> Question {
    Question {
        name,
        label,
        hint,
        kind,
        required: true,
    }
}

const fn optional(
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    kind: Kind,
) -> Question {
    Question {
        name,
        label,
        hint,
        kind,
        required: false,
    }
}

/// A page of the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Organisation,
    Contacts,
    Addressed,
    Purpose,
    Data,
    LawfulBasis,
    Retention,
    Onward,
    Rights,
    Dates,
}

impl Step {
    pub const ALL: [Step; 10] = [
        Step::Organisation,
        Step::Contacts,
        Step::Addressed,
        Step::Purpose,
        Step::Data,
        Step::LawfulBasis,
        Step::Retention,
        Step::Onward,
        Step::Rights,
        Step::Dates,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Step::Organisation => "organisation",
            Step::Contacts => "contacts",
            Step::Addressed => "addressed-to",
            Step::Purpose => "purpose",
            Step::Data => "data",
            Step::LawfulBasis => "lawful-basis",
            Step::Retention => "retention",
            Step::Onward => "onward-sharing",
            Step::Rights => "rights",
            Step::Dates => "dates",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.slug() == slug)
    }

    pub fn title(self) -> &'static str {
        match self {
            Step::Organisation => "Your organisation",
            Step::Contacts => "Who is asking",
            Step::Addressed => "Who you are asking",
            Step::Purpose => "Why you need the data",
            Step::Data => "What data you need",
            Step::LawfulBasis => "Your lawful basis",
            Step::Retention => "How long you will keep it",
            Step::Onward => "Onward sharing and processors",
            Step::Rights => "Individuals' rights",
            Step::Dates => "When sharing starts and ends",
        }
    }

    /// The step after this one, if any.
    pub fn next(self) -> Option<Step> {
        let i = Step::ALL.iter().position(|s| *s == self)?;
        Step::ALL.get(i + 1).copied()
    }

    pub fn questions(self) -> &'static [Question] {
        use Kind::*;
        match self {
            Step::Organisation => {
                const Q: &[Question] = &[
                    q("org_name", "Organisation name", "", Text),
                    optional(
                        "org_ico",
                        "ICO registration number",
                        "For example, ZA123456. Leave blank if your organisation is exempt.",
                        Text,
                    ),
                    q("org_address", "Postal address", "", Paragraph),
                    q("org_sector", "Sector", "", One(Source::Sectors)),
                    optional(
                        "dspt_status",
                        "Data Security and Protection Toolkit status",
                        "Leave blank if you do not publish a toolkit assessment.",
                        One(Source::Dspt),
                    ),
                    optional(
                        "dspt_expires",
                        "When that toolkit assessment expires",
                        "For example, 2027-06-30",
                        Date,
                    ),
                    optional(
                        "cyber_essentials_expires",
                        "When your Cyber Essentials certificate expires",
                        "For example, 2027-05-31. Leave blank if you do not hold one.",
                        Date,
                    ),
                    q(
                        "iso27001",
                        "Is your organisation certified to ISO/IEC 27001?",
                        "",
                        One(Source::YesNo),
                    ),
                ];
                Q
            }
            Step::Contacts => {
                const Q: &[Question] = &[
                    q("requester_name", "Your full name", "", Text),
                    q("requester_role", "Your job title", "", Text),
                    q(
                        "requester_email",
                        "Your work e-mail address",
                        "We send a link to this address so you can come back to the request.",
                        Email,
                    ),
                    q(
                        "dpo_name",
                        "Your data protection officer's name",
                        "Or the person responsible for data protection",
                        Text,
                    ),
                    q("dpo_email", "Their e-mail address", "", Email),
                ];
                Q
            }
            Step::Addressed => {
                const Q: &[Question] = &[q(
                    "target",
                    "Which agreement or organisation are you asking?",
                    "Choose an agreement to join it, or an organisation to ask for a new agreement.",
                    One(Source::Targets),
                )];
                Q
            }
            Step::Purpose => {
                const Q: &[Question] = &[
                    q(
                        "purpose",
                        "What will you use the data for?",
                        "Say what you will do with it, not only why it matters.",
                        Paragraph,
                    ),
                    q(
                        "benefits",
                        "What are the expected benefits, and for whom?",
                        "",
                        Paragraph,
                    ),
                    q(
                        "necessity",
                        "Why is sharing necessary and proportionate?",
                        "Say why you could not meet the purpose with less data, or none.",
                        Paragraph,
                    ),
                ];
                Q
            }
            Step::Data => {
                const Q: &[Question] = &[
                    q(
                        "data",
                        "Which data do you need?",
                        "Ask only for what the purpose needs. Special category and criminal offence \
                     data are marked.",
                        Many(Source::Data),
                    ),
                    q(
                        "subjects",
                        "Whose data is it?",
                        "The people the data is about",
                        Many(Source::Subjects),
                    ),
                    q(
                        "volume",
                        "How much data?",
                        "For example, about 200 residents a month",
                        Text,
                    ),
                    q(
                        "frequency",
                        "How often will it be shared?",
                        "",
                        One(Source::Frequencies),
                    ),
                ];
                Q
            }
            Step::LawfulBasis => {
                const Q: &[Question] = &[
                    q(
                        "article6",
                        "Your Article 6 lawful basis",
                        "UK GDPR Article 6(1)",
                        One(Source::Article6),
                    ),
                    optional(
                        "legal_power",
                        "The legal power you rely on",
                        "Needed for public task and legal obligation: the Act and section",
                        Paragraph,
                    ),
                    optional(
                        "article9",
                        "Your Article 9 condition",
                        "Needed when you ask for special category data",
                        One(Source::Article9),
                    ),
                    optional(
                        "schedule1",
                        "The DPA 2018 Schedule 1 condition",
                        "Needed for some Article 9 conditions",
                        One(Source::Schedule1),
                    ),
                    optional(
                        "policy_document",
                        "Where your appropriate policy document is published",
                        "A web address. Needed for Schedule 1 paragraph 1 and Part 2 conditions.",
                        Text,
                    ),
                    optional(
                        "article10",
                        "Your Article 10 basis",
                        "Needed when you ask for criminal offence data",
                        One(Source::Article10),
                    ),
                ];
                Q
            }
            Step::Retention => {
                const Q: &[Question] = &[
                    q(
                        "keep_for",
                        "How long will you keep the data after you receive it?",
                        "",
                        One(Source::Durations),
                    ),
                    q("then", "What happens to it then?", "", One(Source::Actions)),
                    q(
                        "deletion_method",
                        "How should we ask you to delete it when the time comes?",
                        "",
                        One(Source::DeletionMethods),
                    ),
                    optional(
                        "deletion_email",
                        "The e-mail address for deletion requests",
                        "Needed when deletion requests come by e-mail",
                        Email,
                    ),
                ];
                Q
            }
            Step::Onward => {
                const Q: &[Question] = &[
                    q(
                        "onward",
                        "Will you share the data with anyone else?",
                        "",
                        One(Source::YesNo),
                    ),
                    optional(
                        "onward_details",
                        "With whom, and why?",
                        "Needed if you will share it",
                        Paragraph,
                    ),
                    q(
                        "processors",
                        "Will a processor handle the data for you?",
                        "For example, a hosting or software supplier",
                        One(Source::YesNo),
                    ),
                    optional(
                        "processor_details",
                        "Which processors, and where do they hold the data?",
                        "Needed if a processor will handle it",
                        Paragraph,
                    ),
                ];
                Q
            }
            Step::Rights => {
                const Q: &[Question] = &[
                    q(
                        "rights",
                        "How will you handle requests from the people the data is about?",
                        "Access, rectification, objection and erasure requests: who answers, and how \
                     fast",
                        Paragraph,
                    ),
                    q(
                        "rights_email",
                        "The e-mail address people use for those requests",
                        "",
                        Email,
                    ),
                ];
                Q
            }
            Step::Dates => {
                const Q: &[Question] = &[
                    q(
                        "start",
                        "When should sharing start?",
                        "For example, 2027-01-04",
                        Date,
                    ),
                    q(
                        "end",
                        "When should it end?",
                        "For example, 2028-01-03. Agreements are reviewed at least yearly.",
                        Date,
                    ),
                ];
                Q
            }
        }
    }
}

/// One answer: one value, or the values of a multiple-choice question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    One(String),
    Many(Vec<String>),
}

/// Everything typed so far, by question name. Only saved steps are here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answers(pub BTreeMap<String, Answer>);

impl Answers {
    /// One answer's text ("" when unanswered or multiple).
    pub fn text(&self, name: &str) -> &str {
        match self.0.get(name) {
            Some(Answer::One(s)) => s,
            _ => "",
        }
    }

    /// A multiple-choice answer's values (empty when unanswered).
    pub fn many(&self, name: &str) -> &[String] {
        match self.0.get(name) {
            Some(Answer::Many(v)) => v,
            _ => &[],
        }
    }

    /// Whether any question of `step` has an answer.
    pub fn started(&self, step: Step) -> bool {
        step.questions().iter().any(|q| self.0.contains_key(q.name))
    }

    /// The answers `step` takes from a posted form (`name`, value pairs, in order): known
    /// names only, blanks trimmed, one value for single questions (the last), every value
    /// for multiple ones. Other steps' answers are kept.
    pub fn with_step(&self, step: Step, posted: &[(String, String)]) -> Answers {
        let mut out = self.clone();
        for question in step.questions() {
            let values: Vec<String> = posted
                .iter()
                .filter(|(k, _)| k == question.name)
                .map(|(_, v)| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .collect();
            let answer = match question.kind {
                Kind::Many(_) => {
                    let mut seen = std::collections::BTreeSet::new();
                    let unique: Vec<String> = values
                        .into_iter()
                        .filter(|v| seen.insert(v.clone()))
                        .collect();
                    (!unique.is_empty()).then_some(Answer::Many(unique))
                }
                _ => values.into_iter().next_back().map(Answer::One),
            };
            match answer {
                Some(a) => out.0.insert(question.name.to_owned(), a),
                None => out.0.remove(question.name),
            };
        }
        out
    }
}

/// What can be asked: the registry's side of the form's choices.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    /// `agreement:ID` or `party:ID`, and a label, for every agreement in force and every
    /// organisation that is a party to one.
    pub targets: Vec<(String, String)>,
    /// The addressed agreement's fields, when an agreement is addressed: id, description,
    /// category.
    pub fields: Vec<(String, String, FieldCategory)>,
    /// The addressed agreement's data subjects, offered beside the usual ones.
    pub subjects: Vec<String>,
}

impl Choices {
    /// The fields and data subjects `agreement` offers a request addressed to it.
    pub fn with_agreement(mut self, agreement: &crate::agreement::model::Agreement) -> Choices {
        self.fields = agreement
            .fields
            .iter()
            .map(|f| {
                (
                    f.id.to_string(),
                    f.description.clone().unwrap_or_default(),
                    f.category,
                )
            })
            .collect();
        self.subjects = agreement.data_subjects.clone();
        self
    }
}

/// The usual data subjects, offered whatever is addressed.
pub const SUBJECTS: &[&str] = &[
    "residents",
    "children",
    "vulnerable_adults",
    "patients",
    "service_users",
    "carers",
    "tenants",
    "pupils",
    "staff",
    "offenders",
    "victims",
];

/// How long data may be kept, as offered.
pub const DURATIONS: &[(&str, &str)] = &[
    ("P1M", "1 month"),
    ("P3M", "3 months"),
    ("P6M", "6 months"),
    ("P1Y", "1 year"),
    ("P2Y", "2 years"),
    ("P3Y", "3 years"),
    ("P6Y", "6 years"),
];

/// A choice offered: its value, its label, and whether it is special category or criminal
/// offence data (flagged beside it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Offered {
    pub value: String,
    pub label: String,
    pub flag: Option<&'static str>,
}

fn offered(value: &str, label: impl Into<String>) -> Offered {
    Offered {
        value: value.to_owned(),
        label: label.into(),
        flag: None,
    }
}

fn flag(c: FieldCategory) -> Option<&'static str> {
    if c.is_special() {
        Some("Special category data")
    } else if c.is_criminal() {
        Some("Criminal offence data")
    } else {
        None
    }
}

/// The answer that takes back an optional single choice: no value.
pub const NONE_OF_THESE: &str = "None of these";

/// What a question offers on its page, in order: its source's choices and, for an optional
/// single choice, a last "None of these" with no value, so a choice made by mistake can always
/// be undone (saving it removes the answer).
pub fn options_for(question: &Question, choices: &Choices) -> Vec<Offered> {
    match question.kind {
        Kind::One(source) => {
            let mut all = options(source, choices);
            if !question.required {
                all.push(offered("", NONE_OF_THESE));
            }
            all
        }
        Kind::Many(source) => options(source, choices),
        _ => Vec::new(),
    }
}

/// The choices a source offers.
pub fn options(source: Source, choices: &Choices) -> Vec<Offered> {
    match source {
        Source::YesNo => vec![offered("yes", "Yes"), offered("no", "No")],
        Source::Sectors => Sector::ALL
            .iter()
            .map(|s| offered(s.as_str(), labels::sector(*s)))
            .collect(),
        Source::Dspt => DsptStatus::ALL
            .iter()
            .map(|s| offered(s.as_str(), labels::dspt(*s)))
            .collect(),
        Source::Targets => choices
            .targets
            .iter()
            .map(|(v, l)| offered(v, l.clone()))
            .collect(),
        Source::Data if !choices.fields.is_empty() => choices
            .fields
            .iter()
            .map(|(id, description, c)| Offered {
                value: id.clone(),
                label: if description.is_empty() {
                    id.clone()
                } else {
                    format!("{id}: {description}")
                },
                flag: flag(*c),
            })
            .collect(),
        Source::Data => FieldCategory::ALL
            .iter()
            .map(|c| Offered {
                value: c.as_str().to_owned(),
                label: labels::category(*c).to_owned(),
                flag: flag(*c),
            })
            .collect(),
        Source::Subjects => {
            let mut all: Vec<String> = choices.subjects.clone();
            for s in SUBJECTS {
                if !all.iter().any(|a| a == s) {
                    all.push((*s).to_owned());
                }
            }
            all.iter()
                .map(|s| offered(s, s.replace('_', " ")))
                .collect()
        }
        Source::Frequencies => Frequency::ALL
            .iter()
            .map(|f| offered(f.as_str(), labels::frequency(*f)))
            .collect(),
        Source::Article6 => Article6::ALL
            .iter()
            .map(|a| offered(a.as_str(), labels::article6(*a)))
            .collect(),
        Source::Article9 => Article9::ALL
            .iter()
            .map(|a| offered(a.as_str(), labels::article9(*a)))
            .collect(),
        Source::Schedule1 => Schedule1::ALL
            .iter()
            .map(|a| offered(a.as_str(), labels::schedule1(*a)))
            .collect(),
        Source::Article10 => Article10::ALL
            .iter()
            .map(|a| offered(a.as_str(), labels::article10(*a)))
            .collect(),
        Source::Durations => DURATIONS.iter().map(|(v, l)| offered(v, *l)).collect(),
        Source::Actions => RetentionAction::ALL
            .iter()
            .map(|a| offered(a.as_str(), labels::retention_action(*a)))
            .collect(),
        Source::DeletionMethods => [DeletionMethod::Email, DeletionMethod::Manual]
            .iter()
            .map(|m| offered(m.as_str(), labels::deletion(*m)))
            .collect(),
    }
}

/// Something wrong with an answer: which question, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub field: &'static str,
    pub message: String,
}

fn problem(field: &'static str, message: impl Into<String>) -> Problem {
    Problem {
        field,
        message: message.into(),
    }
}

/// What is wrong with `step`'s answers: every problem, in question order. `today` bounds the
/// dates (sharing cannot start in the past).
pub fn check_step(step: Step, a: &Answers, choices: &Choices, today: Date) -> Vec<Problem> {
    let mut out = Vec::new();
    for question in step.questions() {
        check_question(question, a, choices, &mut out);
    }
    let needs = |out: &mut Vec<Problem>, name: &'static str, message: &str| {
        if a.text(name).is_empty() && !out.iter().any(|p| p.field == name) {
            out.push(problem(name, message));
        }
    };
    match step {
        Step::Organisation => {
            if !a.text("dspt_status").is_empty() {
                needs(
                    &mut out,
                    "dspt_expires",
                    "Enter when your toolkit assessment expires",
                );
            }
            let ico = a.text("org_ico");
            let fits = ico.is_empty()
                || (ico.len() <= 12 && ico.chars().all(|c| c.is_ascii_alphanumeric()));
            if !fits {
                out.push(problem(
                    "org_ico",
                    "Enter the ICO registration number as letters and digits, for example ZA123456",
                ));
            }
        }
        Step::LawfulBasis => {
            let (needed, special, criminal) = lawful_needs(a, choices);
            if needed.legal_power {
                needs(
                    &mut out,
                    "legal_power",
                    "Enter the legal power you rely on: public task and legal obligation need one",
                );
            }
            if special {
                needs(
                    &mut out,
                    "article9",
                    "Choose an Article 9 condition: you asked for special category data",
                );
            }
            if criminal {
                needs(
                    &mut out,
                    "article10",
                    "Choose an Article 10 basis: you asked for criminal offence data",
                );
            }
            if let Some(need) =
                Article9::from_text(a.text("article9")).and_then(|c| c.needs_schedule1())
            {
                match Schedule1::from_text(a.text("schedule1")) {
                    None => needs(
                        &mut out,
                        "schedule1",
                        &format!("Choose the Schedule 1 condition: this Article 9 condition needs {}", need.describe()),
                    ),
                    Some(code) if !need.is_met_by(code) => out.push(problem(
                        "schedule1",
                        format!("Choose {}: it is the Schedule 1 condition this Article 9 condition needs", need.describe()),
                    )),
                    Some(_) => {}
                }
            }
            if a.text("article10") == Article10::Schedule1.as_str()
                && a.text("schedule1").is_empty()
            {
                needs(
                    &mut out,
                    "schedule1",
                    "Choose the Schedule 1 condition your Article 10 basis relies on",
                );
            }
            let code = Schedule1::from_text(a.text("schedule1"));
            if code.is_some_and(Schedule1::needs_policy_document) {
                needs(
                    &mut out,
                    "policy_document",
                    "Enter where your appropriate policy document is published: this Schedule 1 condition needs one",
                );
            }
            let url = a.text("policy_document");
            let web = url.is_empty() || url.starts_with("https://") || url.starts_with("http://");
            if !web {
                out.push(problem(
                    "policy_document",
                    "Enter a web address starting with https://",
                ));
            }
        }
        Step::Retention if a.text("deletion_method") == DeletionMethod::Email.as_str() => {
            needs(
                &mut out,
                "deletion_email",
                "Enter the e-mail address for deletion requests",
            );
        }
        Step::Onward => {
            if a.text("onward") == "yes" {
                needs(
                    &mut out,
                    "onward_details",
                    "Say with whom you will share the data, and why",
                );
            }
            if a.text("processors") == "yes" {
                needs(
                    &mut out,
                    "processor_details",
                    "Say which processors will handle the data, and where",
                );
            }
        }
        Step::Dates => {
            if let (Some(start), Some(end)) =
                (parse_date(a.text("start")), parse_date(a.text("end")))
                && end <= start
            {
                out.push(problem("end", "Enter an end date after the start date"));
            }
            if let Some(start) = parse_date(a.text("start"))
                && start < today
            {
                out.push(problem("start", "Enter a start date from today onwards"));
            }
        }
        _ => {}
    }
    out
}

struct Needed {
    legal_power: bool,
}

/// What the lawful basis must include, given the other answers: (needs, special category
/// asked for, criminal offence data asked for).
fn lawful_needs(a: &Answers, choices: &Choices) -> (Needed, bool, bool) {
    let article6 = Article6::from_text(a.text("article6"));
    let categories = asked_categories(a, choices);
    (
        Needed {
            legal_power: article6.is_some_and(Article6::needs_legal_power),
        },
        categories.iter().any(|c| c.is_special()),
        categories.iter().any(|c| c.is_criminal()),
    )
}

/// The categories of the data asked for.
pub fn asked_categories(a: &Answers, choices: &Choices) -> Vec<FieldCategory> {
    a.many("data")
        .iter()
        .filter_map(|v| {
            if choices.fields.is_empty() {
                FieldCategory::from_text(v)
            } else {
                choices
                    .fields
                    .iter()
                    .find(|(id, _, _)| id == v)
                    .map(|(_, _, c)| *c)
            }
        })
        .collect()
}

fn check_question(question: &Question, a: &Answers, choices: &Choices, out: &mut Vec<Problem>) {
    let name = question.name;
    let text = a.text(name);
    let many = a.many(name);
    let unanswered = text.is_empty() && many.is_empty();
    if unanswered {
        if question.required {
            let message = match question.kind {
                Kind::One(_) => format!("Select {}", lower(question.label)),
                Kind::Many(_) => format!("Select at least one answer: {}", lower(question.label)),
                _ => format!("Enter {}", lower(question.label)),
            };
            out.push(problem(name, message));
        }
        return;
    }
    match question.kind {
        Kind::Text if text.chars().count() > SHORT => out.push(problem(
            name,
            format!("{} must be {SHORT} characters or fewer", question.label),
        )),
        Kind::Paragraph if text.chars().count() > LONG => out.push(problem(
            name,
            format!("{} must be {LONG} characters or fewer", question.label),
        )),
        Kind::Email if text.chars().count() > SHORT || Email::parse(text).is_none() => {
            out.push(problem(
                name,
                "Enter an e-mail address in the correct format, like name@example.org",
            ))
        }
        Kind::Date if parse_date(text).is_none() => out.push(problem(
            name,
            format!(
                "{} must be a real date, written as YYYY-MM-DD",
                question.label
            ),
        )),
        Kind::One(source) if !options(source, choices).iter().any(|o| o.value == text) => {
            out.push(problem(
                name,
                format!("Select {} from the list", lower(question.label)),
            ));
        }
        Kind::Many(source) => {
            let offered = options(source, choices);
            if many.len() > MAX_CHOICES
                || many.iter().any(|v| !offered.iter().any(|o| &o.value == v))
            {
                out.push(problem(
                    name,
                    format!("Select {} from the list", lower(question.label)),
                ));
            }
        }
        _ => {}
    }
}

fn lower(label: &str) -> String {
    let mut c = label.chars();
    match c.next() {
        Some(first) => first.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Every step with its problems: the task list, and whether the request may be submitted.
pub fn check_all(a: &Answers, choices: &Choices, today: Date) -> Vec<(Step, Vec<Problem>)> {
    Step::ALL
        .into_iter()
        .map(|s| (s, check_step(s, a, choices, today)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        jiff::civil::date(2026, 12, 5)
    }

    fn post(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_blank_step_names_every_required_question() {
        let problems = check_step(
            Step::Contacts,
            &Answers::default(),
            &Choices::default(),
            today(),
        );
        let fields: Vec<_> = problems.iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            [
                "requester_name",
                "requester_role",
                "requester_email",
                "dpo_name",
                "dpo_email"
            ]
        );
        assert_eq!(problems[0].message, "Enter your full name");
    }

    #[test]
    fn only_the_steps_own_names_are_taken() {
        let a = Answers::default().with_step(
            Step::Contacts,
            &post(&[
                ("requester_name", " Ann "),
                ("org_name", "sneaked in"),
                ("x", "y"),
            ]),
        );
        assert_eq!(a.text("requester_name"), "Ann");
        assert_eq!(a.0.len(), 1);
    }

    #[test]
    fn conditional_questions() {
        let choices = Choices {
            fields: vec![("dietary-needs".into(), String::new(), FieldCategory::Health)],
            ..Default::default()
        };
        let a = Answers::default()
            .with_step(Step::Data, &post(&[("data", "dietary-needs")]))
            .with_step(
                Step::LawfulBasis,
                &post(&[
                    ("article6", "public_task"),
                    ("article9", "health_social_care"),
                ]),
            );
        let fields: Vec<_> = check_step(Step::LawfulBasis, &a, &choices, today())
            .iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(fields, ["legal_power", "schedule1"]);
        let a = a.with_step(
            Step::LawfulBasis,
            &post(&[
                ("article6", "public_task"),
                ("legal_power", "Care Act 2014 s.1"),
                ("article9", "health_social_care"),
                ("schedule1", "p6_statutory_government"),
            ]),
        );
        let problems = check_step(Step::LawfulBasis, &a, &choices, today());
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].message.contains("p2_health_social_care"),
            "{problems:?}"
        );
        assert_eq!(problems[1].field, "policy_document");
    }

    #[test]
    fn limits_and_formats() {
        let long = "x".repeat(SHORT + 1);
        let a = Answers::default().with_step(
            Step::Contacts,
            &post(&[
                ("requester_name", &long),
                ("requester_role", "Manager"),
                ("requester_email", "not an address"),
                ("dpo_name", "D"),
                ("dpo_email", "dpo@example.org"),
            ]),
        );
        let problems = check_step(Step::Contacts, &a, &Choices::default(), today());
        let fields: Vec<_> = problems.iter().map(|p| p.field).collect();
        assert_eq!(fields, ["requester_name", "requester_email"]);
        let a = Answers::default().with_step(
            Step::Dates,
            &post(&[("start", "2027-02-30"), ("end", "2026-01-01")]),
        );
        let problems = check_step(Step::Dates, &a, &Choices::default(), today());
        assert_eq!(problems[0].field, "start");
        assert!(problems[0].message.contains("real date"));
    }

    #[test]
    fn a_choice_not_offered_is_refused() {
        let a = Answers::default().with_step(Step::Addressed, &post(&[("target", "agreement:x")]));
        let problems = check_step(Step::Addressed, &a, &Choices::default(), today());
        assert_eq!(problems[0].field, "target");
        assert!(problems[0].message.contains("from the list"));
    }
}
