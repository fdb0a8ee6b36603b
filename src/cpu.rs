//! The CPU backend: Philox blocks counted many lanes at a time (AVX-512,
//! AVX2 or NEON, chosen at run time, with a portable path), spread over a
//! persistent thread pool. Every path counts exactly what
//! [`stream::count_hits`](crate::stream::count_hits) counts.

use crate::stream::{self, Blocks, M0, M1, W0, W1};
use rayon::prelude::*;

/// Runs of at most this many samples stay on the calling thread: below it,
/// waking the pool costs more than it saves.
pub const SERIAL_SAMPLES: u64 = 1 << 17;

/// Blocks per task handed to the pool; small enough to balance the load,
/// large enough that scheduling is noise.
const BLOCKS_PER_TASK: u64 = 1 << 16;

/// Which lane kernel counts whole blocks on this CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// One block at a time, as the reference does (any CPU).
    Scalar,
    /// Portable lanes: 8 blocks at a time, vectorized by the compiler for the
    /// baseline instruction set (SSE2 on x86_64, NEON on aarch64).
    Portable,
    /// Explicit AVX2 (and POPCNT): 3 vectors of 4 blocks in flight.
    Avx2,
    /// Explicit AVX-512F (and POPCNT): 4 vectors of 8 blocks in flight.
    Avx512,
}

impl Kernel {
    /// The fastest kernel this CPU runs, by run-time detection. Under
    /// valgrind, whose emulated CPU offers no AVX-512, this is AVX2.
    pub fn detect() -> Kernel {
        [Kernel::Avx512, Kernel::Avx2]
            .into_iter()
            .find(|k| k.supported())
            .unwrap_or(Kernel::Portable)
    }

    /// Every kernel this CPU can run (for tests and benchmarks).
    pub fn available() -> Vec<Kernel> {
        [Kernel::Scalar, Kernel::Portable, Kernel::Avx2, Kernel::Avx512]
            .into_iter()
            .filter(|k| k.supported())
            .collect()
    }

    /// Whether this CPU runs the kernel: the instruction sets its
    /// `#[target_feature]` functions enable.
    fn supported(self) -> bool {
        match self {
            Kernel::Scalar | Kernel::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("popcnt")
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("popcnt")
            }
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx2 | Kernel::Avx512 => false,
        }
    }

    /// A short lower-case name ("avx2", ...).
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Scalar => "scalar",
            Kernel::Portable => "portable",
            Kernel::Avx2 => "avx2",
            Kernel::Avx512 => "avx512",
        }
    }

    /// Hits in the whole blocks `j0 .. j0 + n` under `key`.
    ///
    /// # Panics
    /// If this CPU lacks the kernel's instruction set (see [`Kernel::available`]).
    pub fn block_hits(self, key: [u32; 2], j0: u64, n: u64) -> u64 {
        assert!(self.supported(), "this CPU cannot run the {} kernel", self.name());
        match self {
            Kernel::Scalar => stream::block_range_hits(key, j0, n),
            Kernel::Portable => lanes::<8>(key, j0, n),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: AVX2 and POPCNT are present: `supported` checked them
            // on the first line.
            Kernel::Avx2 => unsafe { x86::hits_avx2(key, j0, n) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: AVX-512F and POPCNT are present: `supported` checked
            // them on the first line.
            Kernel::Avx512 => unsafe { x86::hits_avx512(key, j0, n) },
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx2 | Kernel::Avx512 => unreachable!("no x86_64 kernel is supported here"),
        }
    }
}

/// The Philox round keys `(k0, k1)` of rounds 0..10 under `key`.
#[inline(always)]
fn round_keys(key: [u32; 2]) -> [[u32; 2]; stream::ROUNDS] {
    let mut ks = [key; stream::ROUNDS];
    for r in 1..stream::ROUNDS {
        ks[r] = [ks[r - 1][0].wrapping_add(W0), ks[r - 1][1].wrapping_add(W1)];
    }
    ks
}

