//! Speed of `analyze` on synthetic JPEGs (decode included): 3 MP and 12 MP scalp photos at
//! 60 px/mm with a typical density, on all cores and on one. Report ms per megapixel:
//! `cargo bench -p smpscope-benches`.

use criterion::{Criterion, criterion_group, criterion_main};
use smpscope_benches::{keep_freed_memory, photo_jpeg};

fn bench(c: &mut Criterion) {
    keep_freed_memory();
    let mut g = c.benchmark_group("analyze");
    g.sample_size(10);
    for (name, w, h) in [("3MP", 2000, 1500), ("12MP", 4000, 3000)] {
        let (bytes, params) = photo_jpeg(w, h);
        for threads in [0usize, 1] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
            let label = format!(
                "{name}/{}",
                if threads == 1 { "1 thread".to_string() } else { format!("{} threads", pool.current_num_threads()) }
            );
            g.bench_function(label, |b| {
                b.iter(|| pool.install(|| smpscope::analyze_bytes(&bytes, "bench.jpg", &params).expect("analysis")))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
