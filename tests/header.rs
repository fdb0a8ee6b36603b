//! The C ABI's other faces agree with `src/ffi.rs`: `include/pi.h` is exactly
//! what cbindgen makes of it (`PI_UPDATE_HEADER=1` rewrites the header after
//! an ABI change), the cffi declarations build.rs generates for the Python
//! package hold every constant and function of it and nothing cffi cannot
//! parse, and the hand-written `include/pi.f90` binds the same constants, with
//! the same values, and the same functions.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    let path = root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The cffi declarations build.rs wrote for this build.
const CFFI_DECLARATIONS: &str = include_str!(concat!(env!("OUT_DIR"), "/header.h"));

#[test]
fn committed_header_matches_the_exports() {
    let config = cbindgen::Config::from_file(root().join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_src(root().join("src/ffi.rs"))
        .with_config(config)
        .generate()
        .expect("cbindgen could not read src/ffi.rs")
        .write(&mut generated);
    let generated = String::from_utf8(generated).expect("header is UTF-8");
    let path = root().join("include/pi.h");
    if std::env::var_os("PI_UPDATE_HEADER").is_some() {
        std::fs::write(&path, &generated).expect("write include/pi.h");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let line = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .map_or(committed.lines().count().min(generated.lines().count()) + 1, |i| i + 1);
        panic!(
            "include/pi.h differs from what src/ffi.rs exports (first at line {line}); \
             rerun with PI_UPDATE_HEADER=1 and commit the header"
        );
    }
}

/// `#define NAME VALUE` lines of a C header (an include guard has no value).
fn c_constants(header: &str) -> BTreeMap<String, String> {
    header
        .lines()
        .filter_map(|l| l.trim().strip_prefix("#define "))
        .filter_map(|d| d.split_once(' '))
        .map(|(name, value)| (name.to_string(), value.trim().to_string()))
        .collect()
}

/// Names of the `pi_*` functions a C header declares (comments skipped).
fn c_functions(header: &str) -> BTreeSet<String> {
    header
        .lines()
        .map(str::trim_start)
        .filter(|l| !l.starts_with("//") && !l.starts_with('*') && !l.starts_with("/*"))
        .filter_map(|l| {
            let (before, _) = l.split_once('(')?;
            let name = before.rsplit([' ', '*']).next()?;
            name.starts_with("pi_").then(|| name.to_string())
        })
        .collect()
}

#[test]
fn header_parsing_sees_the_whole_abi() {
    // Guards the helpers above: a parser that finds nothing would make the
    // comparisons below pass vacuously.
    let header = read("include/pi.h");
    let constants = c_constants(&header);
    assert_eq!(constants.get("PI_ABI_VERSION").map(String::as_str), Some("2"));
    assert_eq!(constants.get("PI_ERROR_CANCELLED").map(String::as_str), Some("5"));
    assert_eq!(constants.get("PI_MAX_CPU_THREADS").map(String::as_str), Some("1024"));
    assert!(!constants.contains_key("PI_H"), "the include guard is not a constant");
    let functions = c_functions(&header);
    for f in [
        "pi_engine_new",
        "pi_count_hits_batched",
        "pi_engine_cancel",
        "pi_count_hits_progress",
        "pi_version",
        "pi_abi_version",
    ] {
        assert!(functions.contains(f), "{f} not found in pi.h: {functions:?}");
    }
}

#[test]
fn cffi_declarations_hold_the_abi_and_nothing_cffi_rejects() {
    let header = read("include/pi.h");
    let decl = CFFI_DECLARATIONS;
    for line in decl.lines() {
        let line = line.trim();
        assert!(
            !line.contains("/*") && !line.contains("//"),
            "a comment in the cffi declarations: {line}"
        );
        if let Some(directive) = line.strip_prefix('#') {
            let words: Vec<&str> = directive.split_whitespace().collect();
            let literal = words.get(2).is_some_and(|v| {
                let digits = v.strip_prefix('-').unwrap_or(v);
                !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
            });
            assert!(
                words.len() == 3 && words[0] == "define" && literal,
                "cffi accepts only `#define NAME <integer literal>`, not: {line}"
            );
        }
    }
    assert!(!decl.contains("extern \"C\""), "C++ guards in the cffi declarations");
    let header_constants = c_constants(&header);
    assert_eq!(c_constants(decl), header_constants, "constants differ from pi.h");
    assert_eq!(c_functions(decl), c_functions(&header), "functions differ from pi.h");
    assert!(decl.contains("typedef struct pi_engine pi_engine;"));
}

/// `NAME = VALUE` of the Fortran module's `parameter` lines (a kind suffix
/// such as `_c_int64_t` dropped).
fn fortran_constants(module: &str) -> BTreeMap<String, String> {
    module
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('!') && l.to_ascii_lowercase().contains(", parameter"))
        .filter_map(|l| l.split_once("::"))
        .filter_map(|(_, rest)| rest.split_once('='))
        .map(|(name, value)| {
            let value = value.trim();
            let value = value.split_once('_').map_or(value, |(digits, _kind)| digits);
            (name.trim().to_string(), value.to_string())
        })
        .collect()
}

