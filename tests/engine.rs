//! The engine over every backend: the GPU through the engine agrees with
//! the CPU, `Auto` never takes a software adapter and `GpuOrCpu` does, a
//! failing device makes an `Auto` or `GpuOrCpu` engine finish on the CPU and
//! stay there, hidden drivers give the CPU fallback or `NoDevice`, and
//! `PI_BACKEND` forces a backend.
//!
//! Tests that need a GPU adapter (lavapipe will do) skip with a visible
//! reason when there is none; with `PI_REQUIRE_ALL=1` they fail instead.
//! Tests that need other environment variables rerun one test of this
//! binary in a child process with those variables set.

mod common;

use common::{HIDDEN_GPU, assert_child, in_child};
use pi::engine::GPU_MIN_SAMPLES;
use pi::ffi;
use pi::gpu::GpuBackend;
use pi::{Backend, Engine, Error, stream};

fn gpu_or_skip(test: &str) -> Option<GpuBackend> {
    match GpuBackend::new(true) {
        Ok(gpu) => Some(gpu),
        Err(e) => {
            common::no_gpu(test, &format!("no GPU adapter ({e})"));
            None
        }
    }
}

#[test]
fn gpu_engine_agrees_with_cpu_engine() {
    let Some(_) = gpu_or_skip("gpu_engine_agrees_with_cpu_engine") else {
        return;
    };
    let gpu = Engine::new(Backend::Gpu, 0).expect("GPU engine");
    let cpu = Engine::new(Backend::Cpu, 0).expect("CPU engine");
    assert_eq!(gpu.backend(), Backend::Gpu);
    assert!(gpu.describe().starts_with("GPU: "), "{}", gpu.describe());
    for seed in [0u64, 42, u64::MAX] {
        for (first, count) in [
            (0u64, 1u64),
            (1, GPU_MIN_SAMPLES + 1),
            (3, 1_000_007),
            ((1 << 33) - 77, 2_000_000),
        ] {
            assert_eq!(
                gpu.count_hits(seed, first, count),
                cpu.count_hits(seed, first, count),
                "{seed} {first} {count}"
            );
        }
    }
    let mut a = vec![0u64; 5];
    let mut b = vec![1u64; 5];
    gpu.count_hits_batched(7, 11, 300_001, &mut a).unwrap();
    cpu.count_hits_batched(7, 11, 300_001, &mut b).unwrap();
    assert_eq!(a, b);
    assert_eq!(Some(a.iter().sum::<u64>()), stream::count_hits(7, 11, 5 * 300_001));
}

#[test]
fn auto_never_takes_a_software_adapter() {
    let auto = Engine::new(Backend::Auto, 1).expect("an Auto engine always exists");
    match auto.gpu_backend() {
        Some(gpu) => {
            assert!(!gpu.is_software(), "Auto took {}", gpu.describe());
            assert_eq!(auto.backend(), Backend::Gpu);
        }
        None => {
            assert_eq!(auto.backend(), Backend::Cpu);
            assert!(auto.describe().starts_with("CPU"), "{}", auto.describe());
        }
    }
}

#[test]
fn gpu_or_cpu_takes_any_adapter() {
    let Some(_) = gpu_or_skip("gpu_or_cpu_takes_any_adapter") else {
        return;
    };
    let engine = Engine::new(Backend::GpuOrCpu, 1).expect("an engine that falls back always exists");
    assert_eq!(engine.backend(), Backend::Gpu, "{}", engine.describe());
    assert!(engine.describe().starts_with("GPU: "), "{}", engine.describe());
    let (seed, first, count) = (8u64, 3u64, 2_000_003u64);
    assert_eq!(
        engine.count_hits(seed, first, count),
        Ok(stream::count_hits(seed, first, count).unwrap())
    );
}

