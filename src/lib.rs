//! `pi`: a Monte Carlo estimate of pi from a counter-based stream.
//!
//! Samples come from Philox4x32-10 ([`stream`]), so the CPU backend
//! ([`cpu`]), the GPU backend ([`gpu`], a WGSL compute shader run by wgpu)
//! and the pure-Python reference count exactly the same hits for the same
//! `(seed, first, count)`, and any split of a run adds up to the whole.
//! [`engine`] picks and reuses a backend; [`ffi`] exports it as a C ABI
//! (`include/pi.h`).

#![deny(missing_docs)]

pub mod cpu;
pub mod engine;
pub mod env;
pub mod ffi;
pub mod gpu;
pub mod stream;

pub use engine::{Backend, Engine, Error};
pub use stream::Philox4x32;
