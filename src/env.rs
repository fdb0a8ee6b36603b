//! The one reader of the environment variables the library honours
//! (`PI_BACKEND`, `PI_CPU_KERNEL`, `PI_GPU`, `WGPU_BACKEND`,
//! `WGPU_ADAPTER_NAME`), and the one rule for quoting a value in a message:
//! at most [`QUOTE_MAX`] characters, then `... (N bytes)`.

use std::ffi::OsStr;

/// At most this many characters of a value are quoted in a message.
pub const QUOTE_MAX: usize = 40;

/// `value` quoted as Rust debug-prints a string, cut after [`QUOTE_MAX`]
/// characters with a note of its full size: `"xxxx..."... (10000 bytes)`.
pub fn quote(value: &str) -> String {
    match value.char_indices().nth(QUOTE_MAX) {
        Some((cut, _)) => format!("{:?}... ({} bytes)", &value[..cut], value.len()),
        None => format!("{value:?}"),
    }
}

/// The value of `name`, trimmed: `None` when it is unset or blank. A value
/// that is not UTF-8 is an error naming the variable; `expected` says what
/// it should be (`auto, cpu or gpu`).
pub fn read(name: &str, expected: &str) -> Result<Option<String>, String> {
    read_from(name, std::env::var_os(name).as_deref(), expected)
}

/// [`read`] of a given value (tests hand in what the environment cannot
/// hold everywhere).
pub fn read_from(name: &str, raw: Option<&OsStr>, expected: &str) -> Result<Option<String>, String> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let Some(text) = raw.to_str() else {
        return Err(format!(
            "environment variable {name}={} is not valid UTF-8; use {expected}",
            quote(&raw.to_string_lossy())
        ));
    };
    let text = text.trim();
    Ok((!text.is_empty()).then(|| text.to_string()))
}

/// The message for a value of `name` that is not what it should be.
pub fn bad_value(name: &str, value: &str, expected: &str) -> String {
    format!("environment variable {name}={} is not {expected}", quote(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_value_is_quoted_whole_and_a_long_one_cut_with_its_size() {
        assert_eq!(quote("gpu"), "\"gpu\"");
        let exact = "y".repeat(QUOTE_MAX);
        assert_eq!(quote(&exact), format!("{exact:?}"));
        let long = "x".repeat(10_000);
        let q = quote(&long);
        assert_eq!(q, format!("{:?}... (10000 bytes)", "x".repeat(QUOTE_MAX)));
        // Cut on a character boundary.
        let wide = "é".repeat(100);
        assert_eq!(quote(&wide), format!("{:?}... (200 bytes)", "é".repeat(QUOTE_MAX)));
    }

    #[test]
    fn unset_and_blank_are_none_and_values_are_trimmed() {
        assert_eq!(read_from("V", None, "x"), Ok(None));
        assert_eq!(read_from("V", Some(OsStr::new("  ")), "x"), Ok(None));
        assert_eq!(read_from("V", Some(OsStr::new(" cpu ")), "x"), Ok(Some("cpu".into())));
    }

    #[cfg(unix)]
    #[test]
    fn a_value_that_is_not_utf8_names_the_variable() {
        use std::os::unix::ffi::OsStrExt;
        let raw = OsStr::from_bytes(b"cp\xffu");
        let why = read_from("PI_BACKEND", Some(raw), "auto, cpu or gpu").unwrap_err();
        assert!(
            why.starts_with("environment variable PI_BACKEND=") && why.contains("UTF-8"),
            "{why}"
        );
        assert!(why.ends_with("use auto, cpu or gpu"), "{why}");
    }
}
