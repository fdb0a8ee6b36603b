//! Writes what the Python package takes from the build: cffi declarations
//! generated from `src/ffi.rs` into `<target dir>/header.h`, and copies of
//! `include/pi.h` and of the browser page into `OUT_DIR`.
//!
//! maturin (`bindings = "cffi"`) feeds `<target dir>/header.h`, when it exists,
//! verbatim to cffi's `cdef`, which cannot parse `#include`, include guards,
//! `#ifdef __cplusplus` blocks or comments. So the declarations come from
//! cbindgen with the settings of `cbindgen.toml` (the ones that make
//! `include/pi.h`) and every directive and comment turned off, leaving
//! `#define NAME <integer literal>` lines and C declarations. maturin looks in
//! the target directory cargo reports, `target/` even for a `--target`
//! (cross or zig) build whose artifacts go to `target/<triple>/`; so the file
//! goes there, and is rewritten whenever the ABI changes or the file is
//! missing. `include/pi.h` is copied to `OUT_DIR`, from where maturin puts it
//! in the wheel, and so are the browser page (`web/*`) and its shader
//! (`shaders/pi.wgsl`), as `web/` and `shaders/`, which the wheel carries as
//! `pi/web/` and `pi/shaders/` for `python -m pi web`. For `cargo
//! cinstall` (cargo-c, see Cargo.toml's `[package.metadata.capi]`) it writes
//! the CMake package and a relocatable pkg-config file into `OUT_DIR/capi/`.
//! The Rust library itself depends on none of these files.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

/// The Rust source cbindgen reads: every export of the C ABI.
const ABI_SOURCE: &str = "src/ffi.rs";
const HEADER: &str = "include/pi.h";
const FORTRAN_MODULE: &str = "include/pi.f90";
const CONFIG: &str = "cbindgen.toml";

fn main() {
    println!("cargo:rerun-if-changed={ABI_SOURCE}");
    println!("cargo:rerun-if-changed={HEADER}");
    println!("cargo:rerun-if-changed={FORTRAN_MODULE}");
    println!("cargo:rerun-if-changed={CONFIG}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");
    // The target triple, for the tests: tests/common reads the runner and
    // the C, C++ and Fortran compilers the build set for it (cross builds).
    println!(
        "cargo:rustc-env=PI_BUILD_TARGET={}",
        env::var("TARGET").unwrap_or_default()
    );

    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));

    // A verbatim copy of the committed header for the wheel (pyproject.toml
    // includes it from OUT_DIR as pi/include/pi.h).
    // The same for the Fortran module (pi/include/pi.f90).
    for (from, name) in [(HEADER, "pi.h"), (FORTRAN_MODULE, "pi.f90")] {
        match fs::read_to_string(manifest_dir.join(from)) {
            Ok(text) => write_if_changed(&out_dir.join(name), &text),
            Err(e) => println!("cargo:warning=cannot read {from}: {e}; the Python package will lack it"),
        }
    }
    copy_page(&manifest_dir, &out_dir);
    write_install_files(&manifest_dir, &out_dir);

    let declarations = match cffi_declarations(&manifest_dir) {
        Ok(text) => text,
        Err(e) => {
            // Not fatal for Rust users; a Python build then fails in cffi.
            println!("cargo:warning=cannot generate the cffi declarations: {e}");
            return;
        }
    };
    // Also in OUT_DIR, where tests/header.rs reads it.
    write_if_changed(&out_dir.join("header.h"), &declarations);
    let for_maturin = target_dir(&manifest_dir, &out_dir).join("header.h");
    write_if_changed(&for_maturin, &declarations);
    // A deleted or edited copy makes cargo run this script again.
    println!("cargo:rerun-if-changed={}", for_maturin.display());
}

/// The declarations of `src/ffi.rs` as cffi's `cdef` reads them: cbindgen
/// with `cbindgen.toml`, minus its header comment, include guard, includes,
/// `extern "C"` guards and doc comments.
fn cffi_declarations(manifest_dir: &Path) -> Result<String, String> {
    let mut config = cbindgen::Config::from_file(manifest_dir.join(CONFIG))?;
    config.header = None;
    config.trailer = None;
    config.autogen_warning = None;
    config.include_version = false;
    config.include_guard = None;
    config.pragma_once = false;
    config.includes.clear();
    config.sys_includes.clear();
    config.after_includes = None;
    config.no_includes = true;
    config.cpp_compat = false;
    config.documentation = false;
    let mut text = Vec::new();
    cbindgen::Builder::new()
        .with_src(manifest_dir.join(ABI_SOURCE))
        .with_config(config)
        .generate()
        .map_err(|e| format!("cbindgen on {ABI_SOURCE}: {e}"))?
        .write(&mut text);
    String::from_utf8(text).map_err(|e| format!("cbindgen wrote non-UTF-8 text: {e}"))
}

/// Copies the files of `web/` and `shaders/pi.wgsl` to `out_dir/web/` and
/// `out_dir/shaders/` (pyproject.toml includes them from OUT_DIR as `pi/web/`
/// and `pi/shaders/`, the repository's layout: the page fetches
/// `../shaders/pi.wgsl`).
fn copy_page(manifest_dir: &Path, out_dir: &Path) {
    println!("cargo:rerun-if-changed=web");
    println!("cargo:rerun-if-changed=shaders/pi.wgsl");
    let mut files = vec![(manifest_dir.join("shaders/pi.wgsl"), out_dir.join("shaders/pi.wgsl"))];
    match fs::read_dir(manifest_dir.join("web")) {
        Ok(entries) => {
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_file()) {
                    files.push((entry.path(), out_dir.join("web").join(entry.file_name())));
                }
            }
        }
        Err(e) => println!("cargo:warning=cannot read web/: {e}; the wheel will lack the browser page"),
    }
    for (from, to) in files {
        match fs::read_to_string(&from) {
            Ok(text) => write_if_changed(&to, &text),
            Err(e) => println!("cargo:warning=cannot read {}: {e}", from.display()),
        }
    }
}

