//! Explicit x86_64 SIMD kernels (AVX-512F and AVX2 intrinsics).
//!
//! The state layout is the one of [`lanes`](super::portable::lanes): each
//! 32-bit Philox word in the low half of a 64-bit lane, so a product is one
//! `vpmuludq`, its high word one `vpsrlq`, its low word free (the high half
//! of the lane is garbage that the next `vpmuludq` ignores). Several
//! independent vectors are interleaved to hide the multiply latency.
//!
//! Every `pub(super)` function here needs the instruction sets its
//! `#[target_feature]` names; the caller checks them at run time.

use super::portable::round_keys;
use crate::stream::{M0, M1, ROUNDS};
use core::arch::x86_64::*;

/// Vectors in flight in the AVX-512 main loop (8 blocks each).
const U512: usize = 4;
/// Vectors in flight in the AVX2 main loop (4 blocks each).
const U256: usize = 3;

/// The round keys, broadcast.
struct Keys512 {
    k0: [__m512i; ROUNDS],
    k1: [__m512i; ROUNDS],
}

#[inline]
#[target_feature(enable = "avx512f")]
fn keys512(key: [u32; 2]) -> Keys512 {
    let ks = round_keys(key);
    let mut k = Keys512 {
        k0: [_mm512_setzero_si512(); ROUNDS],
        k1: [_mm512_setzero_si512(); ROUNDS],
    };
    for (r, [k0, k1]) in ks.into_iter().enumerate() {
        k.k0[r] = _mm512_set1_epi64(i64::from(k0));
        k.k1[r] = _mm512_set1_epi64(i64::from(k1));
    }
    k
}

/// Philox4x32-10 of `U` vectors of 8 block indices: the words
/// `[x0, x1, x2, x3]` of each block, in the low halves of the lanes.
#[inline]
#[target_feature(enable = "avx512f")]
fn philox512<const U: usize>(j: [__m512i; U], k: &Keys512) -> [[__m512i; 4]; U] {
    let m0 = _mm512_set1_epi64(i64::from(M0));
    let m1 = _mm512_set1_epi64(i64::from(M1));
    let zero = _mm512_setzero_si512();
    let mut s = [[zero; 4]; U];
    // Round 0: the counter is (lo32(j), hi32(j), 0, 0), so only one product.
    for u in 0..U {
        let p0 = _mm512_mul_epu32(j[u], m0);
        s[u] = [
            _mm512_xor_si512(_mm512_srli_epi64::<32>(j[u]), k.k0[0]),
            zero,
            _mm512_xor_si512(_mm512_srli_epi64::<32>(p0), k.k1[0]),
            p0,
        ];
    }
    // Rounds 1..10, unrolled by hand: as a loop, the compiler keeps the
    // round count and copies every state register each time round.
    macro_rules! round {
        ($r:expr) => {
            for st in s.iter_mut() {
                let [c0, c1, c2, c3] = *st;
                let p0 = _mm512_mul_epu32(c0, m0);
                let p1 = _mm512_mul_epu32(c2, m1);
                // 0x96: a ^ b ^ c.
                *st = [
                    _mm512_ternarylogic_epi64::<0x96>(_mm512_srli_epi64::<32>(p1), c1, k.k0[$r]),
                    p1,
                    _mm512_ternarylogic_epi64::<0x96>(_mm512_srli_epi64::<32>(p0), c3, k.k1[$r]),
                    p0,
                ];
            }
        };
    }
    round!(1);
    round!(2);
    round!(3);
    round!(4);
    round!(5);
    round!(6);
    round!(7);
    round!(8);
    round!(9);
    s
}

/// The hits among the points `(x, y)` (low halves of the lanes), one bit
/// per lane. A hit is a sum of squares without carry out of 64 bits: the
/// wrapped sum `xx + yy` is then at least `xx` (unsigned), and after a
/// carry it is `xx + yy - 2^64 < xx`.
#[inline]
#[target_feature(enable = "avx512f")]
fn hits512(x: __m512i, y: __m512i) -> __mmask8 {
    let xx = _mm512_mul_epu32(x, x);
    let yy = _mm512_mul_epu32(y, y);
    _mm512_cmpge_epu64_mask(_mm512_add_epi64(xx, yy), xx)
}

