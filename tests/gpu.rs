//! The GPU backend against the reference stream: bit-identical hit counts
//! for both shader variants, multi-dispatch runs, the iteration cap, and
//! adapter selection.
//!
//! With no adapter, each test prints `SKIPPED ...` on stderr and passes,
//! unless `PI_REQUIRE_ALL=1`, when it fails. Install Mesa's lavapipe
//! (`mesa-vulkan-drivers`) to run them on any machine.

use std::sync::Arc;

use pi::gpu::{GpuBackend, GpuError, GpuOptions, MAX_BLOCKS_PER_INVOCATION, WORKGROUP_SIZE};
use pi::stream;

mod common;

/// A backend with `options` (software adapters allowed), or `None` after
/// [`skip`] when there is no adapter. Any other failure fails the test.
fn backend(test: &str, options: GpuOptions) -> Option<GpuBackend> {
    match GpuBackend::with_options(GpuOptions {
        allow_software: true,
        ..options
    }) {
        Ok(b) => {
            eprintln!("{test}: {} (int64: {})", b.describe(), b.uses_int64());
            Some(b)
        }
        Err(GpuError::NoDevice(why)) => {
            common::no_gpu(test, &format!("no GPU adapter ({why})"));
            None
        }
        Err(e) => panic!("{test}: creating the GPU backend failed: {e}"),
    }
}

/// `gpu`'s count of samples `first .. first + count - 1` of `seed`.
fn gpu_hits(gpu: &GpuBackend, seed: u64, first: u64, count: u64) -> Result<u64, GpuError> {
    gpu.count_hits(seed, stream::Run::new(first, count).expect("a run inside the stream"))
}

/// The reference count (split over threads: the tests run unoptimized).
fn reference(seed: u64, first: u64, count: u64) -> u64 {
    stream::count_hits_threaded(seed, first, count).expect("valid run")
}

const SEEDS: [u64; 4] = [0, 1, u64::MAX, 0x0123_4567_89ab_cdef];
const COUNTS: [u64; 8] = [0, 1, 2, 3, (1 << 16) - 1, 1 << 16, (1 << 16) + 1, 1_000_007];

/// Where runs start: the stream's start, odd starts, the block index
/// crossing 2^32 (sample 2^33), and the very end of the stream.
fn firsts(count: u64) -> [u64; 4] {
    [0, 12_345, (1 << 33) - count / 2 - 1, 0u64.wrapping_sub(count)]
}

fn check_matrix(test: &str, gpu: &GpuBackend) {
    for seed in SEEDS {
        for count in COUNTS {
            for first in firsts(count) {
                let want = reference(seed, first, count);
                let got = gpu_hits(gpu, seed, first, count).unwrap_or_else(|e| panic!("{test}: {e}"));
                assert_eq!(got, want, "{test}: seed {seed:#x} first {first} count {count}");
            }
        }
    }
}

#[test]
fn int64_variant_matches_the_reference() {
    let Some(gpu) = backend("int64_variant_matches_the_reference", GpuOptions::default()) else {
        return;
    };
    if !gpu.uses_int64() {
        common::skip(
            "int64_variant_matches_the_reference",
            "the adapter does not offer SHADER_INT64",
        );
        return;
    }
    check_matrix("int64", &gpu);
}

#[test]
fn limb_variant_matches_the_reference() {
    let options = GpuOptions {
        force_no_int64: true,
        ..GpuOptions::default()
    };
    let Some(gpu) = backend("limb_variant_matches_the_reference", options) else {
        return;
    };
    assert!(!gpu.uses_int64());
    check_matrix("limbs", &gpu);
}

