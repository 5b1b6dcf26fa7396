//! What the service counts, for Prometheus (`GET /metrics`, text format): one registry per
//! [`crate::app::App`], so two apps in one process (the tests) never share a count.
//!
//! Counted as things happen: gate decisions by outcome and first reason, decision latency
//! (deciding and making the decision durable), the journal's batch sizes and commit times,
//! sweep results, and HTTP requests by route pattern and status. Read from the database when
//! scraped ([`Gauges`]): agreements by status, the outbox's depth and the age of its oldest
//! pending message, and handover items overdue. Every label takes one of a fixed set of values
//! (a route's pattern, never its path), so no request can add a series.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::gate::{Decision, Outcome};
use crate::retention::sweep::SweepReport;

/// The service's metrics. Cheap to clone: every metric is shared.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    decisions: Family<DecisionLabels, Counter>,
    decision_seconds: Histogram,
    /// The journal's: entries per batch, and seconds per commit.
    pub journal: JournalMetrics,
    sweep: Family<SweepLabels, Counter>,
    http: Family<HttpLabels, Counter>,
    agreements: Family<StatusLabels, Gauge>,
    outbox_depth: Gauge,
    outbox_oldest_seconds: Gauge,
    handover_overdue: Gauge,
}

/// What the decision journal's writer observes, on whichever thread it runs.
#[derive(Clone)]
pub struct JournalMetrics {
    batch_size: Histogram,
    commit_seconds: Histogram,
}

impl JournalMetrics {
    /// A batch of `entries` written (or failed) in `took`.
    pub fn batch(&self, entries: usize, took: std::time::Duration) {
        self.batch_size.observe(entries as f64);
        self.commit_seconds.observe(took.as_secs_f64());
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    outcome: &'static str,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SweepLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: &'static str,
}

/// What the database says when scraped.
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    /// Agreements by the status of the version shown, every status listed.
    pub agreements: Vec<(&'static str, u64)>,
    /// Messages waiting to be sent.
    pub outbox_depth: u64,
    /// Seconds since the oldest waiting message was queued (0 when none waits).
    pub outbox_oldest_seconds: u64,
    /// Handover items past due and not yet submitted.
    pub handover_overdue: u64,
}

/// Latency buckets from 100 µs to about 13 s.
fn seconds() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 18))
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut r = Registry::with_prefix("accord");
        let decisions = Family::<DecisionLabels, Counter>::default();
        r.register(
            "gate_decisions",
            "Gate decisions (checks and sends), by outcome and first reason",
            decisions.clone(),
        );
        let decision_seconds = seconds();
        r.register(
            "gate_decision_seconds",
            "Time to decide and make the decision durable, in seconds",
            decision_seconds.clone(),
        );
        let journal = JournalMetrics {
            batch_size: Histogram::new(exponential_buckets(1.0, 2.0, 10)),
            commit_seconds: seconds(),
        };
        r.register(
            "journal_batch_size",
            "Decisions committed together by the journal",
            journal.batch_size.clone(),
        );
        r.register(
            "journal_commit_seconds",
            "Time the journal takes to write and commit one batch, in seconds",
            journal.commit_seconds.clone(),
        );
        let sweep = Family::<SweepLabels, Counter>::default();
        r.register(
            "sweep_results",
            "What retention sweeps did: runs, failed runs, deletion requests made, holdings kept by a legal hold, webhooks sent, confirmed, escalated",
            sweep.clone(),
        );
        let http = Family::<HttpLabels, Counter>::default();
        r.register(
            "http_requests",
            "HTTP requests answered, by method, route pattern and status",
            http.clone(),
        );
        let agreements = Family::<StatusLabels, Gauge>::default();
        r.register(
            "agreements",
            "Agreements by the status of the version shown",
            agreements.clone(),
        );
        let outbox_depth = Gauge::default();
        r.register(
            "outbox_depth",
            "Mail messages waiting to be sent",
            outbox_depth.clone(),
        );
        let outbox_oldest_seconds = Gauge::default();
        r.register(
            "outbox_oldest_age_seconds",
            "Seconds since the oldest waiting mail message was queued",
            outbox_oldest_seconds.clone(),
        );
        let handover_overdue = Gauge::default();
        r.register(
            "handover_items_overdue",
            "Handover items past their due date and not submitted",
            handover_overdue.clone(),
        );
        Metrics {
            registry: Arc::new(r),
            decisions,
            decision_seconds,
            journal,
            sweep,
            http,
            agreements,
            outbox_depth,
            outbox_oldest_seconds,
            handover_overdue,
        }
    }

    /// A decision given, and how long it took to decide and record.
    pub fn decided(&self, d: &Decision, took: std::time::Duration) {
        let labels = DecisionLabels {
            outcome: match d.decision {
                Outcome::Allow => "allow",
                Outcome::Deny => "deny",
            },
            reason: d.reasons.first().map_or("none", |r| r.code.as_str()),
        };
        self.decisions.get_or_create(&labels).inc();
        self.decision_seconds.observe(took.as_secs_f64());
    }

    /// A sweep's run (scheduled or asked for; not a dry run): `None` if it failed, else its
    /// report.
    pub fn swept(&self, report: Option<&SweepReport>) {
        let count = |result, n: usize| {
            self.sweep
                .get_or_create(&SweepLabels { result })
                .inc_by(n as u64);
        };
        let Some(r) = report else {
            return count("failed", 1);
        };
        count("ran", 1);
        count("requests_made", r.requests.len());
        count("holdings_held", r.held.len());
        count("webhooks_sent", r.webhooks_sent);
        count("confirmed", r.confirmed);
        count("escalated", r.escalated);
    }

    /// An HTTP request answered; `route` is the pattern it matched (or `unmatched`).
    pub fn answered(&self, method: &str, route: &str, status: u16) {
        const KNOWN: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
        let labels = HttpLabels {
            method: KNOWN.into_iter().find(|m| *m == method).unwrap_or("other"),
            route: route.to_owned(),
            status,
        };
        self.http.get_or_create(&labels).inc();
    }

    /// The Prometheus text exposition, with the gauges read from the database just now.
    pub fn render(&self, g: &Gauges) -> String {
        for (status, n) in &g.agreements {
            self.agreements
                .get_or_create(&StatusLabels { status })
                .set(clamp(*n));
        }
        self.outbox_depth.set(clamp(g.outbox_depth));
        self.outbox_oldest_seconds
            .set(clamp(g.outbox_oldest_seconds));
        self.handover_overdue.set(clamp(g.handover_overdue));
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
