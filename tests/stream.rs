//! The stream against the Random123 known answers, and the laws every
//! backend relies on: exact split additivity and independence from the
//! thread count.

use pi::cpu::{CpuBackend, Kernel};
use pi::stream::{self, Philox4x32, Run};
use pi::{Backend, Engine};
use proptest::prelude::*;
use rand_core::{Rng, SeedableRng};

fn kat_vectors() -> Vec<([u32; 4], [u32; 2], [u32; 4])> {
    let text = include_str!("data/philox4x32_10_kat.txt");
    let words = |s: &[&str]| -> Vec<u32> { s.iter().map(|w| u32::from_str_radix(w, 16).unwrap()).collect() };
    text.lines()
        .filter(|l| l.starts_with("philox4x32 10 "))
        .map(|l| {
            let t: Vec<&str> = l.split_whitespace().collect();
            let w = words(&t[2..12]);
            ([w[0], w[1], w[2], w[3]], [w[4], w[5]], [w[6], w[7], w[8], w[9]])
        })
        .collect()
}

#[test]
fn every_random123_vector() {
    let vectors = kat_vectors();
    assert!(vectors.len() >= 40, "only {} vectors parsed", vectors.len());
    for (ctr, key, out) in vectors {
        assert_eq!(stream::philox4x32_10(ctr, key), out, "ctr={ctr:08x?} key={key:08x?}");
    }
}

/// Hits of seed 2^64 - 1 and seed 42, computed by the pure-Python stream
/// (`python/pi/_stream.py`), pinned here so a change to the Rust stream
/// cannot go unnoticed even if the Random123 words still match.
#[test]
fn reference_hit_counts() {
    assert_eq!(stream::count_hits(42, 0, 1000), Some(REF_42_0_1000));
    assert_eq!(
        stream::count_hits(u64::MAX, (1 << 33) - 3, 1001),
        Some(REF_MAX_2P33_1001)
    );
}
const REF_42_0_1000: u64 = 794;
const REF_MAX_2P33_1001: u64 = 791;

#[test]
fn rand_core_generator_seeks_to_any_sample() {
    let mut rng = Philox4x32::seed_from_u64(7);
    let first: Vec<u32> = (0..8).map(|_| rng.next_u32()).collect();
    let b0 = stream::block(stream::key_of(7), 0);
    let b1 = stream::block(stream::key_of(7), 1);
    assert_eq!(first, [b0, b1].concat());
    rng.seek_sample((1 << 33) + 1);
    assert_eq!(rng.next_point(), stream::sample(7, (1 << 33) + 1));
    let mut a = Philox4x32::from_seed(7u64.to_le_bytes());
    let mut b = Philox4x32::seed_from_u64(7);
    assert_eq!(a.next_u64(), b.next_u64());
}

fn cpu(threads: usize) -> CpuBackend {
    CpuBackend::new(threads).expect("thread pool")
}

#[test]
fn small_and_edge_runs_match_the_reference() {
    let backend = cpu(2);
    let seeds = [0u64, 1, 42, 0x0123_4567_89ab_cdef, u64::MAX];
    let firsts = [
        0u64,
        1,
        2,
        3,
        (1 << 33) - 5,
        (1 << 33) + 1,
        u64::MAX - 2000,
        u64::MAX - 1000,
    ];
    for &seed in &seeds {
        for &first in &firsts {
            for count in [0u64, 1, 2, 3, 4, 5, 17, 1000] {
                if !stream::range_is_valid(first, count) {
                    continue;
                }
                assert_eq!(
                    Some(backend.count_hits(seed, Run::new(first, count).unwrap())),
                    stream::count_hits(seed, first, count),
                    "seed={seed} first={first} count={count}"
                );
            }
        }
    }
    // The very last samples of the stream.
    assert_eq!(
        Some(backend.count_hits(9, Run::new(u64::MAX, 1).unwrap())),
        stream::count_hits(9, u64::MAX, 1)
    );
    assert_eq!(
        Some(backend.count_hits(9, Run::new(u64::MAX - 6, 7).unwrap())),
        stream::count_hits(9, u64::MAX - 6, 7)
    );
}

#[test]
fn thread_counts_give_identical_hits() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (seed, first, count) = (u64::MAX, (1u64 << 33) - 12_345, 3_000_001u64);
    let expected = cpu(1).count_hits(seed, Run::new(first, count).unwrap());
    for threads in 1..=2 * cores {
        assert_eq!(
            cpu(threads).count_hits(seed, Run::new(first, count).unwrap()),
            expected,
            "threads={threads}"
        );
    }
    // And the multi-threaded sum equals the plain reference.
    assert_eq!(Some(expected), stream::count_hits(seed, first, count));
}

