//! Every name that refers to something must find it: parties, fields, purposes and flows named
//! by flows, retention rules, signatures and contractors. And every declared field should be
//! carried by some flow (data minimisation).
//!
//! Linear in the references: each is looked up in a hash set of the declared ids, and the
//! did-you-mean hints of one agreement share a budget of work ([`HINT_BUDGET`]).

use std::collections::HashSet;

use super::Findings;
use crate::agreement::diagnostic::{Code, suggestion};
use crate::agreement::model::Agreement;
use crate::agreement::values::Ref;
use crate::agreement::yaml::Step;
use crate::path;

pub fn check(a: &Agreement, f: &mut Findings) {
    let parties: Vec<&str> = a.parties.iter().map(|p| p.id.as_str()).collect();
    let fields: Vec<&str> = a.fields.iter().map(|x| x.id.as_str()).collect();
    let purposes: Vec<&str> = a.purposes.iter().map(|p| p.id.as_str()).collect();
    let flows: Vec<&str> = a.flows.iter().map(|x| x.id.as_str()).collect();
    let party = Kind::new(Code::UnknownParty, "party", "parties", &parties);
    let field = Kind::new(Code::UnknownField, "field", "fields", &fields);
    let purpose = Kind::new(Code::UnknownPurpose, "purpose", "purposes", &purposes);
    let flow = Kind::new(Code::UnknownFlow, "flow", "flows", &flows);
    let f = &mut Resolver {
        findings: f,
        hint_budget: HINT_BUDGET,
    };

    for (i, fl) in a.flows.iter().enumerate() {
        let owner = format!("flow '{}'", fl.id);
        party.resolve(f, &owner, &fl.from, &path!["flows", i, "from"]);
        party.resolve(f, &owner, &fl.to, &path!["flows", i, "to"]);
        purpose.resolve(f, &owner, &fl.purpose, &path!["flows", i, "purpose"]);
        for (j, name) in fl.fields.iter().enumerate() {
            field.resolve(f, &owner, name, &path!["flows", i, "fields", j]);
        }
        if fl.from == fl.to {
            let msg = format!(
                "flow '{}' goes from '{}' to itself; a flow must cross between two parties",
                fl.id, fl.to
            );
            f.findings.at(Code::SelfFlow, &path!["flows", i, "to"], msg);
        }
    }
    for (i, rule) in a.retention.iter().enumerate() {
        let owner = format!("retention rule {}", i + 1);
        for (j, name) in rule.flows.iter().enumerate() {
            flow.resolve(f, &owner, name, &path!["retention", i, "flows", j]);
        }
        if let Some(holder) = &rule.holder {
            party.resolve(f, &owner, holder, &path!["retention", i, "holder"]);
        }
    }
    for (i, sig) in a.signatures.iter().enumerate() {
        let owner = format!("the signature of {}", sig.name);
        party.resolve(f, &owner, &sig.party, &path!["signatures", i, "party"]);
    }
    for (i, c) in a.contractors.iter().enumerate() {
        party.resolve(
            f,
            "a contractor entry",
            &c.party,
            &path!["contractors", i, "party"],
        );
    }
    unused_fields(a, f.findings);
}

/// Characters compared, word by candidate, that the did-you-mean hints of one agreement may
/// cost in all. A typo among a few hundred ids costs tens of thousands; a hostile file naming
/// tens of thousands of unknown ids among tens of thousands declared would cost hundreds of
/// billions. Past the budget each finding is still made, at its place, without its hint.
pub const HINT_BUDGET: usize = 10_000_000;

/// Where findings go, and what is left of the hints' budget.
struct Resolver<'f, 'a> {
    findings: &'f mut Findings<'a>,
    hint_budget: usize,
}

/// One kind of declared thing that references must resolve to.
struct Kind<'a> {
    code: Code,
    what: &'static str,
    list: &'static str,
    /// In declaration order, for the hints (the first of the closest is offered).
    ids: &'a [&'a str],
    declared: HashSet<&'a str>,
    /// What comparing one character of a word with every id costs, in characters compared.
    hint_cost: usize,
}

