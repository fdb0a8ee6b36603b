/*
 * pi.h - the C ABI of pi: a Monte Carlo estimate of pi from the
 * Philox4x32-10 stream, bit-identical on every backend.
 *
 * Generated from src/ffi.rs by cbindgen (see cbindgen.toml); do not edit.
 *
 * Sample i of seed s is the point (x, y) of 32-bit words in block i / 2 of
 * Philox4x32-10 with key (lo32(s), hi32(s)) and counter (lo32(i/2),
 * hi32(i/2), 0, 0); a hit is x*x + y*y < 2^64 in exact integers. A run is
 * (seed, first, count): samples first .. first + count - 1.
 *
 * Status codes: every fallible call returns PI_OK or a PI_ERROR_* code, and
 * pi_last_error_message() then describes the failure (per thread). No call
 * aborts the process; on failure, outputs are left untouched.
 *
 * Memory: the caller allocates every array and string buffer. The only
 * allocation the library makes is the engine, released by pi_engine_free().
 * An output array must be aligned for uint64_t: a misaligned pointer is
 * refused up front by every call (an empty batched request accepts any).
 *
 * Threads: one engine may be used by several threads at the same time; it
 * must not be freed while another thread uses it. After fork(), an engine
 * made before it counts exactly in the child (its CPU threads are made
 * anew there); a GPU device does not survive fork(): an AUTO engine counts
 * on the CPU, a GPU engine returns PI_ERROR_DEVICE at once.
 */

#ifndef PI_H
#define PI_H

#include <stddef.h>
#include <stdint.h>

// Version of this ABI: changes whenever a signature or a meaning changes.
#define PI_ABI_VERSION 2

// Success.
#define PI_OK 0

// A bad argument: a NULL pointer, an unknown backend, a range past sample
// 2^64 - 1, an array too large for memory. The message names the argument.
#define PI_ERROR_INVALID_ARGUMENT 1

// A GPU was asked for and no adapter was found.
#define PI_ERROR_NO_DEVICE 2

// The GPU failed: device lost, out of memory, a driver or validation error.
#define PI_ERROR_DEVICE 3

// A bug in the library (a caught panic). The process is not aborted.
#define PI_ERROR_INTERNAL 4

// The call was cancelled: `pi_engine_cancel` was called on its engine
// while it ran, or its progress callback returned non-zero. Outputs are
// untouched. (ABI version 2.)
#define PI_ERROR_CANCELLED 5

// The most CPU threads `pi_engine_new` accepts (0 means one per core).
#define PI_MAX_CPU_THREADS 1024

// Runs of at most this many samples (and batches of at most this size) are
// counted on the CPU even by a GPU engine: a GPU round trip costs more.
// The hits are the same either way; tests use it to reach the GPU path.
#define PI_GPU_MIN_SAMPLES 65536

// A hardware GPU (discrete, integrated, virtual) if there is one, else the
// CPU. Software adapters (lavapipe) are never chosen automatically. If the
// GPU fails during a call, the engine finishes that call on the CPU and
// stays on the CPU (`pi_engine_describe` says why); a new engine tries the
// GPU again.
#define PI_BACKEND_AUTO 0

// The CPU, on a persistent pool of threads.
#define PI_BACKEND_CPU 1

// Any GPU adapter, software ones included; PI_ERROR_NO_DEVICE if none.
#define PI_BACKEND_GPU 2

// Any GPU adapter, software ones included, else the CPU; falls back as
// PI_BACKEND_AUTO does. New in ABI version 2.
#define PI_BACKEND_GPU_OR_CPU 3

// `gpu` of `pi_engine_new_on`: the GPUs the environment variable `PI_GPU`
// names (`all` or -1, `none`, or an index), the best adapter when it is
// unset; what `pi_engine_new` does. `PI_GPU=none` hides every adapter
// from every call (as if there were none), whatever `gpu` says.
#define PI_GPU_DEFAULT -2

// `gpu` of `pi_engine_new_on`: every hardware GPU, each run shared in
// proportion to their measured speed (where there is none, the best
// software adapter for PI_BACKEND_GPU and PI_BACKEND_GPU_OR_CPU).
#define PI_GPU_ALL -1

// An engine: a backend made once (thread pool, GPU device and pipeline) and
// reused by every call. Opaque; made by `pi_engine_new`, released by
// `pi_engine_free`.
typedef struct pi_engine pi_engine;

