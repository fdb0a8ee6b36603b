//! Portable lanes: Philox blocks and the hit test in plain Rust, many blocks
//! at a time, shaped so that the compiler vectorizes them for the baseline
//! instruction set (SSE2 on x86_64, NEON on aarch64).

use crate::stream::{self, M0, M1, W0, W1};

/// The Philox round keys `(k0, k1)` of rounds 0..10 under `key`.
#[inline(always)]
pub(super) fn round_keys(key: [u32; 2]) -> [[u32; 2]; stream::ROUNDS] {
    let mut ks = [key; stream::ROUNDS];
    for r in 1..stream::ROUNDS {
        ks[r] = [ks[r - 1][0].wrapping_add(W0), ks[r - 1][1].wrapping_add(W1)];
    }
    ks
}

/// Low 32 bits of a 64-bit lane.
const LO: u64 = 0xFFFF_FFFF;

/// Hits in blocks `j0 .. j0 + n` under `key`, `L` blocks at a time.
///
/// Each 32-bit word of the Philox state is held in the low half of a 64-bit
/// lane, so that every product is one `pmuludq` (x86) or `umull` (aarch64)
/// and its high word one shift, with no lane shuffles. The high halves of
/// the lanes carry garbage that every multiply ignores (hence the `& LO`,
/// which the compiler folds into the multiply). The hit test uses only
/// bitwise operations and shifts, which the baseline instruction sets have
/// for 64-bit lanes. The last `n % L` blocks go through the reference.
#[inline(always)]
pub(super) fn lanes<const L: usize>(key: [u32; 2], j0: u64, n: u64) -> u64 {
    let ks = round_keys(key);
    let groups = n / L as u64;
    let mut misses = [0u64; L];
    for g in 0..groups {
        let base = j0.wrapping_add(g * L as u64);
        let mut c0 = [0u64; L];
        let mut c1 = [0u64; L];
        let mut c2 = [0u64; L];
        let mut c3 = [0u64; L];
        for l in 0..L {
            let j = base.wrapping_add(l as u64);
            c0[l] = j;
            c1[l] = j >> 32;
        }
        for [k0, k1] in ks {
            let (k0, k1) = (u64::from(k0), u64::from(k1));
            for l in 0..L {
                let p0 = u64::from(M0) * (c0[l] & LO);
                let p1 = u64::from(M1) * (c2[l] & LO);
                c0[l] = (p1 >> 32) ^ c1[l] ^ k0;
                c2[l] = (p0 >> 32) ^ c3[l] ^ k1;
                c1[l] = p1;
                c3[l] = p0;
            }
        }
        for l in 0..L {
            misses[l] += carry(c0[l] & LO, c1[l] & LO) + carry(c2[l] & LO, c3[l] & LO);
        }
    }
    let done = groups * L as u64;
    2 * done - misses.iter().sum::<u64>() + stream::block_range_hits(key, j0.wrapping_add(done), n - done)
}

/// The portable hit test of the point `(x, y)` (each below 2^32): 1 when
/// `x*x + y*y` carries out of 64 bits (a miss), 0 for a hit. The carry out
/// of `a + b = s` is the top bit of `(a & b) | ((a | b) & !s)`.
#[inline(always)]
pub(super) fn carry(x: u64, y: u64) -> u64 {
    let (xx, yy) = (x * x, y * y);
    let s = xx.wrapping_add(yy);
    ((xx & yy) | ((xx | yy) & !s)) >> 63
}
