//! The registry's state compiled for deciding: per agreement, the version in force with every
//! name interned to a small integer, so that a decision compares integers and tests bits
//! instead of walking the agreement's lists.
//!
//! Field sets are bitsets over the agreement's own fields (bit `i` is `fields[i]`): checking a
//! requested field is one hash look-up of its name plus one bit test, and the union of the
//! flows sharing a route is precomputed. Binary search over sorted name slices was measured too
//! (benches/gate.rs): the whole decision took 1.24 µs instead of 0.70 µs, a string comparison
//! per probe costing more than one hash of a short name.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use jiff::civil::Date;

use crate::agreement::ValidAgreement;
use crate::agreement::lifecycle::{Control, Stored};
use crate::agreement::model::{Agreement, Flow, RetentionRule};
use crate::agreement::validate::covers;

/// One agreement as the registry holds it: the officer's control and the version in force.
#[derive(Debug, Clone)]
pub struct IndexedAgreement {
    pub id: String,
    pub control: Control,
    /// The active version (or, when none was ever activated, the registry may pass the newest
    /// draft so a deny can still say what else is wrong); `None` when there is nothing to decide
    /// under.
    pub version: Option<VersionInForce>,
}

impl IndexedAgreement {
    /// An agreement open for use with one active version: what most callers index.
    pub fn active(number: i32, agreement: Arc<ValidAgreement>) -> IndexedAgreement {
        IndexedAgreement {
            id: agreement.id.to_string(),
            control: Control::Open,
            version: Some(VersionInForce {
                number,
                stored: Stored::Active,
                amendments: 0,
                agreement,
            }),
        }
    }
}

#[derive(Debug, Clone)]
pub struct VersionInForce {
    /// The registry's version number (1, 2, 3… in order of arrival).
    pub number: i32,
    pub stored: Stored,
    /// How many changes recorded outside the version are applied to `agreement` (engagements
    /// ended early). They are only ever added, so the count tells a rebuild what to recompile.
    pub amendments: u32,
    pub agreement: Arc<ValidAgreement>,
}

/// Everything a decision reads, immutable once built. Share it as `Arc<Index>` and replace it
/// whole (arc-swap or `RwLock<Arc<Index>>`) when the registry changes.
#[derive(Debug, Default, Clone)]
pub struct Index {
    /// Shared, so that an index changed in one agreement ([`Index::with_agreement`]) reuses
    /// every other agreement's compiled entry instead of compiling the world again.
    agreements: HashMap<String, Arc<Entry>>,
    suspended: HashSet<String>,
}

impl Index {
    /// Compiles the registry's state. Agreement ids are unique in the registry; should one
    /// repeat, the later entry wins.
    pub fn build(
        agreements: Vec<IndexedAgreement>,
        suspended_parties: impl IntoIterator<Item = String>,
    ) -> Index {
        let agreements = agreements
            .into_iter()
            .map(|a| (a.id, Arc::new(Entry::new(a.control, a.version))))
            .collect();
        Index {
            agreements,
            suspended: suspended_parties.into_iter().collect(),
        }
    }

    /// How many agreements it holds.
    pub fn len(&self) -> usize {
        self.agreements.len()
    }

    /// Whether it holds no agreement.
    pub fn is_empty(&self) -> bool {
        self.agreements.is_empty()
    }

    /// This index with one agreement compiled anew (added, or replacing its entry), sharing
    /// every other agreement's compiled entry: only what changed is compiled. The map of
    /// entries is copied (one pointer per agreement), which is all that grows with the registry.
    pub fn with_agreement(&self, a: IndexedAgreement) -> Index {
        let mut next = self.clone();
        next.agreements
            .insert(a.id, Arc::new(Entry::new(a.control, a.version)));
        next
    }

    /// This index with `parties` as the suspended parties, sharing every agreement's entry.
    pub fn with_suspended(&self, parties: impl IntoIterator<Item = String>) -> Index {
        Index {
            agreements: self.agreements.clone(),
            suspended: parties.into_iter().collect(),
        }
    }

