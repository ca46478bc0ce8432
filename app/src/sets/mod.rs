//! Measurement sets. So far: the measurement catalogue's REST route (the sets themselves
//! follow, on top of `crate::measurements`).

#[cfg(feature = "ssr")]
pub mod api;