/// The C names bound by `bind(C, name="...")`, except the C library's.
fn fortran_bindings(module: &str) -> BTreeSet<String> {
    module
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('!'))
        .filter_map(|l| l.split_once("bind(C, name=\""))
        .filter_map(|(_, rest)| rest.split_once('"'))
        .map(|(name, _)| name.to_string())
        .filter(|name| name.starts_with("pi_"))
        .collect()
}

#[test]
fn fortran_module_binds_every_constant_and_function_of_the_header() {
    let header = read("include/pi.h");
    let module = read("include/pi.f90");
    let wanted = c_constants(&header);
    let found = fortran_constants(&module);
    assert!(found.contains_key("PI_OK"), "no constants parsed from pi.f90");
    assert_eq!(found, wanted, "include/pi.f90's constants differ from include/pi.h's");
    let bound = fortran_bindings(&module);
    assert!(bound.contains("pi_count_hits"), "no bindings parsed from pi.f90");
    assert_eq!(
        bound,
        c_functions(&header),
        "include/pi.f90 binds other functions than include/pi.h declares"
    );
}

/// Callback types of a C header: `typedef RET (*NAME)(PARAMS);` as NAME ->
/// the parameter list.
fn c_callback_types(header: &str) -> BTreeMap<String, String> {
    header
        .lines()
        .filter_map(|l| l.trim().strip_prefix("typedef "))
        .filter_map(|l| l.split_once("(*"))
        .filter_map(|(_, rest)| rest.split_once(")("))
        .map(|(name, params)| (name.to_string(), params.trim_end_matches(");").to_string()))
        .collect()
}

/// Functions of the Fortran module's abstract interfaces (the callback
/// types), as name -> number of arguments; only `bind(C)` ones.
fn fortran_callback_types(module: &str) -> BTreeMap<String, usize> {
    let mut found = BTreeMap::new();
    let mut in_abstract = false;
    for line in module.lines().map(str::trim).filter(|l| !l.starts_with('!')) {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("abstract interface") {
            in_abstract = true;
        } else if lower.starts_with("end interface") {
            in_abstract = false;
        } else if in_abstract && lower.starts_with("function ") && lower.ends_with("bind(c)") {
            let (name, rest) = line["function ".len()..].split_once('(').expect("function NAME(");
            let args = rest.split_once(')').map_or("", |(a, _)| a);
            found.insert(name.trim().to_string(), args.split(',').count());
        }
    }
    found
}

#[test]
fn callback_types_agree_in_c_cffi_and_fortran() {
    let header = read("include/pi.h");
    let types = c_callback_types(&header);
    assert_eq!(
        types.get("pi_progress_fn").map(String::as_str),
        Some("void *user_data, uint64_t samples_done, uint64_t samples_total"),
        "pi_progress_fn in pi.h: {types:?}"
    );
    assert_eq!(
        c_callback_types(CFFI_DECLARATIONS),
        types,
        "the cffi declarations' callback types differ from pi.h's"
    );
    let fortran = fortran_callback_types(&read("include/pi.f90"));
    let wanted: BTreeMap<String, usize> = types
        .iter()
        .map(|(name, params)| (name.clone(), params.split(',').count()))
        .collect();
    assert_eq!(
        fortran, wanted,
        "include/pi.f90's abstract interfaces (name -> arguments) differ from pi.h's callback types"
    );
}