/// Tiny dispatches and submissions: one run takes many dispatches and
/// several readbacks, and must still add up exactly.
#[test]
fn many_dispatches_and_submissions_add_up() {
    for force_no_int64 in [false, true] {
        let options = GpuOptions {
            force_no_int64,
            max_blocks_per_invocation: 3,
            max_workgroups_per_dispatch: 2,
            max_dispatches_per_submit: 3,
            ..GpuOptions::default()
        };
        let Some(gpu) = backend("many_dispatches_and_submissions_add_up", options) else {
            return;
        };
        assert_eq!(
            (
                gpu.blocks_per_invocation(),
                gpu.workgroups_per_dispatch(),
                gpu.dispatches_per_submit()
            ),
            (3, 2, 3)
        );
        let per_dispatch = 3 * 2 * u64::from(WORKGROUP_SIZE);
        for (seed, first, count) in [
            (7, 1, 2 * 10 * per_dispatch + 3), // 10 dispatches + a partial one, 4 submissions
            (u64::MAX, (1 << 33) - 999, 4 * per_dispatch + 1), // crosses block 2^32 mid-dispatch
            (3, u64::MAX - 40_000, 40_001),    // ends on the last sample
        ] {
            let pi::gpu::Plan {
                per_invocation,
                dispatches,
                ..
            } = gpu.plan(count / 2);
            assert_eq!(per_invocation, 3);
            assert!(dispatches > 1);
            assert_eq!(gpu_hits(&gpu, seed, first, count), Ok(reference(seed, first, count)));
        }
    }
}

/// The cap on blocks per invocation. lavapipe was seen to stop a loop
/// after 65,535 iterations without an error, so an invocation must never
/// count that many blocks. The constructor clamps any request to
/// `MAX_BLOCKS_PER_INVOCATION`; with one workgroup per dispatch, this run
/// would need more than 65,535 blocks per invocation in a single dispatch,
/// so without the clamp it would be wrong on lavapipe (and on a GPU the
/// assertions on the clamp catch it).
#[test]
fn blocks_per_invocation_is_capped() {
    const { assert!(MAX_BLOCKS_PER_INVOCATION <= 16_384) };
    let n_blocks = u64::from(WORKGROUP_SIZE) * 65_536 + 1_000;
    assert!(n_blocks.div_ceil(u64::from(WORKGROUP_SIZE)) > 65_535);
    let (seed, first, count) = (0x0123_4567_89ab_cdef, 5, 2 * n_blocks + 1);
    let want = reference(seed, first, count);
    for force_no_int64 in [false, true] {
        let options = GpuOptions {
            force_no_int64,
            max_blocks_per_invocation: 70_000,
            max_workgroups_per_dispatch: 1,
            ..GpuOptions::default()
        };
        let Some(gpu) = backend("blocks_per_invocation_is_capped", options) else {
            return;
        };
        assert_eq!(gpu.blocks_per_invocation(), MAX_BLOCKS_PER_INVOCATION);
        assert_eq!(gpu.workgroups_per_dispatch(), 1);
        let pi::gpu::Plan {
            per_invocation,
            dispatches,
            ..
        } = gpu.plan(n_blocks);
        assert!(per_invocation <= MAX_BLOCKS_PER_INVOCATION);
        assert!(dispatches >= 4);
        assert_eq!(
            gpu_hits(&gpu, seed, first, count),
            Ok(want),
            "int64: {}",
            gpu.uses_int64()
        );
    }
}

/// A large run equals the sum of uneven pieces (each planned differently),
/// with no reference needed.
#[test]
fn a_large_run_equals_its_pieces() {
    let Some(gpu) = backend("a_large_run_equals_its_pieces", GpuOptions::default()) else {
        return;
    };
    let (seed, first, n) = (42, 3, 100_000_001);
    let whole = gpu_hits(&gpu, seed, first, n).expect("whole run");
    let cuts = [0, 1, 2_000_000, 2_000_001, 63_555_555, n];
    let pieces: u64 = cuts
        .windows(2)
        .map(|w| gpu_hits(&gpu, seed, first + w[0], w[1] - w[0]).expect("piece"))
        .sum();
    assert_eq!(whole, pieces);
    let p = whole as f64 / n as f64;
    assert!((4.0 * p - std::f64::consts::PI).abs() < 1e-3, "pi estimate {}", 4.0 * p);
}

