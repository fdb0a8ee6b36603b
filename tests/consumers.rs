//! Programs in other languages, built against `include/pi.h` (C99 and C++)
//! and `include/pi.f90` (Fortran 2008), linked to the library this build
//! made, and run: each checks known hit counts and the bad-input statuses.
//! The C program also runs under valgrind, with the GPU drivers hidden.
//!
//! A missing compiler or valgrind skips its test with a visible reason;
//! with `PI_REQUIRE_ALL=1` (set by `.ci/run`) it fails instead.

mod common;

use common::{HIDDEN_GPU, build, have, leak_line, no_gpu, program, report, root, run, valgrind, work_dir};

#[test]
fn c99_consumer() {
    if !have("cc") {
        return;
    }
    let exe = build(
        "cc",
        &["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"],
        &["tests/c/consumer.c"],
        "c99",
    );
    assert!(run(&mut program(&exe)).contains("all checks passed"));
}

#[test]
fn cpp_consumer() {
    if !have("g++") {
        return;
    }
    let exe = build(
        "g++",
        &["-x", "c++", "-std=c++17", "-Wall", "-Wextra", "-Werror"],
        &["tests/c/consumer.c"],
        "cpp",
    );
    assert!(run(&mut program(&exe)).contains("all checks passed"));
}

/// Builds the Fortran test `tests/fortran/<program>.f90` with the module and
/// the tests' `check` (tests/fortran/checks.f90), as `name`.
fn fortran_test(program: &str, name: &str) -> std::path::PathBuf {
    let source = format!("tests/fortran/{program}.f90");
    build(
        "gfortran",
        &["-std=f2008", "-Wall", "-Werror", "-fcheck=all"],
        &["include/pi.f90", "tests/fortran/checks.f90", &source],
        name,
    )
}

#[test]
fn fortran_consumer() {
    if !have("gfortran") {
        return;
    }
    let exe = fortran_test("consumer", "fortran");
    assert!(run(&mut program(&exe)).contains("all checks passed"));
}

#[test]
fn c_consumer_under_valgrind() {
    if !have("cc") || !have("valgrind") {
        return;
    }
    let exe = build(
        "cc",
        &["-std=c99", "-g", "-Wall", "-Werror"],
        &["tests/c/consumer.c"],
        "valgrind",
    );
    // The GPU is not the subject here (c99_consumer runs its GPU part), and
    // loading the drivers under valgrind takes most of the time.
    let log = run(valgrind().envs(HIDDEN_GPU).arg(exe));
    assert!(log.contains("all checks passed"), "{log}");
    assert!(log.contains("ERROR SUMMARY: 0 errors"), "{log}");
    report(&format!("valgrind, C consumer: 0 errors, {}", leak_line(&log)));
}

