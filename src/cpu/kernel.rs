//! Which CPU kernel counts the blocks: run-time detection, the
//! `PI_CPU_KERNEL` override, and dispatch to the kernel's code.

use super::portable;
#[cfg(target_arch = "x86_64")]
use super::x86;
use crate::stream;

/// The environment variable that forces the CPU kernel of every engine made
/// after it is set: `auto` (the default) or a kernel's name (see
/// [`Kernel::ALL`]).
pub const KERNEL_ENV: &str = "PI_CPU_KERNEL";

/// Which lane kernel counts whole blocks on this CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// One block at a time, as the reference does (any CPU).
    Scalar,
    /// Portable lanes: 8 blocks at a time, vectorized by the compiler for the
    /// baseline instruction set (SSE2 on x86_64, NEON on aarch64).
    Portable,
    /// Explicit AVX2 (and POPCNT): 3 vectors of 4 blocks in flight.
    Avx2,
    /// Explicit AVX-512F (and POPCNT): 4 vectors of 8 blocks in flight.
    Avx512,
}

impl Kernel {
    /// Every kernel, slowest first.
    pub const ALL: [Kernel; 4] = [Kernel::Scalar, Kernel::Portable, Kernel::Avx2, Kernel::Avx512];

    /// The fastest kernel this CPU runs, by run-time detection. Under
    /// valgrind, whose emulated CPU offers no AVX-512, this is AVX2.
    pub fn detect() -> Kernel {
        [Kernel::Avx512, Kernel::Avx2]
            .into_iter()
            .find(|k| k.supported())
            .unwrap_or(Kernel::Portable)
    }

    /// Every kernel this CPU can run (for tests and benchmarks).
    pub fn available() -> Vec<Kernel> {
        Kernel::ALL.into_iter().filter(|k| k.supported()).collect()
    }

