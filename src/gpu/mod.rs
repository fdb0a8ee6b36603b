//! The GPU backend: a WGSL compute shader (`shaders/pi.wgsl`) run by wgpu.
//!
//! The shader counts whole Philox blocks, so a run splits as
//! [`stream::Blocks::of`] says: the lone samples at both ends are counted
//! here on the host with [`stream::Blocks::edge_hits`], the whole blocks on
//! the device. The counts are bit-identical to [`stream::count_hits`].
//!
//! Setup is apart from work. [`device`] finds adapters and opens a device,
//! [`pipeline`] compiles the shader and makes the buffers, and
//! [`GpuBackend`] holds them, built once ([`GpuBackend::new`],
//! [`GpuBackend::with_options`], or [`GpuBackend::from_device`] around a
//! device the caller opened) and reused by every [`GpuBackend::count_hits`].
//! A call's blocks are [planned](GpuBackend::plan) into dispatches
//! (one-dimensional, at most [`GpuOptions::max_workgroups_per_dispatch`]
//! workgroups, each invocation counting at most
//! [`MAX_BLOCKS_PER_INVOCATION`] blocks); up to
//! [`GpuOptions::max_dispatches_per_submit`] dispatches (and about 2^35
//! blocks) go in one submission, each writing one `u32` per workgroup into a
//! buffer of partial counts that [`readback`] reads once per submission.
//!
//! Nothing here panics on a wgpu failure: the device's uncaptured-error
//! handler records validation and out-of-memory errors, a device-lost
//! callback records a lost device, every wait is bounded, and all of them
//! come back as [`GpuError::Device`].

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::stream;

pub mod device;
pub mod multi;
pub mod pipeline;
pub mod readback;

use device::ErrorSink;
use pipeline::{Buffers, Kernel, PARAMS_SIZE, Params, Shape};

pub use multi::{GpuSelection, Gpus};
pub use pipeline::{shader_source, variant_of};

/// Default invocations per workgroup, shared with the shader through its
/// pipeline-overridable constant `WORKGROUP_SIZE`. 256 is WebGPU's default
/// limit of invocations per workgroup and a whole number of SIMD groups on
/// every GPU family.
pub const WORKGROUP_SIZE: u32 = 256;

/// The most blocks (loop iterations) one invocation may count. Mesa's
/// lavapipe was seen to stop a shader loop after 65,535 iterations without
/// an error, so requests are clamped to this, well below it.
pub const MAX_BLOCKS_PER_INVOCATION: u32 = 16_384;

/// The most dispatches recorded in one submission (one readback).
pub const MAX_DISPATCHES_PER_SUBMIT: u32 = 64;

/// Default for [`GpuOptions::max_workgroups_per_dispatch`]: 8192 workgroups
/// of 256 invocations, about eight times what an H100 keeps resident.
pub const DEFAULT_WORKGROUPS_PER_DISPATCH: u32 = 8192;

/// Default for [`GpuOptions::max_dispatches_per_submit`].
pub const DEFAULT_DISPATCHES_PER_SUBMIT: u32 = 16;

/// The wait for a submission always ends: after this much time, plus
/// [`WAIT_NS_PER_BLOCK`] for each block submitted, a call gives up.
const WAIT_BASE: Duration = Duration::from_secs(30);

/// Extra waiting allowed per block of a submission, in nanoseconds: a
/// device as slow as 2e7 samples/s still finishes in time.
const WAIT_NS_PER_BLOCK: u64 = 100;

/// A submission takes no more dispatches once it holds this many blocks
/// (~6.9e10 samples: 0.3 s on an H100, a minute or two on lavapipe), so
/// each wait stays bounded and a lost device is noticed.
const MAX_BLOCKS_PER_SUBMIT: u64 = 1 << 35;

/// Why the GPU backend could not be created or could not count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GpuError {
    /// No usable adapter: none present, none matching `WGPU_BACKEND` /
    /// `WGPU_ADAPTER_NAME`, or only software ones when they are not allowed.
    NoDevice(String),
    /// The device failed: device lost, out of memory, a validation error,
    /// a driver error or a wait that timed out.
    Device(String),
}

