//! The C ABI (`include/pi.h`, generated from this file by cbindgen and
//! checked by `tests/header.rs`). Every export runs its body through
//! [`land`], the one landing pad: panics are caught, errors become a status code and a
//! per-thread message, and outputs are written only on success.

#![allow(non_camel_case_types)]

use crate::engine::{Backend, Engine, Error, GpuSelection};
use std::cell::RefCell;
use std::ffi::{CStr, c_char, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};

/// Version of this ABI: changes whenever a signature or a meaning changes.
pub const PI_ABI_VERSION: i32 = 2;

/// Success.
pub const PI_OK: i32 = 0;
/// A bad argument: a NULL pointer, an unknown backend, a range past sample
/// 2^64 - 1, an array too large for memory. The message names the argument.
pub const PI_ERROR_INVALID_ARGUMENT: i32 = 1;
/// A GPU was asked for and no adapter was found.
pub const PI_ERROR_NO_DEVICE: i32 = 2;
/// The GPU failed: device lost, out of memory, a driver or validation error.
pub const PI_ERROR_DEVICE: i32 = 3;
/// A bug in the library (a caught panic). The process is not aborted.
pub const PI_ERROR_INTERNAL: i32 = 4;
/// The call was cancelled: `pi_engine_cancel` was called on its engine
/// while it ran, or its progress callback returned non-zero. Outputs are
/// untouched. (ABI version 2.)
pub const PI_ERROR_CANCELLED: i32 = 5;

/// The most CPU threads `pi_engine_new` accepts (0 means one per core).
pub const PI_MAX_CPU_THREADS: u32 = 1024;

/// Runs of at most this many samples (and batches of at most this size) are
/// counted on the CPU even by a GPU engine: a GPU round trip costs more.
/// The hits are the same either way; tests use it to reach the GPU path.
pub const PI_GPU_MIN_SAMPLES: u64 = 65536;

// The header carries plain literals; these tie them to the engine's values.
const _: () = assert!(PI_MAX_CPU_THREADS == crate::engine::MAX_CPU_THREADS);
const _: () = assert!(PI_GPU_MIN_SAMPLES == crate::engine::GPU_MIN_SAMPLES);

/// A hardware GPU (discrete, integrated, virtual) if there is one, else the
/// CPU. Software adapters (lavapipe) are never chosen automatically. If the
/// GPU fails during a call, the engine finishes that call on the CPU and
/// stays on the CPU (`pi_engine_describe` says why); a new engine tries the
/// GPU again.
pub const PI_BACKEND_AUTO: i32 = 0;
/// The CPU, on a persistent pool of threads.
pub const PI_BACKEND_CPU: i32 = 1;
/// Any GPU adapter, software ones included; PI_ERROR_NO_DEVICE if none.
pub const PI_BACKEND_GPU: i32 = 2;
/// Any GPU adapter, software ones included, else the CPU; falls back as
/// PI_BACKEND_AUTO does. New in ABI version 2.
pub const PI_BACKEND_GPU_OR_CPU: i32 = 3;

/// `gpu` of `pi_engine_new_on`: the GPUs the environment variable `PI_GPU`
/// names (`all` or -1, `none`, or an index), the best adapter when it is
/// unset; what `pi_engine_new` does. `PI_GPU=none` hides every adapter
/// from every call (as if there were none), whatever `gpu` says.
pub const PI_GPU_DEFAULT: i32 = -2;
/// `gpu` of `pi_engine_new_on`: every hardware GPU, each run shared in
/// proportion to their measured speed (where there is none, the best
/// software adapter for PI_BACKEND_GPU and PI_BACKEND_GPU_OR_CPU).
pub const PI_GPU_ALL: i32 = -1;

