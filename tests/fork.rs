//! fork() after an engine is made (tests/c/fork.c): the child counts
//! exactly, a GPU engine fails fast with PI_ERROR_DEVICE, engines made in
//! the child work, and nothing hangs, also when other threads are counting
//! or making engines at the fork. Each program runs under a time limit, and
//! each child under alarm(), so a hang fails the test.
#![cfg(unix)]

mod common;

use common::{HIDDEN_GPU, build, emulator_cannot, have, program, report, run_within, skip};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

/// Whether `test` can run here: a C compiler, and no emulator (qemu-user
/// 7.2 asserts `cpu == current_cpu` when a threaded guest forks, and every
/// case forks a process that has the library's threads).
fn can_fork(test: &str) -> bool {
    !emulator_cannot(test, "qemu-user 7.2 aborts when a threaded guest forks") && have("cc")
}

fn fork_case(case: &str, hide_gpu: bool) -> String {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    let exe = EXE.get_or_init(|| {
        build(
            "cc",
            &["-std=c99", "-Wall", "-Wextra", "-Werror", "-pthread"],
            &["tests/c/fork.c"],
            "fork",
        )
    });
    let mut cmd = program(exe);
    cmd.arg(case);
    if hide_gpu {
        cmd.envs(HIDDEN_GPU);
    }
    run_within(&mut cmd, Duration::from_secs(120))
}

#[test]
fn fork_after_a_cpu_engine_counts_exactly() {
    if !can_fork("fork_after_a_cpu_engine_counts_exactly") {
        return;
    }
    let out = fork_case("cpu", true);
    assert!(out.contains("ok cpu"), "{out}");
}

#[test]
fn fork_after_an_auto_engine_counts_exactly() {
    if !can_fork("fork_after_an_auto_engine_counts_exactly") {
        return;
    }
    let out = fork_case("auto", false);
    assert!(out.contains("ok auto"), "{out}");
}

#[test]
fn fork_after_a_gpu_engine_fails_fast_with_a_device_error() {
    if !can_fork("fork_after_a_gpu_engine_fails_fast_with_a_device_error") {
        return;
    }
    let out = fork_case("gpu", false);
    if out.contains("no GPU adapter") {
        skip(
            "fork_after_a_gpu_engine_fails_fast_with_a_device_error",
            "no GPU adapter",
        );
        return;
    }
    assert!(out.contains("ok gpu"), "{out}");
    report("C: a GPU engine used after fork() fails with PI_ERROR_DEVICE in under 2 s");
}

#[test]
fn fork_while_other_threads_count_and_make_engines() {
    if !can_fork("fork_while_other_threads_count_and_make_engines") {
        return;
    }
    let out = fork_case("threads", true);
    assert!(out.contains("ok threads"), "{out}");
    report("C: 5 forks while two threads count and make engines: every child exact, none hung");
}

/// The same while the other thread makes AUTO engines, so that forks land
/// while it looks for a GPU adapter (inside the Vulkan loader and driver,
/// whose locks a child must not inherit held): the library holds a fork
/// off until that setup is done, and the child makes its own AUTO engine.
#[test]
fn fork_while_another_thread_looks_for_a_gpu() {
    if !can_fork("fork_while_another_thread_looks_for_a_gpu") {
        return;
    }
    let out = fork_case("threads-auto", false);
    assert!(out.contains("ok threads-auto"), "{out}");
    report("C: 5 forks while another thread makes AUTO engines (GPU discovery): every child exact, none hung");
}

/// fork() while another thread lists the GPU adapters (`pi_gpu_list`: a
/// Vulkan instance made and dropped, the loader's and driver's locks taken):
/// 20 children, each making a GPU engine and counting, none hangs or dies
/// in the loader. The library holds a fork off until the listing is done.
#[test]
fn fork_while_another_thread_lists_gpus() {
    if !can_fork("fork_while_another_thread_lists_gpus") {
        return;
    }
    let out = fork_case("gpu-list", false);
    assert!(out.contains("ok gpu-list"), "{out}");
    report("C: 20 forks while another thread loops on pi_gpu_list: every child's GPU engine exact, none hung");
}