    /// Builds the index from the registry's state, reusing `self`'s compiled entry for every
    /// agreement whose control, version number, stored status and amendments are unchanged (a
    /// stored version never changes its content, so those identify what was compiled). `compile`
    /// gives an agreement's version in force when it must be compiled.
    pub fn rebuilt<E>(
        &self,
        agreements: impl IntoIterator<Item = Indexed>,
        suspended_parties: impl IntoIterator<Item = String>,
        mut compile: impl FnMut(&Indexed) -> Result<Option<VersionInForce>, E>,
    ) -> Result<Index, E> {
        let mut out = HashMap::new();
        for a in agreements {
            let reused = self.agreements.get(&a.id).filter(|e| {
                e.control == a.control
                    && e.version
                        .as_ref()
                        .map(|v| (v.number, v.stored, v.amendments))
                        == a.version
            });
            let entry = match reused {
                Some(e) => e.clone(),
                None => Arc::new(Entry::new(a.control, compile(&a)?)),
            };
            out.insert(a.id, entry);
        }
        Ok(Index {
            agreements: out,
            suspended: suspended_parties.into_iter().collect(),
        })
    }

    /// Every agreement: its id, control, and the version in force (number, stored status and
    /// the agreement), in no particular order.
    pub fn agreements(&self) -> impl Iterator<Item = (&str, Control, Option<InForce<'_>>)> {
        self.agreements.iter().map(|(id, e)| {
            let v = e
                .version
                .as_ref()
                .map(|v| (v.number, v.stored, &v.agreement));
            (id.as_str(), e.control, v)
        })
    }

    /// The version in force of an agreement and its number, for callers that need more of it
    /// than the decision carries (the holdings ledger, the DPIA).
    pub fn version(&self, agreement: &str) -> Option<(i32, &Arc<ValidAgreement>)> {
        let v = self.agreements.get(agreement)?.version.as_ref()?;
        Some((v.number, &v.agreement))
    }

    /// When what `flow` of `agreement` carried, received at `received`, must be gone:
    /// `keep_for` after receipt, or after the last day of the agreement's term (London
    /// midnight). `None` while retention runs from the end of an open-ended term.
    pub fn delete_by(
        &self,
        agreement: &str,
        flow: &str,
        received: jiff::Timestamp,
    ) -> Option<jiff::Timestamp> {
        let v = self.entry(agreement)?.version.as_ref()?;
        let rule = v.flow(flow)?.retention.as_ref()?;
        crate::agreement::retention::retention_ends(rule, received, v.agreement.term.end)
    }

    pub(super) fn entry(&self, agreement: &str) -> Option<&Entry> {
        self.agreements.get(agreement).map(|e| &**e)
    }

    pub(super) fn is_suspended(&self, party: &str) -> bool {
        !self.suspended.is_empty() && self.suspended.contains(party)
    }
}

/// A version in force as [`Index::agreements`] lists it: number, stored status, agreement.
pub type InForce<'a> = (i32, Stored, &'a Arc<ValidAgreement>);

/// An agreement as the registry lists it for a rebuild, before anything is compiled: its id,
/// control, and the number, stored status and amendments of its version in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indexed {
    pub id: String,
    pub control: Control,
    pub version: Option<(i32, Stored, u32)>,
}

#[derive(Debug)]
pub(super) struct Entry {
    pub control: Control,
    pub version: Option<Compiled>,
}

impl Entry {
    fn new(control: Control, version: Option<VersionInForce>) -> Entry {
        Entry {
            control,
            version: version.map(Compiled::new),
        }
    }
}

/// A version compiled for deciding. Integers index the agreement's own lists: party `i` is
/// `agreement.parties[i]`, field bit `i` is `agreement.fields[i]`, flow `i` is `flows[i]`.
#[derive(Debug)]
pub(super) struct Compiled {
    pub number: i32,
    pub stored: Stored,
    pub amendments: u32,
    pub agreement: Arc<ValidAgreement>,
    parties: Names,
    pub party_facts: Box<[PartyFacts]>,
    purposes: Names,
    fields: Names,
    pub flows: Box<[CompiledFlow]>,
    flow_ids: Names,
    /// Sorted by route, for binary search.
    routes: Box<[(Route, RouteFlows)]>,
}