/// An engine: a backend made once (thread pool, GPU device and pipeline) and
/// reused by every call. Opaque; made by `pi_engine_new`, released by
/// `pi_engine_free`.
pub struct pi_engine {
    /// [`LIVE`] from `pi_engine_new` until `pi_engine_free`: a cheap check
    /// that turns most uses of a freed engine into PI_ERROR_INVALID_ARGUMENT.
    magic: AtomicU64,
    engine: Engine,
}

/// The magic word of a live engine ("pi-engin").
const LIVE: u64 = 0x7069_2d65_6e67_696e;
/// The magic word `pi_engine_free` leaves before releasing the memory.
const FREED: u64 = 0x6672_6565_6420_2020;

/// The engine behind `engine`, if it is one from `pi_engine_new` not yet
/// freed (as far as its magic word tells: a freed engine whose memory was
/// given to a new engine cannot be told apart).
///
/// # Safety
/// `engine` is NULL or points to memory that held a `pi_engine`.
unsafe fn live<'a>(engine: *const pi_engine) -> Result<&'a Engine, Error> {
    if engine.is_null() {
        return Err(invalid("engine is NULL"));
    }
    if !engine.is_aligned() {
        return Err(invalid("engine is not a pointer from pi_engine_new"));
    }
    // SAFETY: the caller guarantees the memory held a pi_engine; the magic
    // word is read before anything else of it is trusted.
    let e = unsafe { &*engine };
    if e.magic.load(Ordering::Acquire) != LIVE {
        return Err(invalid(
            "engine is not a live engine from pi_engine_new (freed already?)",
        ));
    }
    Ok(&e.engine)
}

/// The `len` values at `out` as a slice, by the one rule for output arrays:
/// an empty one may be any pointer (NULL too); otherwise NULL and a pointer
/// misaligned for `uint64_t` are refused, before any work is done.
///
/// # Safety
/// When `len > 0`, `out` is NULL or has room for `len` values.
unsafe fn out_slice<'a>(out: *mut u64, len: u64, name: &str) -> Result<&'a mut [u64], Error> {
    if len == 0 {
        return Ok(&mut []);
    }
    if out.is_null() {
        return Err(invalid(format!("{name} is NULL")));
    }
    if !out.is_aligned() {
        return Err(invalid(format!(
            "{name} = {out:p} is not aligned for uint64_t ({} bytes)",
            align_of::<u64>()
        )));
    }
    let len = usize::try_from(len)
        .ok()
        .filter(|&n| n <= isize::MAX as usize / size_of::<u64>())
        .ok_or_else(|| invalid(format!("n_batches = {len} values cannot fit in memory")))?;
    // SAFETY: non-NULL, aligned, the size fits in isize, and the caller
    // guarantees room for `len` values.
    Ok(unsafe { std::slice::from_raw_parts_mut(out, len) })
}

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

fn status_of(e: &Error) -> i32 {
    match e {
        Error::InvalidArgument(_) => PI_ERROR_INVALID_ARGUMENT,
        Error::NoDevice(_) => PI_ERROR_NO_DEVICE,
        Error::Device(_) => PI_ERROR_DEVICE,
        Error::Internal(_) => PI_ERROR_INTERNAL,
        Error::Cancelled(_) => PI_ERROR_CANCELLED,
    }
}

/// The one landing pad of every export: runs `body`, catching any panic
/// (reported as PI_ERROR_INTERNAL). On failure it stores the message in the
/// thread's last error and returns `on_error(status)`.
fn land<T>(on_error: impl FnOnce(i32) -> T, body: impl FnOnce() -> Result<T, Error>) -> T {
    let result = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        Err(Error::Internal(format!("panic caught at the C boundary: {what}")))
    });
    result.unwrap_or_else(|e| {
        let status = status_of(&e);
        // `try_with`: a call made while the thread is being torn down still
        // returns its status.
        let _ = LAST_ERROR.try_with(|m| *m.borrow_mut() = e.to_string());
        on_error(status)
    })
}

/// [`land`] for the calls that return a status code.
fn guard(body: impl FnOnce() -> Result<(), Error>) -> i32 {
    land(|status| status, || body().map(|()| PI_OK))
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidArgument(msg.into())
}

