//! The sample stream: Philox4x32-10 and the hit rule. This module is the
//! contract every backend reproduces bit for bit (README.md, "The stream").
//!
//! * Seed `s` (64 bits) gives the key `(lo32(s), hi32(s))`.
//! * Sample `i` lives in block `j = i / 2`; the block is
//!   `Philox4x32-10(counter = (lo32(j), hi32(j), 0, 0), key)`, giving
//!   `(x0, x1, x2, x3)`. Sample `2j` is the point `(x0, x1)`, sample `2j + 1`
//!   the point `(x2, x3)`.
//! * A point `(x, y)` is a hit when `x*x + y*y < 2^64`, in exact integers.
//!
//! Changing anything here changes every count the library has ever
//! reported; the known-answer tests below and in `tests/` pin it down.

use rand_core::{Infallible, SeedableRng, TryRng};

/// First Philox multiplier.
pub const M0: u32 = 0xD251_1F53;
/// Second Philox multiplier.
pub const M1: u32 = 0xCD9E_8D57;
/// First Weyl key increment (golden ratio).
pub const W0: u32 = 0x9E37_79B9;
/// Second Weyl key increment (sqrt(3) - 1).
pub const W1: u32 = 0xBB67_AE85;
/// Rounds of Philox4x32-10.
pub const ROUNDS: usize = 10;

/// The high and low 32-bit halves of the 64-bit product `a * b`.
#[inline(always)]
pub fn mulhilo(a: u32, b: u32) -> (u32, u32) {
    let p = u64::from(a) * u64::from(b);
    ((p >> 32) as u32, p as u32)
}

/// Philox4x32-10 of one counter under one key (Salmon et al., SC'11).
#[inline(always)]
pub fn philox4x32_10(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let [mut c0, mut c1, mut c2, mut c3] = ctr;
    let [mut k0, mut k1] = key;
    for round in 0..ROUNDS {
        if round > 0 {
            k0 = k0.wrapping_add(W0);
            k1 = k1.wrapping_add(W1);
        }
        let (hi0, lo0) = mulhilo(M0, c0);
        let (hi1, lo1) = mulhilo(M1, c2);
        (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0);
    }
    [c0, c1, c2, c3]
}

/// The Philox key of a seed: `(lo32(seed), hi32(seed))`.
#[inline(always)]
pub fn key_of(seed: u64) -> [u32; 2] {
    [seed as u32, (seed >> 32) as u32]
}

/// Block `j` of the stream under `key`: two samples.
#[inline(always)]
pub fn block(key: [u32; 2], j: u64) -> [u32; 4] {
    philox4x32_10([j as u32, (j >> 32) as u32, 0, 0], key)
}

/// Sample `i` of seed `seed`, as the integer point `(x, y)`.
pub fn sample(seed: u64, i: u64) -> (u32, u32) {
    let b = block(key_of(seed), i / 2);
    if i.is_multiple_of(2) {
        (b[0], b[1])
    } else {
        (b[2], b[3])
    }
}

/// The hit rule: `x*x + y*y < 2^64`, exactly. The sum of the two squares
/// carries out of 64 bits precisely when it is at least `2^64`.
#[inline(always)]
pub fn is_hit(x: u32, y: u32) -> bool {
    let xx = u64::from(x) * u64::from(x);
    let yy = u64::from(y) * u64::from(y);
    !xx.overflowing_add(yy).1
}

/// Hits (0, 1 or 2) among the two samples of one block.
#[inline(always)]
pub fn block_hits(b: [u32; 4]) -> u64 {
    u64::from(is_hit(b[0], b[1])) + u64::from(is_hit(b[2], b[3]))
}

/// A run `(first, count)` covers samples `first .. first + count - 1`; it is
/// valid when `first + count <= 2^64` (the last sample index is `2^64 - 1`).
/// This is the one place the rule is written; [`Run`] and [`Batches`] apply it.
pub fn range_is_valid(first: u64, count: u64) -> bool {
    ends_in_stream(first, u128::from(count))
}

/// `first + count <= 2^64`, for a count that may itself reach `2^64`.
fn ends_in_stream(first: u64, count: u128) -> bool {
    u128::from(first) + count <= 1u128 << 64
}

