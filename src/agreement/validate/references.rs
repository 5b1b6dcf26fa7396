//! Every name that refers to something must find it: parties, fields, purposes and flows named
//! by flows, retention rules, signatures and contractors. And every declared field should be
//! carried by some flow (data minimisation).

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
            f.at(Code::SelfFlow, &path!["flows", i, "to"], msg);
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
    unused_fields(a, f);
}

/// One kind of declared thing that references must resolve to.
struct Kind<'a> {
    code: Code,
    what: &'static str,
    list: &'static str,
    ids: &'a [&'a str],
}

impl<'a> Kind<'a> {
    fn new(code: Code, what: &'static str, list: &'static str, ids: &'a [&'a str]) -> Self {
        Kind {
            code,
            what,
            list,
            ids,
        }
    }

    fn resolve(&self, f: &mut Findings, owner: &str, name: &Ref, path: &[Step]) {
        if self.ids.contains(&name.as_str()) {
            return;
        }
        let hint = suggestion(name.as_str(), self.ids.iter().copied());
        let msg = format!(
            "{owner} names {} '{}', which is not declared under '{}'{hint}",
            self.what,
            crate::agreement::decode::clip(name.as_str()),
            self.list
        );
        f.at(self.code, path, msg);
    }
}

fn unused_fields(a: &Agreement, f: &mut Findings) {
    for (i, field) in a.fields.iter().enumerate() {
        if a.flows_carrying(field.id.as_str()).next().is_none() {
            let msg = format!(
                "field '{}' is declared but no flow carries it; remove it, or name it in a \
                 flow (data minimisation)",
                field.id
            );
            f.at(Code::UnusedField, &path!["fields", i, "id"], msg);
        }
    }
}
