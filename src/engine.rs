//! The engine: picks a backend once, reuses it for every call, and falls
//! back from a failing GPU to the CPU when the caller asked for `Auto`.

use crate::cpu::CpuBackend;
use crate::gpu::{GpuBackend, GpuError};
use crate::stream::{Batches, RangeError, Run};
use std::fmt;
use std::sync::{Mutex, OnceLock};

/// The environment variable that overrides the backend every engine asks
/// for: `auto`, `cpu` or `gpu`.
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
}

impl Backend {
    /// The backend named `auto`, `cpu` or `gpu` (any case).
    pub fn from_name(name: &str) -> Option<Backend> {
        match name.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Backend::Auto),
            "cpu" => Some(Backend::Cpu),
            "gpu" => Some(Backend::Gpu),
            _ => None,
        }
    }

    /// `"auto"`, `"cpu"` or `"gpu"`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Auto => "auto",
            Backend::Cpu => "cpu",
            Backend::Gpu => "gpu",
        }
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
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
            Error::NoDevice(m) => write!(f, "no GPU device: {m}"),
            Error::Device(m) => write!(f, "GPU device error: {m}"),
            Error::Internal(m) => write!(f, "internal error: {m}"),
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

/// A backend made once and reused: a CPU thread pool, and a GPU device and
/// pipeline when one is in use. One engine may serve several threads at once.
pub struct Engine {
    cpu_threads: usize,
    cpu: OnceLock<Result<CpuBackend, String>>,
    gpu: Option<GpuBackend>,
    /// Set when an `Auto` engine's GPU failed; from then on it counts on the CPU.
    gpu_failure: Mutex<Option<String>>,
    /// What was asked for (after `PI_BACKEND`): only `Auto` falls back.
    requested: Backend,
    forced: bool,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Engine {
    /// An engine for `backend` on `cpu_threads` CPU threads (0: one per
    /// core; at most [`MAX_CPU_THREADS`]). The `PI_BACKEND` environment
    /// variable, when set, replaces `backend`.
    pub fn new(backend: Backend, cpu_threads: u32) -> Result<Engine, Error> {
        if cpu_threads > MAX_CPU_THREADS {
            return Err(Error::InvalidArgument(format!(
                "cpu_threads = {cpu_threads} is more than {MAX_CPU_THREADS} (0 means one per core)"
            )));
        }
        let (backend, forced) = match std::env::var(BACKEND_ENV) {
            Ok(v) if !v.trim().is_empty() => {
                let b = Backend::from_name(&v).ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "environment variable {BACKEND_ENV}={v:?} is not one of auto, cpu, gpu"
                    ))
                })?;
                (b, true)
            }
            _ => (backend, false),
        };
        let gpu = match backend {
            Backend::Cpu => None,
            Backend::Gpu => Some(GpuBackend::new(true)?),
            Backend::Auto => GpuBackend::new(false).ok(),
        };
        let engine = Engine {
            cpu_threads: cpu_threads as usize,
            cpu: OnceLock::new(),
            gpu,
            gpu_failure: Mutex::new(None),
            requested: backend,
            forced,
        };
        if engine.gpu.is_none() {
            engine.cpu()?;
        }
        Ok(engine)
    }

    /// An engine around a GPU backend the caller made (with its own
    /// options). With `fallback`, a device failure finishes the call on the
    /// CPU and the engine stays there, as an `Auto` engine does; without it,
    /// the failure is returned, as for an explicit GPU request. At most
    /// [`MAX_CPU_THREADS`] CPU threads are started.
    pub fn with_gpu(gpu: GpuBackend, cpu_threads: u32, fallback: bool) -> Engine {
        Engine {
            cpu_threads: cpu_threads.min(MAX_CPU_THREADS) as usize,
            cpu: OnceLock::new(),
            gpu: Some(gpu),
            gpu_failure: Mutex::new(None),
            requested: if fallback { Backend::Auto } else { Backend::Gpu },
            forced: false,
        }
    }

    /// The CPU backend, started on first use (a GPU engine needs it only for
    /// small runs and after a fallback).
    fn cpu(&self) -> Result<&CpuBackend, Error> {
        self.cpu
            .get_or_init(|| CpuBackend::new(self.cpu_threads))
            .as_ref()
            .map_err(|e| Error::Internal(e.clone()))
    }

    /// The GPU, unless this engine has none or has given it up.
    fn live_gpu(&self) -> Option<&GpuBackend> {
        let failed = self.gpu_failure.lock().map(|f| f.is_some()).unwrap_or(true);
        self.gpu.as_ref().filter(|_| !failed)
    }

    /// The GPU backend this engine holds, if any (even after giving it up).
    pub fn gpu_backend(&self) -> Option<&GpuBackend> {
        self.gpu.as_ref()
    }

    /// The backend in use now: `Cpu` or `Gpu`, never `Auto`.
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
        let cpu = match self.cpu.get() {
            Some(Ok(cpu)) => cpu.describe(),
            _ => "CPU".to_string(),
        };
        match self.gpu_failure.lock().ok().and_then(|f| f.clone()) {
            Some(why) => format!("{cpu}{forced} (GPU given up after an error: {why})"),
            None => format!("{cpu}{forced}"),
        }
    }

    /// Hits of the run `(seed, first, count)`.
    pub fn count_hits(&self, seed: u64, first: u64, count: u64) -> Result<u64, Error> {
        self.count_run(seed, Run::new(first, count)?)
    }

    /// Hits of a checked run.
    fn count_run(&self, seed: u64, run: Run) -> Result<u64, Error> {
        if run.count() > GPU_MIN_SAMPLES
            && let Some(gpu) = self.live_gpu()
        {
            match gpu.count_hits(seed, run) {
                Ok(hits) => return Ok(hits),
                Err(e) => self.give_up_gpu(e)?,
            }
        }
        Ok(self.cpu()?.count_hits(seed, run.first(), run.count()))
    }

    /// Records a GPU failure. An engine made with an explicit GPU request
    /// reports it; an `Auto` engine moves to the CPU for good.
    fn give_up_gpu(&self, e: GpuError) -> Result<(), Error> {
        if self.requested != Backend::Auto {
            return Err(e.into());
        }
        let mut failure = self
            .gpu_failure
            .lock()
            .map_err(|_| Error::Internal("poisoned lock".into()))?;
        *failure = Some(e.to_string());
        Ok(())
    }

    /// Fills `out[k]` with the hits of samples `first + k * batch_size ..
    /// first + (k + 1) * batch_size - 1`. On failure `out` is left as it was.
    pub fn count_hits_batched(&self, seed: u64, first: u64, batch_size: u64, out: &mut [u64]) -> Result<(), Error> {
        let batches = Batches::new(first, batch_size, out.len() as u64)?;
        if batch_size <= GPU_MIN_SAMPLES || self.live_gpu().is_none() {
            self.cpu()?.count_hits_batched(seed, first, batch_size, out);
            return Ok(());
        }
        let mut hits = vec![0u64; out.len()];
        for (k, slot) in (0..).zip(hits.iter_mut()) {
            *slot = self.count_run(seed, batches.run(k))?;
        }
        out.copy_from_slice(&hits);
        Ok(())
    }
}