impl fmt::Display for GpuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GpuError::NoDevice(why) => write!(f, "no GPU adapter: {why}"),
            GpuError::Device(why) => write!(f, "GPU device error: {why}"),
        }
    }
}

impl std::error::Error for GpuError {}

/// How to build a [`GpuBackend`]. `GpuOptions::default()` is what
/// [`GpuBackend::new`] uses, with software adapters refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GpuOptions {
    /// Accept software adapters (device type CPU, e.g. lavapipe). A
    /// hardware adapter is still preferred when both exist.
    pub allow_software: bool,
    /// Use the 16-bit-limb shader even when the device offers
    /// `SHADER_INT64` (for tests of that variant).
    pub force_no_int64: bool,
    /// Invocations per workgroup: a power of two from 32 to 1024 within
    /// the device's limits (else [`GpuError::NoDevice`]).
    pub workgroup_size: u32,
    /// Most blocks one invocation counts; clamped to
    /// `1..=`[`MAX_BLOCKS_PER_INVOCATION`].
    pub max_blocks_per_invocation: u32,
    /// Most workgroups in one dispatch; clamped to `1..=` the device's
    /// `max_compute_workgroups_per_dimension` (and to what one storage
    /// buffer binding holds).
    pub max_workgroups_per_dispatch: u32,
    /// Most dispatches per submission, i.e. per readback; clamped to
    /// `1..=`[`MAX_DISPATCHES_PER_SUBMIT`].
    pub max_dispatches_per_submit: u32,
}

impl Default for GpuOptions {
    fn default() -> Self {
        GpuOptions {
            allow_software: false,
            force_no_int64: false,
            workgroup_size: WORKGROUP_SIZE,
            max_blocks_per_invocation: MAX_BLOCKS_PER_INVOCATION,
            max_workgroups_per_dispatch: DEFAULT_WORKGROUPS_PER_DISPATCH,
            max_dispatches_per_submit: DEFAULT_DISPATCHES_PER_SUBMIT,
        }
    }
}

/// How a call's whole blocks split into dispatches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Blocks each invocation counts (the last busy one may count fewer).
    pub per_invocation: u32,
    /// Blocks each dispatch covers (the last may cover fewer).
    pub per_dispatch: u64,
    /// How many dispatches.
    pub dispatches: u64,
}

/// One dispatch of a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Dispatch {
    /// First block of the dispatch.
    base: u64,
    /// Blocks in the dispatch.
    blocks: u64,
}

/// The GPU backend: one wgpu device with its pipeline and buffers, reused
/// by every call. `Send + Sync`; concurrent calls take turns.
pub struct GpuBackend {
    info: wgpu::AdapterInfo,
    int64: bool,
    device: wgpu::Device,
    queue: wgpu::Queue,
    kernel: Kernel,
    sink: Arc<ErrorSink>,
    params_stride: u64,
    workgroup_size: u32,
    blocks_per_invocation: u32,
    workgroups_per_dispatch: u32,
    dispatches_per_submit: u32,
    buffers: Mutex<Buffers>,
}

impl fmt::Debug for GpuBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GpuBackend")
            .field("adapter", &self.describe())
            .field("int64", &self.int64)
            .field("workgroup_size", &self.workgroup_size)
            .field("blocks_per_invocation", &self.blocks_per_invocation)
            .field("workgroups_per_dispatch", &self.workgroups_per_dispatch)
            .field("dispatches_per_submit", &self.dispatches_per_submit)
            .finish()
    }
}

impl GpuBackend {
    /// A backend on the best adapter: hardware only (discrete, integrated or
    /// virtual GPUs) when `allow_software` is false; any adapter, hardware
    /// preferred, when it is true. Honours `WGPU_BACKEND` and
    /// `WGPU_ADAPTER_NAME`.
    pub fn new(allow_software: bool) -> Result<GpuBackend, GpuError> {
        GpuBackend::with_options(GpuOptions {
            allow_software,
            ..GpuOptions::default()
        })
    }

