//! A fixed pool of worker threads that share the tasks of one call at a
//! time (several callers queue), made for the two promises rayon's pool
//! cannot keep: starting it under a resource limit either succeeds or
//! leaves nothing behind (the threads that did start are joined, the
//! library's own allocations on that path are fallible), and dropping it
//! returns only after every worker has exited.
//!
//! A call hands the pool a [`Job`]: `n` tasks, numbered `0..n`, each a
//! closure returning a count. The caller runs tasks too, so a call never
//! waits for a worker that is busy elsewhere; the workers take task numbers
//! from one atomic counter, and the counts are added.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// Stack of each worker. The kernels keep a few kilobytes of lanes on the
/// stack; 256 KiB leaves room to spare while 1,024 workers reserve a
/// quarter of a gigabyte of address space instead of std's 2 GiB.
pub const STACK_SIZE: usize = 256 * 1024;

/// One call's tasks, on the caller's stack for the length of the call.
struct Job<'a> {
    task: &'a (dyn Fn(u64) -> u64 + Sync),
    n: u64,
    next: AtomicU64,
    sum: AtomicU64,
    panicked: AtomicBool,
    /// Workers inside this job; changed only under the pool's lock.
    inside: AtomicUsize,
}

impl Job<'_> {
    /// Runs tasks until none is left.
    fn work(&self) {
        let run = || {
            loop {
                let t = self.next.fetch_add(1, Ordering::Relaxed);
                if t >= self.n {
                    return;
                }
                self.sum.fetch_add((self.task)(t), Ordering::Relaxed);
            }
        };
        if catch_unwind(AssertUnwindSafe(run)).is_err() {
            self.panicked.store(true, Ordering::Relaxed);
            self.next.store(self.n, Ordering::Relaxed);
        }
    }

    fn exhausted(&self) -> bool {
        self.next.load(Ordering::Relaxed) >= self.n
    }
}

/// A job's address in the queue. The caller keeps the job alive until no
/// worker is inside it and it has left the queue (see [`Pool::run`]).
#[derive(Clone, Copy, PartialEq, Eq)]
struct JobRef(*const Job<'static>);

// SAFETY: a JobRef is only dereferenced by workers between entering the job
// under the lock (while it is queued) and leaving it under the lock; the
// caller waits for both before the job goes. Its fields are atomics and
// the `Sync` task.
unsafe impl Send for JobRef {}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<JobRef>,
    stop: bool,
    /// Workers that have started their loop.
    started: usize,
    /// The workers' kernel thread ids, where the system tells them (Linux;
    /// room reserved before any starts): see [`wait_reaped`].
    tids: Vec<u32>,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    /// Wakes workers: a job was queued, or the pool stops.
    work: Condvar,
    /// Wakes callers: a worker left a job, or a worker started.
    left: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A worker's life: take the oldest job with tasks left, work on it,
    /// leave it; until the pool stops.
    fn serve(&self) {
        let tid = own_tid();
        let mut q = self.lock();
        q.started += 1;
        if let Some(tid) = tid.filter(|_| q.tids.len() < q.tids.capacity()) {
            q.tids.push(tid); // within the reserved room: no allocation
        }
        self.left.notify_all();
        loop {
            if q.stop {
                return;
            }
            let Some(&job) = q.jobs.front() else {
                q = self.work.wait(q).unwrap_or_else(|p| p.into_inner());
                continue;
            };
            // SAFETY: queued, so its caller is waiting and it is alive.
            let j = unsafe { &*job.0 };
            if j.exhausted() {
                q.jobs.pop_front();
                continue;
            }
            j.inside.fetch_add(1, Ordering::Relaxed);
            drop(q);
            j.work();
            q = self.lock();
            j.inside.fetch_sub(1, Ordering::Relaxed);
            q.jobs.retain(|&other| other != job);
            self.left.notify_all();
        }
    }
}

