//! The CPU backend: runs split into tasks over a persistent thread pool
//! ([`pool`]: the calling thread and `threads - 1` workers),
//! each task counted by one of the lane kernels ([`Kernel`], chosen at run
//! time or by `PI_CPU_KERNEL`). Every kernel counts exactly what
//! [`stream::count_hits`](crate::stream::count_hits) counts.

mod kernel;
mod pool;
mod portable;
#[cfg(target_arch = "x86_64")]
mod x86;

pub use kernel::{KERNEL_ENV, Kernel, zero_word_blocks};

use crate::stream::{self, Batches, Run};
use pool::Pool;
use std::sync::Mutex;

/// Runs of at most this many samples stay on the calling thread: below it,
/// waking the pool costs more than it saves.
pub const SERIAL_SAMPLES: u64 = 1 << 17;

/// Blocks per task handed to the pool; small enough to balance the load,
/// large enough that scheduling is noise.
const BLOCKS_PER_TASK: u64 = 1 << 16;

/// Small batches per task of [`CpuBackend::count_hits_batched`].
const BATCHES_PER_TASK: usize = 16;

/// The CPU backend: a kernel and a persistent pool of worker threads;
/// dropping it returns after they have exited.
pub struct CpuBackend {
    pool: Pool,
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
        // The calling thread counts too: it and `threads - 1` workers.
        let pool = Pool::new(threads - 1).map_err(|why| format!("could not start {threads} CPU threads: {why}"))?;
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

    /// Hits of `run` under `seed` (checked when it was made, as for the
    /// GPU). Small runs stay on the calling thread.
    pub fn count_hits(&self, seed: u64, run: Run) -> u64 {
        let b = run.blocks();
        let key = stream::key_of(seed);
        let whole = if run.count() <= SERIAL_SAMPLES || self.threads == 1 {
            self.kernel.block_hits(key, b.first_block, b.n_blocks)
        } else {
            let tasks = b.n_blocks.div_ceil(BLOCKS_PER_TASK);
            self.pool.run(tasks, &|t| {
                let start = t * BLOCKS_PER_TASK;
                let n = BLOCKS_PER_TASK.min(b.n_blocks - start);
                self.kernel.block_hits(key, b.first_block.wrapping_add(start), n)
            })
        };
        whole + b.edge_hits(seed)
    }

    /// Fills `out[k]` with the hits of `batches.run(k)` (`out` holds at
    /// most `batches.n_batches()` values). Many small batches run in
    /// parallel, a few large ones one after another, each over the whole pool.
    pub fn count_hits_batched(&self, seed: u64, batches: Batches, out: &mut [u64]) {
        debug_assert!(out.len() as u64 <= batches.n_batches());
        if batches.batch_size() > SERIAL_SAMPLES || out.len() < 2 || self.threads == 1 {
            for (k, slot) in (0..).zip(out.iter_mut()) {
                *slot = self.count_hits(seed, batches.run(k));
            }
        } else {
            let key = stream::key_of(seed);
            let chunks: Vec<Mutex<&mut [u64]>> = out.chunks_mut(BATCHES_PER_TASK).map(Mutex::new).collect();
            self.pool.run(chunks.len() as u64, &|t| {
                let mut chunk = chunks[t as usize].lock().unwrap_or_else(|p| p.into_inner());
                for (i, slot) in chunk.iter_mut().enumerate() {
                    let b = batches.run((t as usize * BATCHES_PER_TASK + i) as u64).blocks();
                    *slot = self.kernel.block_hits(key, b.first_block, b.n_blocks) + b.edge_hits(seed);
                }
                0
            });
        }
    }
}
