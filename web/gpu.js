// Counting on WebGPU: runs shaders/pi.wgsl (its portable variant) as src/gpu/mod.rs does, within the adapter's limits.
//
// The shader counts whole Philox blocks; the lone samples at both ends of a run are counted
// here with the JavaScript stream (web/stream.js). A call plans its blocks into dispatches
// (one-dimensional, at most `workgroupsPerDispatch` workgroups of `workgroupSize`
// invocations, each counting at most MAX_BLOCKS_PER_INVOCATION blocks), records up to
// `dispatchesPerSubmit` dispatches (and about 2^35 blocks) per submission, each writing one
// u32 per workgroup into a buffer of partial counts, reads that buffer back once per
// submission and adds the partials up exactly.
//
// The planning functions are pure and exported, so Node tests can replay a plan on the CPU.

import { blocksOf, edgeHits, keyOf, rangeError } from "./stream.js";

/** Invocations per workgroup (src/gpu/mod.rs WORKGROUP_SIZE), when the adapter allows it. */
export const WORKGROUP_SIZE = 256;
/** The most blocks one invocation counts (src/gpu/mod.rs MAX_BLOCKS_PER_INVOCATION). */
export const MAX_BLOCKS_PER_INVOCATION = 16384;
/** The most dispatches recorded in one submission (src/gpu/mod.rs MAX_DISPATCHES_PER_SUBMIT). */
export const MAX_DISPATCHES_PER_SUBMIT = 64;
/** Default most workgroups per dispatch (src/gpu/mod.rs DEFAULT_WORKGROUPS_PER_DISPATCH). */
export const DEFAULT_WORKGROUPS_PER_DISPATCH = 8192;
/**
 * Default most workgroups per dispatch on a software fallback adapter (SwiftShader), which
 * runs workgroups on CPU threads: fewer, longer-running invocations cut its per-workgroup
 * cost (5.9e6 against 1.2e6 samples/s measured on a 2-core machine).
 */
export const SOFTWARE_WORKGROUPS_PER_DISPATCH = 64;
/** Default most dispatches per submission (src/gpu/mod.rs DEFAULT_DISPATCHES_PER_SUBMIT). */
export const DEFAULT_DISPATCHES_PER_SUBMIT = 16;
/** A submission takes no more dispatches once it holds this many blocks (src/gpu/mod.rs MAX_BLOCKS_PER_SUBMIT). */
export const MAX_BLOCKS_PER_SUBMIT = 1n << 35n;
/** Size of the shader's Params struct in bytes (src/gpu/pipeline.rs PARAMS_SIZE). */
export const PARAMS_SIZE = 32;

/**
 * One variant of the shader template (src/gpu/pipeline.rs shader_source): the lines of the other
 * variant, between `// #if INT64`, `// #else` and `// #endif`, and the directives themselves
 * are blanked, so line numbers in compiler messages still match the file. WebGPU has no
 * 64-bit integers, so the page always asks for `int64 = false`.
 */
export function shaderSource(template, int64) {
  let region = "shared";
  const out = [];
  for (const line of template.split("\n")) {
    const directive = line.trim();
    let keep;
    if (directive === "// #if INT64") {
      region = "int64";
      keep = false;
    } else if (directive === "// #else") {
      region = "limbs";
      keep = false;
    } else if (directive === "// #endif") {
      region = "shared";
      keep = false;
    } else {
      keep = region === "shared" || (region === "int64") === int64;
    }
    out.push(keep ? line : "");
  }
  return out.join("\n");
}

const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));

/**
 * The dispatch configuration for an adapter's limits (a GPUSupportedLimits or any object
 * with the same fields) and optional tuning `options` ({workgroupsPerDispatch,
 * blocksPerInvocation, dispatchesPerSubmit}), clamped as src/gpu/mod.rs clamps GpuOptions.
 * Returns null when the adapter cannot run workgroups of even 32 invocations.
 */
