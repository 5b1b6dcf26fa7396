//! What the public register says about an agreement, in plain English for residents: who
//! shares with whom (organisations only), why, which kinds of information, the lawful basis in
//! words, how long it is kept, the next review and whether its DPIA found high risk; and the
//! monthly counts, with small numbers hidden. Pure: made from the typed agreement and numbers
//! read elsewhere; it never takes a person's name, an e-mail address or a field's description.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::agreement::Agreement;
use crate::agreement::vocab::{Article6, FieldCategory, RetentionAction, RiskLevel};
use crate::dpia::{labels, risk};

/// Counts below this are shown as "fewer than 10", so nobody can be singled out.
pub const SMALLEST_SHOWN: i64 = 10;

/// A count as the public sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Shown {
    Count(i64),
    #[serde(serialize_with = "fewer")]
    FewerThanTen,
}

fn fewer<S: serde::Serializer>(s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(FEWER)
}

const FEWER: &str = "fewer than 10";

impl Shown {
    pub fn of(n: i64) -> Shown {
        if n < SMALLEST_SHOWN {
            Shown::FewerThanTen
        } else {
            Shown::Count(n)
        }
    }
}

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Shown::Count(n) => write!(f, "{n}"),
            Shown::FewerThanTen => f.write_str(FEWER),
        }
    }
}

/// One month of an agreement's counts, as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Month {
    /// `YYYY-MM`.
    pub month: String,
    /// "December 2026".
    pub label: String,
    pub allowed: Shown,
    pub refused: Shown,
    pub deleted: Shown,
}

impl Month {
    pub fn new(month: &str, [allowed, refused, deleted]: [i64; 3]) -> Month {
        let label = jiff::civil::Date::strptime("%Y-%m-%d", format!("{month}-01"))
            .map(|d| d.strftime("%B %Y").to_string())
            .unwrap_or_else(|_| month.to_owned());
        Month {
            month: month.to_owned(),
            label,
            allowed: Shown::of(allowed),
            refused: Shown::of(refused),
            deleted: Shown::of(deleted),
        }
    }
}