/// The one fallback rule, for both backends that follow it: after a device
/// failure the call finishes on the CPU, exactly, and the engine stays
/// there (later calls, batched ones included, never try the GPU again)
/// and says why. Only a new engine tries the GPU again.
#[test]
fn engines_that_fall_back_finish_on_the_cpu_and_stay_there() {
    let test = "engines_that_fall_back_finish_on_the_cpu_and_stay_there";
    let Some(_) = gpu_or_skip(test) else {
        return;
    };
    let (seed, first, count) = (99u64, 5u64, 1_000_001u64);
    let expected = stream::count_hits(seed, first, count).unwrap();
    // `Auto` never takes a software adapter itself: give it one.
    let auto = Engine::with_gpu(GpuBackend::new(true).unwrap(), 0, Backend::Auto);
    let either = Engine::new(Backend::GpuOrCpu, 0).unwrap();
    for engine in [auto, either] {
        assert_eq!(engine.count_hits(seed, first, count), Ok(expected));
        assert_eq!(engine.backend(), Backend::Gpu, "{}", engine.describe());
        gpu_of(&engine).destroy_device();
        assert_eq!(
            engine.count_hits(seed, first, count),
            Ok(expected),
            "the failing call finishes on the CPU"
        );
        assert_eq!(engine.backend(), Backend::Cpu, "and the engine stays there");
        assert!(engine.describe().contains("GPU given up"), "{}", engine.describe());
        assert_eq!(engine.count_hits(seed, first, count), Ok(expected));
        let mut out = [0u64; 3];
        engine.count_hits_batched(seed, first, 1_000_000, &mut out).unwrap();
        assert_eq!(
            Some(out.iter().sum::<u64>()),
            stream::count_hits(seed, first, 3_000_000)
        );
        assert_eq!(engine.backend(), Backend::Cpu);
    }
    let again = Engine::new(Backend::GpuOrCpu, 0).unwrap();
    assert_eq!(again.backend(), Backend::Gpu, "a new engine tries the GPU again");
}

#[test]
fn device_lost_in_the_middle_of_a_run() {
    let Some(gpu) = gpu_or_skip("device_lost_in_the_middle_of_a_run") else {
        return;
    };
    // Long enough on lavapipe (~0.4 s) for the device to go in the middle.
    let (seed, first, count) = (5u64, 1u64, 300_000_001u64);
    let expected = Engine::new(Backend::Cpu, 0)
        .unwrap()
        .count_hits(seed, first, count)
        .unwrap();
    let engine = Engine::with_gpu(gpu, 0, Backend::GpuOrCpu);
    let hits = std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(std::time::Duration::from_millis(30));
            gpu_of(&engine).destroy_device();
        });
        engine.count_hits(seed, first, count)
    });
    assert_eq!(
        hits,
        Ok(expected),
        "an engine that falls back finishes with the exact count"
    );
    assert_eq!(engine.backend(), Backend::Cpu, "the device went during that call");
    assert_eq!(engine.count_hits(seed, first, count), Ok(expected));
}

#[test]
fn gpu_engine_reports_a_lost_device() {
    let Some(gpu) = gpu_or_skip("gpu_engine_reports_a_lost_device") else {
        return;
    };
    let engine = Engine::with_gpu(gpu, 0, Backend::Gpu);
    gpu_of(&engine).destroy_device();
    match engine.count_hits(1, 0, 1_000_000) {
        Err(Error::Device(why)) => assert!(!why.is_empty()),
        other => panic!("expected a device error, got {other:?}"),
    }
    let mut out = [7u64; 3];
    assert!(matches!(
        engine.count_hits_batched(1, 0, 1_000_000, &mut out),
        Err(Error::Device(_))
    ));
    assert_eq!(out, [7; 3], "outputs untouched on failure");
    // Small runs go to the CPU and still work.
    assert_eq!(engine.count_hits(42, 0, 1000), Ok(794));
}

/// The engine's own GPU backend, to inject faults into it.
fn gpu_of(engine: &Engine) -> &GpuBackend {
    engine.gpu_backend().expect("engine has a GPU")
}

#[test]
fn hidden_drivers_give_cpu_fallback_and_no_device() {
    in_child("child_hidden_drivers", &HIDDEN_GPU, &[]);
}

#[test]
#[ignore = "run by hidden_drivers_give_cpu_fallback_and_no_device"]
fn child_hidden_drivers() {
    assert_child("child_hidden_drivers");
    for asked in [Backend::Auto, Backend::GpuOrCpu] {
        let engine = Engine::new(asked, 1).expect("falls back to the CPU");
        assert_eq!(engine.backend(), Backend::Cpu, "{asked:?}");
        assert_eq!(engine.count_hits(42, 0, 1000), Ok(794));
        assert_eq!(engine.count_hits(7, 1, 300_001).ok(), stream::count_hits(7, 1, 300_001));
    }
    assert!(matches!(Engine::new(Backend::Gpu, 1), Err(Error::NoDevice(_))));
    // And through the C ABI.
    let mut engine = std::ptr::null_mut();
    // SAFETY: a valid out-pointer.
    let status = unsafe { ffi::pi_engine_new(ffi::PI_BACKEND_GPU, 0, &mut engine) };
    assert_eq!(status, ffi::PI_ERROR_NO_DEVICE);
    assert!(engine.is_null());
    let mut buf = [0 as std::ffi::c_char; 256];
    // SAFETY: buf has 256 bytes.
    let n = unsafe { ffi::pi_last_error_message(buf.as_mut_ptr(), buf.len()) };
    assert!(n > 0);
    // SAFETY: a valid out-pointer.
    let status = unsafe { ffi::pi_engine_new(ffi::PI_BACKEND_GPU_OR_CPU, 1, &mut engine) };
    assert_eq!(status, ffi::PI_OK);
    let mut hits = 0u64;
    // SAFETY: a live engine and a valid output; freed once.
    unsafe {
        assert_eq!(ffi::pi_engine_backend(engine), ffi::PI_BACKEND_CPU);
        assert_eq!(ffi::pi_count_hits(engine, 42, 0, 300_000, &mut hits), ffi::PI_OK);
        ffi::pi_engine_free(engine);
    }
    assert_eq!(Some(hits), stream::count_hits(42, 0, 300_000));
}

