//! `duplicate-id`: two parties, purposes, fields, flows, risks or handover items sharing an id.

use std::collections::HashMap;

use super::Findings;
use crate::agreement::diagnostic::Code;
use crate::agreement::model::Agreement;
use crate::agreement::yaml::Step;
use crate::path;

pub fn check(a: &Agreement, f: &mut Findings) {
    let ids = |list: &'static str, ids: Vec<&str>| {
        ids.into_iter()
            .enumerate()
            .map(move |(i, id)| (id.to_owned(), path![list, i, "id"].to_vec()))
            .collect::<Vec<_>>()
    };
    unique(
        f,
        "party",
        ids("parties", a.parties.iter().map(|p| p.id.as_str()).collect()),
    );
    unique(
        f,
        "purpose",
        ids(
            "purposes",
            a.purposes.iter().map(|p| p.id.as_str()).collect(),
        ),
    );
    unique(
        f,
        "field",
        ids("fields", a.fields.iter().map(|x| x.id.as_str()).collect()),
    );
    unique(
        f,
        "flow",
        ids("flows", a.flows.iter().map(|x| x.id.as_str()).collect()),
    );
    if let Some(dpia) = &a.dpia {
        let risks = dpia
            .risks
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.to_string(), path!["dpia", "risks", i, "id"].to_vec()));
        unique(f, "risk", risks.collect());
    }
    let handover = a
        .contractors
        .iter()
        .enumerate()
        .flat_map(|(c, contractor)| {
            contractor
                .handover
                .iter()
                .enumerate()
                .map(move |(h, item)| {
                    (
                        item.id.to_string(),
                        path!["contractors", c, "handover", h, "id"].to_vec(),
                    )
                })
        });
    unique(f, "handover item", handover.collect());
}

fn unique(f: &mut Findings, what: &str, ids: Vec<(String, Vec<Step>)>) {
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (n, (id, path)) in ids.iter().enumerate() {
        if let Some(&earlier) = first.get(id.as_str()) {
            let msg = format!(
                "{what} id '{id}' is used twice (entries {} and {}); each {what} needs its own id",
                earlier + 1,
                n + 1
            );
            f.at(Code::DuplicateId, path, msg);
        } else {
            first.insert(id, n);
        }
    }
}