impl<'a> Kind<'a> {
    fn new(code: Code, what: &'static str, list: &'static str, ids: &'a [&'a str]) -> Self {
        Kind {
            code,
            what,
            list,
            ids,
            declared: ids.iter().copied().collect(),
            hint_cost: ids.iter().map(|id| id.len() + 1).sum(),
        }
    }

    fn resolve(&self, r: &mut Resolver, owner: &str, name: &Ref, path: &[Step]) {
        if self.declared.contains(name.as_str()) {
            return;
        }
        let cost = (name.as_str().len() + 1).saturating_mul(self.hint_cost);
        let hint = match r.hint_budget.checked_sub(cost) {
            Some(left) => {
                r.hint_budget = left;
                suggestion(name.as_str(), self.ids.iter().copied())
            }
            None => String::new(),
        };
        let msg = format!(
            "{owner} names {} '{}', which is not declared under '{}'{hint}",
            self.what,
            crate::agreement::decode::clip(name.as_str()),
            self.list
        );
        r.findings.at(self.code, path, msg);
    }
}

fn unused_fields(a: &Agreement, f: &mut Findings) {
    let carried = a.carried_fields();
    for (i, field) in a.fields.iter().enumerate() {
        if !carried.contains(field.id.as_str()) {
            let msg = format!(
                "field '{}' is declared but no flow carries it; remove it, or name it in a \
                 flow (data minimisation)",
                field.id
            );
            f.at(Code::UnusedField, &path!["fields", i, "id"], msg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agreement::check_source;

    /// The console's blank agreement with `n` more fields `f000000`… declared and carried, and
    /// `n` references `g000000`… (each one letter from a field) in the flow, one to a line.
    fn with_unknown_fields(n: usize) -> (String, u32) {
        let skeleton = include_str!("../../../../templates/web/skeleton.yaml");
        let declared: String = (0..n)
            .map(|i| format!("  - {{ id: f{i:06}, category: other }}\n"))
            .collect();
        let known: String = (0..n).map(|i| format!("      - f{i:06}\n")).collect();
        let unknown: String = (0..n).map(|i| format!("      - g{i:06}\n")).collect();
        let source = skeleton
            .replacen("fields:\n", &format!("fields:\n{declared}"), 1)
            .replacen(
                "    fields: [reference]\n",
                &format!("    fields:\n      - reference\n{known}{unknown}"),
                1,
            );
        let first = source.lines().position(|l| l == "      - g000000").unwrap();
        (source, first as u32 + 1)
    }

    #[test]
    fn every_unknown_reference_is_found_and_hints_stop_at_their_budget() {
        let n = 2_000;
        let (source, first_line) = with_unknown_fields(n);
        let checked = check_source(source.as_bytes(), jiff::civil::date(2026, 11, 21));
        // The skeleton's own findings are its placeholders still to fill; the rest are these.
        let found: Vec<_> = checked
            .diagnostics
            .iter()
            .filter(|d| d.code != Code::UnfilledPlaceholder)
            .collect();
        assert_eq!(found.len(), n, "{:#?}", &found[..3]);
        for (i, d) in found.iter().enumerate() {
            assert_eq!(d.code, Code::UnknownField);
            assert_eq!((d.pos.line, d.pos.column), (first_line + i as u32, 9));
            let named = format!("names field 'g{i:06}', which is not declared under 'fields'");
            assert!(d.message.contains(&named), "{}", d.message);
        }
        assert!(
            found[0].message.ends_with("; did you mean 'f000000'?"),
            "{}",
            found[0].message
        );
        let hinted = found
            .iter()
            .filter(|d| d.message.contains("did you mean"))
            .count();
        // Each hint costs 7 + 1 characters × the ids' (`reference`'s 9 + 1 and n of 7 + 1).
        assert_eq!(hinted, HINT_BUDGET / (8 * (10 + 8 * n)));
        assert!(found[n - 1].message.ends_with("under 'fields'"));
    }

    #[test]
    fn a_few_typos_among_many_ids_all_get_their_hints() {
        let (source, _) = with_unknown_fields(200);
        let checked = check_source(source.as_bytes(), jiff::civil::date(2026, 11, 21));
        let found: Vec<_> = checked
            .diagnostics
            .iter()
            .filter(|d| d.code != Code::UnfilledPlaceholder)
            .collect();
        assert_eq!(found.len(), 200);
        for (i, d) in found.iter().enumerate() {
            let hint = format!("; did you mean 'f{i:06}'?");
            assert!(d.message.ends_with(&hint), "{}", d.message);
        }
    }
}