/// Hits of a vector of blocks (both points) among `lanes`.
#[inline]
#[target_feature(enable = "avx512f,popcnt")]
fn count512([x0, x1, x2, x3]: [__m512i; 4], lanes: __mmask8) -> u64 {
    let both = u32::from(hits512(x0, x1) & lanes) | u32::from(hits512(x2, x3) & lanes) << 8;
    u64::from(both.count_ones())
}

/// Hits in blocks `j0 .. j0 + n`, 8 blocks per vector.
#[target_feature(enable = "avx512f,popcnt")]
pub(super) fn hits_avx512(key: [u32; 2], j0: u64, n: u64) -> u64 {
    let k = keys512(key);
    let iota = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    let mut offs = [iota; U512];
    for (u, o) in offs.iter_mut().enumerate() {
        *o = _mm512_add_epi64(iota, _mm512_set1_epi64(8 * u as i64));
    }
    let step = _mm512_set1_epi64(8 * U512 as i64);
    let mut base = _mm512_set1_epi64(j0 as i64);
    let mut hits = 0;
    let mut left = n;
    while left >= 8 * U512 as u64 {
        let mut j = offs;
        for jv in j.iter_mut() {
            *jv = _mm512_add_epi64(base, *jv);
        }
        for x in philox512(j, &k) {
            hits += count512(x, 0xFF);
        }
        base = _mm512_add_epi64(base, step);
        left -= 8 * U512 as u64;
    }
    // The last 0..8*U512 blocks, one vector at a time; lanes past the
    // end are computed (block indices wrap harmlessly) and not counted.
    while left > 0 {
        let lanes = if left >= 8 { 0xFF } else { (1u8 << left) - 1 };
        let [x] = philox512([_mm512_add_epi64(base, iota)], &k);
        hits += count512(x, lanes);
        base = _mm512_add_epi64(base, _mm512_set1_epi64(8));
        left = left.saturating_sub(8);
    }
    hits
}

/// The round keys, broadcast.
struct Keys256 {
    k0: [__m256i; ROUNDS],
    k1: [__m256i; ROUNDS],
}

#[inline]
#[target_feature(enable = "avx2")]
fn keys256(key: [u32; 2]) -> Keys256 {
    let ks = round_keys(key);
    let mut k = Keys256 {
        k0: [_mm256_setzero_si256(); ROUNDS],
        k1: [_mm256_setzero_si256(); ROUNDS],
    };
    for (r, [k0, k1]) in ks.into_iter().enumerate() {
        k.k0[r] = _mm256_set1_epi64x(i64::from(k0));
        k.k1[r] = _mm256_set1_epi64x(i64::from(k1));
    }
    k
}

/// Philox4x32-10 of `U` vectors of 4 block indices (see [`philox512`]).
#[inline]
#[target_feature(enable = "avx2")]
fn philox256<const U: usize>(j: [__m256i; U], k: &Keys256) -> [[__m256i; 4]; U] {
    let m0 = _mm256_set1_epi64x(i64::from(M0));
    let m1 = _mm256_set1_epi64x(i64::from(M1));
    let zero = _mm256_setzero_si256();
    let mut s = [[zero; 4]; U];
    for u in 0..U {
        let p0 = _mm256_mul_epu32(j[u], m0);
        s[u] = [
            _mm256_xor_si256(_mm256_srli_epi64::<32>(j[u]), k.k0[0]),
            zero,
            _mm256_xor_si256(_mm256_srli_epi64::<32>(p0), k.k1[0]),
            p0,
        ];
    }
    macro_rules! round {
        ($r:expr) => {
            for st in s.iter_mut() {
                let [c0, c1, c2, c3] = *st;
                let p0 = _mm256_mul_epu32(c0, m0);
                let p1 = _mm256_mul_epu32(c2, m1);
                // The key is folded into the old word while the product
                // is under way.
                *st = [
                    _mm256_xor_si256(_mm256_srli_epi64::<32>(p1), _mm256_xor_si256(c1, k.k0[$r])),
                    p1,
                    _mm256_xor_si256(_mm256_srli_epi64::<32>(p0), _mm256_xor_si256(c3, k.k1[$r])),
                    p0,
                ];
            }
        };
    }
    round!(1);
    round!(2);
    round!(3);
    round!(4);
    round!(5);
    round!(6);
    round!(7);
    round!(8);
    round!(9);
    s
}

