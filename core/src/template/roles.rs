//! Party ids become roles: what another council reads as "the council that leads", "a
//! voluntary partner", not one council's names for its partners. A role is a slug, so it stands
//! wherever a party id stands (flows, retention, contractors), and the borrowing council can
//! keep it or rename it.

use crate::agreement::model::Party;
use crate::agreement::values::Slug;
use crate::agreement::vocab::{PartyRole, Sector};

/// One party's role in a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// The party's id in the agreement exported.
    pub party: String,
    /// Its role in the template: `lead-council`, `voluntary-partner-2`…
    pub role: Slug,
    /// What the role is, in plain words, for the template's `roles:` list.
    pub description: String,
}

/// Each party's role, in the parties' order. The first local authority that is a controller or
/// joint controller leads (`lead-council`); other local authorities are `partner-council`s;
/// processors are `processor`s whatever their sector; every other party is named by its
/// sector. A role that repeats is numbered: `voluntary-partner`, `voluntary-partner-2`…
pub fn assign(parties: &[Party]) -> Vec<Role> {
    let mut lead_taken = false;
    let mut taken: Vec<String> = Vec::with_capacity(parties.len());
    parties
        .iter()
        .map(|p| {
            let leads = !lead_taken && p.role.is_controller() && p.sector == Sector::LocalAuthority;
            lead_taken |= leads;
            let base = if leads {
                "lead-council"
            } else if p.role == PartyRole::Processor {
                "processor"
            } else {
                by_sector(p.sector)
            };
            let role = numbered(base, &taken);
            taken.push(role.clone());
            let what = if leads {
                "the council that leads the sharing".to_owned()
            } else {
                format!("a party in sector {}", p.sector)
            };
            Role {
                party: p.id.to_string(),
                role: Slug::parse(&role).expect("roles are slugs"),
                description: format!("{what}, with role {}", p.role),
            }
        })
        .collect()
}

fn by_sector(sector: Sector) -> &'static str {
    match sector {
        Sector::LocalAuthority => "partner-council",
        Sector::Nhs => "nhs-partner",
        Sector::Police => "police-partner",
        Sector::CentralGovernment => "government-partner",
        Sector::Education => "education-partner",
        Sector::Vcs => "voluntary-partner",
        Sector::Private => "private-partner",
        Sector::Other => "partner",
    }
}

/// `base`, or `base-2`, `base-3`… the first not yet taken.
fn numbered(base: &str, taken: &[String]) -> String {
    let mut role = base.to_owned();
    let mut n = 1;
    while taken.contains(&role) {
        n += 1;
        role = format!("{base}-{n}");
    }
    role
}

#[cfg(test)]
mod tests {
    use super::*;

    fn party(id: &str, role: PartyRole, sector: Sector) -> Party {
        Party {
            id: Slug::parse(id).unwrap(),
            name: id.to_uppercase(),
            role,
            sector,
            ico_registration: None,
            dpo: None,
            signatory: None,
            assurance: None,
            deletion: None,
            contract: None,
        }
    }

    fn roles(parties: &[Party]) -> Vec<String> {
        assign(parties)
            .into_iter()
            .map(|r| r.role.to_string())
            .collect()
    }

    #[test]
    fn the_first_council_controller_leads_and_the_rest_are_named_by_sector() {
        use PartyRole::*;
        use Sector::*;
        let parties = [
            party("trust", Controller, Nhs),
            party("camden", Recipient, LocalAuthority),
            party("islington", JointController, LocalAuthority),
            party("hackney", Controller, LocalAuthority),
            party("foodbank", Recipient, Vcs),
            party("age-uk", Recipient, Vcs),
            party("met", Recipient, Police),
            party("supplier", Processor, LocalAuthority),
            party("it-firm", Processor, Private),
            party("school", Recipient, Education),
            party("dwp", Recipient, CentralGovernment),
            party("shop", Recipient, Private),
            party("club", Recipient, Other),
            party("foodbank-3", Recipient, Vcs),
        ];
        assert_eq!(
            roles(&parties),
            [
                "nhs-partner",
                "partner-council",
                "lead-council",
                "partner-council-2",
                "voluntary-partner",
                "voluntary-partner-2",
                "police-partner",
                "processor",
                "processor-2",
                "education-partner",
                "government-partner",
                "private-partner",
                "partner",
                "voluntary-partner-3",
            ]
        );
        let lead = &assign(&parties)[2];
        assert_eq!(lead.party, "islington");
        assert_eq!(
            lead.description,
            "the council that leads the sharing, with role joint_controller"
        );
    }

    #[test]
    fn without_a_council_controller_nobody_leads() {
        let parties = [
            party("trust", PartyRole::Controller, Sector::Nhs),
            party("council", PartyRole::Recipient, Sector::LocalAuthority),
        ];
        assert_eq!(roles(&parties), ["nhs-partner", "partner-council"]);
    }
}
