//! Every GPU of one machine: which adapters an engine uses (`PI_GPU`, or an
//! explicit [`GpuSelection`]), and one run spread over several devices in
//! proportion to their measured speed. The pieces are consecutive runs, so
//! their hits add up to the run's exactly.

use std::time::{Duration, Instant};

use super::device;
use super::{GpuBackend, GpuError, GpuOptions};
use crate::stream::Run;

/// The environment variable that picks the GPUs an engine uses: `all` (or
/// `-1`, as `PI_GPU_ALL` in C), `none` (hide every adapter: no GPU is found,
/// listed or used, on any OS), or the index of one adapter in
/// [`device::adapters`]`(true)` (the list `python -m pi devices` prints).
/// Unset or empty: the best adapter. Read only where a GPU may be used.
pub const GPU_ENV: &str = "PI_GPU";

/// What `PI_GPU` may be, for messages.
const GPU_VALUES: &str = "`all` (or -1), `none` or an adapter index (see `python -m pi devices`)";

/// Runs shorter than this go to the fastest device alone: splitting them
/// would cost more round trips than it saves.
pub const MIN_SPLIT_SAMPLES: u64 = 1 << 24;

/// A calibration run lasts at least this long, so that its rate means
/// something.
const CALIBRATION_TIME: Duration = Duration::from_millis(30);

/// Which adapters to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GpuSelection {
    /// The best adapter (a hardware one first).
    Best,
    /// Every hardware adapter; where there is none (and software adapters
    /// are allowed), the best software one.
    All,
    /// The adapter at this index of [`device::adapters`]`(true)`.
    Index(usize),
    /// None: every adapter hidden (`PI_GPU=none`).
    Hidden,
}

impl GpuSelection {
    /// `all` or `-1`, `none`, or a decimal index; blank is
    /// [`GpuSelection::Best`]. Any case.
    pub fn parse(text: &str) -> Option<GpuSelection> {
        let text = text.trim();
        if text.is_empty() {
            return Some(GpuSelection::Best);
        }
        if text.eq_ignore_ascii_case("all") || text == "-1" {
            return Some(GpuSelection::All);
        }
        if text.eq_ignore_ascii_case("none") {
            return Some(GpuSelection::Hidden);
        }
        text.parse().ok().map(GpuSelection::Index)
    }

    /// The selection `PI_GPU` asks for: [`GpuSelection::Best`] when unset.
    /// A value that is none of [`GpuSelection::parse`]'s is an error naming
    /// the variable.
    pub fn from_env() -> Result<GpuSelection, String> {
        let Some(text) = crate::env::read(GPU_ENV, GPU_VALUES)? else {
            return Ok(GpuSelection::Best);
        };
        GpuSelection::parse(&text).ok_or_else(|| crate::env::bad_value(GPU_ENV, &text, GPU_VALUES))
    }
}

/// Whether `PI_GPU=none` hides every adapter (a bad value hides none: it is
/// reported where the selection is read).
pub fn hidden() -> bool {
    GpuSelection::from_env() == Ok(GpuSelection::Hidden)
}