/// A range that goes past the last sample index `2^64 - 1`. Its message
/// names the arguments (`first + count`, or `first + batch_size * n_batches`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeError(String);

impl std::fmt::Display for RangeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RangeError {}

/// A checked run: samples `first .. first + count - 1` with
/// `first + count <= 2^64`. Only [`Run::new`] and [`Batches::run`] make one,
/// so a backend handed a `Run` need not check it again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    first: u64,
    count: u64,
}

impl Run {
    /// The run `(first, count)`, or an error naming both when it goes past
    /// sample `2^64 - 1`. `count = 0` is a valid empty run.
    pub fn new(first: u64, count: u64) -> Result<Run, RangeError> {
        if range_is_valid(first, count) {
            Ok(Run { first, count })
        } else {
            Err(RangeError(format!(
                "first + count = {first} + {count} goes past the last sample index 2^64 - 1"
            )))
        }
    }

    /// The first sample.
    pub fn first(self) -> u64 {
        self.first
    }

    /// How many samples.
    pub fn count(self) -> u64 {
        self.count
    }

    /// Its whole blocks and lone end samples.
    pub fn blocks(self) -> Blocks {
        Blocks::of(self.first, self.count)
    }

    /// The first `n` samples (all of them when `n >= count`) and the rest:
    /// two checked runs whose hits add up to this one's.
    pub fn split_at(self, n: u64) -> (Run, Run) {
        let n = n.min(self.count);
        let head = Run {
            first: self.first,
            count: n,
        };
        // Wraps only when the head ends at sample 2^64 - 1; the rest is then empty.
        let rest = Run {
            first: self.first.wrapping_add(n),
            count: self.count - n,
        };
        (head, rest)
    }
}

/// Checked consecutive batches: batch `k` covers samples
/// `first + k * batch_size .. first + (k + 1) * batch_size - 1`, and the
/// last one ends at or before sample `2^64 - 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Batches {
    first: u64,
    batch_size: u64,
    n_batches: u64,
}

impl Batches {
    /// `n_batches` batches of `batch_size` samples from `first`, or an error
    /// naming the three when they go past sample `2^64 - 1`.
    pub fn new(first: u64, batch_size: u64, n_batches: u64) -> Result<Batches, RangeError> {
        if ends_in_stream(first, u128::from(batch_size) * u128::from(n_batches)) {
            Ok(Batches {
                first,
                batch_size,
                n_batches,
            })
        } else {
            Err(RangeError(format!(
                "first + batch_size * n_batches = {first} + {batch_size} * {n_batches} \
                 goes past the last sample index 2^64 - 1"
            )))
        }
    }

    /// Samples per batch.
    pub fn batch_size(self) -> u64 {
        self.batch_size
    }

    /// How many batches.
    pub fn n_batches(self) -> u64 {
        self.n_batches
    }

    /// The first sample of batch 0.
    pub fn first(self) -> u64 {
        self.first
    }

    /// The `n` batches from batch `k` on (clamped to those there are).
    pub fn part(self, k: u64, n: u64) -> Batches {
        let k = k.min(self.n_batches);
        Batches {
            // Batch k starts at or before 2^64 (checked in `new`): wraps
            // only to an empty part at the very end.
            first: self.first.wrapping_add(k.wrapping_mul(self.batch_size)),
            batch_size: self.batch_size,
            n_batches: n.min(self.n_batches - k),
        }
    }

    /// Batch `k` (`k < n_batches`).
    pub fn run(self, k: u64) -> Run {
        assert!(k < self.n_batches, "batch {k} of {}", self.n_batches);
        // Cannot overflow: the last batch ends at or before 2^64 (checked in `new`).
        Run {
            first: self.first + k * self.batch_size,
            count: self.batch_size,
        }
    }
}

/// How a valid run splits into whole blocks and at most one lone sample at
/// each end. Every backend counts the whole blocks its own way and the ends
/// with [`is_hit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blocks {
    /// The sample before the whole blocks, when `first` is odd (it is the
    /// second point of block `first / 2`).
    pub head: Option<u64>,
    /// The first whole block.
    pub first_block: u64,
    /// How many whole blocks (up to 2^63, so it fits in a `u64`).
    pub n_blocks: u64,
    /// The sample after the whole blocks, when the run ends mid-block (it is
    /// the first point of its block).
    pub tail: Option<u64>,
}

