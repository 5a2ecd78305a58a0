//! The one read of the caller's headers and the one write of the outgoing ones, as the host
//! serializes them. The SDK's `get_http_request_headers` turns every name and value into a
//! `String` (about 40 k instructions per request, measured), and its `set_map_bytes` takes
//! pairs to serialize; taking and giving the buffer as it is (`header_pairs`) avoids both.

use proxy_wasm::types::{MapType, Status};
use std::ptr::null_mut;

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_get_header_map_pairs(
        map_type: MapType,
        return_map_data: *mut *mut u8,
        return_map_size: *mut usize,
    ) -> Status;
    fn proxy_set_header_map_pairs(
        map_type: MapType,
        map_data: *const u8,
        map_size: usize,
    ) -> Status;
}

/// The serialized request header map (empty if the host has none).
pub fn serialized_request_headers() -> Vec<u8> {
    let mut data: *mut u8 = null_mut();
    let mut size: usize = 0;
    // SAFETY: the host writes a pointer to `size` bytes that it allocated through this
    // module's `proxy_on_memory_allocate`, which the SDK implements as a forgotten
    // `Vec::<u8>::with_capacity(size)`; taking it back with that length and capacity is how
    // the SDK itself frees it (`hostcalls::get_map`).
    unsafe {
        match proxy_get_header_map_pairs(MapType::HttpRequestHeaders, &mut data, &mut size) {
            Status::Ok if !data.is_null() => Vec::from_raw_parts(data, size, size),
            _ => Vec::new(),
        }
    }
}

/// Replaces the request header map with `serialized` (the `header_pairs` format).
pub fn set_request_headers(serialized: &[u8]) -> Result<(), Status> {
    // SAFETY: the host reads `serialized.len()` bytes from the pointer during the call.
    match unsafe {
        proxy_set_header_map_pairs(
            MapType::HttpRequestHeaders,
            serialized.as_ptr(),
            serialized.len(),
        )
    } {
        Status::Ok => Ok(()),
        status => Err(status),
    }
}