/// The C example in README.md, compiled and run as written.
#[test]
fn readme_c_example() {
    if !have("cc") {
        return;
    }
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let code = readme
        .split("```c\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("README.md has a ```c block");
    let dir = work_dir("readme");
    std::fs::write(dir.join("readme_example.c"), code).unwrap();
    let exe = build(
        "cc",
        &["-std=c99", "-Wall", "-Werror"],
        &[dir.join("readme_example.c").to_str().unwrap()],
        "readme",
    );
    let out = run(&mut program(&exe));
    assert!(out.contains("pi ~ 3.14"), "{out}");
}

/// One engine shared by 8 C threads, 8 x 1,000 calls, every result exact.
#[test]
fn c_threads_share_one_engine() {
    if !have("cc") {
        return;
    }
    let exe = build(
        "cc",
        &["-std=c99", "-Wall", "-Werror", "-pthread"],
        &["tests/c/threads.c"],
        "threads",
    );
    let out = run(program(&exe).args(["8", "1000"]));
    assert!(out.contains("8 threads x 1000 calls on one engine, 0 wrong"), "{out}");
    report("C: 8 threads x 1000 calls on one engine, 0 wrong");
}

/// The same under valgrind: 4 threads x 16 calls (valgrind runs one thread
/// at a time, some 50 times slower).
#[test]
fn c_threads_under_valgrind() {
    if !have("cc") || !have("valgrind") {
        return;
    }
    let exe = build(
        "cc",
        &["-std=c99", "-g", "-Wall", "-Werror", "-pthread"],
        &["tests/c/threads.c"],
        "threads-vg",
    );
    let log = run(valgrind().envs(HIDDEN_GPU).arg(exe).args(["4", "16"]));
    assert!(log.contains("0 wrong"), "{log}");
    assert!(log.contains("ERROR SUMMARY: 0 errors"), "{log}");
    report(&format!(
        "valgrind, 4 threads x 16 calls on one engine: 0 wrong, 0 errors, {}",
        leak_line(&log)
    ));
}

/// Builds tests/c/cancel.c (cancel from another thread, progress rules).
fn cancel_program(name: &str) -> std::path::PathBuf {
    build(
        "cc",
        &["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-pthread"],
        &["tests/c/cancel.c"],
        name,
    )
}

/// pi_engine_cancel from another thread stops CPU runs (one, two at once,
/// batched) promptly and untouched; the progress callback's rules hold.
#[test]
fn c_cancel_and_progress_on_the_cpu() {
    if !have("cc") {
        return;
    }
    let exe = cancel_program("cancel-cpu");
    let out = run(program(&exe).arg("cpu").envs(HIDDEN_GPU));
    assert!(out.contains("cancel and progress (CPU): all checks passed"), "{out}");
    for line in out.lines().filter(|l| l.starts_with("cancel latency")) {
        report(&format!("C, CPU engine: {line}"));
    }
}

/// The same on a GPU engine (lavapipe here): a cancel stops the run after
/// the submission in flight.
#[test]
fn c_cancel_and_progress_on_a_gpu() {
    if !have("cc") {
        return;
    }
    let exe = cancel_program("cancel-gpu");
    let out = program(&exe).arg("gpu").output().expect("run the cancel program");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.code() == Some(77) {
        no_gpu(
            "c_cancel_and_progress_on_a_gpu",
            "no GPU adapter (install mesa-vulkan-drivers for lavapipe)",
        );
        return;
    }
    assert!(out.status.success(), "{text}");
    assert!(text.contains("cancel and progress (GPU): all checks passed"), "{text}");
    for line in text.lines().filter(|l| l.starts_with("cancel latency")) {
        report(&format!("C, GPU engine: {line}"));
    }
}

/// The Fortran module's cancel and progress bindings (a bind(C) callback).
#[test]
fn fortran_cancel_and_progress() {
    if !have("gfortran") {
        return;
    }
    let exe = fortran_test("progress", "fortran-progress");
    assert!(run(&mut program(&exe)).contains("Fortran cancel and progress: all checks passed"));
}

/// The examples users copy (examples/c, examples/fortran), built here
/// against the source tree's header and this build's library: exact counts.
/// `.ci/capi` builds them again the way users do, against an installed prefix.
#[test]
fn c_and_fortran_examples() {
    if !have("cc") {
        return;
    }
    let exe = build(
        "cc",
        &["-std=c99", "-Wall", "-Wextra", "-Werror"],
        &["examples/c/pi_example.c"],
        "example-c",
    );
    let out = run(&mut program(&exe));
    for want in [
        "seed 42, 1e6 samples: 785856 hits, pi ~ 3.143424",
        "seed 42, 123456789 samples: 96964650 hits",
        "stopped half way: status 5 (PI_ERROR_CANCELLED is 5), hits still 0",
    ] {
        assert!(out.contains(want), "{want:?} not in:\n{out}");
    }
    if !have("gfortran") {
        return;
    }
    let exe = build(
        "gfortran",
        &["-std=f2008", "-Wall", "-Werror"],
        &["include/pi.f90", "examples/fortran/pi_progress.f90"],
        "example-fortran",
    );
    let out = run(&mut program(&exe));
    assert!(out.contains("seed 42, 123456789 samples: 96964650 hits"), "{out}");
    assert!(out.contains("stopped half way: status 5, hits still -1"), "{out}");
}