impl Compiled {
    fn new(v: VersionInForce) -> Compiled {
        let a: &Agreement = &v.agreement;
        let parties = Names::new(a.parties.iter().map(|p| p.id.as_str()));
        let purposes = Names::new(a.purposes.iter().map(|p| p.id.as_str()));
        let fields = Names::new(a.fields.iter().map(|f| f.id.as_str()));
        let flows: Box<[CompiledFlow]> = a
            .flows
            .iter()
            .filter_map(|flow| CompiledFlow::new(a, flow, &parties, &purposes, &fields))
            .collect();
        let flow_ids = Names::new(flows.iter().map(|f| f.id.as_ref()));
        let routes = routes(&flows, a.fields.len());
        Compiled {
            number: v.number,
            stored: v.stored,
            amendments: v.amendments,
            party_facts: a.parties.iter().map(|p| party_facts(a, p)).collect(),
            agreement: v.agreement,
            parties,
            purposes,
            fields,
            flows,
            flow_ids,
            routes,
        }
    }

    pub fn party(&self, id: &str) -> Option<u32> {
        self.parties.get(id)
    }

    pub fn purpose(&self, id: &str) -> Option<u32> {
        self.purposes.get(id)
    }

    /// The field's bit, if the agreement declares it.
    pub fn field(&self, id: &str) -> Option<u32> {
        self.fields.get(id)
    }

    pub fn flow(&self, id: &str) -> Option<&CompiledFlow> {
        Some(&self.flows[self.flow_ids.get(id)? as usize])
    }

    /// The flows sharing a route, in agreement order, with the union of their fields.
    pub fn route(&self, route: Route) -> Option<&RouteFlows> {
        let i = self.routes.binary_search_by_key(&route, |r| r.0).ok()?;
        Some(&self.routes[i].1)
    }
}

/// Who sends to whom for what, as interned indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Route {
    pub from: u32,
    pub to: u32,
    pub purpose: u32,
}

#[derive(Debug)]
pub(super) struct CompiledFlow {
    pub id: Box<str>,
    pub route: Route,
    pub fields: FieldSet,
    /// The first retention rule that covers the flow (a valid agreement always has one).
    pub retention: Option<RetentionRule>,
}

impl CompiledFlow {
    /// `None` when the flow names an undeclared party or purpose, which a valid agreement
    /// never does; such a flow could match no request anyway.
    fn new(
        a: &Agreement,
        flow: &Flow,
        parties: &Names,
        purposes: &Names,
        fields: &Names,
    ) -> Option<CompiledFlow> {
        let route = Route {
            from: parties.get(flow.from.as_str())?,
            to: parties.get(flow.to.as_str())?,
            purpose: purposes.get(flow.purpose.as_str())?,
        };
        let mut set = FieldSet::empty(a.fields.len());
        for bit in flow.fields.iter().filter_map(|f| fields.get(f.as_str())) {
            set.insert(bit);
        }
        Some(CompiledFlow {
            id: flow.id.as_str().into(),
            route,
            fields: set,
            retention: a.retention.iter().find(|r| covers(r, flow)).cloned(),
        })
    }
}

#[derive(Debug)]
pub(super) struct RouteFlows {
    /// Indexes into `Compiled::flows`, in agreement order.
    pub flows: Box<[u32]>,
    pub union: FieldSet,
}

fn routes(flows: &[CompiledFlow], field_count: usize) -> Box<[(Route, RouteFlows)]> {
    let mut keys: Vec<Route> = flows.iter().map(|f| f.route).collect();
    keys.sort_unstable();
    keys.dedup();
    let on_route = |route: Route| {
        let members: Box<[u32]> = (0u32..)
            .zip(flows)
            .filter(|(_, f)| f.route == route)
            .map(|(i, _)| i)
            .collect();
        let mut union = FieldSet::empty(field_count);
        for &i in &members {
            union.union_with(&flows[i as usize].fields);
        }
        RouteFlows {
            flows: members,
            union,
        }
    };
    keys.into_iter().map(|r| (r, on_route(r))).collect()
}

