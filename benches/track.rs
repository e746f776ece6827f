//! Speed of `track` against analysing the same photos: the demo patient photographed at 12 MP,
//! five visits. Three figures: analysing the five JPEGs (decode included, photos in parallel as
//! `smpscope track` does), tracking from their analyses (registration, matching, change, trend),
//! and the two together. `cargo bench -p smpscope-benches --bench track`.

use criterion::{Criterion, criterion_group, criterion_main};
use rayon::prelude::*;
use smpscope::{Analysis, TrackParams, Visit};
use smpscope_benches::{keep_freed_memory, patient_jpegs};

fn analyse_all(photos: &[(String, Vec<u8>)], params: &smpscope::Params) -> Vec<Analysis> {
    photos.par_iter().map(|(name, bytes)| smpscope::analyze_bytes(bytes, name, params).expect("analysis")).collect()
}

fn track_all(analyses: Vec<Analysis>) -> smpscope::Track {
    let track = smpscope::track(
        analyses.into_iter().map(|analysis| Visit { analysis, date: None }).collect(),
        &TrackParams::default(),
    )
    .expect("track");
    assert!(track.left_out.is_empty(), "every visit registers");
    track
}

fn bench(c: &mut Criterion) {
    keep_freed_memory();
    let (photos, params) = patient_jpegs();
    let analyses = analyse_all(&photos, &params);
    let mut g = c.benchmark_group("track 5 x 12 MP");
    g.sample_size(10);
    g.bench_function("analyse", |b| b.iter(|| analyse_all(&photos, &params)));
    g.bench_function("track from analyses", |b| {
        b.iter_batched(|| analyses.clone(), track_all, criterion::BatchSize::LargeInput)
    });
    g.bench_function("analyse and track", |b| b.iter(|| track_all(analyse_all(&photos, &params))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