/// The files `cargo cinstall` installs besides the library and the header
/// (its `generated` data, from `OUT_DIR/capi/`): the CMake package
/// (`cmake/piConfig.cmake` and a version file) for `<prefix>/lib/cmake/pi/`,
/// and a pkg-config file for `<prefix>/lib/pkgconfig/` that finds the
/// prefix from its own place (`${pcfiledir}`) and the library in the
/// Debian multiarch folder or in `lib/`, whichever `--libdir` cargo-c used.
fn write_install_files(manifest_dir: &Path, out_dir: &Path) {
    println!("cargo:rerun-if-changed=cmake/piConfig.cmake");
    let version = env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let capi = out_dir.join("capi");
    match fs::read_to_string(manifest_dir.join("cmake/piConfig.cmake")) {
        Ok(text) => write_if_changed(&capi.join("cmake/piConfig.cmake"), &text),
        Err(e) => println!("cargo:warning=cannot read cmake/piConfig.cmake: {e}"),
    }
    write_if_changed(&capi.join("cmake/piConfigVersion.cmake"), &cmake_version_file(&version));
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    // Debian's multiarch folder (x86_64-linux-gnu, aarch64-linux-gnu), cargo-c's default there.
    let multiarch = match (
        env::var("CARGO_CFG_TARGET_OS").as_deref(),
        env::var("CARGO_CFG_TARGET_ENV").as_deref(),
    ) {
        (Ok("linux"), Ok("gnu")) => format!("-L${{libdir}}/{arch}-linux-gnu "),
        _ => String::new(),
    };
    let pc = format!(
        "# Relocatable: the prefix is two folders above this file.\n\
         prefix=${{pcfiledir}}/../..\n\
         includedir=${{prefix}}/include\n\
         libdir=${{prefix}}/lib\n\n\
         Name: pi\n\
         Description: {}\n\
         Version: {version}\n\
         Libs: {multiarch}-L${{libdir}} -lpi\n\
         Cflags: -I${{includedir}}/pi\n",
        env::var("CARGO_PKG_DESCRIPTION").unwrap_or_default()
    );
    write_if_changed(&capi.join("pkgconfig/pi.pc"), &pc);
}

/// `piConfigVersion.cmake`: pi 0.x keeps its ABI within a minor version, so
/// a request is met by the same 0.MINOR at or above the version asked for
/// (1.x and later: the same major).
fn cmake_version_file(version: &str) -> String {
    format!(
        r#"# Generated by build.rs for pi {version}.
set(PACKAGE_VERSION "{version}")
set(PACKAGE_VERSION_COMPATIBLE FALSE)
if(PACKAGE_FIND_VERSION)
    string(REGEX MATCH "^([0-9]+)[.]([0-9]+)" _pi_have "${{PACKAGE_VERSION}}")
    set(_pi_have_major "${{CMAKE_MATCH_1}}")
    set(_pi_have_minor "${{CMAKE_MATCH_2}}")
    if(PACKAGE_FIND_VERSION VERSION_LESS_EQUAL PACKAGE_VERSION
       AND PACKAGE_FIND_VERSION_MAJOR EQUAL _pi_have_major
       AND (_pi_have_major GREATER 0 OR PACKAGE_FIND_VERSION_MINOR EQUAL _pi_have_minor))
        set(PACKAGE_VERSION_COMPATIBLE TRUE)
    endif()
else()
    set(PACKAGE_VERSION_COMPATIBLE TRUE)
endif()
if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
endif()
"#
    )
}

/// Writes `text` to `path` unless it holds it already (so its time means
/// something); a failure is a warning, never a failed Rust build.
fn write_if_changed(path: &Path, text: &str) {
    if fs::read_to_string(path).ok().as_deref() == Some(text) {
        return;
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    if let Err(e) = fs::create_dir_all(dir).and_then(|()| fs::write(path, text)) {
        println!("cargo:warning=cannot write {}: {e}", path.display());
    }
}

/// The target directory cargo reports (`cargo metadata`'s
/// `target_directory`, where maturin looks): an absolute `CARGO_TARGET_DIR`;
/// else the folder above `OUT_DIR` =
/// `<target dir>/[<triple>/]<profile>/build/<pkg>-<hash>/out`, skipping the
/// `<triple>` folder of a `--target` build; else a relative
/// `CARGO_TARGET_DIR` below the manifest's folder; else `<manifest>/target`.
fn target_dir(manifest_dir: &Path, out_dir: &Path) -> PathBuf {
    let from_env = env::var_os("CARGO_TARGET_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from);
    if let Some(dir) = from_env.as_ref().filter(|d| d.is_absolute()) {
        return dir.clone();
    }
    let triple = env::var("TARGET").unwrap_or_default();
    if let Some(profile_parent) = out_dir.ancestors().nth(4) {
        let dir = if profile_parent.file_name().is_some_and(|n| n == triple.as_str()) {
            profile_parent.parent().unwrap_or(profile_parent)
        } else {
            profile_parent
        };
        if dir.join("CACHEDIR.TAG").is_file() {
            return dir.to_path_buf();
        }
    }
    manifest_dir.join(from_env.unwrap_or_else(|| PathBuf::from("target")))
}
