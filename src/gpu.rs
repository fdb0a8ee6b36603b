//! The GPU backend: a WGSL compute shader (`shaders/pi.wgsl`) run by wgpu.
//!
//! The shader counts whole Philox blocks, so a run splits as
//! [`stream::Blocks::of`] says: the lone samples at both ends are counted
//! here on the host with [`stream::Blocks::edge_hits`], the whole blocks on
//! the device. The counts are bit-identical to [`stream::count_hits`].
//!
//! Setup is apart from work: [`GpuBackend::new`] picks an adapter, creates
//! the device, the pipeline and every buffer once; [`GpuBackend::count_hits`]
//! reuses them. A call plans its blocks into dispatches (one-dimensional,
//! at most [`GpuOptions::max_workgroups_per_dispatch`] workgroups of
//! [`WORKGROUP_SIZE`] invocations, each counting at most
//! [`MAX_BLOCKS_PER_INVOCATION`] blocks), records up to
//! [`GpuOptions::max_dispatches_per_submit`] dispatches (and about 2^35
//! blocks) in one submission, each writing one `u32` per workgroup into a
//! buffer of partial counts, and reads that buffer back once per
//! submission. A run of up to ~6.9e10 samples is one dispatch and one
//! readback with the default options.
//!
//! Nothing here panics on a wgpu failure: the device's uncaptured-error
//! handler records validation and out-of-memory errors, a device-lost
//! callback records a lost device, every wait is bounded, and all of them
//! come back as [`GpuError::Device`].

use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use crate::stream;

/// Invocations per workgroup, shared with the shader through its
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

/// The shader source with both variants; see [`shader_source`].
const SHADER_TEMPLATE: &str = include_str!("../shaders/pi.wgsl");

/// The environment variable that picks an adapter by name (a substring,
/// compared without case), as in wgpu's own examples.
const ADAPTER_NAME_VAR: &str = "WGPU_ADAPTER_NAME";

/// Size of the shader's `Params` struct in bytes.
const PARAMS_SIZE: u64 = 32;

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
    /// Most blocks one invocation counts; clamped to
    /// `1..=`[`MAX_BLOCKS_PER_INVOCATION`].
    pub max_blocks_per_invocation: u32,
    /// Most workgroups in one dispatch; clamped to `1..=` the adapter's
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
            max_blocks_per_invocation: MAX_BLOCKS_PER_INVOCATION,
            max_workgroups_per_dispatch: DEFAULT_WORKGROUPS_PER_DISPATCH,
            max_dispatches_per_submit: DEFAULT_DISPATCHES_PER_SUBMIT,
        }
    }
}

/// The shader's `Params` (one per dispatch): eight `u32` in its field order.
#[derive(Clone, Copy, Debug, Default)]
struct Params {
    key: [u32; 2],
    base: [u32; 2],
    per_invocation: u32,
    full_invocations: u32,
    remainder: u32,
    partial_offset: u32,
}

impl Params {
    /// The uniform's bytes (WGSL buffers are little-endian).
    fn to_bytes(self) -> [u8; PARAMS_SIZE as usize] {
        let words = [
            self.key[0],
            self.key[1],
            self.base[0],
            self.base[1],
            self.per_invocation,
            self.full_invocations,
            self.remainder,
            self.partial_offset,
        ];
        let mut bytes = [0u8; PARAMS_SIZE as usize];
        for (chunk, w) in bytes.chunks_exact_mut(4).zip(words) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        bytes
    }
}

/// The buffers a call uses, behind the backend's mutex.
struct Buffers {
    /// One [`Params`] slot per dispatch of a submission, `params_stride`
    /// bytes apart (dynamic uniform offsets).
    params: wgpu::Buffer,
    /// One `u32` hit count per workgroup of a submission (shader binding 1).
    partials: wgpu::Buffer,
    /// Mappable copy of `partials`, read by the host.
    staging: wgpu::Buffer,
    /// Binds `params` (one slot) and `partials`.
    bind_group: wgpu::BindGroup,
    /// Bytes written to `params` per submission; reused.
    params_bytes: Vec<u8>,
    /// Set when a wait timed out with the staging buffer still pending: the
    /// device is no longer trusted and every later call fails with this.
    broken: Option<String>,
}