/// Copies `s` into `buf` (at most `buf_len - 1` bytes, then a NUL) and
/// returns `s.len()`, as `snprintf` does. A NULL `buf` or a zero `buf_len`
/// writes nothing.
///
/// # Safety
/// `buf` is NULL or points to `buf_len` writable bytes.
unsafe fn copy_out(s: &str, buf: *mut c_char, buf_len: usize) -> usize {
    if !buf.is_null() && buf_len > 0 {
        let n = s.len().min(buf_len - 1);
        // SAFETY: the caller guarantees `buf_len` writable bytes; n + 1 <= buf_len.
        unsafe {
            std::ptr::copy_nonoverlapping(s.as_ptr(), buf.cast::<u8>(), n);
            *buf.add(n) = 0;
        }
    }
    s.len()
}

/// Makes an engine for `backend` (`PI_BACKEND_*`) on `cpu_threads` CPU
/// threads (0: one per core; at most PI_MAX_CPU_THREADS) and stores it in
/// `*engine_out`.
///
/// The environment variable `PI_BACKEND` (`auto`, `cpu`, `gpu`,
/// `gpu-or-cpu`), when set, replaces `backend`. Returns PI_OK;
/// PI_ERROR_INVALID_ARGUMENT for a NULL `engine_out`, an unknown backend, a
/// bad `PI_BACKEND`, too many threads, or threads the system would not
/// start (a resource limit: the message names `cpu_threads`);
/// PI_ERROR_NO_DEVICE when `PI_BACKEND_GPU` finds no adapter. On failure
/// `*engine_out` is untouched. Release the engine with `pi_engine_free`.
///
/// # Safety
/// `engine_out` is NULL or points to writable storage for one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pi_engine_new(backend: i32, cpu_threads: u32, engine_out: *mut *mut pi_engine) -> i32 {
    // SAFETY: the caller's guarantee is passed on.
    unsafe { pi_engine_new_on(backend, cpu_threads, PI_GPU_DEFAULT, engine_out) }
}

/// `pi_engine_new` on chosen GPUs: `gpu` is an adapter index (0, 1, ...:
/// the order `pi_gpu_list` prints), PI_GPU_ALL (every hardware GPU sharing
/// each run) or PI_GPU_DEFAULT (as `pi_engine_new`: what `PI_GPU` says).
/// `gpu` matters only when the engine uses a GPU. An index past the last
/// adapter is PI_ERROR_NO_DEVICE for PI_BACKEND_GPU (an AUTO or
/// GPU_OR_CPU engine then counts on the CPU); a `gpu` below
/// PI_GPU_DEFAULT, or a bad `PI_GPU`, is PI_ERROR_INVALID_ARGUMENT.
/// Otherwise as `pi_engine_new`.
///
/// # Safety
/// `engine_out` is NULL or points to writable storage for one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pi_engine_new_on(
    backend: i32,
    cpu_threads: u32,
    gpu: i32,
    engine_out: *mut *mut pi_engine,
) -> i32 {
    guard(|| {
        if engine_out.is_null() {
            return Err(invalid("engine_out is NULL"));
        }
        let backend = match backend {
            PI_BACKEND_AUTO => Backend::Auto,
            PI_BACKEND_CPU => Backend::Cpu,
            PI_BACKEND_GPU => Backend::Gpu,
            PI_BACKEND_GPU_OR_CPU => Backend::GpuOrCpu,
            other => {
                return Err(invalid(format!(
                    "backend {other} is not PI_BACKEND_AUTO (0), PI_BACKEND_CPU (1), PI_BACKEND_GPU (2) \
                     or PI_BACKEND_GPU_OR_CPU (3)"
                )));
            }
        };
        let selection = match gpu {
            PI_GPU_DEFAULT => None,
            PI_GPU_ALL => Some(GpuSelection::All),
            k if k >= 0 => Some(GpuSelection::Index(k as usize)),
            other => {
                return Err(invalid(format!(
                    "gpu {other} is not an adapter index (0, 1, ...), PI_GPU_ALL (-1) or PI_GPU_DEFAULT (-2)"
                )));
            }
        };
        let engine = Box::new(pi_engine {
            magic: AtomicU64::new(LIVE),
            engine: Engine::new_on(backend, cpu_threads, selection)?,
        });
        // SAFETY: checked non-NULL above; the caller guarantees it is writable.
        unsafe { *engine_out = Box::into_raw(engine) };
        Ok(())
    })
}

