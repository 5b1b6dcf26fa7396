//! Parse + validate 1,000 agreements (the samples, cycled, each with its own id).
//!
//! Baseline in the same run: serde_yaml parsing the same bytes into a plain `Value` (YAML
//! reading only: no positions, no model, no rules). The ratio says what our located tree,
//! decoding and rules cost on top of merely reading YAML, independent of the machine's speed.
//!
//! Then hostile files at two sizes ten times apart, whose cost must grow tenfold, not a
//! hundredfold (issue #27): keys in mappings (9,000 in one, at the top level, where each is
//! an unknown key, or nested under one unknown key; 90,000 in ten nested mappings of 9,000;
//! the 90,000 in one, refused at the key past the cap), and references to undeclared
//! fields among as many declared (1,000 and 10,000 of each).
//!
//!     cargo bench --bench check

use std::hint::black_box;

use accord_core::agreement::check_source;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jiff::civil::date;

fn corpus() -> Vec<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/agreements");
    let mut samples: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    samples.sort();
    (0..1000)
        .map(|i| {
            let text = &samples[i % samples.len()];
            let id_line = text.lines().find(|l| l.starts_with("id: ")).unwrap();
            text.replacen(id_line, &format!("id: agreement-{i}"), 1)
                .into_bytes()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let corpus = corpus();
    let today = date(2026, 11, 21);
    let mut group = c.benchmark_group("1000-agreements");
    group.throughput(Throughput::Elements(corpus.len() as u64));
    group.sample_size(20);
    group.bench_function("accord-check", |b| {
        b.iter(|| {
            for src in &corpus {
                let checked = check_source(black_box(src), today);
                assert!(checked.agreement.is_some());
            }
        })
    });
    group.bench_function("baseline-serde_yaml-value", |b| {
        b.iter(|| {
            for src in &corpus {
                let v: serde_yaml::Value = serde_yaml::from_slice(black_box(src)).unwrap();
                black_box(v);
            }
        })
    });
    group.finish();
}

/// `keys` keys `k00000: x` …: in the top-level mapping, or in mappings of `per_mapping` keys
/// under top-level keys `m0:` ….
fn many_keys(keys: usize, per_mapping: Option<usize>) -> Vec<u8> {
    let mut src = String::from("accord: 1\n");
    for k in 0..keys {
        match per_mapping {
            None => src.push_str(&format!("k{k:05}: x\n")),
            Some(per) => {
                if k % per == 0 {
                    src.push_str(&format!("m{}:\n", k / per));
                }
                src.push_str(&format!(" k{k:05}: x\n"));
            }
        }
    }
    src.into_bytes()
}

/// The console's blank agreement with `n` more fields declared, each carried, and `n`
/// references to undeclared fields, each one letter from a declared one.
fn unknown_references(n: usize) -> Vec<u8> {
    let skeleton = include_str!("../templates/web/skeleton.yaml");
    let declared: String = (0..n)
        .map(|i| format!("  - {{ id: f{i:06}, category: other }}\n"))
        .collect();
    let refs: Vec<String> = (0..n).map(|i| format!("f{i:06}, g{i:06}")).collect();
    skeleton
        .replacen("fields:\n", &format!("fields:\n{declared}"), 1)
        .replacen(
            "fields: [reference]",
            &format!("fields: [reference, {}]", refs.join(", ")),
            1,
        )
        .into_bytes()
}

fn hostile(c: &mut Criterion) {
    let today = date(2026, 11, 21);
    let mut group = c.benchmark_group("hostile");
    group.sample_size(10);
    let cases = [
        ("keys-9000-in-one-mapping", many_keys(9_000, None), 9_000),
        (
            "keys-9000-in-one-mapping-nested",
            many_keys(9_000, Some(9_000)),
            9_000,
        ),
        (
            "keys-90000-in-ten-mappings",
            many_keys(90_000, Some(9_000)),
            90_000,
        ),
        ("keys-90000-in-one-mapping", many_keys(90_000, None), 90_000),
        ("unknown-references-1000", unknown_references(1_000), 1_000),
        (
            "unknown-references-10000",
            unknown_references(10_000),
            10_000,
        ),
    ];
    for (name, src, n) in &cases {
        assert!(src.len() < 1024 * 1024, "{name}: {} bytes", src.len());
        let checked = check_source(src, today);
        assert!(checked.has_errors(), "{name}");
        group.throughput(Throughput::Elements(*n as u64));
        group.bench_function(*name, |b| b.iter(|| check_source(black_box(src), today)));
    }
    group.finish();
}

criterion_group!(benches, bench, hostile);
criterion_main!(benches);
