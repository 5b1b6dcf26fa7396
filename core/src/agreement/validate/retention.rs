//! `flow-without-retention`: whoever receives data must have a retention rule for it.

use std::collections::HashSet;

use super::Findings;
use crate::agreement::diagnostic::Code;
use crate::agreement::model::{Agreement, Flow, RetentionRule};
use crate::path;

pub fn check(a: &Agreement, f: &mut Findings) {
    let rules = Coverage::of(&a.retention);
    for (i, flow) in a.flows.iter().enumerate() {
        if !rules.cover(flow) {
            let msg = format!(
                "flow '{}' sends data to '{}', but no retention rule says how long '{}' keeps it",
                flow.id, flow.to, flow.to
            );
            f.at(Code::FlowWithoutRetention, &path!["flows", i, "id"], msg);
        }
    }
}

/// The retention rules indexed by what they cover, so that whether any rule covers a flow
/// ([`covers`] of some rule) is a few lookups: flows × rules × listed flows would be quadratic.
struct Coverage<'a> {
    /// A rule lists no flow and names no holder: it covers every flow.
    every_flow: bool,
    /// The holders of rules that list no flow: they cover every flow into that holder.
    every_flow_into: HashSet<&'a str>,
    /// Flows a rule naming no holder lists: covered, whoever receives them.
    listed: HashSet<&'a str>,
    /// (flow, holder) of each flow listed by a rule that names a holder: covered when the flow
    /// goes to that holder.
    listed_into: HashSet<(&'a str, &'a str)>,
}

impl<'a> Coverage<'a> {
    fn of(rules: &'a [RetentionRule]) -> Self {
        let mut c = Coverage {
            every_flow: false,
            every_flow_into: HashSet::new(),
            listed: HashSet::new(),
            listed_into: HashSet::new(),
        };
        for rule in rules {
            let holder = rule.holder.as_ref().map(|h| h.as_str());
            match (rule.flows.is_empty(), holder) {
                (true, None) => c.every_flow = true,
                (true, Some(h)) => {
                    c.every_flow_into.insert(h);
                }
                (false, None) => c.listed.extend(rule.flows.iter().map(|r| r.as_str())),
                (false, Some(h)) => c
                    .listed_into
                    .extend(rule.flows.iter().map(|r| (r.as_str(), h))),
            }
        }
        c
    }

    fn cover(&self, flow: &Flow) -> bool {
        let (id, to) = (flow.id.as_str(), flow.to.as_str());
        self.every_flow
            || self.every_flow_into.contains(to)
            || self.listed.contains(id)
            || self.listed_into.contains(&(id, to))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agreement::check_source;
    use crate::agreement::values::Ref;

    /// The index answers what asking [`covers`] of every rule answers, for rules of each kind
    /// (listing flows or not, naming a holder or not) and flows to each party.
    #[test]
    fn the_index_covers_exactly_what_some_rule_covers() {
        let source = include_str!("../../../../tests/fixtures/check/valid/kitchen-sink.yaml");
        let a = check_source(source.as_bytes(), jiff::civil::date(2026, 11, 21))
            .agreement
            .expect("kitchen-sink.yaml is valid")
            .into_inner();
        let parties: Vec<Ref> = a.parties.iter().map(|p| Ref::new(p.id.as_str())).collect();
        let ids: Vec<Ref> = a.flows.iter().map(|f| Ref::new(f.id.as_str())).collect();
        let mut kinds = Vec::new();
        for holder in std::iter::once(None).chain(parties.iter().cloned().map(Some)) {
            for flows in [vec![], ids[..1].to_vec(), ids[1..3].to_vec()] {
                let mut rule = a.retention[0].clone();
                (rule.holder, rule.flows) = (holder.clone(), flows);
                kinds.push(rule);
            }
        }
        let mut flows = Vec::new();
        for flow in &a.flows {
            for to in &parties {
                let mut f = flow.clone();
                f.to = to.clone();
                flows.push(f);
            }
        }
        let mut sets: Vec<Vec<RetentionRule>> = vec![a.retention.clone(), vec![]];
        sets.extend(kinds.iter().map(|k| vec![k.clone()]));
        sets.extend(kinds.windows(3).map(<[_]>::to_vec));
        let mut covered = 0;
        for rules in &sets {
            let index = Coverage::of(rules);
            for flow in &flows {
                let want = rules.iter().any(|r| covers(r, flow));
                assert_eq!(index.cover(flow), want, "{flow:?} under {rules:?}");
                covered += usize::from(want);
            }
        }
        assert!(covered > 0 && covered < sets.len() * flows.len());
    }
}