/// One backend shared by several threads gives the same counts.
#[test]
fn concurrent_calls_agree() {
    let Some(gpu) = backend("concurrent_calls_agree", GpuOptions::default()) else {
        return;
    };
    let gpu = Arc::new(gpu);
    let want = reference(9, 1, 300_001);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let gpu = Arc::clone(&gpu);
            std::thread::spawn(move || (0..5).map(|_| gpu_hits(&gpu, 9, 1, 300_001)).collect::<Vec<_>>())
        })
        .collect();
    for h in handles {
        for got in h.join().expect("thread") {
            assert_eq!(got, Ok(want));
        }
    }
}

/// A device the test opened itself is handed in and used, with the
/// options given.
#[test]
fn a_device_handed_in_is_used() {
    let test = "a_device_handed_in_is_used";
    let adapters = match pi::gpu::device::adapters(true) {
        Ok(a) => a,
        Err(e) => return common::no_gpu(test, &format!("no GPU adapter ({e})")),
    };
    let adapter = &adapters[0];
    let (device, queue) =
        pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor::default())).expect("the test's own device");
    let options = GpuOptions {
        workgroup_size: 64,
        max_workgroups_per_dispatch: 5,
        ..GpuOptions::default()
    };
    let gpu = GpuBackend::from_device(adapter.get_info(), device, queue, options).expect("backend");
    // Opened without SHADER_INT64, so the limb variant.
    assert!(!gpu.uses_int64());
    assert_eq!((gpu.workgroup_size(), gpu.workgroups_per_dispatch()), (64, 5));
    let (seed, first, n) = (11, 7, 2 * 64 * 5 * 40 + 3);
    assert!(gpu.plan(n / 2).dispatches == 1 && gpu.plan(n / 2).per_invocation == 41);
    assert_eq!(gpu_hits(&gpu, seed, first, n), Ok(reference(seed, first, n)));
}

/// A workgroup size the device cannot run, or not a power of two, is
/// refused with a message that says so.
#[test]
fn a_bad_workgroup_size_is_refused() {
    for size in [0, 48, 2048, 1 << 20] {
        let options = GpuOptions {
            allow_software: true,
            workgroup_size: size,
            ..GpuOptions::default()
        };
        match GpuBackend::with_options(options) {
            Err(GpuError::NoDevice(why)) if why.contains("workgroups of") => {}
            Err(GpuError::NoDevice(why)) => return common::no_gpu("a_bad_workgroup_size_is_refused", &why),
            other => panic!("workgroup size {size}: {other:?}"),
        }
    }
}

/// Without `allow_software`, a software adapter is never chosen.
#[test]
fn hardware_only_never_picks_a_software_adapter() {
    match GpuBackend::new(false) {
        Ok(gpu) => assert!(!gpu.is_software(), "{}", gpu.describe()),
        Err(GpuError::NoDevice(why)) => eprintln!("no hardware adapter, as allowed: {why}"),
        Err(e) => panic!("{e}"),
    }
}

/// `WGPU_ADAPTER_NAME` matching nothing is `NoDevice`, naming the variable.
#[test]
fn unknown_adapter_name_is_no_device() {
    common::in_child(
        "adapter_name_child",
        &[("WGPU_ADAPTER_NAME", "no-such-adapter-7f3a")],
        &[],
    );
}

#[test]
#[ignore = "run by unknown_adapter_name_is_no_device in a child process"]
fn adapter_name_child() {
    common::assert_child("adapter_name_child");
    match GpuBackend::new(true) {
        Err(GpuError::NoDevice(why)) => assert!(why.contains("WGPU_ADAPTER_NAME"), "{why}"),
        Err(e) => panic!("expected NoDevice, got {e}"),
        Ok(gpu) => panic!("expected NoDevice, got {}", gpu.describe()),
    }
}