    /// A backend on the best adapter, built with explicit options.
    pub fn with_options(options: GpuOptions) -> Result<GpuBackend, GpuError> {
        let adapters = device::adapters(options.allow_software)?;
        GpuBackend::on_adapter(&adapters[0], options)
    }

    /// A backend on `adapter` (one of [`device::adapters`]), whatever its
    /// device type.
    pub fn on_adapter(adapter: &wgpu::Adapter, options: GpuOptions) -> Result<GpuBackend, GpuError> {
        let int64 = !options.force_no_int64 && adapter.features().contains(wgpu::Features::SHADER_INT64);
        let (device, queue) = device::open(adapter, int64)?;
        GpuBackend::from_device(adapter.get_info(), device, queue, options)
    }

    /// A backend around a device the caller opened on the adapter `info`
    /// describes. The int64 shader is used when the device was opened with
    /// `SHADER_INT64` (and `options.force_no_int64` is false). The device's
    /// uncaptured-error handler and device-lost callback are replaced.
    pub fn from_device(
        info: wgpu::AdapterInfo,
        device: wgpu::Device,
        queue: wgpu::Queue,
        options: GpuOptions,
    ) -> Result<GpuBackend, GpuError> {
        let limits = device.limits();
        let workgroup_size = options.workgroup_size;
        check_workgroup_size(&info, &limits, workgroup_size)?;
        let int64 = !options.force_no_int64 && device.features().contains(wgpu::Features::SHADER_INT64);
        let sink = ErrorSink::attach(&device);

        let blocks_per_invocation = options.max_blocks_per_invocation.clamp(1, MAX_BLOCKS_PER_INVOCATION);
        let shape = shape_for(&limits, &options);
        let dispatches_per_submit = shape.dispatches_per_submit;

        let kernel = Kernel::new(&device, int64, workgroup_size);
        let buffers = kernel.buffers(&device, shape);
        // Shader compilation and validation errors surface here, through the
        // uncaptured-error handler.
        sink.check()
            .map_err(|e| GpuError::Device(format!("{}: creating the pipeline failed: {e}", info.name)))?;

        Ok(GpuBackend {
            info,
            int64,
            device,
            queue,
            kernel,
            sink,
            params_stride: shape.params_stride,
            workgroup_size,
            blocks_per_invocation,
            workgroups_per_dispatch: shape.workgroups_per_dispatch,
            dispatches_per_submit,
            buffers: Mutex::new(buffers),
        })
    }

    /// The adapter: name, API, driver and driver info, device type.
    pub fn describe(&self) -> String {
        let i = &self.info;
        let mut driver = i.driver.clone();
        if !i.driver_info.is_empty() {
            if !driver.is_empty() {
                driver.push(' ');
            }
            driver.push_str(&i.driver_info);
        }
        if driver.is_empty() {
            driver.push_str("unknown driver");
        }
        format!("{} ({:?}, {}, {:?})", i.name, i.backend, driver, i.device_type)
    }