/// Writes the GPU adapters, one line each (`index: name (API, driver,
/// device type)`, newline-terminated, best first: hardware before
/// software), into `buf` like `pi_engine_describe`, and returns the full
/// length. No adapter: "" and 0. The indices are those of
/// `pi_engine_new_on` and `PI_GPU`.
///
/// # Safety
/// `buf` is NULL or has `buf_len` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pi_gpu_list(buf: *mut c_char, buf_len: usize) -> usize {
    land(
        |_| 0,
        || {
            let text: String = crate::engine::gpu_list()?.into_iter().map(|l| l + "\n").collect();
            // SAFETY: the caller guarantees `buf_len` writable bytes at `buf`.
            Ok(unsafe { copy_out(&text, buf, buf_len) })
        },
    )
}

/// Releases an engine made by `pi_engine_new`. NULL is a no-op. The engine
/// must not be in use by another thread, nor used again. Freeing it twice,
/// or using it after, is a caller error: most such calls are caught (a
/// second free does nothing, other calls return PI_ERROR_INVALID_ARGUMENT),
/// but not all (the memory may already hold a new engine).
///
/// # Safety
/// `engine` is NULL or a live engine from `pi_engine_new`, freed only once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pi_engine_free(engine: *mut pi_engine) {
    // Dropping joins the thread pool and releases the GPU; a panic there must
    // not cross the boundary.
    land(
        |_| (),
        || {
            if engine.is_null() {
                return Ok(());
            }
            // SAFETY: the caller passes memory that held a pi_engine.
            unsafe { live(engine) }?;
            // SAFETY: live, so from Box::into_raw; the word is cleared first
            // so that a second free finds it dead.
            unsafe { (*engine).magic.store(FREED, Ordering::Release) };
            drop(unsafe { Box::from_raw(engine) });
            Ok(())
        },
    )
}

/// The backend in use: PI_BACKEND_CPU or PI_BACKEND_GPU (an AUTO or
/// GPU_OR_CPU engine reports what it chose, and CPU after its GPU failed).
/// -1 for NULL (the last error then says so).
///
/// # Safety
/// `engine` is NULL or a live engine.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pi_engine_backend(engine: *const pi_engine) -> i32 {
    land(
        |_| -1,
        || {
            // SAFETY: the caller guarantees NULL or an engine from pi_engine_new.
            Ok(match unsafe { live(engine) }?.backend() {
                Backend::Gpu => PI_BACKEND_GPU,
                _ => PI_BACKEND_CPU,
            })
        },
    )
}

/// Writes a one-line description of the hardware in use (the GPU adapter,
/// its API and driver; or the CPU, its threads and kernel) into `buf`,
/// NUL-terminated and truncated to `buf_len`, and returns its full length
/// without the NUL, like `snprintf`. A NULL engine writes "" and returns 0.
///
/// # Safety
/// `engine` is NULL or a live engine; `buf` is NULL or has `buf_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pi_engine_describe(engine: *const pi_engine, buf: *mut c_char, buf_len: usize) -> usize {
    land(
        |_| 0,
        || {
            let text = if engine.is_null() {
                String::new()
            } else {
                // SAFETY: the caller guarantees an engine from pi_engine_new.
                unsafe { live(engine) }?.describe()
            };
            // SAFETY: the caller guarantees `buf_len` writable bytes at `buf`.
            Ok(unsafe { copy_out(&text, buf, buf_len) })
        },
    )
}