/// One line per adapter of [`device::adapters`]`(true)`: `index: name (API,
/// driver, device type)`. Empty when there is none.
pub fn list() -> Result<Vec<String>, GpuError> {
    let adapters = match device::adapters(true) {
        Ok(a) => a,
        Err(GpuError::NoDevice(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(adapters
        .iter()
        .enumerate()
        .map(|(k, a)| {
            let i = a.get_info();
            format!(
                "{k}: {} ({:?}, {} {}, {:?})",
                i.name, i.backend, i.driver, i.driver_info, i.device_type
            )
        })
        .collect())
}

/// One or more GPU backends that share each run in proportion to their
/// speed. `Send + Sync`, like [`GpuBackend`].
#[derive(Debug)]
pub struct Gpus {
    members: Vec<GpuBackend>,
    /// Measured samples per second of each member (all 1 for a single one).
    rates: Vec<f64>,
}

impl Gpus {
    /// The adapters `selection` names, software ones only if
    /// `allow_software`, each with `options`' other fields.
    pub fn new(selection: GpuSelection, allow_software: bool) -> Result<Gpus, GpuError> {
        let options = GpuOptions {
            allow_software,
            ..GpuOptions::default()
        };
        match selection {
            GpuSelection::Best | GpuSelection::Hidden => Ok(Gpus::one(GpuBackend::with_options(options)?)),
            GpuSelection::Index(k) => {
                let adapters = device::adapters(true)?;
                let Some(adapter) = adapters.get(k) else {
                    return Err(GpuError::NoDevice(format!(
                        "GPU index {k}: there are {} adapters (0 to {})",
                        adapters.len(),
                        adapters.len() - 1
                    )));
                };
                let info = adapter.get_info();
                if !allow_software && !device::is_hardware(info.device_type) {
                    return Err(GpuError::NoDevice(format!(
                        "GPU index {k} is a software adapter ({}), not taken automatically",
                        info.name
                    )));
                }
                Ok(Gpus::one(GpuBackend::on_adapter(adapter, options)?))
            }
            GpuSelection::All => {
                let adapters = device::adapters(allow_software)?;
                let hardware: Vec<&wgpu::Adapter> = adapters
                    .iter()
                    .filter(|a| device::is_hardware(a.get_info().device_type))
                    .collect();
                let chosen = if hardware.is_empty() {
                    vec![&adapters[0]]
                } else {
                    hardware
                };
                let members = chosen
                    .into_iter()
                    .map(|a| GpuBackend::on_adapter(a, options.clone()))
                    .collect::<Result<Vec<_>, _>>()?;
                Gpus::split_over(members)
            }
        }
    }

    /// A single backend.
    pub fn one(gpu: GpuBackend) -> Gpus {
        Gpus {
            members: vec![gpu],
            rates: vec![1.0],
        }
    }

    /// Backends that share each run; each is timed once now (a run of at
    /// least 30 ms) to set its share. Any number of backends, also several
    /// on the same adapter.
    pub fn split_over(members: Vec<GpuBackend>) -> Result<Gpus, GpuError> {
        if members.len() < 2 {
            let one = members
                .into_iter()
                .next()
                .ok_or_else(|| GpuError::NoDevice("no GPU backend to split over".into()))?;
            return Ok(Gpus::one(one));
        }
        let rates = members.iter().map(calibrate).collect::<Result<Vec<_>, _>>()?;
        let mut pairs: Vec<(GpuBackend, f64)> = members.into_iter().zip(rates).collect();
        pairs.sort_by(|a, b| b.1.total_cmp(&a.1));
        let (members, rates) = pairs.into_iter().unzip();
        Ok(Gpus { members, rates })
    }

    /// The backends, the fastest first.
    pub fn members(&self) -> &[GpuBackend] {
        &self.members
    }

    /// The first backend.
    pub fn first(&self) -> &GpuBackend {
        &self.members[0]
    }

    /// The adapters, joined with ` + `, with each one's share when there
    /// are several.
    pub fn describe(&self) -> String {
        if self.members.len() == 1 {
            return self.members[0].describe();
        }
        let total: f64 = self.rates.iter().sum();
        let parts: Vec<String> = self
            .members
            .iter()
            .zip(&self.rates)
            .map(|(g, r)| format!("{} [{:.0} %]", g.describe(), 100.0 * r / total))
            .collect();
        format!("{} GPUs: {}", self.members.len(), parts.join(" + "))
    }

    /// How `run` is shared: one consecutive piece per member, in order,
    /// sized in proportion to its rate (whole blocks, so that no block is
    /// split between devices); a run under [`MIN_SPLIT_SAMPLES`] goes to the
    /// first member alone.
    pub fn shares(&self, run: Run) -> Vec<Run> {
        let n = self.members.len();
        if n == 1 || run.count() < MIN_SPLIT_SAMPLES {
            return vec![run];
        }
        let total: f64 = self.rates.iter().sum();
        let mut pieces = Vec::with_capacity(n);
        let mut first = run.first();
        let mut left = run.count();
        for (k, rate) in self.rates.iter().enumerate() {
            let size = if k + 1 == n {
                left
            } else {
                (((run.count() as f64 * rate / total) as u64) & !1).min(left)
            };
            pieces.push(Run::new(first, size).expect("a piece of a checked run"));
            first = first.wrapping_add(size);
            left -= size;
        }
        pieces
    }

    /// Hits of `run` under `seed`: each member counts its share, at the
    /// same time, and the counts are added. The first failure is returned.
    pub fn count_hits(&self, seed: u64, run: Run) -> Result<u64, GpuError> {
        let shares = self.shares(run);
        if shares.len() == 1 {
            return self.members[0].count_hits(seed, run);
        }
        std::thread::scope(|s| {
            let handles: Vec<_> = self
                .members
                .iter()
                .zip(shares)
                .map(|(gpu, piece)| s.spawn(move || gpu.count_hits(seed, piece)))
                .collect();
            let mut total = 0u64;
            for h in handles {
                total += h
                    .join()
                    .map_err(|_| GpuError::Device("a GPU worker thread panicked".into()))??;
            }
            Ok(total)
        })
    }
}

/// Samples per second of `gpu` on runs doubled in size until one lasts
/// [`CALIBRATION_TIME`] (after a first run that compiles the shader).
fn calibrate(gpu: &GpuBackend) -> Result<f64, GpuError> {
    let run = |count: u64| gpu.count_hits(0, Run::new(0, count).expect("a small run"));
    run(1 << 16)?;
    let mut count: u64 = 1 << 20;
    loop {
        let t = Instant::now();
        run(count)?;
        let elapsed = t.elapsed();
        if elapsed >= CALIBRATION_TIME || count >= 1 << 40 {
            return Ok(count as f64 / elapsed.as_secs_f64().max(1e-9));
        }
        count *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pi_gpu_takes_all_or_minus_one_none_an_index_or_blank() {
        assert_eq!(GpuSelection::parse(""), Some(GpuSelection::Best));
        assert_eq!(GpuSelection::parse(" ALL "), Some(GpuSelection::All));
        // -1 as PI_GPU_ALL is in C.
        assert_eq!(GpuSelection::parse("-1"), Some(GpuSelection::All));
        assert_eq!(GpuSelection::parse("None"), Some(GpuSelection::Hidden));
        assert_eq!(GpuSelection::parse("3"), Some(GpuSelection::Index(3)));
        for bad in ["-2", "x", "1.5", "all,0"] {
            assert_eq!(GpuSelection::parse(bad), None, "{bad}");
        }
    }
}