/// `WGPU_BACKEND` naming no backend, or only backends this build lacks on
/// this platform, is `NoDevice` with a message that names the variable and
/// its value (cut short when long), not an empty search. An `Auto` engine
/// still counts on the CPU; a `Gpu` engine reports it.
#[test]
fn a_bad_wgpu_backend_names_the_variable() {
    let lacking = if cfg!(target_os = "macos") { "dx12" } else { "metal" };
    let long = "x".repeat(100_000);
    for value in ["garbage", "vulkan,garbage", lacking, long.as_str()] {
        common::in_child("wgpu_backend_child", &[("WGPU_BACKEND", value)], &[]);
    }
}

#[test]
#[ignore = "run by a_bad_wgpu_backend_names_the_variable in a child process"]
fn wgpu_backend_child() {
    common::assert_child("wgpu_backend_child");
    let value = std::env::var("WGPU_BACKEND").expect("WGPU_BACKEND is set");
    let why = match GpuBackend::new(true) {
        Err(GpuError::NoDevice(why)) => why,
        Err(e) => panic!("expected NoDevice, got {e}"),
        Ok(gpu) => panic!("expected NoDevice, got {}", gpu.describe()),
    };
    assert!(why.starts_with("WGPU_BACKEND="), "{why}");
    assert!(why.len() < 300, "the value is cut short: {why}");
    assert!(why.contains(&value[..value.len().min(20)]), "{why}");

    let gpu = pi::engine::Engine::new(pi::engine::Backend::Gpu, 1);
    assert!(
        matches!(&gpu, Err(pi::engine::Error::NoDevice(m)) if m.contains("WGPU_BACKEND")),
        "{gpu:?}"
    );
    let auto = pi::engine::Engine::new(pi::engine::Backend::Auto, 1).expect("an auto engine");
    assert_eq!(auto.backend(), pi::engine::Backend::Cpu);
    assert_eq!(auto.count_hits(5, 0, 1000), Ok(reference(5, 0, 1000)));
}

/// With `XDG_RUNTIME_DIR` unset, finding adapters, counting on one and
/// making engines print nothing on stderr (Mesa's window-system code used
/// to print `error: XDG_RUNTIME_DIR is invalid or not set` twice).
#[test]
fn no_driver_noise_without_xdg_runtime_dir() {
    let stderr = common::in_child("quiet_child", &[], &["XDG_RUNTIME_DIR"]);
    assert_eq!(stderr, "", "stderr of a child without XDG_RUNTIME_DIR");
}