#[test]
fn pi_backend_forces_the_cpu() {
    in_child("child_forced_cpu", &[("PI_BACKEND", "cpu")], &[]);
}

#[test]
#[ignore = "run by pi_backend_forces_the_cpu"]
fn child_forced_cpu() {
    assert_child("child_forced_cpu");
    for asked in [Backend::Auto, Backend::Gpu, Backend::Cpu, Backend::GpuOrCpu] {
        let e = Engine::new(asked, 1).unwrap();
        assert_eq!(e.backend(), Backend::Cpu);
        assert!(e.describe().contains("forced by PI_BACKEND"), "{}", e.describe());
    }
}

#[test]
fn pi_backend_forces_gpu_or_cpu() {
    let mut env = HIDDEN_GPU.to_vec();
    env.push(("PI_BACKEND", "GPU-or-CPU"));
    in_child("child_forced_gpu_or_cpu", &env, &[]);
}

#[test]
#[ignore = "run by pi_backend_forces_gpu_or_cpu"]
fn child_forced_gpu_or_cpu() {
    assert_child("child_forced_gpu_or_cpu");
    // A GPU engine would be NoDevice here; the forced backend falls back.
    let e = Engine::new(Backend::Gpu, 1).expect("gpu-or-cpu falls back to the CPU");
    assert_eq!(e.backend(), Backend::Cpu);
    assert!(e.describe().contains("forced by PI_BACKEND"), "{}", e.describe());
    assert_eq!(e.count_hits(42, 0, 1000), Ok(794));
}

#[test]
fn pi_backend_with_a_bad_value_names_the_variable() {
    in_child("child_forced_bogus", &[("PI_BACKEND", "tpu")], &[]);
    let long = "x".repeat(LONG_VALUE);
    in_child("child_forced_long", &[("PI_BACKEND", &long)], &[]);
}

