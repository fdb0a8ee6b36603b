// Monte Carlo pi on the GPU: counts the hits of whole Philox4x32-10 blocks.
//
// The stream is the one of src/stream.rs (README.md, "The stream"): block j under the
// key (lo32(seed), hi32(seed)) is Philox4x32-10(counter = (lo32(j), hi32(j),
// 0, 0)); its words (x0, x1, x2, x3) are the two points (x0, x1) and
// (x2, x3). A point (x, y) is a hit when x*x + y*y < 2^64, in exact integers.
//
// Each invocation counts a contiguous slice of at most `per_invocation`
// blocks; each workgroup adds its invocations' counts and writes one u32
// partial count. The host sums the partials as u64 and counts the lone
// samples at both ends of a run itself.
//
// This file holds two variants, picked by src/gpu/pipeline.rs before compilation:
// the lines between `// #if INT64` and `// #else` when the device has
// SHADER_INT64 (products as u64), the lines between `// #else` and
// `// #endif` otherwise (products from 16-bit limbs). Everything else is
// shared. The markers are whole lines, trimmed, exactly as written here;
// there is one such block. Both variants define `mulhilo(a, b)` (high, low
// words of a * b) and `is_hit(x, y)`, which tests/gpu.rs runs on edge inputs.
// Operations per block of each variant: `cargo run --example shader_ops`.

// Invocations per workgroup. A pipeline-overridable constant that src/gpu/mod.rs
// sets from its `WORKGROUP_SIZE`, so Rust and WGSL cannot disagree. 256 is
// the default `max_compute_invocations_per_workgroup` of WebGPU and a whole
// number of warps / waves / SIMD lanes everywhere.
override WORKGROUP_SIZE: u32;

// Philox4x32 constants (src/stream.rs: M0, M1, W0, W1).
const M0: u32 = 0xD2511F53u;
const M1: u32 = 0xCD9E8D57u;
const W0: u32 = 0x9E3779B9u;
const W1: u32 = 0xBB67AE85u;
// The key increment of one round.
const W = vec2<u32>(W0, W1);

// What one dispatch does. Written by the host, one copy per dispatch,
// selected with a dynamic uniform offset.
struct Params {
    // Philox key: (lo32(seed), hi32(seed)).
    key: vec2<u32>,
    // Index of the dispatch's first block: (lo32, hi32).
    base: vec2<u32>,
    // Blocks per invocation (at most 16384, far below the 65,535 loop
    // iterations past which lavapipe was seen to stop a loop silently).
    per_invocation: u32,
    // Invocations that count `per_invocation` blocks; the next one counts
    // `remainder` blocks, any later ones none.
    full_invocations: u32,
    // Blocks of the one partly filled invocation (< per_invocation).
    remainder: u32,
    // Index in `partials` of this dispatch's first workgroup.
    partial_offset: u32,
}

// Binding 0: this dispatch's parameters (dynamic offset, one slot per
// dispatch of a submission).
@group(0) @binding(0) var<uniform> params: Params;

// Binding 1: one hit count per workgroup of every dispatch of a submission,
// at `partial_offset + workgroup index`. Never overflows: a workgroup counts
// at most 2 * 256 * 16384 = 2^23 hits.
@group(0) @binding(1) var<storage, read_write> partials: array<u32>;

// The workgroup's running hit count.
var<workgroup> workgroup_hits: atomic<u32>;

// #if INT64
// (hi32(a * b), lo32(a * b)), the full 64-bit product, through u64.
fn mulhilo(a: u32, b: u32) -> vec2<u32> {
    let p = u64(a) * u64(b);
    return vec2<u32>(u32(p >> 32u), u32(p));
}

// hi32(x * x).
fn square_hi(x: u32) -> u32 {
    return u32((u64(x) * u64(x)) >> 32u);
}

// x*x + y*y < 2^64, decided on the high words: with hx = hi32(x*x) and
// hy = hi32(y*y), the sum carries out of 64 bits when hx + hy > 2^32 - 1
// and cannot when hx + hy < 2^32 - 1. Only on the tie hx == ~hy (about one
// point in 2^32) does the exact comparison run.
fn is_hit(x: u32, y: u32) -> bool {
    let hx = square_hi(x);
    let not_hy = ~square_hi(y);
    if hx != not_hy {
        return hx < not_hy;
    }
    return is_hit_exact(x, y);
}