#[test]
#[ignore = "run by no_driver_noise_without_xdg_runtime_dir in a child process"]
fn quiet_child() {
    common::assert_child("quiet_child");
    assert!(std::env::var_os("XDG_RUNTIME_DIR").is_none());
    let auto = pi::engine::Engine::new(pi::engine::Backend::Auto, 1).expect("an auto engine");
    assert_eq!(auto.count_hits(5, 0, 1 << 17), Ok(reference(5, 0, 1 << 17)));
    let gpu = match GpuBackend::new(true) {
        Ok(gpu) => gpu,
        // Nothing to be noisy: the parent still checks that stderr is empty.
        Err(GpuError::NoDevice(_)) => return,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(gpu_hits(&gpu, 5, 0, 1 << 17), Ok(reference(5, 0, 1 << 17)));
}

/// A test entry point appended to a variant's source: for each input pair
/// `(a, b)` it writes the shader's own `mulhilo(a, b)` (high, low) and
/// `is_hit(a, b)`.
const PROBE_WGSL: &str = "
@group(1) @binding(0) var<storage, read> probe_in: array<vec2<u32>>;
@group(1) @binding(1) var<storage, read_write> probe_out: array<vec4<u32>>;

@compute @workgroup_size(64)
fn probe(@builtin(global_invocation_id) id: vec3<u32>) {
    if id.x < arrayLength(&probe_in) {
        let p = probe_in[id.x];
        let m = mulhilo(p.x, p.y);
        probe_out[id.x] = vec4<u32>(m.x, m.y, select(0u, 1u, is_hit(p.x, p.y)), 0u);
    }
}
";

/// Runs [`PROBE_WGSL`] with the `int64` or the 16-bit-limb variant over
/// `pairs` on the first adapter: `(high, low, hit)` per pair. `None` after
/// [`common::skip`] when there is no adapter (or no `SHADER_INT64`).
fn probe(test: &str, int64: bool, pairs: &[(u32, u32)]) -> Option<Vec<(u32, u32, bool)>> {
    use wgpu::util::DeviceExt;
    let adapters = match pi::gpu::device::adapters(true) {
        Ok(a) => a,
        Err(e) => {
            common::no_gpu(test, &format!("no GPU adapter ({e})"));
            return None;
        }
    };
    let adapter = &adapters[0];
    if int64 && !adapter.features().contains(wgpu::Features::SHADER_INT64) {
        common::skip(test, "the adapter does not offer SHADER_INT64");
        return None;
    }
    let (device, queue) = pi::gpu::device::open(adapter, int64).expect("a device");
    let source = pi::gpu::shader_source(int64) + PROBE_WGSL;
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("probe"),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("probe"),
        layout: None,
        module: &module,
        entry_point: Some("probe"),
        compilation_options: wgpu::PipelineCompilationOptions {
            constants: &[("WORKGROUP_SIZE", 256.0)],
            ..Default::default()
        },
        cache: None,
    });
    let words: Vec<u32> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    let input = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("probe in"),
        contents: bytemuck::cast_slice(&words),
        usage: wgpu::BufferUsages::STORAGE,
    });
    let size = 16 * pairs.len() as u64;
    let output = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("probe out"),
        size,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let staging = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("probe readback"),
        size,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("probe"),
        layout: &pipeline.get_bind_group_layout(1),
        entries: &[
            wgpu::BindGroupEntry {
                binding: 0,
                resource: input.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: output.as_entire_binding(),
            },
        ],
    });
    let mut encoder = device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(1, &bind_group, &[]);
        pass.dispatch_workgroups((pairs.len() as u32).div_ceil(64), 1, 1);
    }
    encoder.copy_buffer_to_buffer(&output, 0, &staging, 0, size);
    queue.submit([encoder.finish()]);
    staging
        .slice(..)
        .map_async(wgpu::MapMode::Read, |r| r.expect("map the probe output"));
    device.poll(wgpu::PollType::wait_indefinitely()).expect("poll");
    let view = staging.slice(..).get_mapped_range().expect("mapped");
    let out: &[u32] = bytemuck::cast_slice(&view);
    Some(out.chunks_exact(4).map(|w| (w[0], w[1], w[2] == 1)).collect())
}

/// The rows of a file in `tests/data`: whitespace-separated integers, `#`
/// comments.
fn data_rows(name: &str) -> Vec<Vec<i128>> {
    let path = common::root().join("tests/data").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().map(|w| w.parse().expect("an integer")).collect())
        .collect()
}

/// The largest `y` with `x*x + y*y < 2^64`.
fn largest_hit_y(x: u32) -> u32 {
    let rest = u128::from(u64::MAX - u64::from(x) * u64::from(x));
    let mut y = (rest as f64).sqrt() as u128;
    while y * y > rest {
        y -= 1;
    }
    while (y + 1) * (y + 1) <= rest {
        y += 1;
    }
    y.min(u128::from(u32::MAX)) as u32
}