/// An agreement as the public register shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PublicAgreement {
    pub id: String,
    pub title: String,
    /// Why, for residents: `transparency.summary`, else the agreement's summary.
    pub summary: String,
    pub benefits: Option<String>,
    /// The organisations, by name, with their part.
    pub organisations: Vec<Organisation>,
    /// Each flow as "who shares with whom, for what".
    pub sharing: Vec<Sharing>,
    pub purposes: Vec<String>,
    /// The kinds of information shared, special category and criminal offence data named.
    pub kinds: Vec<Kind>,
    pub special_category: bool,
    pub criminal_offence: bool,
    pub lawful_basis: Vec<String>,
    pub legal_power: Option<String>,
    pub retention: Vec<String>,
    /// "1 April 2027", when the agreement is next reviewed.
    pub next_review: Option<String>,
    /// The ISO 8601 date of the next review.
    pub next_review_date: Option<String>,
    pub in_force_from: String,
    pub in_force_until: Option<String>,
    pub dpia: String,
    pub high_risk: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Organisation {
    /// The party's id in the agreement (the register's organisation filter takes it).
    pub id: String,
    pub name: String,
    pub part: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Sharing {
    pub from: String,
    pub to: String,
    pub purpose: String,
    /// When a contractor's engagement in this flow ended (in words): the gate refuses the flow
    /// after that day, so the register says it has ended.
    pub until: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Kind {
    pub name: &'static str,
    /// "special category", when the law treats it as such (the criminal offence kind's name
    /// says so itself).
    pub class: Option<&'static str>,
}

impl PublicAgreement {
    /// "A, B and C": the organisations by name, as prose.
    pub fn organisations_in_words(&self) -> String {
        let names: Vec<&str> = self.organisations.iter().map(|o| o.name.as_str()).collect();
        labels::and_list(&names)
    }
}

/// The public view of `a` on `today`.
pub fn view(id: &str, a: &Agreement, today: jiff::civil::Date) -> PublicAgreement {
    // The day a contractor's engagement ended, for each contractor whose has (the day itself
    // still counts, as the gate counts it).
    let ended = |party: &str| {
        a.contractors
            .iter()
            .find(|c| c.party.as_str() == party && c.engagement_end < today)
            .map(|c| c.engagement_end)
    };
    let name = |party: &str| {
        a.party(party)
            .map_or_else(|| party.to_owned(), |p| p.name.clone())
    };
    let purpose = |id: &str| {
        a.purposes
            .iter()
            .find(|p| p.id.as_str() == id)
            .and_then(|p| p.description.as_deref())
            .map_or_else(|| id.replace('-', " "), |d| d.trim().to_owned())
    };
    let mut categories: Vec<FieldCategory> = a
        .flows
        .iter()
        .flat_map(|f| f.fields.iter())
        .filter_map(|r| a.field(r.as_str()).map(|f| f.category))
        .collect();
    categories.sort_by_key(|c| (!c.is_special(), !c.is_criminal(), labels::category(*c)));
    categories.dedup();
    let high_risk = a
        .dpia
        .as_ref()
        .is_some_and(|d| d.risks.iter().any(|r| risk::residual(r) == RiskLevel::High));
    let dpia = match &a.dpia {
        None => "No data protection impact assessment is recorded with this agreement.",
        Some(_) if high_risk => {
            "The data protection impact assessment found a high risk that remains after the \
             measures taken."
        }
        Some(d) if d.risks.is_empty() => {
            "A data protection impact assessment was carried out; it records no risks."
        }
        Some(_) => {
            "The data protection impact assessment found no high risk that remains after the \
             measures taken."
        }
    };
    let mut lawful_basis = vec![format!(
        "{}: {}",
        labels::article6(a.lawful_basis.article6),
        article6_words(a.lawful_basis.article6)
    )];
    lawful_basis.extend(
        a.lawful_basis
            .article9
            .map(|x| labels::article9(x).to_owned()),
    );
    lawful_basis.extend(
        a.lawful_basis
            .schedule1
            .iter()
            .map(|c| labels::schedule1(*c)),
    );
    lawful_basis.extend(
        a.lawful_basis
            .article10
            .map(|x| labels::article10(x).to_owned()),
    );
    let next_review = a.term.next_review();
    PublicAgreement {
        id: id.to_owned(),
        title: a.title.clone(),
        summary: a
            .transparency
            .as_ref()
            .and_then(|t| t.summary.as_deref())
            .unwrap_or(&a.summary)
            .trim()
            .to_owned(),
        benefits: a.benefits.as_deref().map(|b| b.trim().to_owned()),
        organisations: a
            .parties
            .iter()
            .map(|p| Organisation {
                id: p.id.to_string(),
                name: p.name.clone(),
                part: labels::role(p.role),
            })
            .collect(),
        sharing: a
            .flows
            .iter()
            .map(|f| Sharing {
                from: name(f.from.as_str()),
                to: name(f.to.as_str()),
                purpose: purpose(f.purpose.as_str()),
                until: ended(f.from.as_str())
                    .or_else(|| ended(f.to.as_str()))
                    .map(labels::date),
            })
            .collect(),
        purposes: a.purposes.iter().map(|p| purpose(p.id.as_str())).collect(),
        special_category: categories.iter().any(|c| c.is_special()),
        criminal_offence: categories.iter().any(|c| c.is_criminal()),
        kinds: categories
            .iter()
            .map(|c| Kind {
                name: labels::category(*c),
                // The criminal offence kind's name says its class already.
                class: c.is_special().then_some("special category"),
            })
            .collect(),
        lawful_basis,
        legal_power: a
            .lawful_basis
            .legal_power
            .as_deref()
            .map(|l| l.trim().to_owned()),
        retention: a
            .retention
            .iter()
            .map(|r| {
                let holders: Vec<String> = match &r.holder {
                    Some(h) => vec![name(h.as_str())],
                    None => {
                        let to: BTreeSet<String> = r
                            .flows
                            .iter()
                            .filter_map(|f| a.flow(f.as_str()))
                            .map(|f| name(f.to.as_str()))
                            .collect();
                        to.into_iter().collect()
                    }
                };
                let (keeps, it, deletes, returns, removes) = if holders.len() > 1 {
                    (
                        "each keep what they receive",
                        "it",
                        "delete",
                        "return",
                        "remove",
                    )
                } else {
                    (
                        "keeps what it receives",
                        "it",
                        "deletes",
                        "returns",
                        "removes",
                    )
                };
                format!(
                    "{} {keeps} for {} {}, then {}.",
                    labels::and_list(&holders),
                    labels::duration(&r.keep_for),
                    labels::retention_start(r.from),
                    match r.then {
                        RetentionAction::Delete => format!("{deletes} {it}"),
                        RetentionAction::Anonymise => {
                            format!("{removes} what identifies anyone from {it}")
                        }
                        RetentionAction::Return => format!("{returns} {it}"),
                    }
                )
            })
            .collect(),
        next_review: next_review.map(labels::date),
        next_review_date: next_review.map(|d| d.to_string()),
        in_force_from: labels::date(a.term.start),
        in_force_until: a.term.end.map(labels::date),
        dpia: dpia.to_owned(),
        high_risk,
    }
}

/// The lawful basis in everyday words.
fn article6_words(a: Article6) -> &'static str {
    match a {
        Article6::Consent => "the people concerned have agreed to it",
        Article6::Contract => "it is needed for a contract with the people concerned",
        Article6::LegalObligation => "the law requires it",
        Article6::VitalInterests => "it is needed to protect someone's life",
        Article6::PublicTask => {
            "it is needed to carry out a public body's official functions or a task in the \
             public interest"
        }
        Article6::LegitimateInterests => {
            "it is needed for the organisations' legitimate interests, weighed against the \
             interests of the people concerned"
        }
        Article6::RecognisedLegitimateInterests => {
            "it is needed for a legitimate interest the law recognises"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Month, Shown};

    #[test]
    fn counts_under_ten_are_hidden_and_ten_or_more_shown() {
        assert_eq!(Shown::of(0), Shown::FewerThanTen);
        assert_eq!(Shown::of(9), Shown::FewerThanTen);
        assert_eq!(Shown::of(10), Shown::Count(10));
        assert_eq!(Shown::of(11), Shown::Count(11));
        assert_eq!(Shown::of(9).to_string(), "fewer than 10");
        assert_eq!(serde_json::to_value(Shown::of(9)).unwrap(), "fewer than 10");
        assert_eq!(serde_json::to_value(Shown::of(11)).unwrap(), 11);
    }

    #[test]
    fn a_month_is_labelled_in_words() {
        let m = Month::new("2026-12", [0, 10, 11]);
        assert_eq!(m.label, "December 2026");
        assert_eq!(
            (m.allowed, m.refused, m.deleted),
            (Shown::FewerThanTen, Shown::Count(10), Shown::Count(11))
        );
    }
}
