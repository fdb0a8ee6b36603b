//! `include/pi.h` is generated from `src/ffi.rs` alone; this test regenerates it
//! and fails when the committed header differs, so the two never drift.
//! Run with `PI_UPDATE_HEADER=1` to rewrite the header after changing the ABI.

use std::path::Path;

#[test]
fn committed_header_matches_the_exports() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_src(root.join("src/ffi.rs"))
        .with_config(config)
        .generate()
        .expect("cbindgen could not read src/ffi.rs")
        .write(&mut generated);
    let generated = String::from_utf8(generated).expect("header is UTF-8");
    let path = root.join("include/pi.h");
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