#[test]
#[ignore = "run by pi_backend_with_a_bad_value_names_the_variable"]
fn child_forced_bogus() {
    assert_child("child_forced_bogus");
    match Engine::new(Backend::Cpu, 1) {
        Err(Error::InvalidArgument(m)) => assert!(m.contains("PI_BACKEND=\"tpu\""), "{m}"),
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

/// The length of the long `PI_BACKEND` value: Windows caps a variable at
/// 32,767 characters (a longer one reaches the child cut short), so the
/// value there is as long as Windows allows, still far past what a message
/// may quote.
const LONG_VALUE: usize = if cfg!(windows) { 32_000 } else { 100_000 };

#[test]
#[ignore = "run by pi_backend_with_a_bad_value_names_the_variable"]
fn child_forced_long() {
    assert_child("child_forced_long");
    match Engine::new(Backend::Cpu, 1) {
        Err(Error::InvalidArgument(m)) => {
            assert!(
                m.contains("PI_BACKEND") && m.contains(&format!("({LONG_VALUE} bytes)")),
                "{m}"
            );
            assert!(m.len() < 300, "the value is shortened: {} bytes", m.len());
        }
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

/// A `PI_BACKEND` that is not UTF-8 is an error naming the variable, not
/// ignored.
#[cfg(unix)]
#[test]
fn pi_backend_not_utf8_names_the_variable() {
    use std::os::unix::ffi::OsStrExt;
    let exe = std::env::current_exe().expect("test binary path");
    let out = common::run_within(
        common::command(&exe)
            .args(["--exact", "child_forced_not_utf8", "--ignored", "--test-threads=1"])
            .env(common::CHILD_ENV, "child_forced_not_utf8")
            .env("PI_BACKEND", std::ffi::OsStr::from_bytes(b"cp\xffu")),
        std::time::Duration::from_secs(120),
    );
    assert!(out.contains("1 passed"), "{out}");
}

#[test]
#[ignore = "run by pi_backend_not_utf8_names_the_variable"]
fn child_forced_not_utf8() {
    assert_child("child_forced_not_utf8");
    match Engine::new(Backend::Cpu, 1) {
        Err(Error::InvalidArgument(m)) => assert!(m.contains("PI_BACKEND") && m.contains("UTF-8"), "{m}"),
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

/// CPU threads the system will not start (here: an address-space limit too
/// small for their stacks) are a clear PI_ERROR_INVALID_ARGUMENT naming
/// `cpu_threads`, not an internal error; fewer threads then work.
#[cfg(target_os = "linux")]
#[test]
fn threads_the_system_refuses_name_cpu_threads() {
    if common::emulator_cannot(
        "threads_the_system_refuses_name_cpu_threads",
        "qemu-user ignores setrlimit(RLIMIT_AS)",
    ) {
        return;
    }
    in_child("child_thread_limit", &HIDDEN_GPU, &[]);
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "run by threads_the_system_refuses_name_cpu_threads"]
fn child_thread_limit() {
    assert_child("child_thread_limit");
    #[repr(C)]
    struct Rlimit {
        cur: u64,
        max: u64,
    }
    const RLIMIT_AS: i32 = 9;
    unsafe extern "C" {
        fn getrlimit(resource: i32, limit: *mut Rlimit) -> i32;
        fn setrlimit(resource: i32, limit: *const Rlimit) -> i32;
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let vm_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmSize:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmSize in /proc/self/status");
    let mut old = Rlimit { cur: 0, max: 0 };
    // SAFETY: valid pointers to rlimit structs.
    unsafe {
        assert_eq!(getrlimit(RLIMIT_AS, &mut old), 0);
        // Room for a few thread stacks (2 MiB each), not for 512.
        let tight = Rlimit {
            cur: (vm_kib + 48 * 1024) * 1024,
            max: old.max,
        };
        assert_eq!(setrlimit(RLIMIT_AS, &tight), 0);
    }
    let mut e = std::ptr::null_mut();
    // SAFETY: a valid out-pointer.
    let status = unsafe { ffi::pi_engine_new(ffi::PI_BACKEND_CPU, 512, &mut e) };
    let mut buf = [0 as std::ffi::c_char; 512];
    // SAFETY: buf has 512 bytes.
    unsafe { ffi::pi_last_error_message(buf.as_mut_ptr(), buf.len()) };
    // SAFETY: NUL-terminated within buf.
    let msg = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    // SAFETY: restores the soft limit this test lowered.
    unsafe { assert_eq!(setrlimit(RLIMIT_AS, &old), 0) };
    assert_eq!(status, ffi::PI_ERROR_INVALID_ARGUMENT, "{msg}");
    assert!(e.is_null());
    assert!(msg.contains("cpu_threads = 512") && !msg.contains("internal"), "{msg}");
    let small = Engine::new(Backend::Cpu, 2).expect("two threads start");
    assert_eq!(small.count_hits(42, 0, 1000), Ok(794));
}

/// An `Auto` engine holding a GPU device (lavapipe will do), used in a
/// child forked after it counted: the child counts on the CPU, exactly, at
/// once, and says why. Runs in its own process (only the test thread).
#[cfg(unix)]
#[test]
fn auto_engine_finishes_on_the_cpu_after_fork() {
    if gpu_or_skip("auto_engine_finishes_on_the_cpu_after_fork").is_none() {
        return;
    }
    in_child("child_auto_fork", &[], &[]);
}

#[cfg(unix)]
#[test]
#[ignore = "run by auto_engine_finishes_on_the_cpu_after_fork"]
fn child_auto_fork() {
    assert_child("child_auto_fork");
    unsafe extern "C" {
        fn fork() -> i32;
        fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
        fn alarm(seconds: u32) -> u32;
        fn _exit(code: i32) -> !;
    }
    let gpu = GpuBackend::new(true).expect("a GPU adapter");
    let engine = Engine::with_gpu(gpu, 2, Backend::Auto);
    let (seed, first, count) = (3u64, 9u64, 1_000_001u64);
    let expected = engine.count_hits(seed, first, count).unwrap();
    assert_eq!(engine.backend(), Backend::Gpu);
    // SAFETY: the child only counts, checks and leaves with _exit.
    let pid = unsafe { fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // SAFETY: alarm is async-signal-safe; it kills a hung child.
            unsafe { alarm(20) };
            let t0 = std::time::Instant::now();
            let hits = engine.count_hits(seed, first, count);
            let backend = engine.backend();
            let text = engine.describe();
            let mut out = [0u64; 3];
            let batched = engine.count_hits_batched(seed, first, 400_000, &mut out);
            hits == Ok(expected)
                && backend == Backend::Cpu
                && text.contains("fork")
                && batched.is_ok()
                && out.iter().sum::<u64>() == stream::count_hits(seed, first, 1_200_000).unwrap()
                && t0.elapsed() < std::time::Duration::from_secs(10)
        }));
        drop(engine);
        // SAFETY: leaves the child without running the parent's test harness.
        unsafe { _exit(if matches!(ok, Ok(true)) { 0 } else { 1 }) }
    }
    let mut status = 0;
    // SAFETY: `pid` is our child; the alarm bounds the wait.
    assert_eq!(unsafe { waitpid(pid, &mut status, 0) }, pid);
    assert_eq!(status, 0, "the child failed or hung (wait status {status:#x})");
    // The parent's engine keeps its GPU.
    assert_eq!(engine.count_hits(seed, first, count), Ok(expected));
    assert_eq!(engine.backend(), Backend::Gpu);
}

/// Two device-fault tests above, rerun under valgrind's memcheck: a lost
/// device, the fallback to the CPU and the error path leak nothing and
/// touch no invalid memory. (The mid-run test counts 3e8 samples: too slow
/// under valgrind.)
#[test]
fn fault_tests_under_valgrind() {
    if gpu_or_skip("fault_tests_under_valgrind").is_none() || !common::have("valgrind") {
        return;
    }
    let exe = std::env::current_exe().expect("test binary path");
    let log = common::run(common::valgrind().arg(exe).args([
        "--exact",
        "--test-threads=1",
        "gpu_engine_reports_a_lost_device",
        "engines_that_fall_back_finish_on_the_cpu_and_stay_there",
    ]));
    assert!(log.contains("2 passed"), "{log}");
    assert!(log.contains("ERROR SUMMARY: 0 errors"), "{log}");
    common::report(&format!(
        "valgrind, device-fault tests: 0 errors, {}",
        common::leak_line(&log)
    ));
}

/// `Engine::cancel` from another thread stops a run that would take hours,
/// promptly, and the next call counts exactly; a cancel with nothing
/// running changes nothing.
#[test]
fn cancel_stops_a_running_call_and_only_that() {
    let engine = Engine::new(Backend::Cpu, 0).expect("CPU engine");
    engine.cancel();
    assert_eq!(engine.count_hits(42, 0, 1_000_000), Ok(785_856));
    std::thread::scope(|s| {
        let run = s.spawn(|| {
            let r = engine.count_hits(7, 0, 1 << 50);
            (r, std::time::Instant::now())
        });
        std::thread::sleep(std::time::Duration::from_millis(200));
        let cancelled = std::time::Instant::now();
        engine.cancel();
        let (result, ended) = run.join().unwrap();
        assert!(matches!(result, Err(Error::Cancelled(_))), "{result:?}");
        assert!(ended - cancelled < std::time::Duration::from_secs(1));
    });
    assert_eq!(engine.count_hits(42, 0, 1_000_000), Ok(785_856));
}

/// Progress: exact hits, `done` never decreasing, the last call at the
/// count, at most one call per `PROGRESS_INTERVAL` before it; `false` stops.
#[test]
fn progress_reports_in_order_and_can_stop_the_run() {
    let engine = Engine::new(Backend::Cpu, 0).expect("CPU engine");
    let count = 200_000_001;
    let mut calls: Vec<(u64, u64, std::time::Instant)> = Vec::new();
    let mut record = |done, total| {
        calls.push((done, total, std::time::Instant::now()));
        true
    };
    let hits = engine.count_hits_progress(3, 5, count, &mut record);
    assert_eq!(hits, engine.count_hits(3, 5, count));
    assert_eq!(calls.last().map(|c| (c.0, c.1)), Some((count, count)));
    assert!(calls.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 == count));
    let before_last = &calls[..calls.len() - 1];
    assert!(
        before_last
            .windows(2)
            .all(|w| w[1].2 - w[0].2 >= pi::engine::PROGRESS_INTERVAL)
    );
    let mut stop = |_, _| false;
    assert!(matches!(
        engine.count_hits_progress(3, 5, count, &mut stop),
        Err(Error::Cancelled(_))
    ));
    let mut empty = Vec::new();
    let mut record_empty = |done, total| {
        empty.push((done, total));
        true
    };
    assert_eq!(engine.count_hits_progress(3, 5, 0, &mut record_empty), Ok(0));
    assert_eq!(empty, [(0, 0)]);
}
