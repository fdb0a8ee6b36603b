//! The engine: picks a backend once, reuses it for every call, and falls
//! back from a failing GPU to the CPU when the caller asked for `Auto` or
//! `GpuOrCpu` ([`Backend::falls_back`]: the one fallback rule of the
//! library, which the C ABI and the Python package only pass on).
//! Every call runs in [pieces](pieces), so that it can be cancelled
//! ([`Engine::cancel`]) and watched ([`Engine::count_hits_progress`]).
//! The engine is the only door to the backends: the C ABI reaches them
//! through it.

mod pieces;

use crate::cpu::{CpuBackend, Kernel};
use crate::gpu::{GpuBackend, GpuError, Gpus};
use crate::stream::{Batches, RangeError, Run};
use pieces::{Cancel, Pace, Watch};
use std::fmt;
use std::mem::ManuallyDrop;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::time::Instant;

pub use crate::gpu::GpuSelection;
pub use pieces::{PIECE_TIME, PROGRESS_INTERVAL, Progress};

/// The environment variable that overrides the backend every engine asks
/// for: `auto`, `cpu`, `gpu` or `gpu-or-cpu`.
pub const BACKEND_ENV: &str = "PI_BACKEND";

/// Runs of at most this many samples go to the CPU even on a GPU engine:
/// a GPU round trip costs more than counting them. The counts are the same
/// either way.
pub const GPU_MIN_SAMPLES: u64 = 1 << 16;

/// The most CPU threads an engine starts: more would only exhaust memory
/// or the system's thread limit.
pub const MAX_CPU_THREADS: u32 = 1024;

/// Which hardware counts the samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A hardware GPU if there is one, else the CPU.
    Auto,
    /// The CPU.
    Cpu,
    /// Any GPU adapter, software ones (lavapipe) included.
    Gpu,
    /// Any GPU adapter, software ones included, else the CPU; falls back
    /// as `Auto` does.
    GpuOrCpu,
}

impl Backend {
    /// The backend named `auto`, `cpu`, `gpu` or `gpu-or-cpu` (any case).
    pub fn from_name(name: &str) -> Option<Backend> {
        match name.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Backend::Auto),
            "cpu" => Some(Backend::Cpu),
            "gpu" => Some(Backend::Gpu),
            "gpu-or-cpu" => Some(Backend::GpuOrCpu),
            _ => None,
        }
    }

    /// `"auto"`, `"cpu"`, `"gpu"` or `"gpu-or-cpu"`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Auto => "auto",
            Backend::Cpu => "cpu",
            Backend::Gpu => "gpu",
            Backend::GpuOrCpu => "gpu-or-cpu",
        }
    }

    /// Whether an engine asked for this backend falls back to the CPU: one
    /// made without a GPU counts on the CPU, and after a device failure it
    /// finishes that call on the CPU and stays there ([`Engine::describe`]
    /// says why) until a new engine is made. True for `Auto` and `GpuOrCpu`.
    pub fn falls_back(self) -> bool {
        matches!(self, Backend::Auto | Backend::GpuOrCpu)
    }
}

