//! Parse + validate 1,000 agreements (the samples, cycled, each with its own id).
//!
//! Baseline in the same run: serde_yaml parsing the same bytes into a plain `Value` (YAML
//! reading only: no positions, no model, no rules). The ratio says what our located tree,
//! decoding and rules cost on top of merely reading YAML, independent of the machine's speed.
//!
//!     cargo bench --bench check

use std::hint::black_box;

use accord::agreement::check_source;
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

criterion_group!(benches, bench);
criterion_main!(benches);
