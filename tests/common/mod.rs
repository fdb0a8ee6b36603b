//! Helpers shared by the tests that build programs against the C library.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The folder holding the `libpi.so` of this test's build: `cargo test`
/// compiles the library once with all its crate types (cdylib included)
/// into the `deps` folder beside the test binary, before the test binaries
/// themselves. Linking to that one saves a second build of the library with
/// another feature set (dev-dependencies change it).
pub fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().expect("the test binary's folder").to_path_buf();
    let lib = dir.join(format!(
        "{}pi{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    assert!(lib.exists(), "{} was not built with this test", lib.display());
    dir
}

/// A folder for programs built by the tests, beside the library's.
pub fn work_dir(name: &str) -> PathBuf {
    let dir = lib_dir()
        .parent()
        .expect("target profile folder")
        .join("consumers")
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Skips the calling test visibly, or, under `PI_REQUIRE_ALL=1` (as in
/// CI), fails it: the one place that rule is written.
pub fn skip(test: &str, why: &str) {
    if std::env::var("PI_REQUIRE_ALL").is_ok_and(|v| v == "1") {
        panic!("{test}: {why}, and PI_REQUIRE_ALL=1 forbids skipping");
    }
    // Straight to stderr: the harness hides eprintln! of passing tests.
    let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("SKIPPED {test}: {why}\n").as_bytes());
}

/// Whether `tool` runs; if not, the caller returns after [`skip`].
pub fn have(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        skip(tool, &format!("`{tool}` is not installed"));
    }
    ok
}

/// Runs `cmd`, asserts success, and returns its stdout and stderr.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("could not start {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed ({}):\n{text}", out.status);
    text
}

/// Compiles `sources` (relative to the root, or absolute) with `compiler`
/// and `flags` into a program linked to libpi, in its own folder.
pub fn build(compiler: &str, flags: &[&str], sources: &[&str], name: &str) -> PathBuf {
    let lib = lib_dir();
    let out_dir = work_dir(name);
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

/// A command for a built program, with Mesa kept quiet if a software
/// Vulkan driver is present.
pub fn program(exe: &Path) -> Command {
    let mut cmd = Command::new(exe);
    cmd.env("XDG_RUNTIME_DIR", std::env::temp_dir());
    cmd
}

/// Prints a figure for the README's reliability section, straight to
/// stderr so that it shows in the CI log even when the test passes.
pub fn report(text: &str) {
    let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("[reliability] {text}\n").as_bytes());
}

/// valgrind's "definitely lost" line, or that there was no leak at all.
pub fn leak_line(log: &str) -> String {
    log.lines()
        .find_map(|l| {
            l.split_once("definitely lost: ")
                .map(|(_, rest)| format!("definitely lost: {rest}"))
        })
        .unwrap_or_else(|| "no leaks possible".to_string())
}

/// valgrind's memcheck: any invalid access or definite leak fails the run.
pub fn valgrind() -> Command {
    let mut cmd = Command::new("valgrind");
    cmd.env("XDG_RUNTIME_DIR", std::env::temp_dir());
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

/// Runs `cmd` as [`run`] does, but kills it and fails after `limit`: for
/// programs that could hang (fork, threads), so a regression fails instead
/// of blocking the suite.
pub fn run_within(cmd: &mut Command, limit: std::time::Duration) -> String {
    let (stdout, stderr) = run_within_split(cmd, limit);
    stdout + &stderr
}

/// [`run_within`], returning stdout and stderr apart.
pub fn run_within_split(cmd: &mut Command, limit: std::time::Duration) -> (String, String) {
    use std::process::Stdio;
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {cmd:?}: {e}"));
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let Ok(out) = rx.recv_timeout(limit) else {
        let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        panic!("{cmd:?} did not finish within {limit:?}: killed");
    };
    let out = out.unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{stdout}{stderr}",
        out.status
    );
    (stdout, stderr)
}

/// Environment that hides every GPU driver (Vulkan and EGL), for tests
/// whose subject is not the GPU: they run faster and the same everywhere.
pub const HIDDEN_GPU: [(&str, &str); 3] = [
    ("VK_DRIVER_FILES", "/nonexistent/icd.json"),
    ("VK_ICD_FILENAMES", "/nonexistent/icd.json"),
    ("__EGL_VENDOR_LIBRARY_FILENAMES", "/nonexistent/egl.json"),
];

/// Reruns the ignored test `name` of this test binary alone in a child
/// process with the variables `set` set and those in `unset` removed (the
/// environment is process-wide), under a time limit, and asserts that it
/// ran and passed. Returns the child's stderr.
pub fn in_child(name: &str, set: &[(&str, &str)], unset: &[&str]) -> String {
    let exe = std::env::current_exe().expect("test binary path");
    let mut cmd = Command::new(exe);
    cmd.args(["--exact", name, "--ignored", "--test-threads=1"]);
    cmd.env(CHILD_ENV, name).env("XDG_RUNTIME_DIR", std::env::temp_dir());
    cmd.envs(set.iter().copied());
    for var in unset {
        cmd.env_remove(var);
    }
    let (stdout, stderr) = run_within_split(&mut cmd, std::time::Duration::from_secs(300));
    assert!(
        stdout.contains("1 passed"),
        "child test {name} did not run:\n{stdout}{stderr}"
    );
    stderr
}

/// Set by [`in_child`] to the name of the test it runs.
pub const CHILD_ENV: &str = "PI_TEST_CHILD";

/// Fails a test meant to run only through [`in_child`] when run otherwise
/// (e.g. by `--ignored`), where its environment would be missing.
pub fn assert_child(name: &str) {
    assert_eq!(
        std::env::var(CHILD_ENV).as_deref(),
        Ok(name),
        "{name} runs in a child process started by its parent test"
    );
}
