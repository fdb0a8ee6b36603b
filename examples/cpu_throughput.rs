//! CPU throughput: samples per second of each kernel on one thread, of the
//! best kernel on 1..N threads, and the per-call time of a small run through
//! the engine.
//!
//! ```text
//! cargo run --release --example cpu_throughput -- [SAMPLES]
//! ```
//!
//! SAMPLES (default 4e8) is the run length of each timing; every figure is
//! the best of 5. Every kernel's count is checked against the scalar one.
//!
//! On Linux each line also gives the rate per CPU-second the process used
//! (from `/proc/self/task/*/schedstat`): on a machine shared with other
//! work the wall-clock rate drops, the per-CPU-second rate much less, so
//! `threads x per-CPU-second rate` estimates what an idle machine gives.

use std::hint::black_box;
use std::time::{Duration, Instant};

use pi::cpu::{CpuBackend, Kernel};
use pi::stream::Run;
use pi::{Backend, Engine};

const SEED: u64 = 0x5EED_0123_4567_89AB;
const TRIES: usize = 5;

/// CPU time used so far by all threads of this process, where the OS
/// tells it with good resolution (Linux).
fn cpu_time() -> Option<Duration> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    let mut ns = 0u64;
    for task in tasks {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        ns += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(ns))
}

/// Best of `TRIES` timings of `f` (wall clock, and CPU time of the
/// process when known), and its result.
fn best<T>(mut f: impl FnMut() -> T) -> (Duration, Option<Duration>, T) {
    let mut out = None;
    let mut best = Duration::MAX;
    let mut best_cpu: Option<Duration> = None;
    for _ in 0..TRIES {
        let c = cpu_time();
        let t = Instant::now();
        let r = black_box(f());
        best = best.min(t.elapsed());
        if let (Some(c0), Some(c1)) = (c, cpu_time()) {
            let used = c1.saturating_sub(c0);
            best_cpu = Some(best_cpu.map_or(used, |b| b.min(used)));
        }
        out = Some(r);
    }
    (best, best_cpu, out.expect("at least one try"))
}

/// ", 1.23e9 per CPU-second" when the CPU time is known.
fn per_cpu(samples: u64, cpu: Option<Duration>) -> String {
    cpu.filter(|d| !d.is_zero())
        .map(|d| format!(", {:.3e} per CPU-second", rate(samples, d)))
        .unwrap_or_default()
}

fn rate(samples: u64, d: Duration) -> f64 {
    samples as f64 / d.as_secs_f64()
}

/// The run length of each timing: the first argument, else 4e8.
fn samples_arg() -> u64 {
    match std::env::args().nth(1) {
        Some(s) => match s.parse::<f64>() {
            Ok(x) if (1.0..1e15).contains(&x) => x as u64,
            _ => {
                eprintln!("not a sample count: {s}");
                std::process::exit(2)
            }
        },
        None => 400_000_000,
    }
}

fn main() {
    let samples = samples_arg();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "detected kernel: {}; {cores} cores; {samples:.3e} samples per timing, best of {TRIES}",
        Kernel::detect().name()
    );
    let expected = each_kernel(samples);
    thread_scaling(samples, cores, expected);
    through_the_engine(samples, cores, expected);
}

/// Each kernel on one thread; every one checked against the scalar kernel.
/// Returns the hits of the full run.
fn each_kernel(samples: u64) -> Option<u64> {
    println!("\n1 thread, each kernel:");
    let mut expected = None;
    for kernel in Kernel::available() {
        let cpu = CpuBackend::with_kernel(1, kernel).expect("thread pool");
        // The scalar kernel is slow: time it on a tenth of the run.
        let n = if kernel == Kernel::Scalar {
            samples / 10
        } else {
            samples
        };
        let (d, c, hits) = best(|| cpu.count_hits(SEED, Run::new(1, n).unwrap()));
        if n == samples {
            assert_eq!(*expected.get_or_insert(hits), hits, "{} disagrees", kernel.name());
        }
        println!(
            "  {:<8} {:>10.3e} samples/s{}",
            kernel.name(),
            rate(n, d),
            per_cpu(n, c)
        );
    }
    let scalar = CpuBackend::with_kernel(1, Kernel::Scalar).expect("thread pool");
    let check = samples.min(20_000_000);
    for kernel in Kernel::available() {
        let cpu = CpuBackend::with_kernel(1, kernel).expect("thread pool");
        assert_eq!(
            cpu.count_hits(SEED, Run::new(3, check).unwrap()),
            scalar.count_hits(SEED, Run::new(3, check).unwrap()),
            "{} disagrees with the scalar kernel",
            kernel.name()
        );
    }
    expected
}

/// The detected kernel on 1..`cores` threads.
fn thread_scaling(samples: u64, cores: usize, expected: Option<u64>) {
    println!("\n{} kernel, 1..{cores} threads:", Kernel::detect().name());
    let mut one = 0.0;
    for threads in 1..=cores {
        let cpu = CpuBackend::new(threads).expect("thread pool");
        let (d, c, hits) = best(|| cpu.count_hits(SEED, Run::new(1, samples).unwrap()));
        if let Some(e) = expected {
            assert_eq!(e, hits, "{threads} threads disagree");
        }
        let r = rate(samples, d);
        if threads == 1 {
            one = r;
        }
        println!(
            "  {threads} thread(s) {r:>10.3e} samples/s ({:.2}x one thread){}",
            r / one,
            per_cpu(samples, c)
        );
    }
}

/// The same run through `pi::Engine`, then small runs' cost per call.
fn through_the_engine(samples: u64, cores: usize, expected: Option<u64>) {
    // The engine counts in pieces of about 20 ms, checking for a cancel
    // between them: this line against the last one above is their cost.
    let engine = Engine::new(Backend::Cpu, 0).expect("CPU engine");
    println!("\nthe same run through pi::Engine ({}):", engine.describe());
    let (d, c, hits) = best(|| engine.count_hits(SEED, 1, samples).expect("valid run"));
    if let Some(e) = expected {
        assert_eq!(e, hits, "the engine disagrees");
    }
    println!(
        "  {cores} thread(s) {:>10.3e} samples/s{}",
        rate(samples, d),
        per_cpu(samples, c)
    );

    println!("\nsmall runs through pi::Engine (Backend::Cpu, all cores):");
    for n in [1_000u64, 100_000] {
        let calls = (20_000_000 / n).clamp(100, 100_000);
        let (d, _, _) = best(|| {
            let mut h = 0;
            for k in 0..calls {
                h += engine.count_hits(SEED, k * n, n).expect("valid run");
            }
            h
        });
        println!(
            "  {n:>7} samples: {:>8.2} us per call (best of {TRIES} x {calls} calls)",
            d.as_secs_f64() * 1e6 / calls as f64
        );
    }
}
