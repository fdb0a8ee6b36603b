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

/// Skips `test`, which needs a GPU adapter and found none: under an
/// emulator (no GPU driver runs there: qemu-user has no Vulkan, wine finds
/// no adapter) through [`emulator_cannot`], elsewhere through [`skip`].
pub fn no_gpu(test: &str, why: &str) {
    if !emulator_cannot(test, &format!("no GPU under emulation ({why})")) {
        skip(test, why);
    }
}

/// Whether `tool` runs; if not, the caller returns after [`skip`]. `cc`,
/// `g++` and `gfortran` stand for this target's compilers (see
/// [`compiler`]). Under an emulator, what it cannot run (valgrind on the
/// target's programs; under wine, any program of the host) is skipped by
/// [`emulator_cannot`] instead.
pub fn have(tool: &str) -> bool {
    let test = std::thread::current().name().unwrap_or(tool).to_string();
    if tool == "valgrind" && emulator_cannot(&test, "the host's valgrind cannot run the target's programs") {
        return false;
    }
    let tool = compiler(tool);
    if cfg!(windows)
        && emulator_cannot(
            &test,
            &format!("a program under wine cannot wait for the host's `{tool}`"),
        )
    {
        return false;
    }
    let ok = Command::new(&tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        skip(&test, &format!("`{tool}` is not installed"));
    }
    ok
}

/// The target this test was built for (cargo's `TARGET`, from build.rs).
pub const TARGET: &str = env!("PI_BUILD_TARGET");

/// The program that runs this target's programs here, from cargo's
/// `CARGO_TARGET_<TRIPLE>_RUNNER` (e.g. `qemu-aarch64 -L
/// /usr/aarch64-linux-gnu`), split at white space: a test starts its own
/// binary and the programs it builds through it, as cargo started the test.
/// Empty when unset, and on Windows, where a program under wine starts
/// other Windows programs itself.
pub fn runner() -> Vec<String> {
    match std::env::var(runner_var()) {
        Ok(v) if !cfg!(windows) => v.split_whitespace().map(String::from).collect(),
        _ => Vec::new(),
    }
}

/// Whether this test runs under an emulator: a runner is set for its target
/// (cargo's, which wine reads on Windows too).
pub fn emulated() -> bool {
    std::env::var_os(runner_var()).is_some_and(|v| !v.is_empty())
}

/// `CARGO_TARGET_<TRIPLE>_RUNNER` for this target.
fn runner_var() -> String {
    format!("CARGO_TARGET_{}_RUNNER", TARGET.to_uppercase().replace(['-', '.'], "_"))
}

/// Under an emulator, skips `test` visibly because the emulator cannot do
/// `what`, and returns true; natively returns false. Unlike [`skip`] it
/// holds under `PI_REQUIRE_ALL=1`: the limit is the emulator's, not a part
/// of this machine that could be installed.
pub fn emulator_cannot(test: &str, what: &str) -> bool {
    if !emulated() {
        return false;
    }
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("SKIPPED {test} under the emulator ({TARGET}): {what}\n").as_bytes(),
    );
    true
}

/// This target's compiler for `tool` (`cc`, `g++` or `gfortran`): the
/// variable `CC_<triple>`, `CXX_<triple>` or `FC_<triple>` (the cc crate's
/// spelling, e.g. `CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc`)
/// when set, else `tool` itself. Any other tool is returned unchanged.
pub fn compiler(tool: &str) -> String {
    let kind = match tool {
        "cc" => "CC",
        "g++" => "CXX",
        "gfortran" => "FC",
        _ => return tool.to_string(),
    };
    let var = format!("{kind}_{}", TARGET.replace(['-', '.'], "_"));
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| tool.to_string())
}

/// A command that starts `exe`, a program of the target, through the
/// [`runner`] when there is one.
pub fn command(exe: &Path) -> Command {
    let runner = runner();
    let Some((first, rest)) = runner.split_first() else {
        return Command::new(exe);
    };
    let mut cmd = Command::new(first);
    cmd.args(rest).arg(exe);
    cmd
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

/// Compiles `sources` (relative to the root, or absolute) with `tool`
/// (this target's, see [`compiler`]) and `flags` into a program linked to
/// libpi, in its own folder.
pub fn build(tool: &str, flags: &[&str], sources: &[&str], name: &str) -> PathBuf {
    let lib = lib_dir();
    let out_dir = work_dir(name);
    let exe = out_dir.join(name);
    let mut cmd = Command::new(compiler(tool));
    cmd.current_dir(&out_dir).args(flags);
    cmd.arg("-I").arg(root().join("include"));
    for s in sources {
        cmd.arg(root().join(s));
    }
    cmd.arg("-o").arg(&exe).arg("-L").arg(&lib).args(["-lpi", "-lm"]);
    if !cfg!(windows) {
        cmd.arg(format!("-Wl,-rpath,{}", lib.display()));
    }
    run(&mut cmd);
    exe
}

/// A command for a built program (through the [`runner`]), with Mesa kept
/// quiet if a software Vulkan driver is present.
pub fn program(exe: &Path) -> Command {
    let mut cmd = command(exe);
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

/// Environment that hides every GPU adapter, on every OS: `PI_GPU=none`
/// (the library's own switch: no adapter is listed or taken, an `Auto`
/// engine counts on the CPU, a GPU engine is `NoDevice`; it hides Windows'
/// WARP and macOS's Metal too), plus the Vulkan and EGL drivers' variables,
/// so that no driver even loads. For tests whose subject is not the GPU, or
/// that need an `Auto` engine on the CPU whatever the machine has: they run
/// faster and the same everywhere. tests/python/_helpers.py's `NO_GPU_ENV`
/// is the same list.
pub const HIDDEN_GPU: [(&str, &str); 4] = [
    ("PI_GPU", "none"),
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
    let mut cmd = command(&exe);
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
