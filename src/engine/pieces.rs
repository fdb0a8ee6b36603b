//! How the engine keeps a long call stoppable and watchable without
//! touching the kernels: it cuts each run into pieces of about
//! [`PIECE_TIME`] and, between two pieces, checks whether the call was
//! cancelled and reports progress. Hits of consecutive pieces add up to the
//! hits of the whole run exactly, so the cut never changes a count.
//!
//! Cancelling is an epoch: [`Cancel::cancel`] moves the engine's counter
//! on, and every call compares it with the value it saw when it started. A
//! call that began before the cancel stops at its next piece boundary; one
//! that begins after it runs normally. The kernels' inner loops never look
//! at it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::Error;

/// Target duration of one piece: a cancel takes effect within about this
/// long (the C ABI promises 50 ms on the CPU), and the cost of a piece
/// boundary (a pool wake-up or a GPU round trip, tens of microseconds) stays
/// below 1 % of it.
pub const PIECE_TIME: Duration = Duration::from_millis(20);

/// The least time between two progress reports: at most 20 a second, plus
/// the final one.
pub const PROGRESS_INTERVAL: Duration = Duration::from_millis(50);

/// The size of an engine's first piece on each backend.
const FIRST_PIECE: u64 = 1 << 22;
/// The smallest piece: enough whole blocks for every thread of a small pool,
/// and the least that is timed.
const MIN_PIECE: u64 = 1 << 20;
/// The largest piece (about 80 s even on an H100).
const MAX_PIECE: u64 = 1 << 44;
/// Most a piece grows from one to the next.
const MAX_GROWTH: u64 = 4;

/// Samples per piece on one backend of an engine, adapted to the rate seen.
/// Shared by every call on the engine without a lock: a stale value only
/// changes how a run is cut, never its count.
#[derive(Debug)]
pub struct Pace(AtomicU64);

impl Pace {
    /// A pace that starts at [`FIRST_PIECE`].
    pub const fn new() -> Pace {
        Pace(AtomicU64::new(FIRST_PIECE))
    }

    /// Samples in the next piece.
    pub fn size(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Learns from a piece of `samples` that took `took`: the next piece
    /// aims at [`PIECE_TIME`], growing at most [`MAX_GROWTH`]-fold. Pieces
    /// too small to time teach nothing.
    pub fn measured(&self, samples: u64, took: Duration) {
        if samples < MIN_PIECE {
            return;
        }
        let seconds = took.as_secs_f64().max(1e-6);
        let aim = (samples as f64 * PIECE_TIME.as_secs_f64() / seconds) as u64;
        let next = aim.min(samples.saturating_mul(MAX_GROWTH)).clamp(MIN_PIECE, MAX_PIECE);
        self.0.store(next, Ordering::Relaxed);
    }
}

/// An engine's cancel counter (see the module's documentation).
#[derive(Debug, Default)]
pub struct Cancel(AtomicU64);

impl Cancel {
    /// Stops every call running now at its next piece boundary.
    pub fn cancel(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }

    fn epoch(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

/// A progress callback: `(samples_done, samples_total)`, returning whether
/// to go on.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64) -> bool;

/// What one call watches between its pieces: the engine's cancel epoch as
/// it was when the call began, and the caller's progress callback.
pub struct Watch<'a> {
    cancel: &'a Cancel,
    epoch: u64,
    progress: Option<Progress<'a>>,
    total: u64,
    done: u64,
    last_report: Instant,
}

impl<'a> Watch<'a> {
    /// Starts watching a call of `total` samples.
    pub fn new(cancel: &'a Cancel, total: u64, progress: Option<Progress<'a>>) -> Watch<'a> {
        Watch {
            cancel,
            epoch: cancel.epoch(),
            progress,
            total,
            done: 0,
            last_report: Instant::now(),
        }
    }

    /// After a piece of `samples`: [`Error::Cancelled`] when the engine was
    /// cancelled since the call began, or the progress callback (called at
    /// most every [`PROGRESS_INTERVAL`]) asked to stop.
    pub fn advance(&mut self, samples: u64) -> Result<(), Error> {
        self.done = self.done.saturating_add(samples).min(self.total);
        if self.cancel.epoch() != self.epoch {
            return Err(Error::Cancelled("pi_engine_cancel was called on the engine".into()));
        }
        // The report at `done == total` is `finish`'s alone: it comes once.
        if self.progress.is_some() && self.done < self.total && self.last_report.elapsed() >= PROGRESS_INTERVAL {
            self.report(self.done)?;
        }
        Ok(())
    }

    /// The end of the call: the final progress report, `samples_done ==
    /// samples_total`, which may still ask to stop.
    pub fn finish(&mut self) -> Result<(), Error> {
        if self.progress.is_some() {
            self.report(self.total)?;
        }
        Ok(())
    }

    fn report(&mut self, done: u64) -> Result<(), Error> {
        self.last_report = Instant::now();
        let go_on = self.progress.as_mut().is_none_or(|f| f(done, self.total));
        if go_on {
            Ok(())
        } else {
            Err(Error::Cancelled("the progress callback returned non-zero".into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The last piece ends a call after the interval: its advance reports
    /// nothing, and `finish` reports `done == total` once.
    #[test]
    fn the_final_report_comes_once() {
        let cancel = Cancel::default();
        let mut seen = Vec::new();
        let mut record = |done: u64, total: u64| {
            seen.push((done, total));
            true
        };
        let mut watch = Watch::new(&cancel, 10, Some(&mut record));
        std::thread::sleep(PROGRESS_INTERVAL);
        watch.advance(4).unwrap();
        std::thread::sleep(PROGRESS_INTERVAL);
        watch.advance(6).unwrap();
        watch.finish().unwrap();
        assert_eq!(seen, [(4, 10), (10, 10)]);
    }
}
