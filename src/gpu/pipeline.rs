//! The compute pipeline: the shader variant's source, the `Params` uniform
//! shared with `shaders/pi.wgsl`, and the pipeline with the buffers a call
//! uses.

use std::num::NonZeroU64;

use bytemuck::{Pod, Zeroable};

/// The shader source with both variants; see [`shader_source`].
const SHADER_TEMPLATE: &str = include_str!("../../shaders/pi.wgsl");

/// The shader for one variant: `shaders/pi.wgsl` with the lines of the
/// other variant (between `// #if INT64`, `// #else` and `// #endif`)
/// blanked out, so line numbers in error messages still match the file.
pub fn shader_source(int64: bool) -> String {
    variant_of(SHADER_TEMPLATE, int64)
}

/// [`shader_source`] of another version of the file (for tools that
/// compare versions).
pub fn variant_of(template: &str, int64: bool) -> String {
    #[derive(PartialEq)]
    enum Region {
        Shared,
        Int64,
        Limbs,
    }
    let mut region = Region::Shared;
    let mut out = String::with_capacity(template.len());
    for line in template.lines() {
        let keep = match line.trim() {
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

/// The shader's `Params` (one per dispatch), field for field: eight `u32`,
/// little-endian in the uniform buffer like every WGSL buffer.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct Params {
    /// Philox key: (lo32(seed), hi32(seed)).
    pub key: [u32; 2],
    /// The dispatch's first block: (lo32, hi32).
    pub base: [u32; 2],
    /// Blocks per invocation.
    pub per_invocation: u32,
    /// Invocations that count `per_invocation` blocks.
    pub full_invocations: u32,
    /// Blocks of the one partly filled invocation after them.
    pub remainder: u32,
    /// Index in the partial counts of this dispatch's first workgroup.
    pub partial_offset: u32,
}

/// Size of [`Params`] in bytes.
pub const PARAMS_SIZE: u64 = std::mem::size_of::<Params>() as u64;

/// Sizes of the buffers of one submission.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Bytes between [`Params`] slots (dynamic uniform offsets).
    pub params_stride: u64,
    /// Dispatches per submission: the number of [`Params`] slots.
    pub dispatches_per_submit: u32,
    /// Workgroups per dispatch: partial counts per dispatch.
    pub workgroups_per_dispatch: u32,
}

/// The buffers a call uses, reused from call to call.
pub struct Buffers {
    /// One [`Params`] slot per dispatch of a submission, `params_stride`
    /// bytes apart (shader binding 0, dynamic offset).
    pub params: wgpu::Buffer,
    /// One `u32` hit count per workgroup of a submission (shader binding 1).
    pub partials: wgpu::Buffer,
    /// Mappable copy of `partials`, read by the host.
    pub staging: wgpu::Buffer,
    /// Binds `params` (one slot) and `partials`.
    pub bind_group: wgpu::BindGroup,
    /// Bytes written to `params` per submission; reused.
    pub params_bytes: Vec<u8>,
    /// Set when a submission failed (the staging buffer may still be
    /// pending a map): the device is no longer trusted and every later call
    /// fails with this.
    pub broken: Option<String>,
}

/// The compute pipeline of one shader variant and workgroup size.
pub struct Kernel {
    /// The `count_hits` entry point, ready to dispatch.
    pub pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
}

impl Kernel {
    /// Compiles the `int64` or 16-bit-limb variant with `workgroup_size`
    /// invocations per workgroup. Compilation errors reach the device's
    /// uncaptured-error handler.
    pub fn new(device: &wgpu::Device, int64: bool, workgroup_size: u32) -> Kernel {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(if int64 {
                "pi.wgsl (int64)"
            } else {
                "pi.wgsl (16-bit limbs)"
            }),
            source: wgpu::ShaderSource::Wgsl(shader_source(int64).into()),
        });
        let buffer_entry = |binding, ty, has_dynamic_offset, min| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty,
                has_dynamic_offset,
                min_binding_size: NonZeroU64::new(min),
            },
            count: None,
        };
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("pi bind group layout"),
            entries: &[
                buffer_entry(0, wgpu::BufferBindingType::Uniform, true, PARAMS_SIZE),
                buffer_entry(1, wgpu::BufferBindingType::Storage { read_only: false }, false, 4),
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
                constants: &[("WORKGROUP_SIZE", f64::from(workgroup_size))],
                // The shader initialises its one workgroup variable itself.
                zero_initialize_workgroup_memory: false,
            },
            cache: None,
        });
        Kernel { pipeline, layout }
    }

    /// The buffers for submissions of `shape`, bound for this pipeline.
    pub fn buffers(&self, device: &wgpu::Device, shape: Shape) -> Buffers {
        let params_size = shape.params_stride * u64::from(shape.dispatches_per_submit);
        let partials_size = 4 * u64::from(shape.workgroups_per_dispatch) * u64::from(shape.dispatches_per_submit);
        let buffer = |label, size, usage| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size,
                usage,
                mapped_at_creation: false,
            })
        };
        use wgpu::BufferUsages as U;
        let params = buffer(
            "pi params (one slot per dispatch)",
            params_size,
            U::UNIFORM | U::COPY_DST,
        );
        let partials = buffer("pi partial hit counts", partials_size, U::STORAGE | U::COPY_SRC);
        let staging = buffer(
            "pi partial hit counts (readback)",
            partials_size,
            U::MAP_READ | U::COPY_DST,
        );
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("pi bind group"),
            layout: &self.layout,
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
        Buffers {
            params,
            partials,
            staging,
            bind_group,
            params_bytes: Vec::with_capacity(params_size as usize),
            broken: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_keep_only_their_lines() {
        let wide = shader_source(true);
        let limbs = shader_source(false);
        assert!(wide.contains("u64("));
        assert!(!limbs.contains("u64("));
        assert_eq!(wide.lines().count(), SHADER_TEMPLATE.lines().count());
        assert_eq!(limbs.lines().count(), SHADER_TEMPLATE.lines().count());
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
        assert_eq!(PARAMS_SIZE, 32);
        let words: Vec<u32> = bytemuck::bytes_of(&p)
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        assert_eq!(words, [1, 2, 3, 4, 5, 6, 7, 8]);
    }
}
