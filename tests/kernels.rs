//! Every CPU kernel at the inputs where kernels go wrong: the stream's
//! samples with x == 0 or y == 0, points whose sum of squares lies next to
//! 2^64, ranges that start and end mid-vector, the block index wrapping at
//! the end of the stream, and each kernel forced through an engine by
//! `PI_CPU_KERNEL`. Every count is compared exactly with the scalar
//! reference (`pi::stream`). The searches that made the data files are here
//! too, ignored (run by hand).

mod common;

use common::{assert_child, in_child};
use pi::cpu::{self, CpuBackend, KERNEL_ENV, Kernel};
use pi::stream::Run;
use pi::{Backend, Engine, Error, ffi, stream};
use rayon::prelude::*;

/// A sample of the stream with a zero coordinate.
#[derive(Debug)]
struct EdgeSample {
    seed: u64,
    index: u64,
    x: u32,
    y: u32,
    hit: bool,
}

/// The whitespace-separated fields of each data line of a file in
/// `tests/data` (`#` starts a comment line).
fn rows(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().collect())
}

/// `tests/data/edge_samples.txt`.
fn edge_samples() -> Vec<EdgeSample> {
    rows(include_str!("data/edge_samples.txt"))
        .map(|f| EdgeSample {
            seed: f[0].parse().unwrap(),
            index: f[1].parse().unwrap(),
            x: f[2].parse().unwrap(),
            y: f[3].parse().unwrap(),
            hit: f[4] == "1",
        })
        .collect()
}