/// Inputs where a 32x32 -> 64 multiply or the hit test goes wrong: zeros,
/// limb and word boundaries, the multipliers, and for many `x` the hit
/// nearest the circle (the largest `x*x + y*y` below 2^64) and the miss just
/// past it, both ways round. Returns the pairs and how many of them lie
/// where the high words alone cannot decide: the high words of `x*x` and
/// `~(y*y)` at most 3 apart.
fn edge_pairs() -> (Vec<(u32, u32)>, usize) {
    const M: u32 = u32::MAX;
    let special = [
        0,
        1,
        2,
        0xFFFF,
        0x1_0000,
        0x1_0001,
        0xFFFF_0000,
        0x8000_0000,
        0x7FFF_FFFF,
        3_037_000_499,
        3_037_000_500,
        stream::M0,
        stream::M1,
        M - 1,
        M,
    ];
    let mut pairs: Vec<(u32, u32)> = special.iter().flat_map(|&a| special.map(|b| (a, b))).collect();
    // A fixed pseudo-random spread of x, and the top of the range, where
    // the boundary y is small and the sums lie within 2^32 of 2^64.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut xs: Vec<u32> = (0..2000)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 32) as u32
        })
        .collect();
    xs.extend((0..2000).map(|k| M - k));
    xs.extend(special);
    // The points whose sums lie nearest to 2^64 (tests/data/edge_points.txt).
    for row in data_rows("edge_points.txt") {
        pairs.push((row[0] as u32, row[1] as u32));
    }
    for x in xs {
        let y = largest_hit_y(x);
        pairs.extend([(x, y), (y, x)]);
        if y < M {
            pairs.extend([(x, y + 1), (y + 1, x)]);
        }
    }
    let ties = pairs
        .iter()
        .filter(|&&(x, y)| {
            let (xx, yy) = (u64::from(x) * u64::from(x), u64::from(y) * u64::from(y));
            (xx >> 32).abs_diff(!yy >> 32) <= 3
        })
        .count();
    (pairs, ties)
}

/// Both variants' `mulhilo` and `is_hit`, run on the device over
/// [`edge_pairs`], agree exactly with 64-bit integer arithmetic on the host.
#[test]
fn shader_arithmetic_is_exact_at_the_edges() {
    let (pairs, ties) = edge_pairs();
    let hits = pairs.iter().filter(|&&(x, y)| stream::is_hit(x, y)).count();
    assert!(
        ties >= 1000 && hits >= 1000 && pairs.len() - hits >= 1000,
        "ties {ties}, hits {hits}"
    );
    for int64 in [true, false] {
        let test = format!("shader_arithmetic_is_exact_at_the_edges (int64: {int64})");
        let Some(got) = probe(&test, int64, &pairs) else {
            continue;
        };
        for (&(a, b), &(hi, lo, hit)) in pairs.iter().zip(&got) {
            let p = u64::from(a) * u64::from(b);
            assert_eq!(
                (hi, lo),
                ((p >> 32) as u32, p as u32),
                "{test}: mulhilo({a:#x}, {b:#x})"
            );
            assert_eq!(hit, stream::is_hit(a, b), "{test}: is_hit({a}, {b})");
        }
    }
}

