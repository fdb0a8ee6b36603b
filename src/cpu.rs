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
    /// 8 blocks at a time with AVX2.
    Avx2,
    /// 16 blocks at a time with AVX-512F.
    Avx512,
}

impl Kernel {
    /// The fastest kernel this CPU runs, by run-time detection.
    pub fn detect() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Kernel::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Kernel::Avx2;
            }
        }
        Kernel::Portable
    }

    /// Every kernel this CPU can run (for tests and benchmarks).
    pub fn available() -> Vec<Kernel> {
        let mut v = vec![Kernel::Scalar, Kernel::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                v.push(Kernel::Avx2);
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                v.push(Kernel::Avx512);
            }
        }
        v
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
        match self {
            Kernel::Scalar => stream::block_range_hits(key, j0, n),
            Kernel::Portable => lanes::<8>(key, j0, n),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => {
                assert!(std::arch::is_x86_feature_detected!("avx2"), "this CPU has no AVX2");
                // SAFETY: AVX2 is present, checked on the line above.
                unsafe { lanes_avx2(key, j0, n) }
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => {
                assert!(
                    std::arch::is_x86_feature_detected!("avx512f"),
                    "this CPU has no AVX-512F"
                );
                // SAFETY: AVX-512F is present, checked on the line above.
                unsafe { lanes_avx512(key, j0, n) }
            }
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx2 | Kernel::Avx512 => panic!("{} needs an x86_64 CPU", self.name()),
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn lanes_avx2(key: [u32; 2], j0: u64, n: u64) -> u64 {
    lanes::<8>(key, j0, n)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn lanes_avx512(key: [u32; 2], j0: u64, n: u64) -> u64 {
    lanes::<16>(key, j0, n)
}

/// `L` blocks at a time: the ten rounds over arrays of lanes, written so the
/// compiler turns each line into one vector instruction (32x32->64 products
/// with `pmuludq`), and a branch-free hit test.
#[inline(always)]
fn lanes<const L: usize>(key: [u32; 2], j0: u64, n: u64) -> u64 {
    let groups = n / L as u64;
    let mut hits = [0u64; L];
    for g in 0..groups {
        let base = j0.wrapping_add(g * L as u64);
        let mut c0 = [0u32; L];
        let mut c1 = [0u32; L];
        let mut c2 = [0u32; L];
        let mut c3 = [0u32; L];
        for l in 0..L {
            let j = base.wrapping_add(l as u64);
            c0[l] = j as u32;
            c1[l] = (j >> 32) as u32;
        }
        let [mut k0, mut k1] = key;
        for round in 0..stream::ROUNDS {
            if round > 0 {
                k0 = k0.wrapping_add(W0);
                k1 = k1.wrapping_add(W1);
            }
            for l in 0..L {
                let p0 = u64::from(M0) * u64::from(c0[l]);
                let p1 = u64::from(M1) * u64::from(c2[l]);
                let n0 = ((p1 >> 32) as u32) ^ c1[l] ^ k0;
                let n2 = ((p0 >> 32) as u32) ^ c3[l] ^ k1;
                c1[l] = p1 as u32;
                c3[l] = p0 as u32;
                c0[l] = n0;
                c2[l] = n2;
            }
        }
        for l in 0..L {
            hits[l] += hit(c0[l], c1[l]) + hit(c2[l], c3[l]);
        }
    }
    let done = groups * L as u64;
    hits.iter().sum::<u64>() + stream::block_range_hits(key, j0.wrapping_add(done), n - done)
}

/// 1 for a hit, 0 otherwise, without a branch: the sum of the squares
/// wraps below either square exactly when it reaches 2^64.
#[inline(always)]
fn hit(x: u32, y: u32) -> u64 {
    let xx = u64::from(x) * u64::from(x);
    let yy = u64::from(y) * u64::from(y);
    u64::from(xx.wrapping_add(yy) >= xx)
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

    #[test]
    fn block_index_wraps_at_the_end_of_the_stream() {
        let key = stream::key_of(3);
        let j0 = u64::MAX - 20;
        for kernel in Kernel::available() {
            assert_eq!(kernel.block_hits(key, j0, 21), stream::block_range_hits(key, j0, 21));
        }
    }
}
