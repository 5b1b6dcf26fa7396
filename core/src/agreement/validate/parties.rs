//! Rules about the parties themselves: how many, who controls, contracts and arrangements,
//! contacts, and assurance that has lapsed.

use jiff::civil::Date;

use super::Findings;
use crate::agreement::diagnostic::Code;
use crate::agreement::model::{Agreement, Party};
use crate::agreement::vocab::PartyRole;
use crate::path;

pub fn check(a: &Agreement, today: Date, f: &mut Findings) {
    if a.parties.len() < 2 {
        let msg = format!(
            "an agreement needs at least two parties (one shares, one receives); found {}",
            a.parties.len()
        );
        f.at_key(Code::TooFewParties, &path!["parties"], msg);
    }
    if !a.parties.is_empty() && !a.parties.iter().any(|p| p.role.is_controller()) {
        let msg = "no party is a controller or joint_controller: someone must be accountable \
                   for deciding why and how the data is used";
        f.at_key(Code::NoController, &path!["parties"], msg.to_owned());
    }
    joint_controllers(a, f);
    for (i, party) in a.parties.iter().enumerate() {
        processor_contract(party, i, f);
        contacts(party, i, f);
        assurance(party, i, today, f);
    }
}

fn joint_controllers(a: &Agreement, f: &mut Findings) {
    let first = a
        .parties
        .iter()
        .position(|p| p.role == PartyRole::JointController);
    if let Some(i) = first
        && a.joint_controller_arrangement.is_none()
    {
        let msg = format!(
            "party '{}' is a joint controller, but the agreement gives no \
             'joint_controller_arrangement' (UK GDPR Article 26 requires one)",
            a.parties[i].id
        );
        f.at(
            Code::MissingJointControllerArrangement,
            &path!["parties", i, "role"],
            msg,
        );
    }
}

fn processor_contract(party: &Party, i: usize, f: &mut Findings) {
    if party.role == PartyRole::Processor && party.contract.is_none() {
        let msg = format!(
            "party '{}' is a processor but has no 'contract' (UK GDPR Article 28 requires a \
             written contract; give its reference)",
            party.id
        );
        f.at(
            Code::ProcessorWithoutContract,
            &path!["parties", i, "role"],
            msg,
        );
    }
}

fn contacts(party: &Party, i: usize, f: &mut Findings) {
    let missing: Vec<&str> = [
        ("dpo", party.dpo.is_none()),
        ("signatory", party.signatory.is_none()),
    ]
    .into_iter()
    .filter_map(|(what, absent)| absent.then_some(what))
    .collect();
    if !missing.is_empty() {
        let msg = format!(
            "party '{}' has no {}: give a contact so rights requests, breaches and sign-off \
             reach someone",
            party.id,
            missing.join(" and no ")
        );
        f.at(Code::MissingContact, &path!["parties", i, "id"], msg);
    }
}

fn assurance(party: &Party, i: usize, today: Date, f: &mut Findings) {
    let Some(assurance) = &party.assurance else {
        return;
    };
    let checks = [
        (
            "dspt",
            "Data Security and Protection Toolkit",
            assurance.dspt.as_ref().map(|d| d.expires),
        ),
        (
            "cyber_essentials",
            "Cyber Essentials",
            assurance.cyber_essentials.as_ref().map(|c| c.expires),
        ),
    ];
    for (key, name, expires) in checks {
        if let Some(expires) = expires
            && expires < today
        {
            let msg = format!(
                "party '{}' {name} assurance expired on {expires}; the gate refuses flows to \
                 it until renewed",
                party.id
            );
            let path = path!["parties", i, "assurance", key, "expires"];
            f.at(Code::AssuranceExpired, &path, msg);
        }
    }
}
