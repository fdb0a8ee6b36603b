//! Operations per sample of each variant of a shader, counted in the SPIR-V
//! that naga (wgpu's shader compiler) emits for it.
//!
//! ```text
//! cargo run --release --example shader_ops -- [FILE.wgsl]
//! ```
//!
//! FILE defaults to `shaders/pi.wgsl`. For each variant the SPIR-V of the
//! `count_hits` entry point is generated as wgpu's Vulkan backend does it
//! (loop bounding on), calls are inlined, and the operations executed for
//! one block (one iteration of `count_hits`' loop, a loop in `philox`
//! counted ten times) are tallied by opcode. Each operation counts once per
//! vector component; 64-bit ones are listed apart (a GPU without 64-bit
//! integer units needs several instructions for each). Loads, stores,
//! composites and control flow are not counted. Calls of `is_hit_exact`
//! (the exact comparison for points whose high words tie, a few in 2^32)
//! are left out; without that function, every path is counted.

use std::collections::{BTreeMap, HashMap};

use wgpu::naga;

/// Arithmetic, logic and comparison opcodes, by SPIR-V number.
const COUNTED: [(u32, &str); 24] = [
    (113, "UConvert"),
    (128, "IAdd"),
    (130, "ISub"),
    (132, "IMul"),
    (134, "UDiv"),
    (149, "IAddCarry"),
    (151, "UMulExtended"),
    (164, "LogicalEqual"),
    (166, "LogicalOr"),
    (167, "LogicalAnd"),
    (168, "LogicalNot"),
    (169, "Select"),
    (170, "IEqual"),
    (171, "INotEqual"),
    (172, "UGreaterThan"),
    (174, "UGreaterThanEqual"),
    (176, "ULessThan"),
    (178, "ULessThanEqual"),
    (194, "ShiftRightLogical"),
    (196, "ShiftLeftLogical"),
    (197, "BitwiseOr"),
    (198, "BitwiseXor"),
    (199, "BitwiseAnd"),
    (200, "Not"),
];
const OP_NAME: u32 = 5;
const OP_TYPE_BOOL: u32 = 20;
const OP_TYPE_INT: u32 = 21;
const OP_TYPE_VECTOR: u32 = 23;
const OP_FUNCTION: u32 = 54;
const OP_FUNCTION_END: u32 = 56;
const OP_FUNCTION_CALL: u32 = 57;
const OP_LOOP_MERGE: u32 = 246;
const OP_LABEL: u32 = 248;

/// One instruction: opcode and operands.
struct Inst {
    op: u32,
    args: Vec<u32>,
}