/// Low 32 bits of a 64-bit lane.
const LO: u64 = 0xFFFF_FFFF;

/// `L` blocks at a time, each 32-bit word of the Philox state held in the low
/// half of a 64-bit lane, so that every product is one `pmuludq` (x86) or
/// `umull` (aarch64) and its high word one shift, with no lane shuffles.
/// The high halves of the lanes carry garbage that every multiply ignores
/// (hence the `& LO`, which the compiler folds into the multiply). The hit
/// test uses only bitwise operations and shifts, which the baseline
/// instruction sets (SSE2, NEON) have for 64-bit lanes.
#[inline(always)]
fn lanes<const L: usize>(key: [u32; 2], j0: u64, n: u64) -> u64 {
    let ks = round_keys(key);
    let groups = n / L as u64;
    let mut misses = [0u64; L];
    for g in 0..groups {
        let base = j0.wrapping_add(g * L as u64);
        let mut c0 = [0u64; L];
        let mut c1 = [0u64; L];
        let mut c2 = [0u64; L];
        let mut c3 = [0u64; L];
        for l in 0..L {
            let j = base.wrapping_add(l as u64);
            c0[l] = j;
            c1[l] = j >> 32;
        }
        for [k0, k1] in ks {
            let (k0, k1) = (u64::from(k0), u64::from(k1));
            for l in 0..L {
                let p0 = u64::from(M0) * (c0[l] & LO);
                let p1 = u64::from(M1) * (c2[l] & LO);
                c0[l] = (p1 >> 32) ^ c1[l] ^ k0;
                c2[l] = (p0 >> 32) ^ c3[l] ^ k1;
                c1[l] = p1;
                c3[l] = p0;
            }
        }
        for l in 0..L {
            misses[l] += carry(c0[l] & LO, c1[l] & LO) + carry(c2[l] & LO, c3[l] & LO);
        }
    }
    let done = groups * L as u64;
    2 * done - misses.iter().sum::<u64>() + stream::block_range_hits(key, j0.wrapping_add(done), n - done)
}

/// 1 when `x*x + y*y` carries out of 64 bits (a miss), 0 for a hit: the
/// carry out of `a + b = s` is the top bit of `(a & b) | ((a | b) & !s)`.
#[inline(always)]
fn carry(x: u64, y: u64) -> u64 {
    let (xx, yy) = (x * x, y * y);
    let s = xx.wrapping_add(yy);
    ((xx & yy) | ((xx | yy) & !s)) >> 63
}