/// The stream's samples with x == 0 or y == 0 (tests/data/edge_samples.txt)
/// counted by both variants inside whole blocks on the device: the block
/// alone, and a run of a few thousand samples around it with odd ends.
#[test]
fn both_variants_count_the_zero_coordinate_samples() {
    let samples = data_rows("edge_samples.txt");
    assert!(samples.iter().any(|r| r[2] == 0) && samples.iter().any(|r| r[3] == 0));
    for force_no_int64 in [false, true] {
        let options = GpuOptions {
            force_no_int64,
            ..GpuOptions::default()
        };
        let Some(gpu) = backend("both_variants_count_the_zero_coordinate_samples", options) else {
            return;
        };
        if gpu.uses_int64() == force_no_int64 {
            common::skip("both_variants_count_the_zero_coordinate_samples", "no SHADER_INT64");
            continue;
        }
        for row in &samples {
            let (seed, i, x, y, hit) = (row[0] as u64, row[1] as u64, row[2] as u32, row[3] as u32, row[4] == 1);
            assert_eq!(stream::sample(seed, i), (x, y));
            assert_eq!(stream::is_hit(x, y), hit);
            let block = i & !1;
            let both = stream::is_hit(x, y) as u64 + {
                let (u, v) = stream::sample(seed, i ^ 1);
                stream::is_hit(u, v) as u64
            };
            assert_eq!(
                gpu_hits(&gpu, seed, block, 2),
                Ok(both),
                "seed {seed} block of sample {i}"
            );
            let first = block.saturating_sub(2001);
            assert_eq!(
                gpu_hits(&gpu, seed, first, 4001),
                Ok(reference(seed, first, 4001)),
                "seed {seed} around {i}"
            );
        }
    }
}

/// One run split over two devices on the same adapter (the test hook for a
/// machine with several GPUs): the shares are consecutive, both devices
/// get work, and the hits are exact, also through an engine.
#[test]
fn a_run_split_over_two_devices_is_exact() {
    let test = "a_run_split_over_two_devices_is_exact";
    let (Some(a), Some(b)) = (
        backend(test, GpuOptions::default()),
        backend(test, GpuOptions::default()),
    ) else {
        return;
    };
    let gpus = pi::gpu::Gpus::split_over(vec![a, b]).expect("calibrated");
    assert_eq!(gpus.members().len(), 2);
    assert!(gpus.describe().starts_with("2 GPUs: "), "{}", gpus.describe());
    let (seed, first, n) = (77, 1_000_001, pi::gpu::multi::MIN_SPLIT_SAMPLES + 12_345);
    let run = stream::Run::new(first, n).unwrap();
    let shares = gpus.shares(run);
    assert_eq!(shares.len(), 2);
    assert_eq!(shares[0].first(), first);
    assert_eq!(shares[1].first(), first + shares[0].count());
    assert_eq!(shares[0].count() + shares[1].count(), n);
    assert!(shares.iter().all(|s| s.count() >= n / 10), "{shares:?}");
    let want = reference(seed, first, n);
    assert_eq!(gpus.count_hits(seed, run), Ok(want));
    // A small run is not split.
    assert_eq!(gpus.shares(stream::Run::new(5, 1000).unwrap()).len(), 1);

    let engine = pi::engine::Engine::with_gpus(gpus, 1, pi::engine::Backend::Gpu);
    assert_eq!(engine.count_hits(seed, first, n), Ok(want));
    assert!(engine.describe().contains("2 GPUs"), "{}", engine.describe());
}

/// `PI_GPU` picks the GPUs an engine uses: an index, `all` (or -1, as
/// `PI_GPU_ALL`), `none` (no adapter at all), or an error naming the
/// variable for anything else (-2, `PI_GPU_DEFAULT`, included).
#[test]
fn pi_gpu_selects_the_adapters() {
    for value in ["0", "all", " ALL ", "-1", "99", "none", "garbage", "-2"] {
        common::in_child("pi_gpu_child", &[("PI_GPU", value)], &[]);
    }
}