// A progress callback of `pi_count_hits_progress`: called on the thread
// that made the call, with the samples counted so far and the run's count.
// Return 0 to go on, anything else to stop the run (PI_ERROR_CANCELLED).
typedef int32_t (*pi_progress_fn)(void *user_data, uint64_t samples_done, uint64_t samples_total);

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

// Makes an engine for `backend` (`PI_BACKEND_*`) on `cpu_threads` CPU
// threads (0: one per core; at most PI_MAX_CPU_THREADS) and stores it in
// `*engine_out`.
//
// The environment variable `PI_BACKEND` (`auto`, `cpu`, `gpu`,
// `gpu-or-cpu`), when set, replaces `backend`. Returns PI_OK;
// PI_ERROR_INVALID_ARGUMENT for a NULL `engine_out`, an unknown backend, a
// bad `PI_BACKEND`, too many threads, or threads the system would not
// start (a resource limit: the message names `cpu_threads`);
// PI_ERROR_NO_DEVICE when `PI_BACKEND_GPU` finds no adapter. On failure
// `*engine_out` is untouched. Release the engine with `pi_engine_free`.
//
// # Safety
// `engine_out` is NULL or points to writable storage for one pointer.
int32_t pi_engine_new(int32_t backend, uint32_t cpu_threads, pi_engine **engine_out);

// `pi_engine_new` on chosen GPUs: `gpu` is an adapter index (0, 1, ...:
// the order `pi_gpu_list` prints), PI_GPU_ALL (every hardware GPU sharing
// each run) or PI_GPU_DEFAULT (as `pi_engine_new`: what `PI_GPU` says).
// `gpu` matters only when the engine uses a GPU. An index past the last
// adapter is PI_ERROR_NO_DEVICE for PI_BACKEND_GPU (an AUTO or
// GPU_OR_CPU engine then counts on the CPU); a `gpu` below
// PI_GPU_DEFAULT, or a bad `PI_GPU`, is PI_ERROR_INVALID_ARGUMENT.
// Otherwise as `pi_engine_new`.
//
// # Safety
// `engine_out` is NULL or points to writable storage for one pointer.
int32_t pi_engine_new_on(int32_t backend,
                         uint32_t cpu_threads,
                         int32_t gpu,
                         pi_engine **engine_out);

// Writes the GPU adapters, one line each (`index: name (API, driver,
// device type)`, newline-terminated, best first: hardware before
// software), into `buf` like `pi_engine_describe`, and returns the full
// length. No adapter: "" and 0. The indices are those of
// `pi_engine_new_on` and `PI_GPU`.
//
// # Safety
// `buf` is NULL or has `buf_len` writable bytes.
size_t pi_gpu_list(char *buf, size_t buf_len);

// Releases an engine made by `pi_engine_new`. NULL is a no-op. The engine
// must not be in use by another thread, nor used again. Freeing it twice,
// or using it after, is a caller error: most such calls are caught (a
// second free does nothing, other calls return PI_ERROR_INVALID_ARGUMENT),
// but not all (the memory may already hold a new engine).
//
// # Safety
// `engine` is NULL or a live engine from `pi_engine_new`, freed only once.
void pi_engine_free(pi_engine *engine);

// The backend in use: PI_BACKEND_CPU or PI_BACKEND_GPU (an AUTO or
// GPU_OR_CPU engine reports what it chose, and CPU after its GPU failed).
// -1 for NULL (the last error then says so).
//
// # Safety
// `engine` is NULL or a live engine.
int32_t pi_engine_backend(const pi_engine *engine);

// Writes a one-line description of the hardware in use (the GPU adapter,
// its API and driver; or the CPU, its threads and kernel) into `buf`,
// NUL-terminated and truncated to `buf_len`, and returns its full length
// without the NUL, like `snprintf`. A NULL engine writes "" and returns 0.
//
// # Safety
// `engine` is NULL or a live engine; `buf` is NULL or has `buf_len` bytes.
size_t pi_engine_describe(const pi_engine *engine, char *buf, size_t buf_len);