/// Counts the hits among samples `first .. first + count - 1` of `seed` and
/// stores them in `*hits_out`. The range is valid when `first + count <=
/// 2^64`; `count = 0` gives 0 hits. Thread-safe: several threads may use one
/// engine at once.
///
/// `hits_out` follows the rule of every output array: NULL, or a pointer
/// not aligned for `uint64_t`, is refused (PI_ERROR_INVALID_ARGUMENT) before
/// any work, whatever the count; an aligned one is written only on success.
///
/// Returns PI_OK; PI_ERROR_INVALID_ARGUMENT (NULL, freed or misaligned
/// argument, range past 2^64, CPU threads the system would not start);
/// PI_ERROR_DEVICE (a GPU engine's device failed, or was made before
/// fork(); an AUTO engine finishes on the CPU instead); PI_ERROR_CANCELLED
/// (`pi_engine_cancel` was called while it ran). On failure `*hits_out` is
/// untouched.
///
/// # Safety
/// `engine` is NULL or a live engine; `hits_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pi_count_hits(
    engine: *mut pi_engine,
    seed: u64,
    first: u64,
    count: u64,
    hits_out: *mut u64,
) -> i32 {
    guard(|| {
        // SAFETY: the caller guarantees NULL or an engine from pi_engine_new.
        let e = unsafe { live(engine) }?;
        // SAFETY: the caller guarantees NULL or room for one value.
        let out = unsafe { out_slice(hits_out, 1, "hits_out") }?;
        out[0] = e.count_hits(seed, first, count)?;
        Ok(())
    })
}

/// Counts hits in `n_batches` consecutive batches: `hits_out[k]` gets the
/// hits of samples `first + k * batch_size .. first + (k + 1) * batch_size - 1`.
/// The caller allocates `hits_out` with room for `n_batches` values.
/// `n_batches = 0` is a valid empty request: nothing is written and
/// `hits_out` may be anything, NULL included. Otherwise `hits_out` follows
/// the rule of `pi_count_hits`: NULL or misaligned is refused up front.
///
/// Returns as `pi_count_hits`; also PI_ERROR_INVALID_ARGUMENT when
/// `first + batch_size * n_batches` passes 2^64, or `n_batches` values
/// cannot fit in memory; PI_ERROR_CANCELLED as `pi_count_hits`. On
/// failure `hits_out` is untouched.
///
/// # Safety
/// `engine` is NULL or a live engine; `hits_out` is NULL or has room for
/// `n_batches` values.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pi_count_hits_batched(
    engine: *mut pi_engine,
    seed: u64,
    first: u64,
    batch_size: u64,
    n_batches: u64,
    hits_out: *mut u64,
) -> i32 {
    guard(|| {
        // SAFETY: the caller guarantees NULL or an engine from pi_engine_new.
        let e = unsafe { live(engine) }?;
        // SAFETY: the caller guarantees NULL or room for n_batches values.
        let out = unsafe { out_slice(hits_out, n_batches, "hits_out") }?;
        e.count_hits_batched(seed, first, batch_size, out)
    })
}

/// Cancels every call running on `engine` now, from any thread (a signal
/// handling thread, a GUI thread, a timer): each returns PI_ERROR_CANCELLED,
/// with its outputs untouched, within about 20 ms on the CPU (50 ms at
/// most on an idle machine) and after its current GPU submission on a GPU.
/// Calls that start afterwards run normally; with no call running, the
/// cancel has no effect at all. Returns PI_OK; PI_ERROR_INVALID_ARGUMENT for
/// NULL or a freed engine.
///
/// It is a plain atomic increment, safe from any thread while others count
/// on the engine, but like every call it needs a live engine: cancelling
/// while another thread frees the engine is a use after free (join or stop
/// the cancelling thread before `pi_engine_free`).
///
/// # Safety
/// `engine` is NULL or a live engine.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pi_engine_cancel(engine: *mut pi_engine) -> i32 {
    guard(|| {
        // SAFETY: the caller guarantees NULL or an engine from pi_engine_new.
        unsafe { live(engine) }?.cancel();
        Ok(())
    })
}