/// What the date rules need to know about a party.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PartyFacts {
    pub dspt_expires: Option<Date>,
    pub cyber_essentials_expires: Option<Date>,
    /// Set when the party is named under `contractors`.
    pub engagement_end: Option<Date>,
}

fn party_facts(a: &Agreement, party: &crate::agreement::model::Party) -> PartyFacts {
    let assurance = party.assurance.as_ref();
    PartyFacts {
        dspt_expires: assurance.and_then(|s| Some(s.dspt.as_ref()?.expires)),
        cyber_essentials_expires: assurance
            .and_then(|s| Some(s.cyber_essentials.as_ref()?.expires)),
        engagement_end: a
            .contractors
            .iter()
            .find(|c| c.party.as_str() == party.id.as_str())
            .map(|c| c.engagement_end),
    }
}

/// Names interned to their position in the list they came from.
#[derive(Debug)]
struct Names(HashMap<Box<str>, u32>);

impl Names {
    fn new<'a>(names: impl Iterator<Item = &'a str>) -> Names {
        Names(names.zip(0u32..).map(|(n, i)| (n.into(), i)).collect())
    }

    fn get(&self, name: &str) -> Option<u32> {
        self.0.get(name).copied()
    }
}

/// A set of an agreement's fields: bit `i` stands for `fields[i]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FieldSet(Box<[u64]>);

impl FieldSet {
    fn empty(field_count: usize) -> FieldSet {
        FieldSet(vec![0; field_count.div_ceil(64)].into_boxed_slice())
    }

    fn insert(&mut self, bit: u32) {
        if let Some(word) = self.0.get_mut(bit as usize / 64) {
            *word |= 1 << (bit % 64);
        }
    }

    fn union_with(&mut self, other: &FieldSet) {
        for (w, o) in self.0.iter_mut().zip(&other.0) {
            *w |= o;
        }
    }