// x*x + y*y < 2^64, i.e. x*x <= 2^64 - 1 - y*y = ~(y*y), in full.
fn is_hit_exact(x: u32, y: u32) -> bool {
    return u64(x) * u64(x) <= ~(u64(y) * u64(y));
}
// #else
// (hi32(a * b), lo32(a * b)) from 16-bit limbs a = a1:a0, b = b1:b0, with
// three partial products and the native wrapping product as the low word.
// a * b = a1*b1 * 2^32 + m * 2^16 + a0*b0 where m = a1*b0 + a0*b1 may reach
// 2^33: `carry` is its bit 32. The bits of m * 2^16 above bit 31 are
// carry * 2^16 + (m >> 16), and the low parts (m << 16) + a0*b0 carry into
// the high word exactly when their wrapping sum, the low word, is below
// (m << 16). So a0*b0 itself is never needed.
fn mulhilo(a: u32, b: u32) -> vec2<u32> {
    let a0 = a & 0xFFFFu;
    let a1 = a >> 16u;
    let b0 = b & 0xFFFFu;
    let b1 = b >> 16u;
    let lo = a * b;
    let p10 = a1 * b0;
    let m = p10 + a0 * b1;
    let carry = select(0u, 0x10000u, m < p10);
    let m_low = m << 16u;
    let hi = a1 * b1 + carry + (m >> 16u) + select(0u, 1u, lo < m_low);
    return vec2<u32>(hi, lo);
}

// hi32(x * x), or one less: x*x = a1*a1 * 2^32 + p * 2^17 + a0*a0 with
// p = a0*a1 < 2^32, so hi32(x*x) = a1*a1 + (p >> 15) + (the carry of the low
// words, 0 or 1), left out here.
fn square_hi_floor(x: u32) -> u32 {
    let a1 = x >> 16u;
    return a1 * a1 + (((x & 0xFFFFu) * a1) >> 15u);
}

// x*x + y*y < 2^64, decided on the high words. With the floors
// fx <= hi32(x*x) <= fx + 1 (and fy likewise) and the carry c of the low
// words (0 or 1), the sum's bits above 63 are those of fx + fy + e with
// 0 <= e <= 3: fx + fy >= 2^32 is a miss, fx + fy <= 2^32 - 4 a hit. Only
// in between (a few points in 2^32) is the exact (hi, lo) comparison of
// x*x with ~(y*y) needed.
fn is_hit(x: u32, y: u32) -> bool {
    let fx = square_hi_floor(x);
    let not_fy = ~square_hi_floor(y);
    if fx > not_fy {
        return false;
    }
    if not_fy - fx >= 3u {
        return true;
    }
    return is_hit_exact(x, y);
}

// x*x + y*y < 2^64, i.e. x*x <= ~(y*y), compared as (hi, lo) pairs.
fn is_hit_exact(x: u32, y: u32) -> bool {
    let xx = mulhilo(x, x);
    let yy = ~mulhilo(y, y);
    return xx.x < yy.x || (xx.x == yy.x && xx.y <= yy.y);
}
// #endif

// One Philox round on the counter c under the round key k.
fn philox_round(c: vec4<u32>, k: vec2<u32>) -> vec4<u32> {
    let p0 = mulhilo(M0, c.x);
    let p1 = mulhilo(M1, c.z);
    return vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
}

// Philox4x32-10 of the counter (lo, hi, 0, 0) under `key`: ten rounds,
// written out (round r uses key + r * (W0, W1)), so that no loop counter or
// loop bound check is spent on them.
fn philox(lo: u32, hi: u32, key: vec2<u32>) -> vec4<u32> {
    var c = vec4<u32>(lo, hi, 0u, 0u);
    c = philox_round(c, key);
    c = philox_round(c, key + W);
    c = philox_round(c, key + 2u * W);
    c = philox_round(c, key + 3u * W);
    c = philox_round(c, key + 4u * W);
    c = philox_round(c, key + 5u * W);
    c = philox_round(c, key + 6u * W);
    c = philox_round(c, key + 7u * W);
    c = philox_round(c, key + 8u * W);
    return philox_round(c, key + 9u * W);
}

// Hits (0, 1 or 2) of block (lo, hi) under `key`.
fn block_hits(lo: u32, hi: u32, key: vec2<u32>) -> u32 {
    let b = philox(lo, hi, key);
    return select(0u, 1u, is_hit(b.x, b.y)) + select(0u, 1u, is_hit(b.z, b.w));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn count_hits(
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
    @builtin(local_invocation_index) local_index: u32,
) {
    if local_index == 0u {
        atomicStore(&workgroup_hits, 0u);
    }
    workgroupBarrier();

    // The dispatch is one-dimensional: the host keeps it within
    // max_compute_workgroups_per_dimension.
    let invocation = workgroup_id.x * WORKGROUP_SIZE + local_index;
    var n = 0u;
    if invocation < params.full_invocations {
        n = params.per_invocation;
    } else if invocation == params.full_invocations {
        n = params.remainder;
    }

    // First block: base + invocation * per_invocation, in 64 bits (the
    // offset itself can pass 2^32 in a large dispatch).
    let offset = mulhilo(invocation, params.per_invocation);
    var lo = params.base.x + offset.y;
    var hi = params.base.y + offset.x + select(0u, 1u, lo < offset.y);

    var hits = 0u;
    for (var i = 0u; i < n; i++) {
        hits += block_hits(lo, hi, params.key);
        lo += 1u;
        hi += select(0u, 1u, lo == 0u);
    }

    if hits != 0u {
        atomicAdd(&workgroup_hits, hits);
    }
    workgroupBarrier();
    if local_index == 0u {
        partials[params.partial_offset + workgroup_id.x] = atomicLoad(&workgroup_hits);
    }
}