export function configure(limits, options = {}) {
  // 256 as src/gpu/mod.rs; a smaller power of two only where the adapter's limits demand it
  // (compatibility-mode adapters).
  let workgroupSize = WORKGROUP_SIZE;
  const most = Math.min(limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX);
  while (workgroupSize > most) workgroupSize /= 2;
  if (workgroupSize < 32) return null;
  const blocksPerInvocation = clamp(
    options.blocksPerInvocation ?? MAX_BLOCKS_PER_INVOCATION,
    1,
    MAX_BLOCKS_PER_INVOCATION,
  );
  const dispatchesPerSubmit = clamp(
    options.dispatchesPerSubmit ?? DEFAULT_DISPATCHES_PER_SUBMIT,
    1,
    MAX_DISPATCHES_PER_SUBMIT,
  );
  // The partials of a whole submission must fit one storage binding.
  const maxPartials = Math.floor(
    Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize) / 4,
  );
  const fitting = Math.floor(maxPartials / dispatchesPerSubmit);
  // The shader's invocation index is a u32, too.
  const mostWorkgroups = clamp(
    Math.min(limits.maxComputeWorkgroupsPerDimension, fitting),
    1,
    Math.floor(0xffffffff / workgroupSize),
  );
  const workgroupsPerDispatch = clamp(
    options.workgroupsPerDispatch ?? DEFAULT_WORKGROUPS_PER_DISPATCH,
    1,
    mostWorkgroups,
  );
  const paramsStride = Math.max(limits.minUniformBufferOffsetAlignment, PARAMS_SIZE);
  return { workgroupSize, workgroupsPerDispatch, blocksPerInvocation, dispatchesPerSubmit, paramsStride };
}

/**
 * Blocks per invocation for a call of nBlocks (BigInt) whole blocks (src/gpu/mod.rs plan): small
 * runs spread over the whole grid one block per invocation; the blocks per invocation grow
 * to the cap before a second dispatch is needed.
 */
export function blocksPerInvocationFor(cfg, nBlocks) {
  const invocations = BigInt(cfg.workgroupsPerDispatch) * BigInt(cfg.workgroupSize);
  const per = (nBlocks + invocations - 1n) / invocations;
  const capped = per < 1n ? 1n : per > BigInt(cfg.blocksPerInvocation) ? BigInt(cfg.blocksPerInvocation) : per;
  return Number(capped);
}

/**
 * The submissions of a call counting blocks firstBlock .. firstBlock + nBlocks - 1 (BigInt):
 * yields {perInvocation, dispatches: [{base, blocks, workgroups, fullInvocations, remainder,
 * partialOffset}], partials}, base and blocks as BigInt, the rest Numbers.
 */
export function* submissions(cfg, firstBlock, nBlocks) {
  const perInvocation = blocksPerInvocationFor(cfg, nBlocks);
  const per = BigInt(perInvocation);
  const perDispatch = BigInt(cfg.workgroupsPerDispatch) * BigInt(cfg.workgroupSize) * per;
  let next = firstBlock;
  let left = nBlocks;
  while (left > 0n) {
    const dispatches = [];
    let batchBlocks = 0n;
    let partialOffset = 0;
    while (left > 0n && dispatches.length < cfg.dispatchesPerSubmit && batchBlocks < MAX_BLOCKS_PER_SUBMIT) {
      const n = left < perDispatch ? left : perDispatch;
      const invocations = (n + per - 1n) / per;
      const workgroups = Number((invocations + BigInt(cfg.workgroupSize) - 1n) / BigInt(cfg.workgroupSize));
      dispatches.push({
        base: next,
        blocks: n,
        workgroups,
        fullInvocations: Number(n / per),
        remainder: Number(n % per),
        partialOffset,
      });
      partialOffset += workgroups;
      next += n;
      left -= n;
      batchBlocks += n;
    }
    yield { perInvocation, dispatches, partials: partialOffset };
  }
}

/** The Params words of one dispatch, in the shader's field order. */
export function paramsWords(key, perInvocation, d) {
  const base = d.base & 0xffffffffffffffffn;
  return [
    key[0],
    key[1],
    Number(base & 0xffffffffn),
    Number(base >> 32n),
    perInvocation,
    d.fullInvocations,
    d.remainder,
    d.partialOffset,
  ];
}

/** Whether an adapter is a software fallback (SwiftShader). */
const isFallback = (adapter) => Boolean(adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter);