impl Blocks {
    /// Splits a valid run. The caller checks [`range_is_valid`] first.
    pub fn of(first: u64, count: u64) -> Blocks {
        debug_assert!(range_is_valid(first, count));
        if count == 0 {
            return Blocks {
                head: None,
                first_block: first / 2,
                n_blocks: 0,
                tail: None,
            };
        }
        let head = (first % 2 == 1).then_some(first);
        let rest_first = first.wrapping_add(u64::from(head.is_some()));
        let rest = count - u64::from(head.is_some());
        let tail = (rest % 2 == 1).then(|| rest_first.wrapping_add(rest - 1));
        Blocks {
            head,
            first_block: rest_first / 2,
            n_blocks: rest / 2,
            tail,
        }
    }

    /// Hits of the lone samples at both ends.
    pub fn edge_hits(&self, seed: u64) -> u64 {
        [self.head, self.tail]
            .into_iter()
            .flatten()
            .map(|i| {
                let (x, y) = sample(seed, i);
                u64::from(is_hit(x, y))
            })
            .sum()
    }
}

/// Hits in the whole blocks `j0 .. j0 + n`, one block at a time. This is the
/// plain reference; the CPU backend has faster kernels that must agree.
pub fn block_range_hits(key: [u32; 2], j0: u64, n: u64) -> u64 {
    (0..n).map(|k| block_hits(block(key, j0.wrapping_add(k)))).sum()
}

/// Hits of the run `(seed, first, count)`, sample by sample, on the calling
/// thread. The reference every other path is tested against. Returns `None`
/// when the run goes past sample `2^64 - 1`.
pub fn count_hits(seed: u64, first: u64, count: u64) -> Option<u64> {
    let b = Run::new(first, count).ok()?.blocks();
    Some(b.edge_hits(seed) + block_range_hits(key_of(seed), b.first_block, b.n_blocks))
}

/// [`count_hits`] split over scoped threads, one per core, for checking
/// the fast backends on runs too large for one thread of plain code (tests
/// and examples). Returns `None` when the run goes past sample `2^64 - 1`.
pub fn count_hits_threaded(seed: u64, first: u64, count: u64) -> Option<u64> {
    const PIECE: u64 = 1 << 20;
    let run = Run::new(first, count).ok()?;
    if count <= PIECE {
        return count_hits(seed, first, count);
    }
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()) as u64;
    let share = count.div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let a = (t * share).min(count);
                let n = share.min(count - a);
                s.spawn(move || count_hits(seed, run.first() + a, n))
            })
            .collect();
        handles.into_iter().map(|h| h.join().ok().flatten()).sum()
    })
}

/// Philox4x32-10 as a `rand_core` generator, seekable to any sample.
///
/// `seed_from_u64(s)` uses the seed exactly as the rest of the library does
/// (key `(lo32(s), hi32(s))`, no mixing), so `next_u32` returns the words
/// `x0, x1, x2, x3` of block 0, then of block 1, and so on: two `next_u32`
/// calls after [`Philox4x32::seek_sample`]`(i)` give sample `i`'s point.
/// `next_u64` is two words, low word first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Philox4x32 {
    key: [u32; 2],
    /// Index of the next word in the stream (4 words per block), modulo 2^66.
    word: u128,
    buf: [u32; 4],
    /// The block `buf` holds, if any.
    buf_block: Option<u64>,
}

impl Philox4x32 {
    /// A generator positioned at sample 0 of `seed`.
    pub fn new(seed: u64) -> Self {
        Philox4x32 {
            key: key_of(seed),
            word: 0,
            buf: [0; 4],
            buf_block: None,
        }
    }

    /// Moves to sample `i`: the next two words are its `x` and `y`.
    pub fn seek_sample(&mut self, i: u64) {
        self.word = u128::from(i) * 2;
    }

    /// The sample the next `next_u32` call starts, when aligned to one.
    pub fn sample_index(&self) -> u64 {
        (self.word / 2) as u64
    }

