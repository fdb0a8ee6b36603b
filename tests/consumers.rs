//! Programs in other languages, built against `include/pi.h` (C99 and C++)
//! and `include/pi.f90` (Fortran 2008), linked to the library this build
//! made, and run: each checks known hit counts and the bad-input statuses.
//! The C program also runs under valgrind.
//!
//! A missing compiler or valgrind skips its test with a visible reason;
//! with `PI_REQUIRE_ALL=1` (set by `.ci/run`) it fails instead.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The folder holding this build's `libpi.so` (the test binary lives in
/// its `deps/` subfolder).
fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile folder")
        .to_path_buf();
    let lib = dir.join(format!(
        "{}pi{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    assert!(lib.exists(), "{} was not built", lib.display());
    dir
}

/// Whether `tool` runs; if not, skip (or fail under PI_REQUIRE_ALL=1).
fn have(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let reason = format!("`{tool}` is not installed");
        if std::env::var("PI_REQUIRE_ALL").is_ok_and(|v| v == "1") {
            panic!("{reason}, and PI_REQUIRE_ALL=1 forbids skipping");
        }
        eprintln!("SKIPPED: {reason}");
    }
    ok
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("could not start {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed ({}):\n{text}", out.status);
    text
}

/// Compiles `sources` with `compiler` and `flags` into a program linked to
/// libpi, in a fresh folder, and returns its path.
fn build(compiler: &str, flags: &[&str], sources: &[&str], name: &str) -> PathBuf {
    let lib = lib_dir();
    let out_dir = lib.join("consumers").join(name);
    std::fs::create_dir_all(&out_dir).unwrap();
    let exe = out_dir.join(name);
    let mut cmd = Command::new(compiler);
    cmd.current_dir(&out_dir).args(flags);
    cmd.arg("-I").arg(root().join("include"));
    for s in sources {
        cmd.arg(root().join(s));
    }
    cmd.arg("-o").arg(&exe).arg("-L").arg(&lib).args(["-lpi", "-lm"]);
    cmd.arg(format!("-Wl,-rpath,{}", lib.display()));
    run(&mut cmd);
    exe
}

fn consumer_env(cmd: &mut Command) -> &mut Command {
    // Quiet Mesa if a software Vulkan driver is present.
    cmd.env("XDG_RUNTIME_DIR", std::env::temp_dir())
}

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
    assert!(run(consumer_env(&mut Command::new(exe))).contains("all checks passed"));
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
    assert!(run(consumer_env(&mut Command::new(exe))).contains("all checks passed"));
}

#[test]
fn fortran_consumer() {
    if !have("gfortran") {
        return;
    }
    let exe = build(
        "gfortran",
        &["-std=f2008", "-Wall", "-Werror", "-fcheck=all"],
        &["include/pi.f90", "tests/fortran/consumer.f90"],
        "fortran",
    );
    assert!(run(consumer_env(&mut Command::new(exe))).contains("all checks passed"));
}

/// valgrind's memcheck: any invalid access or definite leak fails the run.
fn valgrind() -> Command {
    let mut cmd = Command::new("valgrind");
    cmd.args([
        "--error-exitcode=99",
        "--leak-check=full",
        "--errors-for-leak-kinds=definite",
    ])
    .args(["--show-leak-kinds=definite", "--gen-suppressions=all"])
    .arg(format!(
        "--suppressions={}",
        root().join("tests/valgrind.supp").display()
    ));
    cmd
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
    let log = run(consumer_env(valgrind().arg(exe)));
    assert!(log.contains("all checks passed"), "{log}");
    assert!(log.contains("ERROR SUMMARY: 0 errors"), "{log}");
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
    let dir = lib_dir().join("consumers");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("readme_example.c"), code).unwrap();
    let exe = build(
        "cc",
        &["-std=c99", "-Wall", "-Werror"],
        &[dir.join("readme_example.c").to_str().unwrap()],
        "readme",
    );
    let out = run(consumer_env(&mut Command::new(exe)));
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
    let out = run(consumer_env(Command::new(exe).args(["8", "1000"])));
    assert!(out.contains("8 threads x 1000 calls on one engine, 0 wrong"), "{out}");
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
    let log = run(consumer_env(valgrind().arg(exe).args(["4", "16"])));
    assert!(log.contains("0 wrong"), "{log}");
    assert!(log.contains("ERROR SUMMARY: 0 errors"), "{log}");
}