/// Errors reported by wgpu outside any call's control, recorded by the
/// device's callbacks instead of panicking.
#[derive(Default)]
struct ErrorSink {
    /// The first uncaptured error not yet reported by a call.
    error: Mutex<Option<String>>,
    /// Why the device was lost, once it is.
    lost: Mutex<Option<String>>,
    /// Fast check for `lost`.
    is_lost: AtomicBool,
}

impl ErrorSink {
    fn record_error(&self, e: wgpu::Error) {
        let mut slot = self.error.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(e.to_string());
        }
    }

    fn record_lost(&self, reason: wgpu::DeviceLostReason, message: String) {
        let mut slot = self.lost.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(format!("device lost ({reason:?}): {message}"));
        }
        self.is_lost.store(true, Ordering::SeqCst);
    }

    /// The recorded failure, if any: a lost device stays lost, an
    /// uncaptured error is reported once.
    fn check(&self) -> Result<(), GpuError> {
        if self.is_lost.load(Ordering::SeqCst) {
            let lost = self.lost.lock().unwrap_or_else(|p| p.into_inner());
            return Err(GpuError::Device(lost.clone().unwrap_or_else(|| "device lost".into())));
        }
        let mut slot = self.error.lock().unwrap_or_else(|p| p.into_inner());
        match slot.take() {
            Some(e) => Err(GpuError::Device(e)),
            None => Ok(()),
        }
    }
}

/// One dispatch of a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Dispatch {
    /// First block of the dispatch.
    base: u64,
    /// Blocks in the dispatch.
    blocks: u64,
    /// Workgroups to launch.
    workgroups: u32,
}

/// The GPU backend: one wgpu device with its pipeline and buffers, reused
/// by every call. `Send + Sync`; concurrent calls take turns.
pub struct GpuBackend {
    info: wgpu::AdapterInfo,
    int64: bool,
    device: wgpu::Device,
    queue: wgpu::Queue,
    pipeline: wgpu::ComputePipeline,
    sink: Arc<ErrorSink>,
    /// Distance between [`Params`] slots: the device's
    /// `min_uniform_buffer_offset_alignment`, at least the size of `Params`.
    params_stride: u64,
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
            .field("blocks_per_invocation", &self.blocks_per_invocation)
            .field("workgroups_per_dispatch", &self.workgroups_per_dispatch)
            .field("dispatches_per_submit", &self.dispatches_per_submit)
            .finish()
    }
}

