//! The C ABI (`include/pi.h`, generated from this file by cbindgen and
//! checked by `tests/header.rs`). Every export runs its body through
//! [`land`], the one landing pad: panics are caught, errors become a status code and a
//! per-thread message, and outputs are written only on success.

#![allow(non_camel_case_types)]

use crate::engine::{Backend, Engine, Error};
use std::cell::RefCell;
use std::ffi::{CStr, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Version of this ABI: changes whenever a signature or a meaning changes.
pub const PI_ABI_VERSION: i32 = 1;

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
/// CPU. Software adapters (lavapipe) are never chosen automatically.
pub const PI_BACKEND_AUTO: i32 = 0;
/// The CPU, on a persistent pool of threads.
pub const PI_BACKEND_CPU: i32 = 1;
/// Any GPU adapter, software ones included; PI_ERROR_NO_DEVICE if none.
pub const PI_BACKEND_GPU: i32 = 2;

/// An engine: a backend made once (thread pool, GPU device and pipeline) and
/// reused by every call. Opaque; made by `pi_engine_new`, released by
/// `pi_engine_free`.
pub struct pi_engine {
    engine: Engine,
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
/// The environment variable `PI_BACKEND` (`auto`, `cpu`, `gpu`), when set,
/// replaces `backend`. Returns PI_OK; PI_ERROR_INVALID_ARGUMENT for a NULL
/// `engine_out`, an unknown backend or too many threads; PI_ERROR_NO_DEVICE when
/// `PI_BACKEND_GPU` finds no adapter. On failure `*engine_out` is untouched.
/// Release the engine with `pi_engine_free`.
///
/// # Safety
/// `engine_out` is NULL or points to writable storage for one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pi_engine_new(backend: i32, cpu_threads: u32, engine_out: *mut *mut pi_engine) -> i32 {
    guard(|| {
        if engine_out.is_null() {
            return Err(invalid("engine_out is NULL"));
        }
        let backend = match backend {
            PI_BACKEND_AUTO => Backend::Auto,
            PI_BACKEND_CPU => Backend::Cpu,
            PI_BACKEND_GPU => Backend::Gpu,
            other => {
                return Err(invalid(format!(
                    "backend {other} is not PI_BACKEND_AUTO (0), PI_BACKEND_CPU (1) or PI_BACKEND_GPU (2)"
                )));
            }
        };
        let engine = Box::new(pi_engine {
            engine: Engine::new(backend, cpu_threads)?,
        });
        // SAFETY: checked non-NULL above; the caller guarantees it is writable.
        unsafe { *engine_out = Box::into_raw(engine) };
        Ok(())
    })
}

/// Releases an engine made by `pi_engine_new`. NULL is a no-op. The engine
/// must not be in use by another thread, nor used again.
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
            if !engine.is_null() {
                // SAFETY: the caller passes a pointer from Box::into_raw, once.
                drop(unsafe { Box::from_raw(engine) });
            }
            Ok(())
        },
    )
}

/// The backend in use: PI_BACKEND_CPU or PI_BACKEND_GPU (an AUTO engine
/// reports what it chose, and CPU after its GPU failed). -1 for NULL (the
/// last error then says so).
///
/// # Safety
/// `engine` is NULL or a live engine.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pi_engine_backend(engine: *const pi_engine) -> i32 {
    land(
        |_| -1,
        || {
            // SAFETY: the caller guarantees NULL or a live engine.
            let e = unsafe { engine.as_ref() }.ok_or_else(|| invalid("engine is NULL"))?;
            Ok(match e.engine.backend() {
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
            // SAFETY: the caller guarantees NULL or a live engine.
            let text = unsafe { engine.as_ref() }.map_or_else(String::new, |e| e.engine.describe());
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
/// Returns PI_OK; PI_ERROR_INVALID_ARGUMENT (NULL engine or hits_out, range
/// past 2^64); PI_ERROR_DEVICE (a GPU engine's device failed; an AUTO engine
/// finishes on the CPU instead). On failure `*hits_out` is untouched.
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
        // SAFETY: the caller guarantees NULL or a live engine.
        let e = unsafe { engine.as_ref() }.ok_or_else(|| invalid("engine is NULL"))?;
        if hits_out.is_null() {
            return Err(invalid("hits_out is NULL"));
        }
        let hits = e.engine.count_hits(seed, first, count)?;
        // SAFETY: checked non-NULL; the caller guarantees it is writable.
        unsafe { *hits_out = hits };
        Ok(())
    })
}

/// Counts hits in `n_batches` consecutive batches: `hits_out[k]` gets the
/// hits of samples `first + k * batch_size .. first + (k + 1) * batch_size - 1`.
/// The caller allocates `hits_out` with room for `n_batches` values.
///
/// Returns as `pi_count_hits`; also PI_ERROR_INVALID_ARGUMENT when
/// `batch_size * n_batches` overflows, the range passes 2^64, or `n_batches`
/// values cannot fit in memory. On failure `hits_out` is untouched.
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
        // SAFETY: the caller guarantees NULL or a live engine.
        let e = unsafe { engine.as_ref() }.ok_or_else(|| invalid("engine is NULL"))?;
        if hits_out.is_null() {
            return Err(invalid("hits_out is NULL"));
        }
        let len = usize::try_from(n_batches)
            .ok()
            .filter(|&n| n <= isize::MAX as usize / size_of::<u64>())
            .ok_or_else(|| invalid(format!("n_batches = {n_batches} values cannot fit in memory")))?;
        if !hits_out.is_aligned() {
            return Err(invalid("hits_out is not aligned for uint64_t"));
        }
        // SAFETY: non-NULL, aligned, and the caller guarantees room for
        // `n_batches` values, whose size fits in isize (checked above).
        let out = unsafe { std::slice::from_raw_parts_mut(hits_out, len) };
        e.engine.count_hits_batched(seed, first, batch_size, out)
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