/// Why a call failed. Each kind maps to one status code of the C ABI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// A bad argument; the message names it.
    InvalidArgument(String),
    /// A GPU was asked for and no adapter was found.
    NoDevice(String),
    /// The device failed: lost, out of memory, a driver or validation error.
    Device(String),
    /// A bug (a caught panic).
    Internal(String),
    /// The call was cancelled ([`Engine::cancel`]) or its progress callback
    /// asked to stop; its outputs are untouched.
    Cancelled(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
            Error::NoDevice(m) => write!(f, "no GPU device: {m}"),
            Error::Device(m) => write!(f, "GPU device error: {m}"),
            Error::Internal(m) => write!(f, "internal error: {m}"),
            Error::Cancelled(m) => write!(f, "cancelled: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<GpuError> for Error {
    fn from(e: GpuError) -> Error {
        match e {
            GpuError::NoDevice(m) => Error::NoDevice(m),
            GpuError::Device(m) => Error::Device(m),
        }
    }
}

impl From<RangeError> for Error {
    fn from(e: RangeError) -> Error {
        Error::InvalidArgument(e.to_string())
    }
}

/// Counts the forks of this process's line: a `pthread_atfork` handler adds
/// one in every child. Comparing it costs an atomic load per call, where a
/// process id costs a system call.
mod fork_watch {
    use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
    use std::time::Duration;
    #[cfg(unix)]
    use std::time::Instant;

    static FORKS: AtomicU64 = AtomicU64::new(0);
    static STATE: AtomicU8 = AtomicU8::new(UNSET);
    const UNSET: u8 = 0;
    const SETTING: u8 = 1;
    const SET: u8 = 2;
    const FAILED: u8 = 3;
    /// Set while a fork() is being prepared: no new call into the GPU
    /// driver starts.
    static FORKING: AtomicBool = AtomicBool::new(false);
    /// Threads inside the Vulkan loader or a GPU driver right now (through
    /// wgpu): listing adapters, setting up, using or releasing a device.
    static GPU_SETUPS: AtomicUsize = AtomicUsize::new(0);
    /// The longest a fork() waits for those calls to finish.
    #[cfg(unix)]
    const MAX_WAIT: Duration = Duration::from_secs(10);

    #[cfg(unix)]
    unsafe extern "C" {
        fn pthread_atfork(
            prepare: Option<extern "C" fn()>,
            parent: Option<extern "C" fn()>,
            child: Option<extern "C" fn()>,
        ) -> i32;
    }

    /// Before fork(): waits (bounded) until no thread is inside the Vulkan
    /// loader or a GPU driver, whose locks a child would inherit held for
    /// ever (the next instance it makes would hang, or its dynamic loader
    /// assert).
    #[cfg(unix)]
    extern "C" fn prepare() {
        FORKING.store(true, Ordering::SeqCst);
        let start = Instant::now();
        while GPU_SETUPS.load(Ordering::SeqCst) != 0 && start.elapsed() < MAX_WAIT {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[cfg(unix)]
    extern "C" fn in_parent() {
        FORKING.store(false, Ordering::SeqCst);
    }

    #[cfg(unix)]
    extern "C" fn in_child() {
        FORKS.fetch_add(1, Ordering::SeqCst);
        GPU_SETUPS.store(0, Ordering::SeqCst);
        FORKING.store(false, Ordering::SeqCst);
    }

    /// Registers the handlers on first use; whether they are in place. A
    /// thread that finds another one registering gets `false` (and its
    /// engine falls back on process ids) rather than waiting: a wait could
    /// be inherited by a forked child and never end.
    pub fn watching() -> bool {
        match STATE.compare_exchange(UNSET, SETTING, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => {
                #[cfg(unix)]
                // SAFETY: registers handlers that touch only atomics (and sleep).
                let ok = unsafe { pthread_atfork(Some(prepare), Some(in_parent), Some(in_child)) } == 0;
                #[cfg(not(unix))]
                let ok = true; // no fork() there
                STATE.store(if ok { SET } else { FAILED }, Ordering::Release);
                ok
            }
            Err(state) => state == SET,
        }
    }

    /// Forks since the handlers were registered, along this process's line.
    pub fn forks() -> u64 {
        FORKS.load(Ordering::Acquire)
    }

    /// Held by every call that reaches the GPU driver through wgpu (adapter
    /// lists, instance and device creation, counts, drops): a fork() in
    /// another thread waits for it to drop (see [`prepare`]). Not
    /// reentrant: a thread takes one at a time.
    pub struct GpuSetup(());

    impl GpuSetup {
        /// Waits while a fork() is being prepared, then holds forks off.
        pub fn begin() -> GpuSetup {
            loop {
                while FORKING.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(1));
                }
                GPU_SETUPS.fetch_add(1, Ordering::SeqCst);
                if !FORKING.load(Ordering::SeqCst) {
                    return GpuSetup(());
                }
                GPU_SETUPS.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }

    impl Drop for GpuSetup {
        fn drop(&mut self) {
            GPU_SETUPS.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// What an engine holds per process. `fork()` copies an engine into the
/// child without its threads (and the parent's locks in whatever state they
/// were): the first call there sees a new process and starts a fresh
/// `PerProcess`, leaking the parent's, which cannot be joined or released
/// from the child.
struct PerProcess {
    /// The process this state belongs to (see [`Engine::process`]).
    process: u64,
    /// The CPU backend, started on first use in this process.
    cpu: OnceLock<Result<CpuBackend, Error>>,
    /// Set when an `Auto` engine's GPU failed here; from then on it counts
    /// on the CPU.
    gpu_failure: OnceLock<String>,
}

impl PerProcess {
    fn new(process: u64) -> Box<PerProcess> {
        Box::new(PerProcess {
            process,
            cpu: OnceLock::new(),
            gpu_failure: OnceLock::new(),
        })
    }
}

/// A backend made once and reused: a CPU thread pool, and a GPU device and
/// pipeline when one is in use. One engine may serve several threads at
/// once, and survives `fork()`: in the child it starts new CPU threads, and
/// gives up a GPU device made before the fork (an `Auto` engine counts on
/// the CPU there, a `Gpu` engine reports [`Error::Device`]).
pub struct Engine {
    cpu_threads: usize,
    /// The CPU kernel, chosen when the engine is made (`PI_CPU_KERNEL`).
    cpu_kernel: Kernel,
    /// The state of the current process; replaced (the old one leaked) in
    /// a forked child. Never null; owned by the engine.
    state: AtomicPtr<PerProcess>,
    /// The process that made the engine and its GPU device: its id (for
    /// messages), and its token (see [`Engine::process`]).
    home_pid: u32,
    home: u64,
    /// Whether [`fork_watch`] was in place when the engine was made: then
    /// the process token is the fork count, else the process id.
    watched: bool,
    /// Dropped only in the process that made it (see [`Drop`]).
    gpu: ManuallyDrop<Option<Gpus>>,
    /// What was asked for (after `PI_BACKEND`): only `Auto` falls back.
    requested: Backend,
    forced: bool,
    /// Moved on by [`Engine::cancel`]; watched by every call.
    cancel: Cancel,
    /// Piece sizes on the CPU and on the GPU.
    cpu_pace: Pace,
    gpu_pace: Pace,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let here = self.process();
        let state = *self.state.get_mut();
        // SAFETY: `state` came from Box::into_raw and is released only here.
        if unsafe { (*state).process } == here {
            // SAFETY: as above; nothing else refers to it once the engine goes.
            drop(unsafe { Box::from_raw(state) });
        }
        if self.home == here {
            let _setup = self.gpu.is_some().then(fork_watch::GpuSetup::begin);
            // SAFETY: dropped once, here, and never used again.
            unsafe { ManuallyDrop::drop(&mut self.gpu) };
        }
        // Otherwise this is a forked child: the parent's threads and device
        // are not in this process, and waiting on them would hang. Leak them.
    }
}

/// The value of `PI_BACKEND`, if set and not blank. A value that is not
/// UTF-8 or not a backend name is an error naming the variable.
fn backend_from_env() -> Result<Option<Backend>, Error> {
    const EXPECTED: &str = "one of auto, cpu, gpu, gpu-or-cpu";
    let Some(text) = crate::env::read(BACKEND_ENV, EXPECTED).map_err(Error::InvalidArgument)? else {
        return Ok(None);
    };
    Backend::from_name(&text)
        .map(Some)
        .ok_or_else(|| Error::InvalidArgument(crate::env::bad_value(BACKEND_ENV, &text, EXPECTED)))
}

/// One line per GPU adapter, best first (`index: name (API, driver, device
/// type)`; the indices of [`GpuSelection::Index`] and `PI_GPU`); none when
/// there is no adapter or `PI_GPU=none` hides them. A fork() in another
/// thread waits until the adapters are listed and released.
pub fn gpu_list() -> Result<Vec<String>, Error> {
    fork_watch::watching();
    let _driver = fork_watch::GpuSetup::begin();
    Ok(crate::gpu::multi::list()?)
}

impl Engine {
    /// An engine for `backend` on `cpu_threads` CPU threads (0: one per
    /// core; at most [`MAX_CPU_THREADS`]). The `PI_BACKEND` environment
    /// variable, when set, replaces `backend`; `PI_CPU_KERNEL` forces the
    /// CPU kernel.
    pub fn new(backend: Backend, cpu_threads: u32) -> Result<Engine, Error> {
        Engine::new_on(backend, cpu_threads, None)
    }

    /// [`Engine::new`] on the GPUs `gpus` names; `None`: those `PI_GPU`
    /// names (the best adapter when it is unset).
    pub fn new_on(backend: Backend, cpu_threads: u32, gpus: Option<GpuSelection>) -> Result<Engine, Error> {
        if cpu_threads > MAX_CPU_THREADS {
            return Err(Error::InvalidArgument(format!(
                "cpu_threads = {cpu_threads} is more than {MAX_CPU_THREADS} (0 means one per core)"
            )));
        }
        let (backend, forced) = match backend_from_env()? {
            Some(b) => (b, true),
            None => (backend, false),
        };
        let kernel = Kernel::from_env().map_err(Error::InvalidArgument)?;
        // The GPU choice matters only where a GPU may be used: a bad
        // `PI_GPU` never stops a CPU engine.
        let selection = match (backend, gpus) {
            (Backend::Cpu, _) => GpuSelection::Best,
            (_, Some(s)) => s,
            (_, None) => GpuSelection::from_env().map_err(Error::InvalidArgument)?,
        };
        fork_watch::watching();
        let gpu = {
            let _setup = fork_watch::GpuSetup::begin();
            match backend {
                Backend::Cpu => None,
                Backend::Gpu => Some(Gpus::new(selection, true)?),
                Backend::Auto => Gpus::new(selection, false).ok(),
                Backend::GpuOrCpu => Gpus::new(selection, true).ok(),
            }
        };
        let engine = Engine::assemble(gpu, cpu_threads, kernel, backend, forced);
        if engine.gpu.is_none() {
            engine.cpu()?;
        }
        Ok(engine)
    }

    /// An engine around a GPU backend the caller made (with its own
    /// options): the engine of `requested` had it found that GPU. `Gpu`
    /// returns a device failure; `Auto` and `GpuOrCpu` finish the call on
    /// the CPU and stay there ([`Backend::falls_back`]); `Cpu` never uses
    /// the GPU. At most [`MAX_CPU_THREADS`] CPU threads are started, with
    /// the kernel [`Kernel::detect`] finds; `PI_BACKEND` is not read.
    pub fn with_gpu(gpu: GpuBackend, cpu_threads: u32, requested: Backend) -> Engine {
        Engine::with_gpus(Gpus::one(gpu), cpu_threads, requested)
    }

    /// [`Engine::with_gpu`] with several GPU backends sharing each run.
    pub fn with_gpus(gpus: Gpus, cpu_threads: u32, requested: Backend) -> Engine {
        Engine::assemble(
            (requested != Backend::Cpu).then_some(gpus),
            cpu_threads.min(MAX_CPU_THREADS),
            Kernel::detect(),
            requested,
            false,
        )
    }

    fn assemble(gpu: Option<Gpus>, cpu_threads: u32, cpu_kernel: Kernel, requested: Backend, forced: bool) -> Engine {
        let watched = fork_watch::watching();
        let home = if watched {
            fork_watch::forks()
        } else {
            u64::from(std::process::id())
        };
        Engine {
            cpu_threads: cpu_threads as usize,
            cpu_kernel,
            state: AtomicPtr::new(Box::into_raw(PerProcess::new(home))),
            home_pid: std::process::id(),
            home,
            watched,
            gpu: ManuallyDrop::new(gpu),
            requested,
            forced,
            cancel: Cancel::default(),
            cpu_pace: Pace::new(),
            gpu_pace: Pace::new(),
        }
    }

    /// The state of this process, made afresh on the first call in a forked
    /// child. Lock-free: a lock held by another thread at the fork would
    /// stay locked in the child for ever.
    fn state(&self) -> &PerProcess {
        let here = self.process();
        let current = self.state.load(Ordering::Acquire);
        // SAFETY: never null; a state is freed only when the engine is
        // dropped (a replaced one is leaked), so it outlives `&self`.
        let state = unsafe { &*current };
        if state.process == here {
            return state;
        }
        let fresh = Box::into_raw(PerProcess::new(here));
        match self
            .state
            .compare_exchange(current, fresh, Ordering::AcqRel, Ordering::Acquire)
        {
            // The parent's state is leaked: its threads are not in this process.
            // SAFETY: `fresh` is now the engine's, freed only on drop.
            Ok(_) => unsafe { &*fresh },
            Err(winner) => {
                // Another thread of this process got there first.
                // SAFETY: `fresh` was never shared; `winner` is live as above.
                drop(unsafe { Box::from_raw(fresh) });
                unsafe { &*winner }
            }
        }
    }

    /// Whether this call runs in a child forked after the engine was made.
    fn forked(&self) -> bool {
        self.process() != self.home
    }

    /// A token of the current process: the number of forks it descends
    /// from (one atomic load), or its id (a system call) when the fork
    /// handler was not in place as the engine was made.
    fn process(&self) -> u64 {
        if self.watched {
            fork_watch::forks()
        } else {
            u64::from(std::process::id())
        }
    }

    /// The CPU backend, started on first use in this process (a GPU engine
    /// needs it only for small runs and after a fallback).
    fn cpu(&self) -> Result<&CpuBackend, Error> {
        let threads = self.cpu_threads;
        self.state()
            .cpu
            .get_or_init(|| {
                CpuBackend::with_kernel(threads, self.cpu_kernel).map_err(|why| {
                    Error::InvalidArgument(format!(
                        "cpu_threads = {threads}: the system would not start the CPU threads \
                         (a thread or memory limit, e.g. ulimit -u or -v): {why}; ask for fewer threads"
                    ))
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The GPU, unless this engine has none, has given it up, or runs in a
    /// forked child (a device does not survive `fork()`).
    fn live_gpu(&self) -> Option<&Gpus> {
        let gpu = self.gpu.as_ref()?;
        (!self.forked() && self.state().gpu_failure.get().is_none()).then_some(gpu)
    }

    /// The GPUs this engine holds, if any (even after giving them up).
    pub fn gpus(&self) -> Option<&Gpus> {
        self.gpu.as_ref()
    }

    /// The (first) GPU backend this engine holds, if any (even after giving it up).
    pub fn gpu_backend(&self) -> Option<&GpuBackend> {
        self.gpu.as_ref().map(Gpus::first)
    }

    /// The backend in use now: `Cpu` or `Gpu`, never `Auto` or `GpuOrCpu`.
    pub fn backend(&self) -> Backend {
        if self.live_gpu().is_some() {
            Backend::Gpu
        } else {
            Backend::Cpu
        }
    }

    /// A one-line description of the hardware in use.
    pub fn describe(&self) -> String {
        let forced = if self.forced {
            format!(" (forced by {BACKEND_ENV})")
        } else {
            String::new()
        };
        if let Some(gpu) = self.live_gpu() {
            return format!("GPU: {}{forced}", gpu.describe());
        }
        let state = self.state();
        let cpu = match state.cpu.get() {
            Some(Ok(cpu)) => cpu.describe(),
            _ => "CPU".to_string(),
        };
        if self.gpu.is_some() && self.forked() {
            return format!(
                "{cpu}{forced} (GPU given up: its device was made in process {} and does not survive fork())",
                self.home_pid
            );
        }
        match state.gpu_failure.get() {
            Some(why) => format!("{cpu}{forced} (GPU given up after an error: {why})"),
            None => format!("{cpu}{forced}"),
        }
    }

    /// Hits of the run `(seed, first, count)`. Returns [`Error::Cancelled`]
    /// when [`Engine::cancel`] is called while it runs.
    pub fn count_hits(&self, seed: u64, first: u64, count: u64) -> Result<u64, Error> {
        let run = Run::new(first, count)?;
        self.count_run(seed, run, &mut Watch::new(&self.cancel, count, None))
    }

    /// [`Engine::count_hits`] that calls `progress(samples_done,
    /// samples_total)` on this thread between pieces, at most every
    /// [`PROGRESS_INTERVAL`], and once at the end with `samples_done ==
    /// count`; `samples_done` never decreases. A `false` from `progress`
    /// stops the call with [`Error::Cancelled`], as does [`Engine::cancel`].
    pub fn count_hits_progress(&self, seed: u64, first: u64, count: u64, progress: Progress) -> Result<u64, Error> {
        let run = Run::new(first, count)?;
        let mut watch = Watch::new(&self.cancel, count, Some(progress));
        let hits = self.count_run(seed, run, &mut watch)?;
        watch.finish()?;
        Ok(hits)
    }

    /// Stops every call running on this engine now, from any thread: each
    /// returns [`Error::Cancelled`] within about [`PIECE_TIME`] on the CPU,
    /// or after its current GPU piece. Calls that start later run normally.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// The GPU that should count a run of `count` samples, or `None` for the
    /// CPU. A `Gpu` engine in a forked child has lost its device: an error
    /// (one that falls back counts on the CPU there).
    fn gpu_for(&self, count: u64) -> Result<Option<&Gpus>, Error> {
        if count <= GPU_MIN_SAMPLES {
            return Ok(None);
        }
        if self.gpu.is_some() && self.forked() && !self.requested.falls_back() {
            return Err(Error::Device(format!(
                "the GPU device was made in process {} and does not survive fork(); \
                 make a new engine in this process ({})",
                self.home_pid,
                std::process::id()
            )));
        }
        Ok(self.live_gpu())
    }

    /// Hits of a checked run, a piece at a time, watched between pieces.
    /// An engine that falls back and whose GPU fails counts the rest on the CPU.
    fn count_run(&self, seed: u64, run: Run, watch: &mut Watch) -> Result<u64, Error> {
        let mut gpu = self.gpu_for(run.count())?;
        let mut rest = run;
        let mut hits = 0u64;
        while rest.count() > 0 {
            let pace = if gpu.is_some() { &self.gpu_pace } else { &self.cpu_pace };
            let (piece, after) = rest.split_at(pace.size());
            let started = Instant::now();
            hits += match gpu {
                Some(g) => match self.count_on_gpu(g, seed, piece) {
                    Ok(h) => h,
                    Err(e) => {
                        self.give_up_gpu(e)?;
                        gpu = None;
                        continue;
                    }
                },
                None => self.cpu()?.count_hits(seed, piece),
            };
            pace.measured(piece.count(), started.elapsed());
            rest = after;
            watch.advance(piece.count())?;
        }
        Ok(hits)
    }

    /// A piece counted on the GPU, with fork() held off meanwhile: the
    /// child would inherit the driver's locks held.
    fn count_on_gpu(&self, gpu: &Gpus, seed: u64, piece: Run) -> Result<u64, GpuError> {
        let _driver = fork_watch::GpuSetup::begin();
        gpu.count_hits(seed, piece)
    }

    /// Records a GPU failure. A `Gpu` engine reports it; one that
    /// [falls back](Backend::falls_back) moves to the CPU for good.
    fn give_up_gpu(&self, e: GpuError) -> Result<(), Error> {
        if !self.requested.falls_back() {
            return Err(e.into());
        }
        // The first failure is the one reported; later ones add nothing.
        let _ = self.state().gpu_failure.set(e.to_string());
        Ok(())
    }

    /// Fills `out[k]` with the hits of samples `first + k * batch_size ..
    /// first + (k + 1) * batch_size - 1`. On failure (a cancel included)
    /// `out` is left as it was.
    pub fn count_hits_batched(&self, seed: u64, first: u64, batch_size: u64, out: &mut [u64]) -> Result<(), Error> {
        let batches = Batches::new(first, batch_size, out.len() as u64)?;
        if out.is_empty() {
            return Ok(());
        }
        let mut hits = Vec::new();
        hits.try_reserve_exact(out.len())
            .map_err(|_| Error::InvalidArgument(format!("n_batches = {} values cannot fit in memory", out.len())))?;
        hits.resize(out.len(), 0);
        let mut watch = Watch::new(&self.cancel, batch_size.saturating_mul(out.len() as u64), None);
        if self.gpu_for(batch_size)?.is_none() && batch_size < self.cpu_pace.size() {
            self.count_groups(seed, batches, &mut hits, &mut watch)?;
        } else {
            for (k, slot) in (0..).zip(hits.iter_mut()) {
                *slot = self.count_run(seed, batches.run(k), &mut watch)?;
            }
        }
        out.copy_from_slice(&hits);
        Ok(())
    }

    /// Batches smaller than a piece, on the CPU: as many in one go as make
    /// up a piece, watched between groups.
    fn count_groups(&self, seed: u64, batches: Batches, hits: &mut [u64], watch: &mut Watch) -> Result<(), Error> {
        let cpu = self.cpu()?;
        let mut k = 0u64;
        while k < batches.n_batches() {
            let group = (self.cpu_pace.size() / batches.batch_size().max(1)).max(1);
            let part = batches.part(k, group);
            let started = Instant::now();
            let slots = &mut hits[k as usize..(k + part.n_batches()) as usize];
            cpu.count_hits_batched(seed, part, slots);
            let samples = part.n_batches() * batches.batch_size();
            self.cpu_pace.measured(samples, started.elapsed());
            watch.advance(samples)?;
            k += part.n_batches();
        }
        Ok(())
    }
}
