//! Contractors must be processors, and must hand over before their engagement ends.

use std::collections::HashMap;

use super::Findings;
use crate::agreement::diagnostic::Code;
use crate::agreement::model::{Agreement, Party};
use crate::agreement::vocab::PartyRole;
use crate::path;

pub fn check(a: &Agreement, f: &mut Findings) {
    // The first party with each id, as `Agreement::party` finds it, in one lookup each.
    let mut parties: HashMap<&str, &Party> = HashMap::new();
    for p in &a.parties {
        parties.entry(p.id.as_str()).or_insert(p);
    }
    for (i, c) in a.contractors.iter().enumerate() {
        if let Some(&party) = parties.get(c.party.as_str())
            && party.role != PartyRole::Processor
        {
            let msg = format!(
                "contractor '{}' is a {} in this agreement; contractors must be processors \
                 (set its role to processor, with its contract)",
                party.id, party.role
            );
            f.at(
                Code::ContractorNotProcessor,
                &path!["contractors", i, "party"],
                msg,
            );
        }
        for (h, item) in c.handover.iter().enumerate() {
            if item.due > c.engagement_end {
                let msg = format!(
                    "handover item '{}' is due {}, after '{}' leaves on {}; knowledge due after \
                     the engagement ends is knowledge lost",
                    item.id, item.due, c.party, c.engagement_end
                );
                let at = path!["contractors", i, "handover", h, "due"];
                f.at(Code::HandoverAfterEngagement, &at, msg);
            }
        }
    }
}