    pub fn contains(&self, bit: u32) -> bool {
        self.0
            .get(bit as usize / 64)
            .is_some_and(|w| w & (1 << (bit % 64)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agreement::check_source;
    use jiff::civil::date;

    fn sample(name: &str) -> Arc<ValidAgreement> {
        let path = format!(
            "{}/agreements/{name}.yaml",
            concat!(env!("CARGO_MANIFEST_DIR"), "/..")
        );
        let src = std::fs::read(path).unwrap();
        Arc::new(check_source(&src, date(2026, 11, 21)).agreement.unwrap())
    }

    fn compiled(name: &str) -> Compiled {
        Compiled::new(VersionInForce {
            number: 1,
            stored: Stored::Active,
            amendments: 0,
            agreement: sample(name),
        })
    }

    #[test]
    fn names_intern_to_their_position() {
        let names = Names::new(["b", "c", "a"].into_iter());
        assert_eq!(names.get("a"), Some(2));
        assert_eq!(names.get("b"), Some(0));
        assert_eq!(names.get("c"), Some(1));
        assert_eq!(names.get("d"), None);
        assert_eq!(names.get(""), None);
    }

    #[test]
    fn field_sets_past_one_word() {
        let mut s = FieldSet::empty(130);
        s.insert(0);
        s.insert(64);
        s.insert(129);
        s.insert(500);
        assert!(s.contains(0) && s.contains(64) && s.contains(129));
        assert!(!s.contains(1) && !s.contains(63) && !s.contains(128) && !s.contains(500));
        let mut t = FieldSet::empty(130);
        t.insert(1);
        t.union_with(&s);
        assert!(t.contains(1) && t.contains(129));
    }

    #[test]
    fn a_flow_carries_exactly_its_fields() {
        let c = compiled("camden-foodbank-referrals");
        let referral = c.flow("referral").unwrap();
        assert!(referral.fields.contains(c.field("dietary-needs").unwrap()));
        assert!(!referral.fields.contains(c.field("parcel-outcome").unwrap()));
        assert_eq!(c.field("nhs-number"), None);
        assert!(c.flow("nope").is_none());
    }

    #[test]
    fn flows_sharing_a_route_are_grouped_with_their_union() {
        let c = compiled("hospital-discharge");
        let route = Route {
            from: c.party("leeds").unwrap(),
            to: c.party("lth").unwrap(),
            purpose: c.purpose("discharge-planning").unwrap(),
        };
        let rf = c.route(route).unwrap();
        let ids: Vec<&str> = rf.flows.iter().map(|&i| &*c.flows[i as usize].id).collect();
        assert_eq!(ids, ["existing-care-details", "care-confirmation"]);
        for f in ["existing-care", "care-arrangements"] {
            assert!(rf.union.contains(c.field(f).unwrap()), "{f}");
        }
        assert!(!rf.union.contains(c.field("clinical-summary").unwrap()));
        let reverse = Route {
            from: route.to,
            to: route.from,
            ..route
        };
        assert_eq!(c.route(reverse).map(|r| r.flows.len()), Some(1));
    }

    #[test]
    fn retention_is_the_rule_that_covers_the_flow_for_its_recipient() {
        let c = compiled("camden-foodbank-referrals");
        let r =
            crate::gate::Retention::from(c.flow("outcome").unwrap().retention.as_ref().unwrap());
        assert_eq!(
            (&*r.keep_for, &*r.from, &*r.then),
            ("P2Y", "receipt", "anonymise")
        );
        let c = compiled("hospital-discharge");
        let r = c.flow("reablement-referral").unwrap().retention.as_ref();
        assert_eq!(r.unwrap().keep_for.to_string(), "P8Y");
    }

    #[test]
    fn delete_by_runs_from_receipt_or_from_the_end_of_the_term() {
        let path = "tests/fixtures/check/valid/kitchen-sink.yaml";
        let src = std::fs::read_to_string(format!(
            "{}/{path}",
            concat!(env!("CARGO_MANIFEST_DIR"), "/..")
        ))
        .unwrap();
        let index_of = |src: &str| {
            let agreement = check_source(src.as_bytes(), date(2026, 11, 21))
                .agreement
                .unwrap();
            let entry = IndexedAgreement::active(1, Arc::new(agreement));
            let id = entry.id.clone();
            (Index::build(vec![entry], []), id)
        };
        let (index, id) = index_of(&src);
        let received: jiff::Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        let p90d: jiff::Timestamp = "2027-02-19T10:00:00Z".parse().unwrap();
        let due = |ix: &Index, flow| ix.delete_by(&id, flow, received);
        assert_eq!(
            due(&index, "home-visit-referral"),
            Some(p90d),
            "P90D from receipt"
        );
        let term_plus_18_months: jiff::Timestamp = "2029-09-29T23:00:00Z".parse().unwrap();
        assert_eq!(
            due(&index, "discharge-notice"),
            Some(term_plus_18_months),
            "P1Y6M after the term's end (2028-03-31), at London midnight"
        );
        assert_eq!(due(&index, "no-such-flow"), None);
        let (open_ended, _) = index_of(&src.replace("  end: 2028-03-31\n", ""));
        assert_eq!(
            due(&open_ended, "discharge-notice"),
            None,
            "the term has no end yet"
        );
        assert_eq!(due(&open_ended, "home-visit-referral"), Some(p90d));
    }

    #[test]
    fn party_facts_hold_assurance_and_engagement_dates() {
        let c = compiled("hmo-licensing-enforcement");
        let metis = c.party_facts[c.party("metis").unwrap() as usize];
        assert_eq!(metis.engagement_end, Some(date(2027, 3, 31)));
        assert_eq!(metis.cyber_essentials_expires, Some(date(2027, 5, 31)));
        assert_eq!(metis.dspt_expires, None);
        let newham = c.party_facts[c.party("newham").unwrap() as usize];
        assert_eq!(newham.engagement_end, None);
    }

    #[test]
    fn the_index_answers_by_agreement_id_and_suspended_party() {
        let a = IndexedAgreement::active(3, sample("camden-foodbank-referrals"));
        let index = Index::build(vec![a], ["foodbank".to_owned()]);
        assert_eq!(index.version("camden-foodbank-referrals").unwrap().0, 3);
        assert!(index.version("other").is_none());
        assert!(index.is_suspended("foodbank"));
        assert!(!index.is_suspended("camden"));
        assert!(!Index::default().is_suspended("camden"));
    }
}
