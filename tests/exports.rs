//! `src/exports.txt`, the exports the build keeps, names exactly the callbacks the glue

#![allow(clippy::unwrap_used)]
//! implements: a callback implemented but not kept would never be called (silently), one
//! kept but not implemented costs a VM entry per request for nothing.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// The SDK's trait methods and the ABI export that calls each (proxy-wasm 0.2 dispatcher).
const CALLBACKS: &[(&str, &str)] = &[
    ("on_vm_start", "proxy_on_vm_start"),
    ("on_configure", "proxy_on_configure"),
    ("on_tick", "proxy_on_tick"),
    ("on_queue_ready", "proxy_on_queue_ready"),
    ("on_done", "proxy_on_done"),
    ("on_log", "proxy_on_log"),
    ("on_http_call_response", "proxy_on_http_call_response"),
    ("on_grpc_call_response", "proxy_on_grpc_close"),
    (
        "on_grpc_stream_initial_metadata",
        "proxy_on_grpc_receive_initial_metadata",
    ),
    ("on_grpc_stream_message", "proxy_on_grpc_receive"),
    (
        "on_grpc_stream_trailing_metadata",
        "proxy_on_grpc_receive_trailing_metadata",
    ),
    ("on_grpc_stream_close", "proxy_on_grpc_close"),
    ("on_foreign_function", "proxy_on_foreign_function"),
    ("on_new_connection", "proxy_on_new_connection"),
    ("on_downstream_data", "proxy_on_downstream_data"),
    (
        "on_downstream_close",
        "proxy_on_downstream_connection_close",
    ),
    ("on_upstream_data", "proxy_on_upstream_data"),
    ("on_upstream_close", "proxy_on_upstream_connection_close"),
    ("on_http_request_headers", "proxy_on_request_headers"),
    ("on_http_request_body", "proxy_on_request_body"),
    ("on_http_request_trailers", "proxy_on_request_trailers"),
    ("on_http_response_headers", "proxy_on_response_headers"),
    ("on_http_response_body", "proxy_on_response_body"),
    ("on_http_response_trailers", "proxy_on_response_trailers"),
];

/// Exports every module needs, whatever it implements.
const PLUMBING: &[&str] = &[
    "memory",
    "_initialize",
    "proxy_abi_version_0_2_1",
    "proxy_on_memory_allocate",
    "proxy_on_context_create",
    "proxy_on_delete",
    // The SDK's defaults answer true; kept so the host asks.
    "proxy_on_vm_start",
    "proxy_on_configure",
];

fn glue_source() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut source = String::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            source.push_str(&fs::read_to_string(path).unwrap());
        }
    }
    source
}

fn kept_exports() -> BTreeSet<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/exports.txt");
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn kept_exports_are_the_implemented_callbacks() {
    let source = glue_source();
    let mut expected: BTreeSet<String> = PLUMBING.iter().map(|e| (*e).to_owned()).collect();
    for (method, export) in CALLBACKS {
        if source.contains(&format!("fn {method}(")) {
            expected.insert((*export).to_owned());
        }
    }
    assert_eq!(
        kept_exports(),
        expected,
        "src/exports.txt must list the plumbing and each callback implemented in src/"
    );
}

#[test]
fn the_glue_implements_the_request_path() {
    // Guards the scan above: if it stopped finding methods, the first test would pass on the
    // plumbing alone.
    let source = glue_source();
    for method in ["on_http_request_headers", "on_http_request_body", "on_tick"] {
        assert!(source.contains(&format!("fn {method}(")), "{method}");
    }
}