#[test]
#[ignore = "run by pi_gpu_selects_the_adapters in a child process"]
fn pi_gpu_child() {
    use pi::engine::{Backend, Engine, Error};
    common::assert_child("pi_gpu_child");
    let value = std::env::var("PI_GPU").unwrap();
    // PI_GPU=none hides the adapters from this check too.
    if value.trim() != "none" && pi::gpu::device::adapters(true).is_err() {
        return common::no_gpu("pi_gpu_child", "no GPU adapter");
    }
    let gpu = Engine::new(Backend::Gpu, 1);
    match value.trim() {
        "0" | "all" | "ALL" | "-1" => {
            let e = gpu.expect("a GPU engine");
            assert_eq!(e.backend(), Backend::Gpu);
            assert_eq!(e.count_hits(3, 1, 300_001), Ok(reference(3, 1, 300_001)));
            let either = Engine::new(Backend::GpuOrCpu, 1).expect("a gpu-or-cpu engine");
            assert_eq!(either.backend(), Backend::Gpu, "{}", either.describe());
        }
        "99" => {
            assert!(
                matches!(&gpu, Err(Error::NoDevice(m)) if m.contains("index 99")),
                "{gpu:?}"
            );
            let auto = Engine::new(Backend::Auto, 1).expect("an auto engine");
            assert_eq!(auto.count_hits(3, 1, 1000), Ok(reference(3, 1, 1000)));
            let either = Engine::new(Backend::GpuOrCpu, 1).expect("a gpu-or-cpu engine");
            assert_eq!(either.backend(), Backend::Cpu, "{}", either.describe());
            assert_eq!(either.count_hits(3, 1, 300_001), Ok(reference(3, 1, 300_001)));
        }
        "none" => {
            assert!(
                matches!(&gpu, Err(Error::NoDevice(m)) if m.contains("PI_GPU=none")),
                "{gpu:?}"
            );
            for asked in [Backend::Auto, Backend::GpuOrCpu] {
                let e = Engine::new(asked, 1).expect("an engine that falls back");
                assert_eq!(e.backend(), Backend::Cpu, "{asked:?}");
                assert_eq!(e.count_hits(3, 1, 300_001), Ok(reference(3, 1, 300_001)));
            }
        }
        _ => {
            assert!(
                matches!(&gpu, Err(Error::InvalidArgument(m)) if m.contains("PI_GPU")),
                "{gpu:?}"
            );
            let auto = Engine::new(Backend::Auto, 1);
            assert!(
                matches!(&auto, Err(Error::InvalidArgument(m)) if m.contains("PI_GPU")),
                "{auto:?}"
            );
        }
    }
}

/// The C ABI: `pi_gpu_list` numbers the adapters, `pi_engine_new_on` takes
/// an index or PI_GPU_ALL and refuses anything below PI_GPU_DEFAULT.
#[test]
fn c_abi_lists_and_picks_gpus() {
    use pi::ffi::*;
    let len = unsafe { pi_gpu_list(std::ptr::null_mut(), 0) };
    let mut buf = vec![0u8; len + 1];
    assert_eq!(unsafe { pi_gpu_list(buf.as_mut_ptr().cast(), buf.len()) }, len);
    let text = String::from_utf8_lossy(&buf[..len]).into_owned();
    if len == 0 {
        return common::no_gpu("c_abi_lists_and_picks_gpus", "no GPU adapter");
    }
    for (k, line) in text.lines().enumerate() {
        assert!(line.starts_with(&format!("{k}: ")), "{text}");
    }
    let mut engine = std::ptr::null_mut();
    assert_eq!(
        unsafe { pi_engine_new_on(PI_BACKEND_GPU, 1, -3, &mut engine) },
        PI_ERROR_INVALID_ARGUMENT
    );
    assert!(engine.is_null());
    let n = text.lines().count() as i32;
    assert_eq!(
        unsafe { pi_engine_new_on(PI_BACKEND_GPU, 1, n, &mut engine) },
        PI_ERROR_NO_DEVICE
    );
    for gpu in [0, PI_GPU_ALL, PI_GPU_DEFAULT] {
        assert_eq!(unsafe { pi_engine_new_on(PI_BACKEND_GPU, 1, gpu, &mut engine) }, PI_OK);
        let mut hits = 0;
        assert_eq!(unsafe { pi_count_hits(engine, 8, 2, 400_000, &mut hits) }, PI_OK);
        assert_eq!(hits, reference(8, 2, 400_000));
        unsafe { pi_engine_free(engine) };
    }
}
