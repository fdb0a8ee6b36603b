//! Finding GPU adapters and opening a device: a quiet wgpu instance, the
//! `WGPU_BACKEND` / `WGPU_ADAPTER_NAME` selection, and the sink that turns
//! wgpu's asynchronous errors into [`GpuError`]s instead of panics.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::GpuError;

/// The environment variable that limits the backends searched (wgpu's own:
/// a comma-separated list such as `vulkan` or `vulkan,gl`).
pub const BACKEND_VAR: &str = "WGPU_BACKEND";

/// The environment variable that picks an adapter by name (a substring,
/// compared without case), as in wgpu's own examples.
pub const ADAPTER_NAME_VAR: &str = "WGPU_ADAPTER_NAME";

use crate::env::quote;

/// The backends to search: every one this build has, or those that
/// `WGPU_BACKEND` names. A value that names none of this build's backends
/// (a typo, or `metal` on Linux) is an error naming the variable, rather than
/// an empty search.
pub fn backends_from_env() -> Result<wgpu::Backends, GpuError> {
    let built = wgpu::Instance::enabled_backend_features();
    let Some(value) = crate::env::read(BACKEND_VAR, "a list of vulkan, metal, dx12, gl").map_err(GpuError::NoDevice)?
    else {
        return Ok(built);
    };
    let mut wanted = wgpu::Backends::empty();
    for name in value.split(',') {
        let one = wgpu::Backends::from_comma_list(name);
        if one.is_empty() {
            return Err(GpuError::NoDevice(format!(
                "{BACKEND_VAR}={}: {} is not a backend name (vulkan, metal, dx12, gl)",
                quote(&value),
                quote(name.trim())
            )));
        }
        wanted |= one;
    }
    if (wanted & built).is_empty() {
        return Err(GpuError::NoDevice(format!(
            "{BACKEND_VAR}={}: this build has none of those backends on this platform (it has {})",
            quote(&value),
            backend_names(built)
        )));
    }
    Ok(wanted & built)
}

/// `vulkan, gl`, say.
fn backend_names(backends: wgpu::Backends) -> String {
    let names: Vec<&str> = [
        (wgpu::Backends::VULKAN, "vulkan"),
        (wgpu::Backends::METAL, "metal"),
        (wgpu::Backends::DX12, "dx12"),
        (wgpu::Backends::GL, "gl"),
    ]
    .into_iter()
    .filter(|(b, _)| backends.contains(*b))
    .map(|(_, n)| n)
    .collect();
    if names.is_empty() {
        "no GPU backend".into()
    } else {
        names.join(", ")
    }
}

/// Window-system instance extensions a compute-only program never uses.
/// Mesa's device-selection layer opens a Wayland or X connection when an
/// instance enables them, and with `XDG_RUNTIME_DIR` unset libwayland prints
/// `error: XDG_RUNTIME_DIR is invalid or not set` on stderr.
#[cfg(all(unix, not(target_vendor = "apple"), not(target_os = "android")))]
const WINDOW_SYSTEM_EXTENSIONS: [&std::ffi::CStr; 3] =
    [c"VK_KHR_wayland_surface", c"VK_KHR_xcb_surface", c"VK_KHR_xlib_surface"];

/// A Vulkan-only instance without [`WINDOW_SYSTEM_EXTENSIONS`], or `None`
/// when Vulkan cannot be loaded.
#[cfg(all(unix, not(target_vendor = "apple"), not(target_os = "android")))]
fn quiet_vulkan_instance(flags: wgpu::InstanceFlags) -> Option<wgpu::Instance> {
    use wgpu::hal;
    let desc = hal::InstanceDescriptor {
        name: "pi",
        flags,
        memory_budget_thresholds: Default::default(),
        backend_options: Default::default(),
        telemetry: None,
        display: None,
    };
    let drop_window_system = Box::new(|args: hal::vulkan::CreateInstanceCallbackArgs| {
        args.extensions.retain(|e| !WINDOW_SYSTEM_EXTENSIONS.contains(e));
    });
    // SAFETY: the callback only leaves out surface extensions; wgpu-hal
    // records the list it actually enabled and refuses to make surfaces
    // without them, and this program never makes a surface.
    let raw = unsafe { hal::vulkan::Instance::init_with_callback(&desc, Some(drop_window_system)) }.ok()?;
    // SAFETY: `raw` was just made by wgpu-hal's Vulkan backend; wgpu takes
    // it over and destroys it with the returned instance.
    Some(unsafe { wgpu::Instance::from_hal::<hal::api::Vulkan>(raw) })
}