/// Tally of counted operations: (opcode name, 64-bit) -> count.
type Tally = BTreeMap<(&'static str, bool), f64>;

struct Module {
    /// Components and bit width of each scalar or vector type.
    types: HashMap<u32, (u32, u32)>,
    names: HashMap<u32, String>,
    functions: HashMap<u32, Vec<Inst>>,
}

fn parse(words: &[u32]) -> Module {
    let mut m = Module {
        types: HashMap::new(),
        names: HashMap::new(),
        functions: HashMap::new(),
    };
    let mut current: Option<(u32, Vec<Inst>)> = None;
    let mut i = 5;
    while i < words.len() {
        let (count, op) = ((words[i] >> 16) as usize, words[i] & 0xFFFF);
        let args = words[i + 1..i + count].to_vec();
        i += count;
        match op {
            OP_NAME => {
                let bytes: Vec<u8> = args[1..].iter().flat_map(|w| w.to_le_bytes()).collect();
                let name = bytes.split(|&b| b == 0).next().unwrap_or_default();
                m.names.insert(args[0], String::from_utf8_lossy(name).into_owned());
            }
            OP_TYPE_BOOL => {
                m.types.insert(args[0], (1, 1));
            }
            OP_TYPE_INT => {
                m.types.insert(args[0], (1, args[1]));
            }
            OP_TYPE_VECTOR => {
                let (_, width) = m.types[&args[1]];
                m.types.insert(args[0], (args[2], width));
            }
            OP_FUNCTION => current = Some((args[1], Vec::new())),
            OP_FUNCTION_END => {
                let (id, body) = current.take().expect("a function");
                m.functions.insert(id, body);
            }
            _ => {
                if let Some((_, body)) = current.as_mut() {
                    body.push(Inst { op, args });
                }
            }
        }
    }
    m
}

impl Module {
    fn function(&self, name: &str) -> u32 {
        *self
            .functions
            .keys()
            .find(|id| self.names.get(id).is_some_and(|n| n == name))
            .unwrap_or_else(|| panic!("no function {name}"))
    }

    /// Adds `times` x the operations of `body` to `tally`; with
    /// `only_loop`, only those inside the function's (first) loop. A loop in
    /// `philox` runs ten times. Calls of `is_hit_exact` are skipped.
    fn tally(&self, function: u32, times: f64, only_loop: bool, tally: &mut Tally) {
        let name = self.names.get(&function).cloned().unwrap_or_default();
        let trips = if name == "philox" { 10.0 } else { 1.0 };
        let body = &self.functions[&function];
        let mut loops: Vec<u32> = Vec::new();
        for inst in body {
            if inst.op == OP_LABEL && loops.last() == Some(&inst.args[0]) {
                loops.pop();
            }
            if inst.op == OP_LOOP_MERGE {
                loops.push(inst.args[0]);
            }
            let inside = !loops.is_empty();
            if only_loop && !inside {
                continue;
            }
            let scale = times * if inside { trips } else { 1.0 };
            if inst.op == OP_FUNCTION_CALL {
                if self.names.get(&inst.args[2]).is_some_and(|n| n == "is_hit_exact") {
                    continue;
                }
                self.tally(inst.args[2], scale, false, tally);
            } else if let Some((_, op_name)) = COUNTED.iter().find(|(o, _)| *o == inst.op) {
                let (lanes, width) = self.types.get(&inst.args[0]).copied().unwrap_or((1, 32));
                let wide = width == 64
                    || inst.args[2..]
                        .iter()
                        .any(|a| !self.types.contains_key(a) && self.is_wide_value(function, *a));
                *tally.entry((op_name, wide)).or_default() += scale * f64::from(lanes);
            }
        }
    }

    /// Whether value `id` of `function` has a 64-bit type.
    fn is_wide_value(&self, function: u32, id: u32) -> bool {
        self.functions[&function]
            .iter()
            .any(|i| i.args.len() > 1 && i.args[1] == id && self.types.get(&i.args[0]).is_some_and(|&(_, w)| w == 64))
    }
}

fn spirv(source: &str) -> Vec<u32> {
    let module = naga::front::wgsl::parse_str(source).unwrap_or_else(|e| panic!("{}", e.emit_to_string(source)));
    let info = naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::all())
        .validate(&module)
        .expect("a valid shader");
    let constants = naga::back::PipelineConstants::from([("WORKGROUP_SIZE".to_string(), 256.0)]);
    let (module, info) = naga::back::pipeline_constants::process_overrides(
        &module,
        &info,
        Some((naga::ShaderStage::Compute, "count_hits")),
        &constants,
    )
    .expect("overrides");
    let options = naga::back::spv::Options {
        lang_version: (1, 3),
        // Names for the functions; debug info adds no counted operations.
        flags: naga::back::spv::WriterFlags::DEBUG,
        ..Default::default()
    };
    let pipeline = naga::back::spv::PipelineOptions {
        shader_stage: naga::ShaderStage::Compute,
        entry_point: "count_hits".into(),
    };
    naga::back::spv::write_vec(&module, &info, &options, Some(&pipeline)).expect("SPIR-V")
}

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| "shaders/pi.wgsl".into());
    let template = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    println!("{path}");
    for int64 in [true, false] {
        let module = parse(&spirv(&pi::gpu::variant_of(&template, int64)));
        let mut tally = Tally::new();
        module.tally(module.function("count_hits"), 1.0, true, &mut tally);
        let total: f64 = tally.values().sum();
        let wide = tally.iter().filter(|((_, w), _)| *w).fold(0.0, |a, (_, n)| a + n);
        let muls: f64 = tally.iter().filter(|((o, _), _)| *o == "IMul").map(|(_, n)| n).sum();
        println!(
            "{} variant: {total} operations per block, {} per sample ({muls} multiplies per block, {wide} of all 64-bit)",
            if int64 { "int64" } else { "16-bit-limb" },
            total / 2.0
        );
        let line: Vec<String> = tally
            .iter()
            .map(|((op, w), n)| format!("{op}{} {n}", if *w { "(64)" } else { "" }))
            .collect();
        println!("  {}", line.join(", "));
    }
}