/// A progress callback of `pi_count_hits_progress`: called on the thread
/// that made the call, with the samples counted so far and the run's count.
/// Return 0 to go on, anything else to stop the run (PI_ERROR_CANCELLED).
pub type pi_progress_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, samples_done: u64, samples_total: u64) -> i32>;

/// `pi_count_hits` that reports its progress: `progress(user_data,
/// samples_done, samples_total)` is called on the calling thread between
/// pieces of the run, at most about 20 times a second, with `samples_done`
/// never decreasing, and once at the end with `samples_done ==
/// samples_total == count` (a run of 0 samples too). A non-zero return
/// stops the run: the call returns PI_ERROR_CANCELLED and leaves
/// `*hits_out` untouched (a non-zero return from the final call too).
/// `pi_engine_cancel` stops it the same way. A NULL `progress` makes it
/// `pi_count_hits`. The hits are exactly those of `pi_count_hits`.
///
/// The callback must return normally: a C++ exception, a `longjmp` or a
/// `pthread_exit` out of it is undefined behaviour (the library's frames
/// are between it and the caller). It may call the library (another engine, or
/// `pi_engine_cancel` on this one), but must not free this engine.
///
/// # Safety
/// As `pi_count_hits`; `progress` is NULL or a function that may be called
/// with `user_data`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pi_count_hits_progress(
    engine: *mut pi_engine,
    seed: u64,
    first: u64,
    count: u64,
    progress: pi_progress_fn,
    user_data: *mut c_void,
    hits_out: *mut u64,
) -> i32 {
    guard(|| {
        // SAFETY: the caller guarantees NULL or an engine from pi_engine_new.
        let e = unsafe { live(engine) }?;
        // SAFETY: the caller guarantees NULL or room for one value.
        let out = unsafe { out_slice(hits_out, 1, "hits_out") }?;
        out[0] = match progress {
            None => e.count_hits(seed, first, count)?,
            Some(f) => {
                // SAFETY: the caller guarantees `f` may be called with `user_data`.
                let mut report = |done, total| unsafe { f(user_data, done, total) } == 0;
                e.count_hits_progress(seed, first, count, &mut report)?
            }
        };
        Ok(())
    })
}

/// Copies the message of the last failed call on this thread into `buf`
/// (NUL-terminated, truncated to `buf_len`) and returns its full length, like
/// `snprintf`; "" and 0 when no call on this thread has failed.
///
/// # Safety
/// `buf` is NULL or has `buf_len` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pi_last_error_message(buf: *mut c_char, buf_len: usize) -> usize {
    land(
        |_| 0,
        || {
            let text = LAST_ERROR.try_with(|m| m.borrow().clone()).unwrap_or_default();
            // SAFETY: the caller guarantees `buf_len` writable bytes at `buf`.
            Ok(unsafe { copy_out(&text, buf, buf_len) })
        },
    )
}

/// The library version, "MAJOR.MINOR.PATCH", a static NUL-terminated string.
#[unsafe(no_mangle)]
pub extern "C" fn pi_version() -> *const c_char {
    const VERSION: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => panic!("version has a NUL"),
    };
    land(|_| VERSION.as_ptr(), || Ok(VERSION.as_ptr()))
}

/// PI_ABI_VERSION of the library actually loaded; a program compares it with
/// the header's to catch a mismatched library.
#[unsafe(no_mangle)]
pub extern "C" fn pi_abi_version() -> i32 {
    land(|_| PI_ABI_VERSION, || Ok(PI_ABI_VERSION))
}