/// A wgpu instance for `backends`. Where Vulkan is the only backend asked
/// for on a Unix desktop platform, the instance enables no window-system
/// extensions, which keeps Mesa quiet; elsewhere it is wgpu's default one.
pub fn instance(backends: wgpu::Backends) -> wgpu::Instance {
    let flags = wgpu::InstanceFlags::from_build_config().with_env();
    #[cfg(all(unix, not(target_vendor = "apple"), not(target_os = "android")))]
    if backends == wgpu::Backends::VULKAN
        && let Some(instance) = quiet_vulkan_instance(flags)
    {
        return instance;
    }
    wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends,
        flags,
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    })
}

/// Whether a device type is a hardware GPU (not a software rasterizer).
pub fn is_hardware(t: wgpu::DeviceType) -> bool {
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

/// `name (Vulkan, DiscreteGpu)`.
fn short_name(info: &wgpu::AdapterInfo) -> String {
    format!("{} ({:?}, {:?})", info.name, info.backend, info.device_type)
}

/// The usable adapters, best first (discrete, integrated, virtual, other,
/// software; ties keep the driver's order): `WGPU_BACKEND` limits the
/// backends, `WGPU_ADAPTER_NAME` the names, `allow_software` the device
/// types. None usable, or `PI_GPU=none`, is [`GpuError::NoDevice`], saying
/// what was found.
pub fn adapters(allow_software: bool) -> Result<Vec<wgpu::Adapter>, GpuError> {
    if super::multi::hidden() {
        return Err(GpuError::NoDevice(format!(
            "{}=none hides every adapter",
            super::multi::GPU_ENV
        )));
    }
    let backends = backends_from_env()?;
    let instance = instance(backends);
    let found = pollster::block_on(instance.enumerate_adapters(backends));
    let wanted_name = crate::env::read(ADAPTER_NAME_VAR, "an adapter name").map_err(GpuError::NoDevice)?;
    let listed: Vec<String> = found.iter().map(|a| short_name(&a.get_info())).collect();
    let mut usable: Vec<wgpu::Adapter> = found
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
    if !usable.is_empty() {
        return Ok(usable);
    }
    let mut why = match &wanted_name {
        Some(w) => format!(
            "{ADAPTER_NAME_VAR}={} matches no {}",
            quote(w),
            if allow_software { "adapter" } else { "hardware adapter" }
        ),
        None if listed.is_empty() => format!("no adapter found (searched: {})", backend_names(backends)),
        None => "no hardware adapter (software adapters not allowed)".to_string(),
    };
    if !listed.is_empty() {
        why.push_str(&format!("; found: {}", listed.join(", ")));
    }
    Err(GpuError::NoDevice(why))
}

/// Errors reported by wgpu outside any call's control, recorded by the
/// device's callbacks instead of panicking.
#[derive(Default)]
pub struct ErrorSink {
    /// The first uncaptured error not yet reported by a call.
    error: Mutex<Option<String>>,
    /// Why the device was lost, once it is.
    lost: Mutex<Option<String>>,
    /// Fast check for `lost`.
    is_lost: AtomicBool,
}

impl ErrorSink {
    /// A sink that receives `device`'s uncaptured errors and its loss.
    pub fn attach(device: &wgpu::Device) -> Arc<ErrorSink> {
        let sink = Arc::new(ErrorSink::default());
        let s = Arc::clone(&sink);
        device.on_uncaptured_error(Arc::new(move |e| s.record_error(e)));
        let s = Arc::clone(&sink);
        device.set_device_lost_callback(move |reason, message| s.record_lost(reason, message));
        sink
    }

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
    pub fn check(&self) -> Result<(), GpuError> {
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

/// Opens a device on `adapter` with the adapter's own limits, and with
/// `SHADER_INT64` when `int64`.
pub fn open(adapter: &wgpu::Adapter, int64: bool) -> Result<(wgpu::Device, wgpu::Queue), GpuError> {
    let required_features = if int64 {
        wgpu::Features::SHADER_INT64
    } else {
        wgpu::Features::empty()
    };
    pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("pi device"),
        required_features,
        required_limits: adapter.limits(),
        ..Default::default()
    }))
    .map_err(|e| GpuError::Device(format!("{}: request_device failed: {e}", adapter.get_info().name)))
}