/// A fixed set of worker threads; dropping it joins them.
pub struct Pool {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

impl Pool {
    /// A pool of `threads` workers, each started with [`STACK_SIZE`] of
    /// stack and running before the next one starts. When the system
    /// refuses one (a thread or memory limit), the workers already running
    /// are stopped and joined before the error (the system's reason) is
    /// returned, so that a refused attempt leaves no thread behind.
    pub fn new(threads: usize) -> Result<Pool, String> {
        let mut workers = Vec::new();
        workers
            .try_reserve_exact(threads)
            .map_err(|e| format!("no memory for {threads} thread handles: {e}"))?;
        let mut tids = Vec::new();
        tids.try_reserve_exact(threads)
            .map_err(|e| format!("no memory for {threads} thread ids: {e}"))?;
        let shared = Shared::default();
        shared.lock().tids = tids;
        let mut pool = Pool {
            shared: Arc::new(shared),
            workers,
        };
        for i in 0..threads {
            let shared = Arc::clone(&pool.shared);
            let started = std::thread::Builder::new()
                .name(format!("pi-cpu-{i}"))
                .stack_size(STACK_SIZE)
                .spawn(move || shared.serve());
            match started {
                Ok(handle) => pool.workers.push(handle),
                // Dropping the pool joins the workers that did start.
                Err(e) => return Err(e.to_string()),
            }
            // Wait until it runs: a starting thread allocates (its
            // thread-local data, say), and must not find the memory taken
            // by the next one's stack.
            let mut q = pool.shared.lock();
            while q.started <= i {
                q = pool.shared.left.wait(q).unwrap_or_else(|p| p.into_inner());
            }
        }
        Ok(pool)
    }

    /// The sum of `task(t)` for `t` in `0..n`, the tasks shared between
    /// the calling thread and the workers. A panic in a task is raised
    /// again here once every worker has left the job.
    pub fn run(&self, n: u64, task: &(dyn Fn(u64) -> u64 + Sync)) -> u64 {
        let job = Job {
            task,
            n,
            next: AtomicU64::new(0),
            sum: AtomicU64::new(0),
            panicked: AtomicBool::new(false),
            inside: AtomicUsize::new(0),
        };
        let job_ref = JobRef((&raw const job).cast::<Job<'static>>());
        if n > 1 && !self.workers.is_empty() {
            self.shared.lock().jobs.push_back(job_ref);
            self.shared.work.notify_all();
        }
        job.work();
        let mut q = self.shared.lock();
        q.jobs.retain(|&other| other != job_ref);
        while job.inside.load(Ordering::Relaxed) != 0 {
            q = self.shared.left.wait(q).unwrap_or_else(|p| p.into_inner());
        }
        drop(q);
        assert!(!job.panicked.load(Ordering::Relaxed), "a CPU task panicked");
        job.sum.load(Ordering::Relaxed)
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.work.notify_all();
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
        wait_reaped(&self.shared.lock().tids);
    }
}

/// This thread's kernel id (Linux: the name `/proc/thread-self` links to).
fn own_tid() -> Option<u32> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// Waits (at most 100 ms in all) until the kernel has released the joined
/// workers `tids`. A join returns when a thread's stack is free, a moment
/// before the kernel removes the thread from the process (its
/// `/proc/self/task` entry, its place under `ulimit -u`); after this the
/// threads are gone by every count, so a new pool of the same size fits
/// the same limits at once.
fn wait_reaped(tids: &[u32]) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(100);
    for tid in tids {
        let task = format!("/proc/self/task/{tid}");
        while std::path::Path::new(&task).exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_micros(20));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_task_runs_once() {
        let pool = Pool::new(3).unwrap();
        let seen: Vec<AtomicU64> = (0..1000).map(|_| AtomicU64::new(0)).collect();
        let sum = pool.run(1000, &|t| {
            seen[t as usize].fetch_add(1, Ordering::Relaxed);
            t
        });
        assert_eq!(sum, 999 * 1000 / 2);
        assert!(seen.iter().all(|s| s.load(Ordering::Relaxed) == 1));
    }

    #[test]
    fn callers_on_several_threads_share_one_pool() {
        let pool = Pool::new(2).unwrap();
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..4u64)
                .map(|k| {
                    let pool = &pool;
                    s.spawn(move || pool.run(100 + k, &|t| t + k))
                })
                .collect();
            for (k, h) in (0..4u64).zip(handles) {
                let n = 100 + k;
                assert_eq!(h.join().unwrap(), n * (n - 1) / 2 + n * k);
            }
        });
    }

    #[test]
    fn a_panicking_task_is_raised_to_the_caller_and_the_pool_goes_on() {
        let pool = Pool::new(2).unwrap();
        let r = catch_unwind(AssertUnwindSafe(|| {
            pool.run(50, &|t| if t == 17 { panic!("boom") } else { 1 })
        }));
        assert!(r.is_err());
        assert_eq!(pool.run(10, &|_| 1), 10);
    }

    #[test]
    fn an_empty_pool_runs_on_the_caller() {
        assert_eq!(Pool::new(0).unwrap().run(5, &|t| t), 10);
    }
}