/// Explicit x86_64 SIMD kernels. The state layout is the one of [`lanes`]:
/// each 32-bit Philox word in the low half of a 64-bit lane, so a product is
/// one `vpmuludq`, its high word one `vpsrlq`, its low word free (the high
/// half of the lane is garbage that the next `vpmuludq` ignores). Several
/// independent vectors are interleaved to hide the multiply latency.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{M0, M1, round_keys};
    use crate::stream::ROUNDS;
    use core::arch::x86_64::*;

    /// Vectors in flight in the AVX-512 main loop (8 blocks each).
    const U512: usize = 4;
    /// Vectors in flight in the AVX2 main loop (4 blocks each).
    const U256: usize = 3;

    /// The round keys, broadcast.
    struct Keys512 {
        k0: [__m512i; ROUNDS],
        k1: [__m512i; ROUNDS],
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    fn keys512(key: [u32; 2]) -> Keys512 {
        let ks = round_keys(key);
        let mut k = Keys512 {
            k0: [_mm512_setzero_si512(); ROUNDS],
            k1: [_mm512_setzero_si512(); ROUNDS],
        };
        for (r, [k0, k1]) in ks.into_iter().enumerate() {
            k.k0[r] = _mm512_set1_epi64(i64::from(k0));
            k.k1[r] = _mm512_set1_epi64(i64::from(k1));
        }
        k
    }

    /// Philox4x32-10 of `U` vectors of 8 block indices: the words
    /// `[x0, x1, x2, x3]` of each block, in the low halves of the lanes.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn philox512<const U: usize>(j: [__m512i; U], k: &Keys512) -> [[__m512i; 4]; U] {
        let m0 = _mm512_set1_epi64(i64::from(M0));
        let m1 = _mm512_set1_epi64(i64::from(M1));
        let zero = _mm512_setzero_si512();
        let mut s = [[zero; 4]; U];
        // Round 0: the counter is (lo32(j), hi32(j), 0, 0), so only one product.
        for u in 0..U {
            let p0 = _mm512_mul_epu32(j[u], m0);
            s[u] = [
                _mm512_xor_si512(_mm512_srli_epi64::<32>(j[u]), k.k0[0]),
                zero,
                _mm512_xor_si512(_mm512_srli_epi64::<32>(p0), k.k1[0]),
                p0,
            ];
        }
        // Rounds 1..10, unrolled by hand: as a loop, the compiler keeps the
        // round count and copies every state register each time round.
        macro_rules! round {
            ($r:expr) => {
                for st in s.iter_mut() {
                    let [c0, c1, c2, c3] = *st;
                    let p0 = _mm512_mul_epu32(c0, m0);
                    let p1 = _mm512_mul_epu32(c2, m1);
                    // 0x96: a ^ b ^ c.
                    *st = [
                        _mm512_ternarylogic_epi64::<0x96>(_mm512_srli_epi64::<32>(p1), c1, k.k0[$r]),
                        p1,
                        _mm512_ternarylogic_epi64::<0x96>(_mm512_srli_epi64::<32>(p0), c3, k.k1[$r]),
                        p0,
                    ];
                }
            };
        }
        round!(1);
        round!(2);
        round!(3);
        round!(4);
        round!(5);
        round!(6);
        round!(7);
        round!(8);
        round!(9);
        s
    }

    /// The hits among the points `(x, y)`, one bit per lane: a hit is a sum
    /// of squares without carry, `yy <= !xx` unsigned.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn hits512(x: __m512i, y: __m512i) -> __mmask8 {
        let xx = _mm512_mul_epu32(x, x);
        let yy = _mm512_mul_epu32(y, y);
        _mm512_cmpge_epu64_mask(_mm512_add_epi64(xx, yy), xx)
    }

    /// Hits of a vector of blocks (both points) among `lanes`.
    #[inline]
    #[target_feature(enable = "avx512f,popcnt")]
    fn count512([x0, x1, x2, x3]: [__m512i; 4], lanes: __mmask8) -> u64 {
        let both = u32::from(hits512(x0, x1) & lanes) | u32::from(hits512(x2, x3) & lanes) << 8;
        u64::from(both.count_ones())
    }

    /// Hits in blocks `j0 .. j0 + n`, 8 blocks per vector.
    #[target_feature(enable = "avx512f,popcnt")]
    pub(super) fn hits_avx512(key: [u32; 2], j0: u64, n: u64) -> u64 {
        let k = keys512(key);
        let iota = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
        let mut offs = [iota; U512];
        for (u, o) in offs.iter_mut().enumerate() {
            *o = _mm512_add_epi64(iota, _mm512_set1_epi64(8 * u as i64));
        }
        let step = _mm512_set1_epi64(8 * U512 as i64);
        let mut base = _mm512_set1_epi64(j0 as i64);
        let mut hits = 0;
        let mut left = n;
        while left >= 8 * U512 as u64 {
            let mut j = offs;
            for jv in j.iter_mut() {
                *jv = _mm512_add_epi64(base, *jv);
            }
            for x in philox512(j, &k) {
                hits += count512(x, 0xFF);
            }
            base = _mm512_add_epi64(base, step);
            left -= 8 * U512 as u64;
        }
        // The last 0..8*U512 blocks, one vector at a time; lanes past the
        // end are computed (block indices wrap harmlessly) and not counted.
        while left > 0 {
            let lanes = if left >= 8 { 0xFF } else { (1u8 << left) - 1 };
            let [x] = philox512([_mm512_add_epi64(base, iota)], &k);
            hits += count512(x, lanes);
            base = _mm512_add_epi64(base, _mm512_set1_epi64(8));
            left = left.saturating_sub(8);
        }
        hits
    }

    /// The round keys, broadcast.
    struct Keys256 {
        k0: [__m256i; ROUNDS],
        k1: [__m256i; ROUNDS],
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn keys256(key: [u32; 2]) -> Keys256 {
        let ks = round_keys(key);
        let mut k = Keys256 {
            k0: [_mm256_setzero_si256(); ROUNDS],
            k1: [_mm256_setzero_si256(); ROUNDS],
        };
        for (r, [k0, k1]) in ks.into_iter().enumerate() {
            k.k0[r] = _mm256_set1_epi64x(i64::from(k0));
            k.k1[r] = _mm256_set1_epi64x(i64::from(k1));
        }
        k
    }

    /// Philox4x32-10 of `U` vectors of 4 block indices (see [`philox512`]).
    #[inline]
    #[target_feature(enable = "avx2")]
    fn philox256<const U: usize>(j: [__m256i; U], k: &Keys256) -> [[__m256i; 4]; U] {
        let m0 = _mm256_set1_epi64x(i64::from(M0));
        let m1 = _mm256_set1_epi64x(i64::from(M1));
        let zero = _mm256_setzero_si256();
        let mut s = [[zero; 4]; U];
        for u in 0..U {
            let p0 = _mm256_mul_epu32(j[u], m0);
            s[u] = [
                _mm256_xor_si256(_mm256_srli_epi64::<32>(j[u]), k.k0[0]),
                zero,
                _mm256_xor_si256(_mm256_srli_epi64::<32>(p0), k.k1[0]),
                p0,
            ];
        }
        macro_rules! round {
            ($r:expr) => {
                for st in s.iter_mut() {
                    let [c0, c1, c2, c3] = *st;
                    let p0 = _mm256_mul_epu32(c0, m0);
                    let p1 = _mm256_mul_epu32(c2, m1);
                    // The key is folded into the old word while the product
                    // is under way.
                    *st = [
                        _mm256_xor_si256(_mm256_srli_epi64::<32>(p1), _mm256_xor_si256(c1, k.k0[$r])),
                        p1,
                        _mm256_xor_si256(_mm256_srli_epi64::<32>(p0), _mm256_xor_si256(c3, k.k1[$r])),
                        p0,
                    ];
                }
            };
        }
        round!(1);
        round!(2);
        round!(3);
        round!(4);
        round!(5);
        round!(6);
        round!(7);
        round!(8);
        round!(9);
        s
    }

    /// Subtracts 1 from `acc`'s lane for each miss `(x, y)` among `lanes`
    /// (all ones in a lane that counts). A miss is a carry out of
    /// `xx + yy`, i.e. `xx > xx + yy` unsigned; AVX2 compares signed, so both
    /// sides are offset by 2^63 (`xx ^ 2^63 + yy` is the offset sum).
    #[inline]
    #[target_feature(enable = "avx2")]
    fn misses256(acc: __m256i, x: __m256i, y: __m256i, lanes: __m256i) -> __m256i {
        let sign = _mm256_set1_epi64x(i64::MIN);
        let xx = _mm256_xor_si256(_mm256_mul_epu32(x, x), sign);
        let yy = _mm256_mul_epu32(y, y);
        let miss = _mm256_cmpgt_epi64(xx, _mm256_add_epi64(xx, yy));
        _mm256_add_epi64(acc, _mm256_and_si256(miss, lanes))
    }

    /// Hits in blocks `j0 .. j0 + n`, 4 blocks per vector.
    #[target_feature(enable = "avx2,popcnt")]
    pub(super) fn hits_avx2(key: [u32; 2], j0: u64, n: u64) -> u64 {
        let k = keys256(key);
        let iota = _mm256_set_epi64x(3, 2, 1, 0);
        let mut offs = [iota; U256];
        for (u, o) in offs.iter_mut().enumerate() {
            *o = _mm256_add_epi64(iota, _mm256_set1_epi64x(4 * u as i64));
        }
        let step = _mm256_set1_epi64x(4 * U256 as i64);
        let all = _mm256_set1_epi64x(-1);
        let mut base = _mm256_set1_epi64x(j0 as i64);
        // Minus the misses, per lane.
        let mut acc = _mm256_setzero_si256();
        let mut left = n;
        while left >= 4 * U256 as u64 {
            let mut j = offs;
            for jv in j.iter_mut() {
                *jv = _mm256_add_epi64(base, *jv);
            }
            for [x0, x1, x2, x3] in philox256(j, &k) {
                acc = misses256(acc, x0, x1, all);
                acc = misses256(acc, x2, x3, all);
            }
            base = _mm256_add_epi64(base, step);
            left -= 4 * U256 as u64;
        }
        while left > 0 {
            // Lane l counts when l < left.
            let lanes = _mm256_cmpgt_epi64(_mm256_set1_epi64x(left.min(4) as i64), iota);
            let [[x0, x1, x2, x3]] = philox256([_mm256_add_epi64(base, iota)], &k);
            acc = misses256(acc, x0, x1, lanes);
            acc = misses256(acc, x2, x3, lanes);
            base = _mm256_add_epi64(base, _mm256_set1_epi64x(4));
            left = left.saturating_sub(4);
        }
        let mut lanes = [0u64; 4];
        // SAFETY: `lanes` is 32 writable bytes; the store is unaligned.
        unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), acc) };
        let misses = lanes.iter().fold(0u64, |a, &l| a.wrapping_sub(l));
        2 * n - misses
    }
}