/// Subtracts 1 from `acc`'s lane for each miss `(x, y)` among `lanes`
/// (all ones in a lane that counts). A miss is a carry out of
/// `xx + yy`, i.e. `xx > xx + yy` unsigned; AVX2 compares signed, so both
/// sides are offset by 2^63 (`xx ^ 2^63 + yy` is the offset sum).
#[inline]
#[target_feature(enable = "avx2")]
fn misses256(acc: __m256i, x: __m256i, y: __m256i, lanes: __m256i) -> __m256i {
    let sign = _mm256_set1_epi64x(i64::MIN);
    let xx = _mm256_xor_si256(_mm256_mul_epu32(x, x), sign);
    let yy = _mm256_mul_epu32(y, y);
    let miss = _mm256_cmpgt_epi64(xx, _mm256_add_epi64(xx, yy));
    _mm256_add_epi64(acc, _mm256_and_si256(miss, lanes))
}

/// Hits in blocks `j0 .. j0 + n`, 4 blocks per vector.
#[target_feature(enable = "avx2,popcnt")]
pub(super) fn hits_avx2(key: [u32; 2], j0: u64, n: u64) -> u64 {
    let k = keys256(key);
    let iota = _mm256_set_epi64x(3, 2, 1, 0);
    let mut offs = [iota; U256];
    for (u, o) in offs.iter_mut().enumerate() {
        *o = _mm256_add_epi64(iota, _mm256_set1_epi64x(4 * u as i64));
    }
    let step = _mm256_set1_epi64x(4 * U256 as i64);
    let all = _mm256_set1_epi64x(-1);
    let mut base = _mm256_set1_epi64x(j0 as i64);
    // Minus the misses, per lane.
    let mut acc = _mm256_setzero_si256();
    let mut left = n;
    while left >= 4 * U256 as u64 {
        let mut j = offs;
        for jv in j.iter_mut() {
            *jv = _mm256_add_epi64(base, *jv);
        }
        for [x0, x1, x2, x3] in philox256(j, &k) {
            acc = misses256(acc, x0, x1, all);
            acc = misses256(acc, x2, x3, all);
        }
        base = _mm256_add_epi64(base, step);
        left -= 4 * U256 as u64;
    }
    while left > 0 {
        // Lane l counts when l < left.
        let lanes = _mm256_cmpgt_epi64(_mm256_set1_epi64x(left.min(4) as i64), iota);
        let [[x0, x1, x2, x3]] = philox256([_mm256_add_epi64(base, iota)], &k);
        acc = misses256(acc, x0, x1, lanes);
        acc = misses256(acc, x2, x3, lanes);
        base = _mm256_add_epi64(base, _mm256_set1_epi64x(4));
        left = left.saturating_sub(4);
    }
    let mut lanes = [0u64; 4];
    // SAFETY: `lanes` is 32 writable bytes; the store is unaligned.
    unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), acc) };
    let misses = lanes.iter().fold(0u64, |a, &l| a.wrapping_sub(l));
    2 * n - misses
}

