//! GPU throughput: samples per second of a warm `GpuBackend`.
//!
//! ```text
//! cargo run --release --example gpu_throughput -- [--limbs] [--software] [--workgroup-size N] [COUNT ...]
//! ```
//!
//! `--limbs` forces the 16-bit-limb shader, `--software` accepts a software
//! adapter (lavapipe), `--workgroup-size` sets the invocations per workgroup
//! (a power of two from 32 to 1024; default 256).
//! Prints the adapter, the shader variant and the best of three timings for
//! each COUNT (default 1e9 and 1e10 samples), after a bit-exact check: the
//! GPU's count of 1e8 samples against the sum of GPU pieces, and of 1e7
//! samples against the reference `stream::count_hits` on all CPU cores.

use std::time::Instant;

use pi::gpu::{GpuBackend, GpuOptions};
use pi::stream;

fn reference(seed: u64, first: u64, count: u64) -> u64 {
    stream::count_hits_threaded(seed, first, count).expect("valid run")
}

fn parse_count(s: &str) -> u64 {
    match s.parse::<f64>() {
        Ok(x) if (1.0..1.8e19).contains(&x) => x as u64,
        _ => {
            eprintln!("not a sample count: {s}");
            std::process::exit(2)
        }
    }
}

/// The options and the counts the command line asks for.
fn parse_args() -> (GpuOptions, Vec<u64>) {
    let mut options = GpuOptions {
        allow_software: false,
        ..GpuOptions::default()
    };
    let mut counts = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--limbs" => options.force_no_int64 = true,
            "--software" => options.allow_software = true,
            "--workgroup-size" => {
                options.workgroup_size = args.next().and_then(|n| n.parse().ok()).unwrap_or_else(|| {
                    eprintln!("--workgroup-size needs a number");
                    std::process::exit(2)
                })
            }
            _ => counts.push(parse_count(&arg)),
        }
    }
    if counts.is_empty() {
        counts = vec![1_000_000_000, 10_000_000_000];
    }
    (options, counts)
}

/// A GPU backend with `options`, or with a software adapter if no other.
fn open(options: GpuOptions) -> GpuBackend {
    let t = Instant::now();
    let gpu = match GpuBackend::with_options(options.clone()).or_else(|_| {
        GpuBackend::with_options(GpuOptions {
            allow_software: true,
            ..options
        })
    }) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("no GPU backend: {e}");
            std::process::exit(1)
        }
    };
    println!("adapter: {}", gpu.describe());
    println!(
        "software: {}, int64 shader: {}, workgroup size: {}",
        gpu.is_software(),
        gpu.uses_int64(),
        gpu.workgroup_size()
    );
    println!("setup: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    gpu
}

fn main() {
    let (options, counts) = parse_args();
    let gpu = open(options);
    let seed = 0x0123_4567_89ab_cdef;
    let run = |first: u64, count: u64| {
        let run = stream::Run::new(first, count).expect("a run inside the stream");
        gpu.count_hits(seed, run).unwrap_or_else(|e| panic!("{e}"))
    };
    let t = Instant::now();
    run(0, 1000);
    println!("first call (shader compile): {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let t = Instant::now();
    for _ in 0..100 {
        run(1, 1000);
    }
    println!("tiny call round trip: {:.1} us", t.elapsed().as_secs_f64() * 1e4);

    let whole = run(1, 100_000_000);
    let pieces = run(1, 33_333_333) + run(33_333_334, 1) + run(33_333_335, 66_666_666);
    let small = run(12_345, 10_000_000);
    let want = reference(seed, 12_345, 10_000_000);
    println!(
        "check: 1e8 whole {whole} vs pieces {pieces}: {}; 1e7 gpu {small} vs cpu {want}: {}",
        if whole == pieces { "ok" } else { "MISMATCH" },
        if small == want { "ok" } else { "MISMATCH" }
    );
    if whole != pieces || small != want {
        std::process::exit(1);
    }
    for count in counts {
        time_count(&gpu, count, &run);
    }
}

/// The best of three timings of a run of `count` samples.
fn time_count(gpu: &GpuBackend, count: u64, run: &impl Fn(u64, u64) -> u64) {
    let pi::gpu::Plan {
        per_invocation,
        dispatches,
        ..
    } = gpu.plan(count / 2);
    let mut best = f64::INFINITY;
    let mut hits = 0;
    for _ in 0..3 {
        let t = Instant::now();
        hits = run(0, count);
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "count {count:e}: best {best:.4} s, {:.3e} samples/s, pi ~ {:.6} ({per_invocation} blocks/invocation, {dispatches} dispatches)",
        count as f64 / best,
        4.0 * hits as f64 / count as f64
    );
}
