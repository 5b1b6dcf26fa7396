//! Rendering the DPIA for the largest sample agreement, as `accord dpia` does after checking:
//! screening, the document model (with the SVG diagram) and the HTML template. Goal: under
//! 5 ms per document. Checking the agreement is measured by the `check` bench, so it is done
//! once, outside the loop. The Markdown render is measured too, for comparison.
//!
//!     cargo bench --bench dpia

use std::hint::black_box;

use accord::agreement::{Agreement, check_source};
use accord::dpia::{self, Format, Renderer};
use criterion::{Criterion, criterion_group, criterion_main};
use jiff::civil::date;

/// The largest sample, by size of its source.
fn largest() -> Agreement {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/agreements");
    let source = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .max_by_key(Vec::len)
        .unwrap();
    check_source(&source, date(2026, 11, 21))
        .agreement
        .unwrap()
        .into_inner()
}

fn bench(c: &mut Criterion) {
    let a = largest();
    let today = date(2026, 11, 21);
    let mut group = c.benchmark_group(format!("dpia-{}", a.id));
    for (name, format) in [("html", Format::Html), ("md", Format::Markdown)] {
        let renderer = Renderer::builtin(format).unwrap();
        group.bench_function(name, |b| {
            b.iter(|| {
                let a = black_box(&a);
                let doc = dpia::build(a, &dpia::screen(a), today);
                black_box(renderer.render(&doc).unwrap())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
