//! Criterion benchmarks of the CPU backend: each kernel on one thread, the
//! thread pool on all cores, and the small-run path through the engine.
//!
//! ```text
//! cargo bench --bench cpu
//! ```

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use pi::cpu::{CpuBackend, Kernel};
use pi::stream::Run;
use pi::{Backend, Engine, stream};

const SEED: u64 = 0x5EED_0123_4567_89AB;

/// Whole blocks per kernel call: 2^20 samples.
const BLOCKS: u64 = 1 << 19;

fn kernels(c: &mut Criterion) {
    let mut g = c.benchmark_group("kernel");
    g.throughput(Throughput::Elements(2 * BLOCKS));
    let key = stream::key_of(SEED);
    for kernel in Kernel::available() {
        g.bench_with_input(BenchmarkId::from_parameter(kernel.name()), &kernel, |b, &k| {
            b.iter(|| k.block_hits(key, black_box(12_345), black_box(BLOCKS)))
        });
    }
    g.finish();
}

fn threads(c: &mut Criterion) {
    const SAMPLES: u64 = 1 << 26;
    let mut g = c.benchmark_group("threads");
    g.throughput(Throughput::Elements(SAMPLES));
    g.sample_size(10);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for threads in 1..=cores {
        let cpu = CpuBackend::new(threads).expect("thread pool");
        g.bench_with_input(BenchmarkId::from_parameter(threads), &cpu, |b, cpu| {
            b.iter(|| cpu.count_hits(SEED, black_box(Run::new(1, SAMPLES).unwrap())))
        });
    }
    g.finish();
}

fn small_runs(c: &mut Criterion) {
    let engine = Engine::new(Backend::Cpu, 0).expect("CPU engine");
    let mut g = c.benchmark_group("engine");
    for n in [1_000u64, 100_000] {
        g.throughput(Throughput::Elements(n));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter(|| engine.count_hits(SEED, black_box(7), n).expect("valid run"))
        });
    }
    g.finish();
}

criterion_group!(benches, kernels, threads, small_runs);
criterion_main!(benches);