    /// The next point `(x, y)` of the stream.
    pub fn next_point(&mut self) -> (u32, u32) {
        let x = self.next_word();
        (x, self.next_word())
    }

    fn next_word(&mut self) -> u32 {
        let j = (self.word / 4) as u64;
        if self.buf_block != Some(j) {
            self.buf = block(self.key, j);
            self.buf_block = Some(j);
        }
        let w = self.buf[(self.word % 4) as usize];
        // The stream has 2^66 words; it wraps to the start after the last.
        self.word = (self.word + 1) % (1u128 << 66);
        w
    }
}

impl TryRng for Philox4x32 {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.next_word())
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let lo = self.next_word();
        let hi = self.next_word();
        Ok(u64::from(lo) | (u64::from(hi) << 32))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(4) {
            let w = self.next_word().to_le_bytes();
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
        Ok(())
    }
}

impl SeedableRng for Philox4x32 {
    /// The 64-bit seed, little-endian.
    type Seed = [u8; 8];

    fn from_seed(seed: [u8; 8]) -> Self {
        Self::new(u64::from_le_bytes(seed))
    }

    /// The seed is the key itself, as everywhere in the library.
    fn seed_from_u64(state: u64) -> Self {
        Self::new(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_runs_and_parts_of_batches_add_up() {
        let run = Run::new(u64::MAX - 9, 10).unwrap();
        let (head, rest) = run.split_at(4);
        assert_eq!((head.first(), head.count()), (u64::MAX - 9, 4));
        assert_eq!((rest.first(), rest.count()), (u64::MAX - 5, 6));
        let (all, none) = run.split_at(99);
        assert_eq!((all, none.count()), (run, 0));
        let batches = Batches::new(1, 1 << 61, 4).unwrap();
        let part = batches.part(1, 2);
        assert_eq!((part.first(), part.n_batches()), (1 + (1 << 61), 2));
        assert_eq!(part.run(1), batches.run(2));
        assert_eq!(batches.part(3, 5).n_batches(), 1);
        assert_eq!(Batches::new(0, 1 << 63, 2).unwrap().part(2, 1).n_batches(), 0);
    }
    use rand_core::Rng;

    #[test]
    fn random123_zero_vector() {
        // Random123 tests/kat_vectors, first philox4x32 10 line.
        assert_eq!(
            philox4x32_10([0; 4], [0; 2]),
            [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
        );
    }

    #[test]
    fn hit_rule_is_exact_at_the_boundary() {
        assert!(is_hit(0, 0));
        assert!(is_hit(u32::MAX, 0));
        assert!(!is_hit(u32::MAX, u32::MAX));
        // 2^32 * (2^32 - 1) ... : x = y = 3037000499 gives 2*x^2 < 2^64,
        // x = y = 3037000500 gives 2*x^2 >= 2^64.
        assert!(is_hit(3_037_000_499, 3_037_000_499));
        assert!(!is_hit(3_037_000_500, 3_037_000_500));
    }

    #[test]
    fn blocks_cover_the_run() {
        for first in 0..6u64 {
            for count in 0..7u64 {
                let b = Blocks::of(first, count);
                let covered = u64::from(b.head.is_some()) + 2 * b.n_blocks + u64::from(b.tail.is_some());
                assert_eq!(covered, count, "first={first} count={count}");
            }
        }
        let b = Blocks::of(u64::MAX, 1);
        assert_eq!((b.head, b.n_blocks, b.tail), (Some(u64::MAX), 0, None));
        let b = Blocks::of(0, u64::MAX);
        assert_eq!((b.head, b.n_blocks, b.tail), (None, (1 << 63) - 1, Some(u64::MAX - 1)));
    }

    #[test]
    fn rng_words_follow_the_samples() {
        let mut rng = Philox4x32::seed_from_u64(0x1234_5678_9abc_def0);
        for i in 0..9 {
            let (x, y) = sample(0x1234_5678_9abc_def0, i);
            assert_eq!(rng.next_u32(), x);
            assert_eq!(rng.next_u32(), y);
        }
        rng.seek_sample(u64::MAX);
        assert_eq!(rng.next_point(), sample(0x1234_5678_9abc_def0, u64::MAX));
        assert_eq!(rng.sample_index(), 0);
    }
}