    /// The adapter's own description, as wgpu reports it.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.info
    }

    /// Destroys the device, as a driver reset or an unplugged card would:
    /// every later call fails with [`GpuError::Device`]. For fault tests.
    pub fn destroy_device(&self) {
        self.device.destroy();
    }

    /// Whether the adapter is a software one (device type CPU or other).
    pub fn is_software(&self) -> bool {
        !device::is_hardware(self.info.device_type)
    }

    /// Whether the shader uses 64-bit integers (`SHADER_INT64`) rather than
    /// 16-bit limbs for its products.
    pub fn uses_int64(&self) -> bool {
        self.int64
    }

    /// Invocations per workgroup.
    pub fn workgroup_size(&self) -> u32 {
        self.workgroup_size
    }

    /// Blocks one invocation counts at most (the clamped option).
    pub fn blocks_per_invocation(&self) -> u32 {
        self.blocks_per_invocation
    }

    /// Workgroups one dispatch launches at most (the clamped option).
    pub fn workgroups_per_dispatch(&self) -> u32 {
        self.workgroups_per_dispatch
    }

    /// Dispatches per submission and readback at most (the clamped option).
    pub fn dispatches_per_submit(&self) -> u32 {
        self.dispatches_per_submit
    }

    /// How `n_blocks` whole blocks split into dispatches. Small runs spread
    /// over the whole grid one block per invocation; the blocks per
    /// invocation grow to the cap before a second dispatch is needed.
    pub fn plan(&self, n_blocks: u64) -> Plan {
        let invocations = u64::from(self.workgroups_per_dispatch) * u64::from(self.workgroup_size);
        let per_invocation = n_blocks
            .div_ceil(invocations)
            .clamp(1, u64::from(self.blocks_per_invocation));
        let per_dispatch = invocations * per_invocation;
        Plan {
            per_invocation: per_invocation as u32,
            per_dispatch,
            dispatches: n_blocks.div_ceil(per_dispatch),
        }
    }

    /// Hits of `run` under `seed`. The run was checked when it was made
    /// ([`stream::Run::new`]), so every failure here is the device's.
    pub fn count_hits(&self, seed: u64, run: stream::Run) -> Result<u64, GpuError> {
        let blocks = run.blocks();
        let edges = blocks.edge_hits(seed);
        if blocks.n_blocks == 0 {
            return Ok(edges);
        }
        Ok(edges + self.block_hits(stream::key_of(seed), blocks.first_block, blocks.n_blocks)?)
    }

    /// Hits of the whole blocks `first_block .. first_block + n_blocks`:
    /// the plan's dispatches, a submission at a time.
    fn block_hits(&self, key: [u32; 2], first_block: u64, n_blocks: u64) -> Result<u64, GpuError> {
        let mut buffers = self.buffers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(why) = &buffers.broken {
            return Err(GpuError::Device(why.clone()));
        }
        self.sink.check()?;

        let plan = self.plan(n_blocks);
        let dispatch = |d: u64| {
            let done = d * plan.per_dispatch;
            Dispatch {
                // Wraps only for the end of a run that reaches the last block.
                base: first_block.wrapping_add(done),
                blocks: plan.per_dispatch.min(n_blocks - done),
            }
        };
        let mut hits = 0u64;
        let mut batch = Vec::with_capacity(self.dispatches_per_submit as usize);
        let mut d = 0;
        while d < plan.dispatches {
            batch.clear();
            let mut batch_blocks = 0;
            while d < plan.dispatches
                && batch.len() < self.dispatches_per_submit as usize
                && batch_blocks < MAX_BLOCKS_PER_SUBMIT
            {
                batch.push(dispatch(d));
                batch_blocks += batch[batch.len() - 1].blocks;
                d += 1;
            }
            let sum = self.submit(&mut buffers, key, plan.per_invocation, &batch);
            if let Err(e) = &sum {
                buffers.broken = Some(e.to_string());
            }
            hits += sum?;
        }
        Ok(hits)
    }

    /// One submission: write the parameters, dispatch, copy the partial
    /// counts to the staging buffer, read them back and add them up.
    fn submit(
        &self,
        buffers: &mut Buffers,
        key: [u32; 2],
        per_invocation: u32,
        batch: &[Dispatch],
    ) -> Result<u64, GpuError> {
        let workgroups: Vec<u32> = batch
            .iter()
            .map(|d| {
                d.blocks
                    .div_ceil(u64::from(per_invocation))
                    .div_ceil(u64::from(self.workgroup_size)) as u32
            })
            .collect();
        self.write_params(buffers, key, per_invocation, batch, &workgroups);
        let partial_bytes = 4 * u64::from(workgroups.iter().sum::<u32>());
        let submission = self.encode(buffers, &workgroups, partial_bytes);
        self.sink.check()?;

        let blocks: u64 = batch.iter().map(|d| d.blocks).sum();
        let budget = WAIT_BASE.saturating_add(Duration::from_nanos(blocks.saturating_mul(WAIT_NS_PER_BLOCK)));
        readback::wait_for_map(
            &self.device,
            &self.sink,
            submission,
            buffers.staging.slice(..partial_bytes),
            budget,
        )?;
        let sum = readback::sum_and_unmap(&buffers.staging, partial_bytes)?;
        self.sink.check()?;
        Ok(sum)
    }

    /// Writes one parameter block per dispatch of `batch` (each at its
    /// uniform offset), with the dispatch's place among the partial counts.
    fn write_params(
        &self,
        buffers: &mut Buffers,
        key: [u32; 2],
        per_invocation: u32,
        batch: &[Dispatch],
        workgroups: &[u32],
    ) {
        let stride = self.params_stride as usize;
        buffers.params_bytes.clear();
        buffers.params_bytes.resize(stride * batch.len(), 0);
        let mut partial_offset = 0u32;
        for (slot, (d, &groups)) in batch.iter().zip(workgroups).enumerate() {
            let p = Params {
                key,
                base: [d.base as u32, (d.base >> 32) as u32],
                per_invocation,
                full_invocations: (d.blocks / u64::from(per_invocation)) as u32,
                remainder: (d.blocks % u64::from(per_invocation)) as u32,
                partial_offset,
            };
            buffers.params_bytes[slot * stride..][..PARAMS_SIZE as usize].copy_from_slice(bytemuck::bytes_of(&p));
            partial_offset += groups;
        }
        self.queue.write_buffer(&buffers.params, 0, &buffers.params_bytes);
    }

    /// Records the dispatches (`workgroups[k]` workgroups each, with
    /// parameter block `k`) and the copy of the partial counts to the
    /// staging buffer, and submits them.
    fn encode(&self, buffers: &Buffers, workgroups: &[u32], partial_bytes: u64) -> wgpu::SubmissionIndex {
        let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("pi count_hits encoder"),
        });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("pi count_hits pass"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&self.kernel.pipeline);
            for (slot, &groups) in workgroups.iter().enumerate() {
                let offset = (slot as u64 * self.params_stride) as u32;
                pass.set_bind_group(0, &buffers.bind_group, &[offset]);
                pass.dispatch_workgroups(groups, 1, 1);
            }
        }
        encoder.copy_buffer_to_buffer(&buffers.partials, 0, &buffers.staging, 0, partial_bytes);
        self.queue.submit([encoder.finish()])
    }
}

