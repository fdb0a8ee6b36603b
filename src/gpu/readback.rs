//! Reading results back from the device: map a buffer and wait for it, with
//! a bound on the wait, then add up its `u32` counts.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::GpuError;
use super::device::ErrorSink;

/// Maps `slice` for reading once `submission` is done, waiting at most
/// `budget`. Polls the device a second at a time, so a device lost or an
/// error recorded meanwhile ends the wait early.
pub fn wait_for_map(
    device: &wgpu::Device,
    sink: &ErrorSink,
    submission: wgpu::SubmissionIndex,
    slice: wgpu::BufferSlice<'_>,
    budget: Duration,
) -> Result<(), GpuError> {
    let (tx, rx) = mpsc::channel();
    slice.map_async(wgpu::MapMode::Read, move |r| {
        // The receiver outlives every wait below; if it is gone the result
        // is no longer wanted.
        let _ = tx.send(r);
    });
    let deadline = Instant::now() + budget;
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Err(GpuError::Device(format!(
                "timed out after {budget:?} waiting for the GPU"
            )));
        }
        let polled = device.poll(wgpu::PollType::Wait {
            submission_index: Some(submission.clone()),
            timeout: Some((deadline - now).min(Duration::from_secs(1))),
        });
        sink.check()?;
        match polled {
            Ok(_) | Err(wgpu::PollError::Timeout) => {}
            Err(e) => return Err(GpuError::Device(format!("poll failed: {e}"))),
        }
        match rx.try_recv() {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(e)) => return Err(GpuError::Device(format!("mapping the readback buffer failed: {e}"))),
            Err(mpsc::TryRecvError::Empty) => {}
            Err(mpsc::TryRecvError::Disconnected) => {
                return Err(GpuError::Device("the readback was dropped by wgpu".into()));
            }
        }
    }
}

/// The sum of the little-endian `u32` counts in a mapped `buffer`'s first
/// `bytes`; unmaps it.
pub fn sum_and_unmap(buffer: &wgpu::Buffer, bytes: u64) -> Result<u64, GpuError> {
    let sum = match buffer.slice(..bytes).get_mapped_range() {
        Ok(view) => Ok(view
            .chunks_exact(4)
            .map(|c| u64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .sum::<u64>()),
        Err(e) => Err(GpuError::Device(format!("reading the readback buffer failed: {e}"))),
    };
    buffer.unmap();
    sum
}