/** A readable name for a WebGPU adapter (browsers may withhold it). */
export function adapterName(adapter) {
  const info = adapter.info ?? {};
  const words = [info.vendor, info.architecture, info.device].filter((s) => s);
  let name = info.description || words.join(" ") || "an adapter whose name the browser withholds";
  if (info.description && info.vendor && !info.description.toLowerCase().includes(info.vendor.toLowerCase())) {
    name = `${info.vendor} ${name}`;
  }
  const mode = adapter.features?.has?.("core-features-and-limits") === false ? ", compatibility mode" : "";
  return isFallback(adapter) ? `${name} (WebGPU, software fallback adapter${mode})` : `${name} (WebGPU${mode})`;
}

/** Why a WebGPU counter could not be made or could not count. */
export class GpuError extends Error {
  constructor(message) {
    super(message);
    this.name = "GpuError";
  }
}

/**
 * Requests an adapter: the default one unless it is a software fallback (SwiftShader) and a
 * compatibility-mode adapter (e.g. a GPU, or lavapipe, through OpenGL ES) is offered too.
 * Returns null when there is none.
 */
export async function requestAdapter(gpu) {
  if (!gpu) return null;
  const core = await gpu.requestAdapter();
  if (core && !isFallback(core)) return core;
  const compat = await gpu.requestAdapter({ featureLevel: "compatibility" });
  if (compat && !isFallback(compat)) return compat;
  return core ?? compat;
}

/**
 * One WebGPU device with its pipeline and buffers, made once and reused by every call, as
 * src/gpu/mod.rs's GpuBackend. Calls must not overlap (the page runs one at a time).
 */
export class GpuCounter {
  /** Makes a counter on `adapter` from the shader template text. Throws GpuError. */
  static async create(adapter, template, options = {}) {
    const defaults = isFallback(adapter) ? { workgroupsPerDispatch: SOFTWARE_WORKGROUPS_PER_DISPATCH } : {};
    const cfg = configure(adapter.limits, { ...defaults, ...options });
    if (!cfg) {
      throw new GpuError(`${adapterName(adapter)}: workgroups of 32 invocations are not supported`);
    }
    const want = [
      "maxComputeInvocationsPerWorkgroup",
      "maxComputeWorkgroupSizeX",
      "maxComputeWorkgroupsPerDimension",
      "maxStorageBufferBindingSize",
      "maxBufferSize",
    ];
    const requiredLimits = Object.fromEntries(want.map((k) => [k, adapter.limits[k]]));
    let device;
    try {
      device = await adapter.requestDevice({ label: "pi device", requiredLimits });
    } catch (e) {
      throw new GpuError(`${adapterName(adapter)}: requestDevice failed: ${e.message ?? e}`);
    }
    const counter = new GpuCounter(adapter, device, cfg);
    await counter.#build(shaderSource(template, false));
    return counter;
  }

  #device;
  #pipeline;
  #params;
  #partials;
  #staging;
  #bindGroup;
  #lost = null;
  #uncaptured = null;

  constructor(adapter, device, cfg) {
    this.adapter = adapterName(adapter);
    this.cfg = cfg;
    this.#device = device;
    device.lost.then((info) => {
      this.#lost = `device lost (${info.reason}): ${info.message}`;
    });
    device.addEventListener("uncapturederror", (ev) => {
      this.#uncaptured ??= ev.error.message;
    });
  }

