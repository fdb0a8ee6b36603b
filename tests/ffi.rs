//! The C ABI over its whole argument space, called as C would call it:
//! every status is one of the documented codes, outputs change only on
//! success, messages name the bad argument, nothing panics across the
//! boundary, and split additivity holds through the ABI too.

use pi::ffi::*;
use proptest::prelude::*;
use std::ffi::{CStr, c_char};
use std::ptr;

struct Engine(*mut pi_engine);

impl Engine {
    fn new(backend: i32, threads: u32) -> Engine {
        let mut e = ptr::null_mut();
        // SAFETY: a valid out-pointer.
        let status = unsafe { pi_engine_new(backend, threads, &mut e) };
        assert_eq!(status, PI_OK, "{}", last_error());
        Engine(e)
    }
    fn hits(&self, seed: u64, first: u64, count: u64) -> Result<u64, i32> {
        let mut hits = u64::MAX;
        // SAFETY: a live engine and a valid out-pointer.
        match unsafe { pi_count_hits(self.0, seed, first, count, &mut hits) } {
            PI_OK => Ok(hits),
            status => {
                assert_eq!(hits, u64::MAX, "output written on failure");
                Err(status)
            }
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // SAFETY: made by pi_engine_new, freed once.
        unsafe { pi_engine_free(self.0) }
    }
}

fn last_error() -> String {
    let mut buf = [0 as c_char; 512];
    // SAFETY: buf has 512 bytes.
    unsafe { pi_last_error_message(buf.as_mut_ptr(), buf.len()) };
    // SAFETY: the call NUL-terminates within the buffer.
    unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned()
}

#[test]
fn thread_limit_is_the_engines() {
    assert_eq!(PI_MAX_CPU_THREADS, pi::engine::MAX_CPU_THREADS);
}

#[test]
fn version_strings() {
    // SAFETY: pi_version returns a static NUL-terminated string.
    let v = unsafe { CStr::from_ptr(pi_version()) }.to_str().unwrap();
    assert_eq!(v, env!("CARGO_PKG_VERSION"));
    assert_eq!(pi_abi_version(), PI_ABI_VERSION);
}

#[test]
fn strings_truncate_like_snprintf() {
    let e = Engine::new(PI_BACKEND_CPU, 1);
    // SAFETY: NULL buffer with length 0 asks for the length only.
    let full = unsafe { pi_engine_describe(e.0, ptr::null_mut(), 0) };
    assert!(full > 4);
    for len in [1usize, 2, 5, full, full + 1, full + 10] {
        let mut buf = vec![b'#' as c_char; len + 4];
        // SAFETY: buf has at least len bytes.
        assert_eq!(unsafe { pi_engine_describe(e.0, buf.as_mut_ptr(), len) }, full);
        let written = len.min(full + 1);
        assert_eq!(buf[written - 1], 0, "NUL at the end of what fits (len {len})");
        assert!(
            buf[written..].iter().all(|&c| c == b'#' as c_char),
            "nothing past buf_len"
        );
    }
}

#[test]
fn each_thread_keeps_its_own_last_error() {
    let e = Engine::new(PI_BACKEND_CPU, 1);
    assert_eq!(e.hits(0, u64::MAX, 2), Err(PI_ERROR_INVALID_ARGUMENT));
    let mine = last_error();
    assert!(mine.contains("first"), "{mine}");
    std::thread::spawn(|| assert_eq!(last_error(), "")).join().unwrap();
    assert_eq!(last_error(), mine);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Any arguments at all: a documented status, never a panic, output
    /// untouched on failure, and the message names the argument at fault.
    #[test]
    fn any_arguments_get_a_status(
        backend in prop_oneof![Just(PI_BACKEND_CPU), -3i32..6, any::<i32>()],
        threads in prop_oneof![0u32..4, Just(1025u32), Just(u32::MAX)],
        seed in any::<u64>(),
        first in prop_oneof![any::<u64>(), Just(u64::MAX), u64::MAX - 100..=u64::MAX],
        count in prop_oneof![0u64..3000, any::<u64>()],
        batch in prop_oneof![0u64..500, any::<u64>()],
        n_batches in prop_oneof![0u64..8, any::<u64>()],
    ) {
        let mut e = ptr::null_mut();
        // SAFETY: a valid out-pointer.
        let status = unsafe { pi_engine_new(backend, threads, &mut e) };
        if !(0..=3).contains(&backend) || threads > PI_MAX_CPU_THREADS {
            prop_assert_eq!(status, PI_ERROR_INVALID_ARGUMENT);
            prop_assert!(e.is_null());
            let msg = last_error();
            prop_assert!(msg.contains("backend") || msg.contains("cpu_threads"), "{}", msg);
            return Ok(());
        }
        if status != PI_OK {
            prop_assert_eq!(status, PI_ERROR_NO_DEVICE);
            return Ok(());
        }
        let engine = Engine(e);
        let valid = u128::from(first) + u128::from(count) <= 1 << 64;
        let small = count < 200_000;
        if !valid || small {
            match engine.hits(seed, first, count) {
                Ok(h) => prop_assert!(valid && h <= count),
                Err(s) => {
                    prop_assert!(!valid);
                    prop_assert_eq!(s, PI_ERROR_INVALID_ARGUMENT);
                    prop_assert!(last_error().contains("first"));
                }
            }
        }
        let mut out = [u64::MAX; 8];
        let total = u128::from(batch) * u128::from(n_batches);
        let fits = n_batches <= 8;
        let valid = u128::from(first) + total <= 1 << 64;
        if fits && (!valid || total < 200_000) {
            // SAFETY: out has room for n_batches (<= 8) values.
            let s = unsafe { pi_count_hits_batched(engine.0, seed, first, batch, n_batches, out.as_mut_ptr()) };
            if valid {
                prop_assert_eq!(s, PI_OK);
                let sum: u64 = out[..n_batches as usize].iter().sum();
                prop_assert_eq!(Ok(sum), engine.hits(seed, first, batch * n_batches));
            } else {
                prop_assert_eq!(s, PI_ERROR_INVALID_ARGUMENT);
                prop_assert!(out.iter().all(|&h| h == u64::MAX));
            }
        }
    }

    /// Split additivity through the ABI, anywhere in the stream.
    #[test]
    fn additivity_through_the_abi(seed in any::<u64>(), a in any::<u64>(), n in 0u64..50_000, m in 0u64..50_000) {
        let a = a.min(u64::MAX - 100_000);
        let e = Engine::new(PI_BACKEND_CPU, 2);
        prop_assert_eq!(
            e.hits(seed, a, n).unwrap() + e.hits(seed, a + n, m).unwrap(),
            e.hits(seed, a, n + m).unwrap()
        );
    }
}

/// One rule for output pointers, decided before any work: a misaligned
/// `uint64_t *` is refused by both calls at every size, leaving the memory
/// as it was; an empty batched request takes any pointer, NULL included.
#[test]
fn one_rule_for_output_pointers() {
    let e = Engine::new(PI_BACKEND_CPU, 2);
    let mut raw = [0xABu8; 8 * 5];
    let misaligned = raw[1..].as_mut_ptr().cast::<u64>();
    assert!(!misaligned.is_aligned());
    for count in [0u64, 10, 1 << 20] {
        // SAFETY: a live engine; the pointer has room for one value.
        let status = unsafe { pi_count_hits(e.0, 1, 0, count, misaligned) };
        assert_eq!(status, PI_ERROR_INVALID_ARGUMENT, "count {count}");
        assert!(last_error().contains("hits_out") && last_error().contains("aligned"));
    }
    for (batch, n) in [(10u64, 4u64), (10_000_000, 2), (1, 1)] {
        // SAFETY: room for 4 values after the first byte.
        let status = unsafe { pi_count_hits_batched(e.0, 1, 0, batch, n, misaligned) };
        assert_eq!(status, PI_ERROR_INVALID_ARGUMENT, "batch {batch} x {n}");
        assert!(last_error().contains("hits_out"), "{}", last_error());
    }
    assert!(
        raw.iter().all(|&b| b == 0xAB),
        "nothing written through a refused pointer"
    );
    for out in [ptr::null_mut(), misaligned] {
        for first in [0, u64::MAX] {
            // SAFETY: zero batches: nothing is written.
            let status = unsafe { pi_count_hits_batched(e.0, 1, first, 10, 0, out) };
            assert_eq!(status, PI_OK, "an empty request is valid ({})", last_error());
        }
    }
    assert!(raw.iter().all(|&b| b == 0xAB));
    // Aligned pointers of both calls are written on success.
    let mut out = [u64::MAX; 3];
    // SAFETY: room for 3 values.
    assert_eq!(
        unsafe { pi_count_hits_batched(e.0, 42, 0, 1000, 3, out.as_mut_ptr()) },
        PI_OK
    );
    assert_eq!(out[0], 794);
    assert_eq!(Ok(out.iter().sum::<u64>()), e.hits(42, 0, 3000));
}

/// Freeing an engine twice, or using a freed one, is caught in the usual
/// case: a no-op and PI_ERROR_INVALID_ARGUMENT instead of a crash.
/// (Undefined in general: the memory may already hold a new engine.)
#[test]
fn a_freed_engine_is_refused() {
    let mut e = ptr::null_mut();
    // SAFETY: a valid out-pointer.
    assert_eq!(unsafe { pi_engine_new(PI_BACKEND_CPU, 1, &mut e) }, PI_OK);
    // SAFETY: freed once here; the later calls are the misuse under test,
    // made before anything else can reuse the memory.
    unsafe {
        pi_engine_free(e);
        pi_engine_free(e);
        let mut hits = 7u64;
        assert_eq!(pi_count_hits(e, 1, 0, 10, &mut hits), PI_ERROR_INVALID_ARGUMENT);
        assert_eq!(hits, 7);
        assert!(last_error().contains("freed"), "{}", last_error());
        assert_eq!(pi_engine_backend(e), -1);
    }
}