#[test]
fn every_kernel_gives_identical_hits() {
    let (seed, first, count) = (0x5eed, 12_345, 2_000_003);
    let expected = stream::count_hits(seed, first, count).unwrap();
    for kernel in Kernel::available() {
        let backend = CpuBackend::with_kernel(2, kernel).unwrap();
        assert_eq!(
            backend.count_hits(seed, Run::new(first, count).unwrap()),
            expected,
            "{kernel:?}"
        );
    }
}

#[test]
fn batches_add_up_to_the_whole() {
    let engine = Engine::new(Backend::Cpu, 2).unwrap();
    for (batch, n) in [(1u64, 9usize), (7, 50), (1 << 20, 3), (100_001, 4)] {
        let first = (1u64 << 33) - 3;
        let mut out = vec![u64::MAX; n];
        engine.count_hits_batched(77, first, batch, &mut out).unwrap();
        for (k, &h) in out.iter().enumerate() {
            assert_eq!(
                h,
                engine.count_hits(77, first + k as u64 * batch, batch).unwrap(),
                "batch {k}"
            );
        }
        assert_eq!(
            out.iter().sum::<u64>(),
            engine.count_hits(77, first, batch * n as u64).unwrap()
        );
    }
}

#[test]
fn ranges_past_the_end_are_refused() {
    let engine = Engine::new(Backend::Cpu, 1).unwrap();
    assert!(engine.count_hits(0, u64::MAX, 2).is_err());
    assert!(engine.count_hits(0, 2, u64::MAX).is_err());
    assert_eq!(engine.count_hits(0, u64::MAX, 0), Ok(0));
    let mut out = [5u64; 2];
    assert!(engine.count_hits_batched(0, u64::MAX - 3, 2, &mut out).is_ok());
    assert!(engine.count_hits_batched(0, u64::MAX - 2, 2, &mut out).is_err());
    assert!(engine.count_hits_batched(0, 1, 1 << 63, &mut out).is_err());
    assert!(engine.count_hits_batched(0, 0, u64::MAX, &mut out).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Hits of (s, a, n) + hits of (s, a + n, m) == hits of (s, a, n + m),
    /// for random seeds, odd and even starts anywhere in the stream
    /// (near 2^33 and near the end included) and random cuts.
    #[test]
    fn split_additivity(
        seed in any::<u64>(),
        region in prop_oneof![Just(0u64), Just((1u64 << 33) - 5000), Just(u64::MAX - 20_000), any::<u64>()],
        offset in 0u64..5000,
        n in 0u64..6000,
        m in 0u64..6000,
    ) {
        let a = region.saturating_add(offset).min(u64::MAX - 12_000);
        let backend = cpu(2);
        let whole = backend.count_hits(seed, Run::new(a, n + m).unwrap());
        prop_assert_eq!(backend.count_hits(seed, Run::new(a, n).unwrap()) + backend.count_hits(seed, Run::new(a + n, m).unwrap()), whole);
        prop_assert_eq!(Some(whole), stream::count_hits(seed, a, n + m));
    }
}

#[test]
fn runs_and_batches_apply_the_one_range_rule() {
    use stream::{Batches, Run};
    // The last sample index is 2^64 - 1: a run may end exactly there.
    assert_eq!(Run::new(u64::MAX, 1).map(|r| (r.first(), r.count())), Ok((u64::MAX, 1)));
    assert_eq!(Run::new(1, u64::MAX).map(Run::count), Ok(u64::MAX));
    assert!(Run::new(u64::MAX, 0).is_ok());
    let err = Run::new(2, u64::MAX).unwrap_err().to_string();
    assert!(err.contains("first + count = 2 + 18446744073709551615"), "{err}");
    // Batches: the whole range counts, even when batch_size * n_batches
    // passes 2^64 - 1 itself.
    assert!(Batches::new(0, 1 << 32, 1 << 32).is_ok());
    assert!(Batches::new(1, 1 << 32, 1 << 32).is_err());
    assert!(Batches::new(0, u64::MAX, u64::MAX).is_err());
    assert!(Batches::new(u64::MAX, 1, 1).is_ok());
    assert!(Batches::new(u64::MAX, 0, u64::MAX).is_ok());
    let err = Batches::new(5, 10, u64::MAX).unwrap_err().to_string();
    assert!(
        err.contains("batch_size * n_batches = 5 + 10 * 18446744073709551615"),
        "{err}"
    );
    let b = Batches::new(u64::MAX - 9, 5, 2).unwrap();
    assert_eq!(b.run(1), Run::new(u64::MAX - 4, 5).unwrap());
    assert_eq!(b.run(1).blocks(), stream::Blocks::of(u64::MAX - 4, 5));
}

#[test]
fn the_threaded_reference_is_the_reference() {
    for (first, count) in [(0u64, 5u64), (3, (1 << 20) + 7), (u64::MAX - 3_000_000, 3_000_001)] {
        assert_eq!(
            stream::count_hits_threaded(11, first, count),
            stream::count_hits(11, first, count),
            "{first} {count}"
        );
    }
    assert_eq!(stream::count_hits_threaded(11, u64::MAX, 2), None);
}