/// `tests/data/edge_points.txt`: `(x, y, x*x + y*y - 2^64, hit)`.
fn edge_points() -> Vec<(u32, u32, i128, bool)> {
    rows(include_str!("data/edge_points.txt"))
        .map(|f| {
            (
                f[0].parse().unwrap(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[3] == "1",
            )
        })
        .collect()
}

/// The kernels this CPU runs. On x86_64 a kernel the CPU lacks is skipped
/// through the one skip rule (a failure under `PI_REQUIRE_ALL=1`); on other
/// processors the x86 kernels do not apply.
fn kernels(test: &str) -> Vec<Kernel> {
    let runs = Kernel::available();
    if cfg!(target_arch = "x86_64") {
        for k in Kernel::ALL.into_iter().filter(|k| !runs.contains(k)) {
            common::skip(
                test,
                &format!("this CPU lacks the instructions of the {} kernel", k.name()),
            );
        }
    }
    runs
}

#[test]
fn the_kernels_are_those_the_cpu_has() {
    assert_eq!(Kernel::ALL.map(Kernel::name), ["scalar", "portable", "avx2", "avx512"]);
    #[cfg(target_arch = "x86_64")]
    let expected = {
        use std::arch::is_x86_feature_detected as has;
        let mut k = vec![Kernel::Scalar, Kernel::Portable];
        if has!("avx2") && has!("popcnt") {
            k.push(Kernel::Avx2);
        }
        if has!("avx512f") && has!("popcnt") {
            k.push(Kernel::Avx512);
        }
        k
    };
    #[cfg(not(target_arch = "x86_64"))]
    let expected = vec![Kernel::Scalar, Kernel::Portable];
    assert_eq!(Kernel::available(), expected);
    for k in Kernel::ALL {
        assert_eq!(k.supported(), expected.contains(&k), "{k:?}");
    }
    // The fastest one the CPU has, never the scalar reference.
    assert_eq!(Some(&Kernel::detect()), expected.last());
}

/// Asserts that `kernel` counts the blocks `j0 .. j0 + n` as the reference does.
fn check(kernel: Kernel, key: [u32; 2], j0: u64, n: u64) {
    assert_eq!(
        kernel.block_hits(key, j0, n),
        stream::block_range_hits(key, j0, n),
        "{kernel:?} key={key:08x?} j0={j0:#x} n={n}"
    );
}

/// Blocks of the longest stride a kernel takes at once (AVX-512: 4 vectors
/// of 8 blocks), and one more: offsets `0..=STRIDE` put a block in every
/// lane of every vector, and at the main loop or the ragged end.
const STRIDE: u64 = 33;

#[test]
fn edge_samples_are_in_the_stream() {
    let samples = edge_samples();
    for s in &samples {
        assert_eq!(stream::sample(s.seed, s.index), (s.x, s.y), "{s:?}");
        assert!(s.x == 0 || s.y == 0, "{s:?}");
        assert_eq!(stream::is_hit(s.x, s.y), s.hit, "{s:?}");
        // The scan that found it finds it again, from any lane.
        let key = stream::key_of(s.seed);
        let j = s.index / 2;
        for a in 0..=STRIDE {
            let reference: Vec<u64> = (j - a..j + 40)
                .filter(|&b| stream::block(key, b).contains(&0))
                .collect();
            assert!(reference.contains(&j));
            assert_eq!(cpu::zero_word_blocks(key, j - a, a + 40), reference, "{s:?} a={a}");
        }
    }
    // Both coordinates, and y == 0 in both points of a block.
    assert!(samples.iter().any(|s| s.x == 0));
    assert!(samples.iter().any(|s| s.y == 0 && s.index % 2 == 0));
    assert!(samples.iter().any(|s| s.y == 0 && s.index % 2 == 1));
}

#[test]
fn every_kernel_counts_the_edge_samples() {
    for kernel in kernels("every_kernel_counts_the_edge_samples") {
        for s in edge_samples() {
            let key = stream::key_of(s.seed);
            let j = s.index / 2;
            // Ranges holding the block, starting and ending in every lane.
            for a in 0..=STRIDE {
                for b in 1..=STRIDE {
                    check(kernel, key, j - a, a + b);
                }
            }
            // The sample alone, and ranges of samples that start or end
            // on it (the lone samples at the ends of a run).
            let backend = CpuBackend::with_kernel(1, kernel).unwrap();
            for a in 0..4 {
                for n in 1..8 {
                    let first = s.index - a;
                    let count = a + n;
                    assert_eq!(
                        backend.count_hits(s.seed, Run::new(first, count).unwrap()),
                        stream::count_hits(s.seed, first, count).unwrap(),
                        "{kernel:?} {s:?} first={first} count={count}"
                    );
                }
            }
        }
    }
}

/// Points at the boundary of the hit rule: the data file's and their
/// mirror images, the stream's points with a zero coordinate, and the
/// corners and diagonal of the square.
fn boundary_points() -> Vec<(u32, u32)> {
    let mut points = Vec::new();
    for (x, y, excess, hit) in edge_points() {
        let sum = i128::from(x) * i128::from(x) + i128::from(y) * i128::from(y);
        assert_eq!(sum - (1i128 << 64), excess, "({x}, {y})");
        assert_eq!(stream::is_hit(x, y), hit, "({x}, {y})");
        points.extend([(x, y), (y, x)]);
    }
    points.extend(edge_samples().iter().flat_map(|s| [(s.x, s.y), (s.y, s.x)]));
    let (m, d) = (u32::MAX, 3_037_000_499); // d = floor(2^31.5)
    points.extend([
        (0, 0),
        (m, 0),
        (0, m),
        (m, m),
        (m, 1),
        (1, m),
        (m, 92_681), // the largest y with (2^32 - 1)^2 + y^2 < 2^64
        (m, 92_682),
        (d, d),
        (d + 1, d + 1),
        (d, d + 1),
        (d + 1, 0),
        (0, d + 1),
        (d + 1, 1),
        (1 << 31, 1 << 31),
    ]);
    points
}

#[test]
fn every_kernel_hit_test_at_the_boundary() {
    let points = boundary_points();
    let expected: Vec<bool> = points.iter().map(|&(x, y)| stream::is_hit(x, y)).collect();
    assert!(expected.contains(&true) && expected.contains(&false));
    for kernel in kernels("every_kernel_hit_test_at_the_boundary") {
        // Each point in every lane: shifted by 0..16 filler points.
        for shift in 0..16 {
            let mut fed = vec![(7u32, 7u32); shift];
            fed.extend(&points);
            let verdicts = kernel.hit_test(&fed);
            assert_eq!(verdicts.len(), fed.len());
            assert!(verdicts[..shift].iter().all(|&v| v), "{kernel:?} filler");
            for (k, &(x, y)) in points.iter().enumerate() {
                assert_eq!(
                    verdicts[shift + k],
                    expected[k],
                    "{kernel:?} ({x}, {y}) in lane {}",
                    (shift + k) % 8
                );
            }
        }
        // Alone, in a vector of one.
        for (&p, &e) in points.iter().zip(&expected) {
            assert_eq!(kernel.hit_test(&[p]), [e], "{kernel:?} {p:?} alone");
        }
    }
}

#[test]
fn every_kernel_matches_the_reference() {
    for kernel in kernels("every_kernel_matches_the_reference") {
        for (seed, j0, n) in [(0u64, 0u64, 0u64), (1, 5, 1), (7, 3, 37), (u64::MAX, (1 << 32) - 9, 50)] {
            check(kernel, stream::key_of(seed), j0, n);
        }
    }
}

/// SplitMix64, for reproducible random cases without a dependency.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[test]
fn kernels_match_the_reference_on_random_runs() {
    let mut rng = 0x0DDB_1A5E_5BAD_5EEDu64;
    for kernel in kernels("kernels_match_the_reference_on_random_runs") {
        for _ in 0..300 {
            let seed = splitmix(&mut rng);
            let j0 = splitmix(&mut rng);
            // Lengths around every lane and unroll multiple, up to 3 main
            // loop iterations of the widest kernel plus a ragged end.
            let n = splitmix(&mut rng) % 130;
            check(kernel, stream::key_of(seed), j0, n);
        }
        // A few long runs.
        for _ in 0..4 {
            let seed = splitmix(&mut rng);
            let j0 = splitmix(&mut rng);
            check(kernel, stream::key_of(seed), j0, 10_000 + splitmix(&mut rng) % 64);
        }
    }
}

#[test]
fn low_word_wraps_inside_a_vector() {
    // Runs starting just below k * 2^32: the low counter word wraps in
    // some lane of a vector and the high word must step in that lane only.
    for kernel in kernels("low_word_wraps_inside_a_vector") {
        for k in [1u64, 2, 0xFFFF, 0xFFFF_FFFF] {
            for d in 0..40u64 {
                for n in [1u64, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40, 47, 64, 65, 77] {
                    let key = stream::key_of(k.wrapping_mul(0x1234_5678_9ABC_DEF1) ^ d);
                    check(kernel, key, (k << 32).wrapping_sub(d), n);
                }
            }
        }
    }
}

#[test]
fn block_index_wraps_at_the_end_of_the_stream() {
    for kernel in kernels("block_index_wraps_at_the_end_of_the_stream") {
        for d in 0..70u64 {
            for n in [1u64, 2, 5, 8, 13, 32, 33, 70] {
                // Up to the last block, and (wrapping) past it.
                check(kernel, stream::key_of(u64::MAX - d), u64::MAX - d, n.min(d + 1));
                check(kernel, stream::key_of(d), u64::MAX - d, n);
            }
        }
        // The last samples of the stream through the backend.
        let backend = CpuBackend::with_kernel(2, kernel).unwrap();
        for count in [1u64, 2, 3, 64, 65, 1 << 18] {
            let first = 0u64.wrapping_sub(count);
            assert_eq!(
                backend.count_hits(9, Run::new(first, count).unwrap()),
                stream::count_hits(9, first, count).unwrap(),
                "{kernel:?} the last {count} samples"
            );
        }
    }
}

#[test]
fn pi_cpu_kernel_forces_each_kernel() {
    for kernel in kernels("pi_cpu_kernel_forces_each_kernel") {
        in_child("child_forced_kernel", &[(KERNEL_ENV, kernel.name())], &["PI_BACKEND"]);
    }
    in_child("child_forced_kernel", &[(KERNEL_ENV, " Auto ")], &["PI_BACKEND"]);
    in_child("child_forced_kernel", &[], &[KERNEL_ENV, "PI_BACKEND"]);
}

#[test]
#[ignore = "run by pi_cpu_kernel_forces_each_kernel"]
fn child_forced_kernel() {
    assert_child("child_forced_kernel");
    // The kernel asked for, read from the variable here, not through the
    // parser under test.
    let setting = std::env::var(KERNEL_ENV)
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let kernel = match setting.as_str() {
        "" | "auto" => Kernel::detect(),
        name => Kernel::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .expect("a kernel name"),
    };
    let engine = Engine::new(Backend::Cpu, 2).unwrap();
    let described = engine.describe();
    assert!(described.contains(&format!("{} kernel", kernel.name())), "{described}");
    // Through the C ABI too.
    let mut raw = std::ptr::null_mut();
    // SAFETY: a valid out-pointer; the engine is freed below.
    assert_eq!(
        unsafe { ffi::pi_engine_new(ffi::PI_BACKEND_CPU, 1, &mut raw) },
        ffi::PI_OK
    );
    let mut buf = [0 as std::ffi::c_char; 128];
    // SAFETY: `raw` is a live engine and `buf` has 128 bytes.
    let n = unsafe { ffi::pi_engine_describe(raw, buf.as_mut_ptr(), buf.len()) };
    // SAFETY: `pi_engine_describe` wrote a NUL-terminated string.
    let text = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    // SAFETY: made above, freed once.
    unsafe { ffi::pi_engine_free(raw) };
    assert!(n > 0 && text.contains(&format!("{} kernel", kernel.name())), "{text}");
    // Runs over the edge samples, mid-vector at both ends, and one long
    // enough for the thread pool, batched too.
    for s in edge_samples() {
        let (first, count) = (s.index - 21, 61);
        assert_eq!(
            engine.count_hits(s.seed, first, count),
            Ok(stream::count_hits(s.seed, first, count).unwrap()),
            "{s:?}"
        );
    }
    let (first, count) = (3, (1 << 20) + 5);
    let whole = stream::count_hits(5, first, count).unwrap();
    assert_eq!(engine.count_hits(5, first, count), Ok(whole));
    let mut batches = [0u64; 64];
    engine.count_hits_batched(5, first, 999, &mut batches).unwrap();
    for (k, &hits) in batches.iter().enumerate() {
        assert_eq!(
            hits,
            stream::count_hits(5, first + 999 * k as u64, 999).unwrap(),
            "batch {k}"
        );
    }
}

#[test]
fn pi_cpu_kernel_refuses_a_bad_name() {
    in_child("child_bad_kernel", &[(KERNEL_ENV, "avx9")], &["PI_BACKEND"]);
}

#[test]
#[ignore = "run by pi_cpu_kernel_refuses_a_bad_name"]
fn child_bad_kernel() {
    assert_child("child_bad_kernel");
    for backend in [Backend::Cpu, Backend::Auto] {
        match Engine::new(backend, 1) {
            Err(Error::InvalidArgument(m)) => assert!(m.contains(KERNEL_ENV) && m.contains("avx9"), "{m}"),
            other => panic!("{backend:?}: expected InvalidArgument, got {other:?}"),
        }
    }
    let mut raw = std::ptr::null_mut();
    // SAFETY: a valid out-pointer.
    let status = unsafe { ffi::pi_engine_new(ffi::PI_BACKEND_CPU, 1, &mut raw) };
    assert_eq!(status, ffi::PI_ERROR_INVALID_ARGUMENT);
    assert!(raw.is_null());
    let mut buf = [0 as std::ffi::c_char; 256];
    // SAFETY: `buf` has 256 bytes.
    unsafe { ffi::pi_last_error_message(buf.as_mut_ptr(), buf.len()) };
    // SAFETY: a NUL-terminated string was written.
    let text = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    assert!(text.contains(KERNEL_ENV), "{text}");
}

/// Seeds and blocks per seed the edge-sample search scans.
const SEARCH_SEEDS: std::ops::Range<u64> = 0..4;
const SEARCH_BLOCKS: u64 = 1 << 31;

/// Prints the lines of `tests/data/edge_samples.txt`: every sample with a
/// zero coordinate in blocks `0 .. SEARCH_BLOCKS` of the seeds
/// `SEARCH_SEEDS`. Run by hand, in release mode, when the file needs
/// remaking: `cargo test --release --test kernels -- --ignored --nocapture
/// search_edge_samples`.
#[test]
#[ignore = "a search of minutes, run by hand: see tests/data/edge_samples.txt"]
fn search_edge_samples() {
    const CHUNK: u64 = 1 << 24;
    let t = std::time::Instant::now();
    for seed in SEARCH_SEEDS {
        let key = stream::key_of(seed);
        let blocks: Vec<u64> = (0..SEARCH_BLOCKS / CHUNK)
            .into_par_iter()
            .flat_map_iter(|c| cpu::zero_word_blocks(key, c * CHUNK, CHUNK))
            .collect();
        for j in blocks {
            for i in [2 * j, 2 * j + 1] {
                let (x, y) = stream::sample(seed, i);
                if x == 0 || y == 0 {
                    println!("{seed} {i} {x} {y} {}", u8::from(stream::is_hit(x, y)));
                }
            }
        }
    }
    eprintln!(
        "searched {} blocks in {:?}",
        SEARCH_SEEDS.count() as u64 * SEARCH_BLOCKS,
        t.elapsed()
    );
}

/// `x*x + y*y - 2^64`, exactly.
fn excess(x: u32, y: u32) -> i128 {
    let sq = |v: u32| i128::from(v) * i128::from(v);
    sq(x) + sq(y) - (1i128 << 64)
}

/// Prints the lines of `tests/data/edge_points.txt`: the points whose sum
/// of squares lies nearest to 2^64 on either side. For each `x` from
/// `ceil(2^31.5)` up (the other half is the mirror image), the largest `y`
/// with `x*x + y*y < 2^64` falls as `x` grows, so one walk finds, for every
/// `x`, the hit just below the boundary and the miss just above it.
#[test]
#[ignore = "a search of seconds to minutes, run by hand: see tests/data/edge_points.txt"]
fn search_edge_points() {
    const KEEP: usize = 6;
    let mut below: Vec<(i128, u32, u32)> = Vec::new();
    let mut above: Vec<(i128, u32, u32)> = Vec::new();
    let keep = |list: &mut Vec<(i128, u32, u32)>, e: (i128, u32, u32)| {
        if list.len() < KEEP || e.0.abs() < list[KEEP - 1].0.abs() {
            list.push(e);
            list.sort_by_key(|p| p.0.abs());
            list.truncate(KEEP);
        }
    };
    let mut y: u32 = 3_037_000_499;
    for x in 3_037_000_500..=u32::MAX {
        while excess(x, y) >= 0 {
            y -= 1;
        }
        keep(&mut below, (excess(x, y), x, y));
        keep(&mut above, (excess(x, y + 1), x, y + 1));
    }
    for (e, x, y) in below.into_iter().chain(above) {
        println!("{x} {y} {e} {}", u8::from(stream::is_hit(x, y)));
    }
}