    /// Whether this CPU runs the kernel: the instruction sets its
    /// `#[target_feature]` functions enable.
    pub fn supported(self) -> bool {
        match self {
            Kernel::Scalar | Kernel::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("popcnt")
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("popcnt")
            }
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx2 | Kernel::Avx512 => false,
        }
    }

    /// A short lower-case name: `"scalar"`, `"portable"`, `"avx2"`, `"avx512"`.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Scalar => "scalar",
            Kernel::Portable => "portable",
            Kernel::Avx2 => "avx2",
            Kernel::Avx512 => "avx512",
        }
    }

    /// The kernel a `PI_CPU_KERNEL` value asks for: `Ok(None)` for `auto`
    /// or an empty value (detect), an error naming the variable for an
    /// unknown name or a kernel this CPU cannot run. Any case, blanks
    /// around ignored.
    pub fn from_setting(value: &str) -> Result<Option<Kernel>, String> {
        choose(value, &Kernel::available())
    }

    /// The kernel for a new engine: the one `PI_CPU_KERNEL` forces, else
    /// [`Kernel::detect`]. An unknown name, a kernel this CPU lacks or a
    /// value that is not UTF-8 is an error whose message names the variable.
    pub fn from_env() -> Result<Kernel, String> {
        let forced = match crate::env::read(KERNEL_ENV, &setting_names())? {
            None => None,
            Some(v) => Kernel::from_setting(&v)?,
        };
        Ok(forced.unwrap_or_else(Kernel::detect))
    }

    /// Panics unless this CPU runs the kernel.
    fn require(self) {
        assert!(self.supported(), "this CPU cannot run the {} kernel", self.name());
    }

    /// Hits in the whole blocks `j0 .. j0 + n` under `key`; block indices
    /// past `2^64 - 1` wrap to 0.
    ///
    /// # Panics
    /// If this CPU lacks the kernel's instruction set (see [`Kernel::available`]).
    pub fn block_hits(self, key: [u32; 2], j0: u64, n: u64) -> u64 {
        self.require();
        match self {
            Kernel::Scalar => stream::block_range_hits(key, j0, n),
            Kernel::Portable => portable::lanes::<8>(key, j0, n),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: AVX2 and POPCNT are present: `require` checked them.
            Kernel::Avx2 => unsafe { x86::hits_avx2(key, j0, n) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: AVX-512F and POPCNT are present: `require` checked them.
            Kernel::Avx512 => unsafe { x86::hits_avx512(key, j0, n) },
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx2 | Kernel::Avx512 => unreachable!("no x86_64 kernel is supported here"),
        }
    }

    /// Each point's verdict (hit or not) by this kernel's own hit test, fed
    /// directly, several points per vector as in [`Kernel::block_hits`]:
    /// how tests reach the points no stream sample lands on.
    ///
    /// # Panics
    /// If this CPU lacks the kernel's instruction set (see [`Kernel::available`]).
    pub fn hit_test(self, points: &[(u32, u32)]) -> Vec<bool> {
        self.require();
        let mut out = vec![false; points.len()];
        match self {
            Kernel::Scalar => {
                for (v, &(x, y)) in out.iter_mut().zip(points) {
                    *v = stream::is_hit(x, y);
                }
            }
            Kernel::Portable => {
                for (v, &(x, y)) in out.iter_mut().zip(points) {
                    *v = portable::carry(u64::from(x), u64::from(y)) == 0;
                }
            }
            #[cfg(target_arch = "x86_64")]
            // SAFETY: AVX2 is present: `require` checked it.
            Kernel::Avx2 => unsafe { x86::hit_test_avx2(points, &mut out) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: AVX-512F is present: `require` checked it.
            Kernel::Avx512 => unsafe { x86::hit_test_avx512(points, &mut out) },
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx2 | Kernel::Avx512 => unreachable!("no x86_64 kernel is supported here"),
        }
        out
    }
}

/// [`Kernel::from_setting`] on a CPU that runs the kernels `runs`.
fn choose(value: &str, runs: &[Kernel]) -> Result<Option<Kernel>, String> {
    let name = value.trim().to_ascii_lowercase();
    if name.is_empty() || name == "auto" {
        return Ok(None);
    }
    let Some(kernel) = Kernel::ALL.into_iter().find(|k| k.name() == name) else {
        return Err(crate::env::bad_value(
            KERNEL_ENV,
            value,
            &format!("one of {}", setting_names()),
        ));
    };
    if !runs.contains(&kernel) {
        let names: Vec<&str> = runs.iter().map(|k| k.name()).collect();
        return Err(format!(
            "environment variable {KERNEL_ENV}={} asks for a kernel this processor cannot run \
             (it runs: {})",
            crate::env::quote(value),
            names.join(", ")
        ));
    }
    Ok(Some(kernel))
}

/// The values `PI_CPU_KERNEL` takes, from [`Kernel::ALL`], fastest first:
/// `auto, avx512, avx2, portable, scalar`.
fn setting_names() -> String {
    let mut names = vec!["auto"];
    names.extend(Kernel::ALL.iter().rev().map(|k| k.name()));
    names.join(", ")
}

/// The blocks among `j0 .. j0 + n` (wrapping past `2^64 - 1`) with a zero
/// word, that is a point with x == 0 or y == 0, in order: the rarest inputs
/// of the hit test, about one block in 2^30. AVX-512 where the CPU has it,
/// else one block at a time. Tests search the stream with it
/// (`tests/data/edge_samples.txt`).
pub fn zero_word_blocks(key: [u32; 2], j0: u64, n: u64) -> Vec<u64> {
    #[cfg(target_arch = "x86_64")]
    if Kernel::Avx512.supported() {
        // SAFETY: AVX-512F is present: checked on the line above.
        return unsafe { x86::zero_word_blocks_avx512(key, j0, n) };
    }
    (0..n)
        .map(|k| j0.wrapping_add(k))
        .filter(|&j| stream::block(key, j).contains(&0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_names_a_kernel_or_auto() {
        let all = Kernel::ALL;
        for k in all {
            assert_eq!(choose(k.name(), &all), Ok(Some(k)));
            assert_eq!(choose(&format!(" {} ", k.name().to_uppercase()), &all), Ok(Some(k)));
        }
        for auto in ["", "  ", "auto", "Auto"] {
            assert_eq!(choose(auto, &all), Ok(None), "{auto:?}");
        }
        for bad in ["avx", "avx-512", "neon", "scalar2", "cpu"] {
            let why = choose(bad, &all).expect_err(bad);
            assert!(why.contains(KERNEL_ENV) && why.contains(&format!("{bad:?}")), "{why}");
        }
        let long = "x".repeat(10_000);
        let why = choose(&long, &all).expect_err("a long value");
        assert!(why.contains(KERNEL_ENV) && why.len() < 200, "{why}");
    }

    #[test]
    fn a_kernel_the_processor_lacks_is_refused() {
        let runs = [Kernel::Scalar, Kernel::Portable];
        for lacking in [Kernel::Avx2, Kernel::Avx512] {
            let why = choose(lacking.name(), &runs).expect_err(lacking.name());
            assert!(why.contains(KERNEL_ENV) && why.contains("scalar, portable"), "{why}");
        }
        assert_eq!(choose("portable", &runs), Ok(Some(Kernel::Portable)));
    }
}