// Counts the hits among samples `first .. first + count - 1` of `seed` and
// stores them in `*hits_out`. The range is valid when `first + count <=
// 2^64`; `count = 0` gives 0 hits. Thread-safe: several threads may use one
// engine at once.
//
// `hits_out` follows the rule of every output array: NULL, or a pointer
// not aligned for `uint64_t`, is refused (PI_ERROR_INVALID_ARGUMENT) before
// any work, whatever the count; an aligned one is written only on success.
//
// Returns PI_OK; PI_ERROR_INVALID_ARGUMENT (NULL, freed or misaligned
// argument, range past 2^64, CPU threads the system would not start);
// PI_ERROR_DEVICE (a GPU engine's device failed, or was made before
// fork(); an AUTO engine finishes on the CPU instead); PI_ERROR_CANCELLED
// (`pi_engine_cancel` was called while it ran). On failure `*hits_out` is
// untouched.
//
// # Safety
// `engine` is NULL or a live engine; `hits_out` is NULL or writable.
int32_t pi_count_hits(pi_engine *engine,
                      uint64_t seed,
                      uint64_t first,
                      uint64_t count,
                      uint64_t *hits_out);

// Counts hits in `n_batches` consecutive batches: `hits_out[k]` gets the
// hits of samples `first + k * batch_size .. first + (k + 1) * batch_size - 1`.
// The caller allocates `hits_out` with room for `n_batches` values.
// `n_batches = 0` is a valid empty request: nothing is written and
// `hits_out` may be anything, NULL included. Otherwise `hits_out` follows
// the rule of `pi_count_hits`: NULL or misaligned is refused up front.
//
// Returns as `pi_count_hits`; also PI_ERROR_INVALID_ARGUMENT when
// `first + batch_size * n_batches` passes 2^64, or `n_batches` values
// cannot fit in memory; PI_ERROR_CANCELLED as `pi_count_hits`. On
// failure `hits_out` is untouched.
//
// # Safety
// `engine` is NULL or a live engine; `hits_out` is NULL or has room for
// `n_batches` values.
int32_t pi_count_hits_batched(pi_engine *engine,
                              uint64_t seed,
                              uint64_t first,
                              uint64_t batch_size,
                              uint64_t n_batches,
                              uint64_t *hits_out);

// Cancels every call running on `engine` now, from any thread (a signal
// handling thread, a GUI thread, a timer): each returns PI_ERROR_CANCELLED,
// with its outputs untouched, within about 20 ms on the CPU (50 ms at
// most on an idle machine) and after its current GPU submission on a GPU.
// Calls that start afterwards run normally; with no call running, the
// cancel has no effect at all. Returns PI_OK; PI_ERROR_INVALID_ARGUMENT for
// NULL or a freed engine.
//
// It is a plain atomic increment, safe from any thread while others count
// on the engine, but like every call it needs a live engine: cancelling
// while another thread frees the engine is a use after free (join or stop
// the cancelling thread before `pi_engine_free`).
//
// # Safety
// `engine` is NULL or a live engine.
int32_t pi_engine_cancel(pi_engine *engine);

// `pi_count_hits` that reports its progress: `progress(user_data,
// samples_done, samples_total)` is called on the calling thread between
// pieces of the run, at most about 20 times a second, with `samples_done`
// never decreasing, and once at the end with `samples_done ==
// samples_total == count` (a run of 0 samples too). A non-zero return
// stops the run: the call returns PI_ERROR_CANCELLED and leaves
// `*hits_out` untouched (a non-zero return from the final call too).
// `pi_engine_cancel` stops it the same way. A NULL `progress` makes it
// `pi_count_hits`. The hits are exactly those of `pi_count_hits`.
//
// The callback must return normally: a C++ exception, a `longjmp` or a
// `pthread_exit` out of it is undefined behaviour (the library's frames
// are between it and the caller). It may call the library (another engine, or
// `pi_engine_cancel` on this one), but must not free this engine.
//
// # Safety
// As `pi_count_hits`; `progress` is NULL or a function that may be called
// with `user_data`.
int32_t pi_count_hits_progress(pi_engine *engine,
                               uint64_t seed,
                               uint64_t first,
                               uint64_t count,
                               pi_progress_fn progress,
                               void *user_data,
                               uint64_t *hits_out);

// Copies the message of the last failed call on this thread into `buf`
// (NUL-terminated, truncated to `buf_len`) and returns its full length, like
// `snprintf`; "" and 0 when no call on this thread has failed.
//
// # Safety
// `buf` is NULL or has `buf_len` writable bytes.
size_t pi_last_error_message(char *buf, size_t buf_len);

// The library version, "MAJOR.MINOR.PATCH", a static NUL-terminated string.
const char *pi_version(void);

// PI_ABI_VERSION of the library actually loaded; a program compares it with
// the header's to catch a mismatched library.
int32_t pi_abi_version(void);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* PI_H */