/// The shader for one variant: `shaders/pi.wgsl` with the lines of the
/// other variant (between `// #if INT64`, `// #else` and `// #endif`)
/// blanked out, so line numbers in error messages still match the file.
pub fn shader_source(int64: bool) -> String {
    #[derive(PartialEq)]
    enum Region {
        Shared,
        Int64,
        Limbs,
    }
    let mut region = Region::Shared;
    let mut out = String::with_capacity(SHADER_TEMPLATE.len());
    for line in SHADER_TEMPLATE.lines() {
        let directive = line.trim();
        let keep = match directive {
            "// #if INT64" => {
                region = Region::Int64;
                false
            }
            "// #else" => {
                region = Region::Limbs;
                false
            }
            "// #endif" => {
                region = Region::Shared;
                false
            }
            _ => match region {
                Region::Shared => true,
                Region::Int64 => int64,
                Region::Limbs => !int64,
            },
        };
        if keep {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

fn is_hardware(t: wgpu::DeviceType) -> bool {
    matches!(
        t,
        wgpu::DeviceType::DiscreteGpu | wgpu::DeviceType::IntegratedGpu | wgpu::DeviceType::VirtualGpu
    )
}

/// Preference among usable adapters: lower is better.
fn rank(t: wgpu::DeviceType) -> u8 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

/// Picks the adapter: `WGPU_BACKEND` limits the backends, `WGPU_ADAPTER_NAME`
/// the names, `allow_software` the device types; the best rank wins.
fn pick_adapter(allow_software: bool) -> Result<wgpu::Adapter, GpuError> {
    let backends = wgpu::Backends::from_env().unwrap_or(wgpu::Backends::all());
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends,
        flags: wgpu::InstanceFlags::from_build_config().with_env(),
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    let adapters = pollster::block_on(instance.enumerate_adapters(backends));
    let wanted_name = std::env::var(ADAPTER_NAME_VAR).ok().filter(|s| !s.is_empty());
    if adapters.is_empty() {
        let name = wanted_name
            .map(|w| format!(", {ADAPTER_NAME_VAR}={w:?}"))
            .unwrap_or_default();
        let searched = backends & wgpu::Instance::enabled_backend_features();
        return Err(GpuError::NoDevice(format!(
            "no adapter found (backends {searched:?}{name})"
        )));
    }
    let found: Vec<String> = adapters
        .iter()
        .map(|a| {
            let i = a.get_info();
            format!("{} ({:?}, {:?})", i.name, i.backend, i.device_type)
        })
        .collect();
    let mut usable: Vec<wgpu::Adapter> = adapters
        .into_iter()
        .filter(|a| {
            let i = a.get_info();
            let name_ok = wanted_name
                .as_ref()
                .is_none_or(|w| i.name.to_lowercase().contains(&w.to_lowercase()));
            name_ok && (allow_software || is_hardware(i.device_type))
        })
        .collect();
    usable.sort_by_key(|a| rank(a.get_info().device_type));
    match usable.into_iter().next() {
        Some(a) => Ok(a),
        None => {
            let mut why = String::new();
            if let Some(w) = &wanted_name {
                why.push_str(&format!("{ADAPTER_NAME_VAR}={w:?} matches no "));
                why.push_str(if allow_software { "adapter" } else { "hardware adapter" });
            } else {
                why.push_str("no hardware adapter (software adapters not allowed)");
            }
            why.push_str(&format!("; found: {}", found.join(", ")));
            Err(GpuError::NoDevice(why))
        }
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

    /// A backend built with explicit options (tests and tuning).
    pub fn with_options(options: GpuOptions) -> Result<GpuBackend, GpuError> {
        let adapter = pick_adapter(options.allow_software)?;
        let info = adapter.get_info();
        let limits = adapter.limits();
        if limits.max_compute_invocations_per_workgroup < WORKGROUP_SIZE
            || limits.max_compute_workgroup_size_x < WORKGROUP_SIZE
        {
            return Err(GpuError::NoDevice(format!(
                "{}: workgroups of {WORKGROUP_SIZE} invocations are not supported",
                info.name
            )));
        }
        let int64 = !options.force_no_int64 && adapter.features().contains(wgpu::Features::SHADER_INT64);
        let required_features = if int64 {
            wgpu::Features::SHADER_INT64
        } else {
            wgpu::Features::empty()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("pi device"),
            required_features,
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| GpuError::Device(format!("{}: request_device failed: {e}", info.name)))?;

        let sink = Arc::new(ErrorSink::default());
        let s = Arc::clone(&sink);
        device.on_uncaptured_error(Arc::new(move |e| s.record_error(e)));
        let s = Arc::clone(&sink);
        device.set_device_lost_callback(move |reason, message| s.record_lost(reason, message));

        let limits = device.limits();
        let blocks_per_invocation = options.max_blocks_per_invocation.clamp(1, MAX_BLOCKS_PER_INVOCATION);
        let dispatches_per_submit = options.max_dispatches_per_submit.clamp(1, MAX_DISPATCHES_PER_SUBMIT);
        // The partials of a whole submission must fit one storage binding.
        let max_partials = limits.max_storage_buffer_binding_size.min(limits.max_buffer_size) / 4;
        let fitting = u32::try_from(max_partials / u64::from(dispatches_per_submit)).unwrap_or(u32::MAX);
        // The shader's invocation index is a u32, too.
        let most_workgroups = limits
            .max_compute_workgroups_per_dimension
            .min(fitting)
            .clamp(1, u32::MAX / WORKGROUP_SIZE);
        let workgroups_per_dispatch = options.max_workgroups_per_dispatch.clamp(1, most_workgroups);
        let params_stride = u64::from(limits.min_uniform_buffer_offset_alignment).max(PARAMS_SIZE);
        let params_size = params_stride * u64::from(dispatches_per_submit);
        let partials_size = 4 * u64::from(workgroups_per_dispatch) * u64::from(dispatches_per_submit);

        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(if int64 {
                "pi.wgsl (int64)"
            } else {
                "pi.wgsl (16-bit limbs)"
            }),
            source: wgpu::ShaderSource::Wgsl(shader_source(int64).into()),
        });
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("pi bind group layout"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: true,
                        min_binding_size: NonZeroU64::new(PARAMS_SIZE),
                    },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 1,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Storage { read_only: false },
                        has_dynamic_offset: false,
                        min_binding_size: NonZeroU64::new(4),
                    },
                    count: None,
                },
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("pi pipeline layout"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("pi count_hits pipeline"),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some("count_hits"),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants: &[("WORKGROUP_SIZE", f64::from(WORKGROUP_SIZE))],
                // The shader initialises its one workgroup variable itself.
                zero_initialize_workgroup_memory: false,
            },
            cache: None,
        });
        let params = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("pi params (one slot per dispatch)"),
            size: params_size,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let partials = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("pi partial hit counts"),
            size: partials_size,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let staging = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("pi partial hit counts (readback)"),
            size: partials_size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("pi bind group"),
            layout: &layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: &params,
                        offset: 0,
                        size: NonZeroU64::new(PARAMS_SIZE),
                    }),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: partials.as_entire_binding(),
                },
            ],
        });
        // Shader compilation and validation errors surface here, through the
        // uncaptured-error handler.
        sink.check()
            .map_err(|e| GpuError::Device(format!("{}: creating the pipeline failed: {e}", info.name)))?;

        Ok(GpuBackend {
            info,
            int64,
            device,
            queue,
            pipeline,
            sink,
            params_stride,
            blocks_per_invocation,
            workgroups_per_dispatch,
            dispatches_per_submit,
            buffers: Mutex::new(Buffers {
                params,
                partials,
                staging,
                bind_group,
                params_bytes: Vec::with_capacity(params_size as usize),
                broken: None,
            }),
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

    /// Destroys the device, as a driver reset or an unplugged card would:
    /// every later call fails with [`GpuError::Device`]. For fault tests.
    pub fn destroy_device(&self) {
        self.device.destroy();
    }

    /// Whether the adapter is a software one (device type CPU or other).
    pub fn is_software(&self) -> bool {
        !is_hardware(self.info.device_type)
    }

    /// Whether the shader uses 64-bit integers (`SHADER_INT64`) rather than
    /// 16-bit limbs for its products.
    pub fn uses_int64(&self) -> bool {
        self.int64
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

    /// How a call of `n_blocks` whole blocks splits into dispatches: the
    /// blocks per invocation (the same for all of them) and how many
    /// dispatches. Small runs spread over the whole grid one block per
    /// invocation; the blocks per invocation grow to the cap before a
    /// second dispatch is needed.
    pub fn plan(&self, n_blocks: u64) -> (u32, u64) {
        let invocations = u64::from(self.workgroups_per_dispatch) * u64::from(WORKGROUP_SIZE);
        let per_invocation = n_blocks
            .div_ceil(invocations)
            .clamp(1, u64::from(self.blocks_per_invocation));
        let per_dispatch = invocations * per_invocation;
        (per_invocation as u32, n_blocks.div_ceil(per_dispatch))
    }

    /// Hits of samples `first ..= first + count - 1` of `seed`. The caller
    /// guarantees [`stream::range_is_valid`]`(first, count)`; an invalid
    /// range is reported as a [`GpuError::Device`] rather than a panic.
    pub fn count_hits(&self, seed: u64, first: u64, count: u64) -> Result<u64, GpuError> {
        if !stream::range_is_valid(first, count) {
            return Err(GpuError::Device(format!(
                "invalid run: first {first} + count {count} > 2^64"
            )));
        }
        let blocks = stream::Blocks::of(first, count);
        let edges = blocks.edge_hits(seed);
        if blocks.n_blocks == 0 {
            return Ok(edges);
        }
        Ok(edges + self.block_hits(stream::key_of(seed), blocks.first_block, blocks.n_blocks)?)
    }

    /// Hits of the whole blocks `first_block .. first_block + n_blocks`.
    fn block_hits(&self, key: [u32; 2], first_block: u64, n_blocks: u64) -> Result<u64, GpuError> {
        let mut buffers = self.buffers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(why) = &buffers.broken {
            return Err(GpuError::Device(why.clone()));
        }
        self.sink.check()?;

        let (per_invocation, _) = self.plan(n_blocks);
        let per_dispatch =
            u64::from(self.workgroups_per_dispatch) * u64::from(WORKGROUP_SIZE) * u64::from(per_invocation);
        let mut next = first_block;
        let mut left = n_blocks;
        let mut hits = 0u64;
        let mut batch = Vec::with_capacity(self.dispatches_per_submit as usize);
        while left > 0 {
            batch.clear();
            let mut batch_blocks = 0u64;
            while left > 0 && batch.len() < self.dispatches_per_submit as usize && batch_blocks < MAX_BLOCKS_PER_SUBMIT
            {
                let n = left.min(per_dispatch);
                let invocations = n.div_ceil(u64::from(per_invocation));
                let workgroups = invocations.div_ceil(u64::from(WORKGROUP_SIZE)) as u32;
                batch.push(Dispatch {
                    base: next,
                    blocks: n,
                    workgroups,
                });
                // Wraps only past the last block, when `left` reaches 0.
                next = next.wrapping_add(n);
                left -= n;
                batch_blocks += n;
            }
            hits += self.run_batch(&mut buffers, key, per_invocation, &batch)?;
        }
        Ok(hits)
    }

    /// One submission: write the parameters, dispatch, copy the partial
    /// counts to the staging buffer, map it, wait (bounded), add them up,
    /// unmap.
    fn run_batch(
        &self,
        buffers: &mut Buffers,
        key: [u32; 2],
        per_invocation: u32,
        batch: &[Dispatch],
    ) -> Result<u64, GpuError> {
        let stride = self.params_stride as usize;
        buffers.params_bytes.clear();
        buffers.params_bytes.resize(stride * batch.len(), 0);
        let mut partial_offset = 0u32;
        for (slot, d) in batch.iter().enumerate() {
            let p = Params {
                key,
                base: [d.base as u32, (d.base >> 32) as u32],
                per_invocation,
                full_invocations: (d.blocks / u64::from(per_invocation)) as u32,
                remainder: (d.blocks % u64::from(per_invocation)) as u32,
                partial_offset,
            };
            buffers.params_bytes[slot * stride..][..PARAMS_SIZE as usize].copy_from_slice(&p.to_bytes());
            partial_offset += d.workgroups;
        }
        let partial_bytes = 4 * u64::from(partial_offset);
        self.queue.write_buffer(&buffers.params, 0, &buffers.params_bytes);

        let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("pi count_hits encoder"),
        });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("pi count_hits pass"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&self.pipeline);
            for (slot, d) in batch.iter().enumerate() {
                let offset = (slot as u64 * self.params_stride) as u32;
                pass.set_bind_group(0, &buffers.bind_group, &[offset]);
                pass.dispatch_workgroups(d.workgroups, 1, 1);
            }
        }
        encoder.copy_buffer_to_buffer(&buffers.partials, 0, &buffers.staging, 0, partial_bytes);
        let submission = self.queue.submit([encoder.finish()]);
        self.sink.check()?;

        let (tx, rx) = mpsc::channel();
        buffers
            .staging
            .slice(..partial_bytes)
            .map_async(wgpu::MapMode::Read, move |r| {
                // The receiver outlives every wait below; if it is gone the
                // result is no longer wanted.
                let _ = tx.send(r);
            });

        let blocks: u64 = batch.iter().map(|d| d.blocks).sum();
        let budget = WAIT_BASE.saturating_add(Duration::from_nanos(blocks.saturating_mul(WAIT_NS_PER_BLOCK)));
        let deadline = Instant::now() + budget;
        let mapped = loop {
            let now = Instant::now();
            if now >= deadline {
                let why = format!("timed out after {budget:?} waiting for the GPU");
                buffers.broken = Some(why.clone());
                return Err(GpuError::Device(why));
            }
            let step = (deadline - now).min(Duration::from_secs(1));
            let polled = self.device.poll(wgpu::PollType::Wait {
                submission_index: Some(submission.clone()),
                timeout: Some(step),
            });
            if let Err(e) = self.sink.check() {
                buffers.broken = Some(e.to_string());
                return Err(e);
            }
            match polled {
                Ok(_) | Err(wgpu::PollError::Timeout) => {}
                Err(e) => {
                    buffers.broken = Some(e.to_string());
                    return Err(GpuError::Device(format!("poll failed: {e}")));
                }
            }
            match rx.try_recv() {
                Ok(r) => break r,
                Err(mpsc::TryRecvError::Empty) => continue,
                Err(mpsc::TryRecvError::Disconnected) => {
                    let why = "the readback was dropped by wgpu".to_string();
                    buffers.broken = Some(why.clone());
                    return Err(GpuError::Device(why));
                }
            }
        };
        if let Err(e) = mapped {
            return Err(GpuError::Device(format!("mapping the readback buffer failed: {e}")));
        }

        let sum = match buffers.staging.slice(..partial_bytes).get_mapped_range() {
            Ok(view) => Ok(view
                .chunks_exact(4)
                .map(|c| u64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                .sum::<u64>()),
            Err(e) => Err(GpuError::Device(format!("reading the readback buffer failed: {e}"))),
        };
        buffers.staging.unmap();
        self.sink.check()?;
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_keep_only_their_lines() {
        let wide = shader_source(true);
        let limbs = shader_source(false);
        assert!(wide.contains("u64(a)"));
        assert!(!limbs.contains("u64("));
        assert!(limbs.contains("0xFFFFu"));
        assert!(!wide.contains("a0 * b0"));
        assert_eq!(wide.lines().count(), SHADER_TEMPLATE.lines().count());
        let directive = |l: &str| l.trim().starts_with("// #");
        assert!(!wide.lines().any(directive) && !limbs.lines().any(directive));
    }

    #[test]
    fn params_follow_the_shader_layout() {
        let p = Params {
            key: [1, 2],
            base: [3, 4],
            per_invocation: 5,
            full_invocations: 6,
            remainder: 7,
            partial_offset: 8,
        };
        let b = p.to_bytes();
        for (i, w) in b.chunks_exact(4).enumerate() {
            assert_eq!(u32::from_le_bytes([w[0], w[1], w[2], w[3]]), i as u32 + 1);
        }
    }

    #[test]
    fn backend_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<GpuBackend>();
    }
}