/// The CPU backend: a kernel and a persistent pool of worker threads.
pub struct CpuBackend {
    pool: rayon::ThreadPool,
    threads: usize,
    kernel: Kernel,
}

impl std::fmt::Debug for CpuBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpuBackend")
            .field("threads", &self.threads)
            .field("kernel", &self.kernel)
            .finish()
    }
}

impl CpuBackend {
    /// A backend on `threads` threads (0: one per core) with the fastest
    /// kernel this CPU runs.
    pub fn new(threads: usize) -> Result<CpuBackend, String> {
        Self::with_kernel(threads, Kernel::detect())
    }

    /// A backend with a chosen kernel (tests and benchmarks compare them).
    pub fn with_kernel(threads: usize, kernel: Kernel) -> Result<CpuBackend, String> {
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            threads
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("pi-cpu-{i}"))
            .build()
            .map_err(|e| format!("could not start {threads} CPU threads: {e}"))?;
        Ok(CpuBackend { pool, threads, kernel })
    }

    /// Worker threads in the pool.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The lane kernel in use.
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// "CPU, 2 threads, avx2 kernel".
    pub fn describe(&self) -> String {
        let s = if self.threads == 1 { "" } else { "s" };
        format!("CPU, {} thread{s}, {} kernel", self.threads, self.kernel.name())
    }

    /// Hits of the run `(seed, first, count)`; the caller has checked
    /// [`stream::range_is_valid`]. Small runs stay on the calling thread.
    pub fn count_hits(&self, seed: u64, first: u64, count: u64) -> u64 {
        let b = Blocks::of(first, count);
        let key = stream::key_of(seed);
        let whole = if count <= SERIAL_SAMPLES || self.threads == 1 {
            self.kernel.block_hits(key, b.first_block, b.n_blocks)
        } else {
            let tasks = b.n_blocks.div_ceil(BLOCKS_PER_TASK);
            self.pool.install(|| {
                (0..tasks)
                    .into_par_iter()
                    .map(|t| {
                        let start = t * BLOCKS_PER_TASK;
                        let n = BLOCKS_PER_TASK.min(b.n_blocks - start);
                        self.kernel.block_hits(key, b.first_block.wrapping_add(start), n)
                    })
                    .sum::<u64>()
            })
        };
        whole + b.edge_hits(seed)
    }

    /// Fills `out[k]` with the hits of batch `k`, samples
    /// `first + k * batch_size ..`; the caller has checked that the whole
    /// range is valid. Many small batches run in parallel, a few large ones
    /// one after another, each over the whole pool.
    pub fn count_hits_batched(&self, seed: u64, first: u64, batch_size: u64, out: &mut [u64]) {
        let start = |k: usize| first.wrapping_add(k as u64 * batch_size);
        if batch_size > SERIAL_SAMPLES || out.len() < 2 || self.threads == 1 {
            for (k, slot) in out.iter_mut().enumerate() {
                *slot = self.count_hits(seed, start(k), batch_size);
            }
        } else {
            let key = stream::key_of(seed);
            self.pool.install(|| {
                out.par_iter_mut().enumerate().with_min_len(16).for_each(|(k, slot)| {
                    let b = Blocks::of(start(k), batch_size);
                    *slot = self.kernel.block_hits(key, b.first_block, b.n_blocks) + b.edge_hits(seed);
                })
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kernel_matches_the_reference() {
        for kernel in Kernel::available() {
            for (seed, j0, n) in [(0u64, 0u64, 0u64), (1, 5, 1), (7, 3, 37), (u64::MAX, (1 << 32) - 9, 50)] {
                let key = stream::key_of(seed);
                assert_eq!(
                    kernel.block_hits(key, j0, n),
                    stream::block_range_hits(key, j0, n),
                    "{kernel:?} seed={seed} j0={j0} n={n}"
                );
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

    fn check(kernel: Kernel, key: [u32; 2], j0: u64, n: u64) {
        assert_eq!(
            kernel.block_hits(key, j0, n),
            stream::block_range_hits(key, j0, n),
            "{kernel:?} key={key:08x?} j0={j0:#x} n={n}"
        );
    }

    #[test]
    fn kernels_match_the_reference_on_random_runs() {
        let mut rng = 0x0DDB_1A5E_5BAD_5EEDu64;
        for kernel in Kernel::available() {
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
        for kernel in Kernel::available() {
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
    fn block_index_near_the_last_block() {
        for kernel in Kernel::available() {
            for d in 0..70u64 {
                for n in [1u64, 2, 5, 8, 13, 32, 33, 70] {
                    // Up to the last block, and (wrapping) past it.
                    check(kernel, stream::key_of(u64::MAX - d), u64::MAX - d, n.min(d + 1));
                    check(kernel, stream::key_of(d), u64::MAX - d, n);
                }
            }
        }
    }

    #[test]
    fn hit_test_at_the_carry_boundary() {
        // The branch-free tests against `stream::is_hit` at the points where
        // x*x + y*y crosses 2^64.
        for (x, y) in [
            (0u32, 0u32),
            (u32::MAX, 0),
            (0, u32::MAX),
            (u32::MAX, u32::MAX),
            (u32::MAX, 1),
            (3_037_000_499, 3_037_000_499),
            (3_037_000_500, 3_037_000_500),
            (3_037_000_499, 3_037_000_500),
        ] {
            let miss = carry(u64::from(x), u64::from(y)) == 1;
            assert_eq!(!miss, stream::is_hit(x, y), "x={x} y={y}");
        }
    }

    #[test]
    fn block_index_wraps_at_the_end_of_the_stream() {
        let key = stream::key_of(3);
        let j0 = u64::MAX - 20;
        for kernel in Kernel::available() {
            assert_eq!(kernel.block_hits(key, j0, 21), stream::block_range_hits(key, j0, 21));
        }
    }
}