  async #build(code) {
    const device = this.#device;
    const cfg = this.cfg;
    device.pushErrorScope("validation");
    const module = device.createShaderModule({ label: "pi.wgsl (16-bit limbs)", code });
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === "error");
    if (errors.length) {
      await device.popErrorScope();
      const first = errors[0];
      throw new GpuError(`pi.wgsl line ${first.lineNum}: ${first.message}`);
    }
    const layout = device.createBindGroupLayout({
      label: "pi bind group layout",
      entries: [
        {
          binding: 0,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: "uniform", hasDynamicOffset: true, minBindingSize: PARAMS_SIZE },
        },
        { binding: 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: "storage", minBindingSize: 4 } },
      ],
    });
    this.#pipeline = await device.createComputePipelineAsync({
      label: "pi count_hits pipeline",
      layout: device.createPipelineLayout({ label: "pi pipeline layout", bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: "count_hits", constants: { WORKGROUP_SIZE: cfg.workgroupSize } },
    });
    const partialsSize = 4 * cfg.workgroupsPerDispatch * cfg.dispatchesPerSubmit;
    this.#params = device.createBuffer({
      label: "pi params (one slot per dispatch)",
      size: cfg.paramsStride * cfg.dispatchesPerSubmit,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.#partials = device.createBuffer({
      label: "pi partial hit counts",
      size: partialsSize,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    });
    this.#staging = device.createBuffer({
      label: "pi partial hit counts (readback)",
      size: partialsSize,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.#bindGroup = device.createBindGroup({
      label: "pi bind group",
      layout,
      entries: [
        { binding: 0, resource: { buffer: this.#params, offset: 0, size: PARAMS_SIZE } },
        { binding: 1, resource: { buffer: this.#partials } },
      ],
    });
    const error = await device.popErrorScope();
    if (error) throw new GpuError(`creating the pipeline failed: ${error.message}`);
  }

  #check() {
    if (this.#lost) throw new GpuError(this.#lost);
    if (this.#uncaptured) {
      const e = this.#uncaptured;
      this.#uncaptured = null;
      throw new GpuError(e);
    }
  }

  /** Hits of samples first .. first + count - 1 of seed (all BigInt), as a BigInt. */
  async countHits(seed, first, count) {
    const outside = rangeError(first, count);
    if (outside) throw new GpuError(outside);
    const blocks = blocksOf(first, count);
    let hits = BigInt(edgeHits(seed, blocks));
    if (blocks.nBlocks === 0n) return hits;
    const key = keyOf(seed);
    for (const batch of submissions(this.cfg, blocks.firstBlock, blocks.nBlocks)) {
      hits += await this.#runBatch(key, batch);
    }
    return hits;
  }

  /** One submission: parameters, dispatches, copy, map, sum, unmap. */
  async #runBatch(key, batch) {
    this.#check();
    const device = this.#device;
    const stride = this.cfg.paramsStride;
    const words = new Uint32Array((stride / 4) * batch.dispatches.length);
    batch.dispatches.forEach((d, slot) => {
      words.set(paramsWords(key, batch.perInvocation, d), (slot * stride) / 4);
    });
    const partialBytes = 4 * batch.partials;
    device.pushErrorScope("out-of-memory");
    device.pushErrorScope("validation");
    device.queue.writeBuffer(this.#params, 0, words);
    const encoder = device.createCommandEncoder({ label: "pi count_hits encoder" });
    const pass = encoder.beginComputePass({ label: "pi count_hits pass" });
    pass.setPipeline(this.#pipeline);
    batch.dispatches.forEach((d, slot) => {
      pass.setBindGroup(0, this.#bindGroup, [slot * stride]);
      pass.dispatchWorkgroups(d.workgroups, 1, 1);
    });
    pass.end();
    encoder.copyBufferToBuffer(this.#partials, 0, this.#staging, 0, partialBytes);
    device.queue.submit([encoder.finish()]);
    const validation = await device.popErrorScope();
    const oom = await device.popErrorScope();
    if (validation || oom) throw new GpuError((validation ?? oom).message);
    try {
      await this.#staging.mapAsync(GPUMapMode.READ, 0, partialBytes);
    } catch (e) {
      this.#check();
      throw new GpuError(`mapping the readback buffer failed: ${e.message ?? e}`);
    }
    // The partials add up to the hits of at most 2^36 blocks (MAX_BLOCKS_PER_SUBMIT plus
    // one dispatch), below 2^37, so the Number sum is exact.
    const partials = new Uint32Array(this.#staging.getMappedRange(0, partialBytes));
    let sum = 0;
    for (let i = 0; i < partials.length; i++) sum += partials[i];
    this.#staging.unmap();
    this.#check();
    return BigInt(sum);
  }

  /** Releases the device. */
  destroy() {
    this.#device.destroy();
  }
}
