//! The host calls of the request path made through the raw ABI: the reads of the request's
//! and the response's header maps and the one write of the outgoing ones, as the host
//! serializes them; the local response; the metrics. The SDK's
//! `get_http_request_headers` turns every name and value into a `String` (about 40 k
//! instructions per request, measured), its `set_map_bytes` takes pairs to serialize, its
//! `get_http_response_header` panics on a value that is not UTF-8 (header values may hold any
//! byte from 0x80 up), and its `send_http_response` takes header values as text only.

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

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_send_local_response(
        status_code: u32,
        status_code_details_data: *const u8,
        status_code_details_size: usize,
        body_data: *const u8,
        body_size: usize,
        headers_data: *const u8,
        headers_size: usize,
        grpc_status: i32,
    ) -> Status;
}

/// Answers the current stream with `status`, the serialized `headers` and `body` (header
/// values as bytes, which the SDK's `send_http_response` cannot take).
pub fn send_local_response(status: u32, headers: &[u8], body: &[u8]) -> Result<(), Status> {
    const DETAILS: &str = "mesh-lambda";
    // SAFETY: the host reads each pointer's bytes, of the sizes given, during the call.
    match unsafe {
        proxy_send_local_response(
            status,
            DETAILS.as_ptr(),
            DETAILS.len(),
            body.as_ptr(),
            body.len(),
            headers.as_ptr(),
            headers.len(),
            -1,
        )
    } {
        Status::Ok => Ok(()),
        status => Err(status),
    }
}

/// A serialized header map (empty if the host has none).
pub fn serialized_headers(map: MapType) -> Vec<u8> {
    let mut data: *mut u8 = null_mut();
    let mut size: usize = 0;
    // SAFETY: the host writes a pointer to `size` bytes that it allocated through this
    // module's `proxy_on_memory_allocate`, which the SDK implements as a forgotten
    // `Vec::<u8>::with_capacity(size)`; taking it back with that length and capacity is how
    // the SDK itself frees it (`hostcalls::get_map`).
    unsafe {
        match proxy_get_header_map_pairs(map, &mut data, &mut size) {
            Status::Ok if !data.is_null() => Vec::from_raw_parts(data, size, size),
            _ => Vec::new(),
        }
    }
}

/// Replaces a header map with `serialized` (the `header_pairs` format).
pub fn set_headers(map: MapType, serialized: &[u8]) -> Result<(), Status> {
    // SAFETY: the host reads `serialized.len()` bytes from the pointer during the call.
    match unsafe { proxy_set_header_map_pairs(map, serialized.as_ptr(), serialized.len()) } {
        Status::Ok => Ok(()),
        status => Err(status),
    }
}

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_define_metric(
        metric_type: u32,
        name_data: *const u8,
        name_size: usize,
        return_id: *mut u32,
    ) -> Status;
    fn proxy_increment_metric(metric_id: u32, offset: i64) -> Status;
    fn proxy_record_metric(metric_id: u32, value: u64) -> Status;
}

/// Metric calls with every status returned (the SDK's `define_metric` panics on any but Ok).
pub fn define_metric(metric_type: u32, name: &str) -> Result<u32, Status> {
    let mut id: u32 = 0;
    // SAFETY: the host reads `name.len()` bytes from the pointer and writes one u32 to `id`.
    match unsafe { proxy_define_metric(metric_type, name.as_ptr(), name.len(), &mut id) } {
        Status::Ok => Ok(id),
        status => Err(status),
    }
}

pub fn increment_metric(id: u32, offset: i64) -> Result<(), Status> {
    // SAFETY: no pointers.
    match unsafe { proxy_increment_metric(id, offset) } {
        Status::Ok => Ok(()),
        status => Err(status),
    }
}

pub fn record_metric(id: u32, value: u64) -> Result<(), Status> {
    // SAFETY: no pointers.
    match unsafe { proxy_record_metric(id, value) } {
        Status::Ok => Ok(()),
        status => Err(status),
    }
}