/// Refuses a workgroup size the shader or the device cannot take.
fn check_workgroup_size(info: &wgpu::AdapterInfo, limits: &wgpu::Limits, size: u32) -> Result<(), GpuError> {
    let most = limits
        .max_compute_invocations_per_workgroup
        .min(limits.max_compute_workgroup_size_x);
    if (32..=1024).contains(&size) && size.is_power_of_two() && size <= most {
        return Ok(());
    }
    Err(GpuError::NoDevice(format!(
        "{}: workgroups of {size} invocations are not supported \
         (a power of two from 32 to 1024, at most {most} here)",
        info.name
    )))
}

/// The buffers' shape for `options` (clamped) within the device's `limits`.
fn shape_for(limits: &wgpu::Limits, options: &GpuOptions) -> Shape {
    let dispatches_per_submit = options.max_dispatches_per_submit.clamp(1, MAX_DISPATCHES_PER_SUBMIT);
    // The partials of a whole submission must fit one storage binding,
    // and the shader's invocation index is a u32.
    let max_partials = limits.max_storage_buffer_binding_size.min(limits.max_buffer_size) / 4;
    let fitting = u32::try_from(max_partials / u64::from(dispatches_per_submit)).unwrap_or(u32::MAX);
    let most_workgroups = limits
        .max_compute_workgroups_per_dimension
        .min(fitting)
        .clamp(1, u32::MAX / options.workgroup_size);
    Shape {
        params_stride: u64::from(limits.min_uniform_buffer_offset_alignment).max(PARAMS_SIZE),
        dispatches_per_submit,
        workgroups_per_dispatch: options.max_workgroups_per_dispatch.clamp(1, most_workgroups),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<GpuBackend>();
    }
}
