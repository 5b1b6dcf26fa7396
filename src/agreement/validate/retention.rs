//! `flow-without-retention`: whoever receives data must have a retention rule for it.

use super::Findings;
use crate::agreement::diagnostic::Code;
use crate::agreement::model::{Agreement, Flow, RetentionRule};
use crate::path;

pub fn check(a: &Agreement, f: &mut Findings) {
    for (i, flow) in a.flows.iter().enumerate() {
        if !a.retention.iter().any(|rule| covers(rule, flow)) {
            let msg = format!(
                "flow '{}' sends data to '{}', but no retention rule says how long '{}' keeps it",
                flow.id, flow.to, flow.to
            );
            f.at(Code::FlowWithoutRetention, &path!["flows", i, "id"], msg);
        }
    }
}

/// Whether `rule` governs what `flow`'s recipient receives by it.
///
/// A rule covers the flows it lists (or, listing none, every flow into its holder), held by its
/// holder (or, naming none, by each listed flow's recipient).
pub fn covers(rule: &RetentionRule, flow: &Flow) -> bool {
    let lists_flow =
        rule.flows.is_empty() || rule.flows.iter().any(|r| r.as_str() == flow.id.as_str());
    let held_by_recipient = rule.holder.as_ref().is_none_or(|h| *h == flow.to);
    lists_flow && held_by_recipient
}
