//! Planning a sweep, pure: which due holdings go to which holder in one deletion request, and
//! which a legal hold keeps. Executing the plan (requests, mail, webhooks) is the service's job.

use std::collections::BTreeMap;

use uuid::Uuid;

/// A holding past its `delete_by`, with what a hold's scope can match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueHolding {
    pub id: Uuid,
    pub agreement_id: String,
    pub version: i32,
    pub holder: String,
    pub from_party: String,
    pub then: String,
    pub subject_refs: Vec<String>,
}

/// A legal hold in force. Every scope it names must match a holding for the hold to keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub id: Uuid,
    pub agreement_id: Option<String>,
    pub party_id: Option<String>,
    pub subject_ref: Option<String>,
}

impl Hold {
    /// Whether this hold keeps `h`: its agreement, a party on either end, a subject in it.
    pub fn keeps(&self, h: &DueHolding) -> bool {
        let agreement = self
            .agreement_id
            .as_ref()
            .is_none_or(|a| *a == h.agreement_id);
        let party = self
            .party_id
            .as_ref()
            .is_none_or(|p| *p == h.holder || *p == h.from_party);
        let subject = self
            .subject_ref
            .as_ref()
            .is_none_or(|s| h.subject_refs.contains(s));
        agreement && party && subject
    }
}

/// One deletion request to make: a holder, an agreement and what to do, for some holdings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub agreement_id: String,
    pub version: i32,
    pub holder: String,
    pub action: String,
    pub holdings: Vec<Uuid>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub groups: Vec<Group>,
    /// Holdings kept, each with the holds keeping it.
    pub held: Vec<(Uuid, Vec<Uuid>)>,
}

/// Groups due holdings by (agreement, version, holder, action), setting aside those on hold.
pub fn plan(due: &[DueHolding], holds: &[Hold]) -> Plan {
    let mut groups: BTreeMap<(String, i32, String, String), Vec<Uuid>> = BTreeMap::new();
    let mut held = Vec::new();
    for h in due {
        let keeping: Vec<Uuid> = holds
            .iter()
            .filter(|hold| hold.keeps(h))
            .map(|hold| hold.id)
            .collect();
        if !keeping.is_empty() {
            held.push((h.id, keeping));
            continue;
        }
        let key = (
            h.agreement_id.clone(),
            h.version,
            h.holder.clone(),
            h.then.clone(),
        );
        groups.entry(key).or_default().push(h.id);
    }
    let groups = groups
        .into_iter()
        .map(
            |((agreement_id, version, holder, action), holdings)| Group {
                agreement_id,
                version,
                holder,
                action,
                holdings,
            },
        )
        .collect();
    Plan { groups, held }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(agreement: &str, holder: &str, subjects: &[&str]) -> DueHolding {
        DueHolding {
            id: Uuid::now_v7(),
            agreement_id: agreement.into(),
            version: 1,
            holder: holder.into(),
            from_party: "camden".into(),
            then: "delete".into(),
            subject_refs: subjects.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn hold(agreement: Option<&str>, party: Option<&str>, subject: Option<&str>) -> Hold {
        Hold {
            id: Uuid::now_v7(),
            agreement_id: agreement.map(Into::into),
            party_id: party.map(Into::into),
            subject_ref: subject.map(Into::into),
        }
    }

    #[test]
    fn groups_by_holder_and_agreement() {
        let d = [
            due("a", "foodbank", &[]),
            due("a", "foodbank", &[]),
            due("a", "nhs", &[]),
            due("b", "foodbank", &[]),
        ];
        let p = plan(&d, &[]);
        assert_eq!(p.groups.len(), 3);
        assert_eq!(p.groups[0].holdings, vec![d[0].id, d[1].id]);
        assert!(p.held.is_empty());
    }

    #[test]
    fn holds_keep_what_their_scope_matches() {
        let d = [
            due("a", "foodbank", &["R1"]),
            due("a", "foodbank", &["R2"]),
            due("b", "nhs", &["R1"]),
        ];
        let by_subject = hold(None, None, Some("R1"));
        let p = plan(&d, std::slice::from_ref(&by_subject));
        assert_eq!(
            p.held,
            vec![
                (d[0].id, vec![by_subject.id]),
                (d[2].id, vec![by_subject.id])
            ]
        );
        assert_eq!(p.groups.len(), 1);
        let by_party = hold(None, Some("camden"), None);
        assert_eq!(
            plan(&d, &[by_party]).held.len(),
            3,
            "the sender's party counts too"
        );
        let narrow = hold(Some("b"), Some("foodbank"), None);
        assert!(
            plan(&d, &[narrow]).held.is_empty(),
            "every named scope must match"
        );
    }
}