/// Each point's verdict by [`hits512`], 8 points per vector, the last
/// vector partly filled (its empty lanes masked off as in [`hits_avx512`]).
#[target_feature(enable = "avx512f")]
pub(super) fn hit_test_avx512(points: &[(u32, u32)], out: &mut [bool]) {
    for (chunk, verdicts) in points.chunks(8).zip(out.chunks_mut(8)) {
        let (mut x, mut y) = ([0i64; 8], [0i64; 8]);
        for (l, &(px, py)) in chunk.iter().enumerate() {
            x[l] = i64::from(px);
            y[l] = i64::from(py);
        }
        let lanes = if chunk.len() == 8 {
            0xFF
        } else {
            (1u8 << chunk.len()) - 1
        };
        // SAFETY: `x` and `y` are 64 readable bytes each; the loads are unaligned.
        let (xv, yv) = unsafe {
            (
                _mm512_loadu_si512(x.as_ptr().cast()),
                _mm512_loadu_si512(y.as_ptr().cast()),
            )
        };
        let hits = hits512(xv, yv) & lanes;
        for (l, v) in verdicts.iter_mut().enumerate() {
            *v = hits >> l & 1 == 1;
        }
    }
}

/// Each point's verdict by [`misses256`], 4 points per vector, the last
/// vector partly filled (its empty lanes masked off as in [`hits_avx2`]).
#[target_feature(enable = "avx2")]
pub(super) fn hit_test_avx2(points: &[(u32, u32)], out: &mut [bool]) {
    let iota = _mm256_set_epi64x(3, 2, 1, 0);
    for (chunk, verdicts) in points.chunks(4).zip(out.chunks_mut(4)) {
        let (mut x, mut y) = ([0i64; 4], [0i64; 4]);
        for (l, &(px, py)) in chunk.iter().enumerate() {
            x[l] = i64::from(px);
            y[l] = i64::from(py);
        }
        let lanes = _mm256_cmpgt_epi64(_mm256_set1_epi64x(chunk.len() as i64), iota);
        // SAFETY: `x` and `y` are 32 readable bytes each; the loads are unaligned.
        let (xv, yv) = unsafe {
            (
                _mm256_loadu_si256(x.as_ptr().cast()),
                _mm256_loadu_si256(y.as_ptr().cast()),
            )
        };
        let acc = misses256(_mm256_setzero_si256(), xv, yv, lanes);
        let mut misses = [0i64; 4];
        // SAFETY: `misses` is 32 writable bytes; the store is unaligned.
        unsafe { _mm256_storeu_si256(misses.as_mut_ptr().cast(), acc) };
        for (v, m) in verdicts.iter_mut().zip(misses) {
            *v = m == 0;
        }
    }
}

/// The blocks among `j0 .. j0 + n` with a zero word (x == 0 or y == 0 in
/// one of their points), in order, 32 blocks per step: the search for the
/// stream's rarest hit-test inputs.
#[target_feature(enable = "avx512f")]
pub(super) fn zero_word_blocks_avx512(key: [u32; 2], j0: u64, n: u64) -> Vec<u64> {
    let k = keys512(key);
    let iota = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    let lo = _mm512_set1_epi64(0xFFFF_FFFF);
    let mut found = Vec::new();
    let mut done = 0u64;
    while done < n {
        let mut j = [iota; U512];
        for (u, jv) in j.iter_mut().enumerate() {
            let first = j0.wrapping_add(done).wrapping_add(8 * u as u64);
            *jv = _mm512_add_epi64(_mm512_set1_epi64(first as i64), iota);
        }
        for (u, words) in philox512(j, &k).into_iter().enumerate() {
            let start = done + 8 * u as u64;
            let left = n.saturating_sub(start);
            let lanes = if left >= 8 { 0xFF } else { (1u8 << left) - 1 };
            let mut zero = words.iter().fold(0u8, |m, &w| m | _mm512_testn_epi64_mask(w, lo)) & lanes;
            while zero != 0 {
                found.push(j0.wrapping_add(start + u64::from(zero.trailing_zeros())));
                zero &= zero - 1;
            }
        }
        done = done.saturating_add(8 * U512 as u64);
    }
    found
}
