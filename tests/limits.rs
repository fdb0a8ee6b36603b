//! Resource limits (tests/c/limits.c): a thread count the system refuses is
//! PI_ERROR_INVALID_ARGUMENT naming cpu_threads every time, never an abort,
//! and leaves no thread or address space behind; pi_engine_free returns
//! after the engine's threads have exited.
#![cfg(target_os = "linux")]

mod common;

use common::{HIDDEN_GPU, build, emulator_cannot, have, program, report, run_within};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

fn limits_case(case: &str) -> String {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    let exe = EXE.get_or_init(|| {
        build(
            "cc",
            &["-std=c99", "-Wall", "-Wextra", "-Werror"],
            &["tests/c/limits.c"],
            "limits",
        )
    });
    let mut cmd = program(exe);
    cmd.arg(case).envs(HIDDEN_GPU);
    run_within(&mut cmd, Duration::from_secs(120))
}

#[test]
fn a_refused_thread_count_is_refused_ten_times_and_leaves_nothing_behind() {
    let test = "a_refused_thread_count_is_refused_ten_times_and_leaves_nothing_behind";
    if emulator_cannot(test, "qemu-user ignores RLIMIT_AS") || !have("cc") {
        return;
    }
    let out = limits_case("refusal");
    assert!(out.contains("ok refusal"), "{out}");
    report(
        "C: 1024 threads under an address-space limit refused 10 times in a row, no thread or address space left behind",
    );
}

#[test]
fn freeing_an_engine_returns_after_its_threads_exit() {
    if !have("cc") {
        return;
    }
    let out = limits_case("free");
    assert!(out.contains("ok free"), "{out}");
    report("C: right after pi_engine_free of a 200-thread engine, the process is back to its own threads");
}
