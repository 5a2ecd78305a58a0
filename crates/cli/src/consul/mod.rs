//! `mesh-lambda consul generate`: from a description of a caller's Lambda upstreams, the
//! Consul config entries that put mesh-lambda in the caller's sidecar through Consul's escape
//! hatches (an upstream listener per Lambda upstream in service-defaults, static clusters in
//! proxy-defaults), as HCL and as consul-k8s resources, and the upstream stanzas.

pub mod envoy;
pub mod files;

use crate::description::Description;
use crate::names::DescriptionError;
use crate::output::{generate, generate_arguments};
use crate::usage::Failure;

// No line continuation at the start: it would eat the indentation.

pub fn run(args: &[&str]) -> Result<String, Failure> {
    let (description, out) = generate_arguments("consul", args)?;
    generate(description, out, |d| {
        check_consul_fields(d)?;
        Ok(files::all_files(d))
    })
}

/// What the Consul generator needs beyond what every generator reads: a listener port per
/// upstream, and the `.wasm` as a file or a URL (exactly one).
pub fn check_consul_fields(d: &Description) -> Result<(), DescriptionError> {
    match (&d.wasm.file, &d.wasm.url) {
        (Some(_), Some(_)) => {
            return Err(DescriptionError(
                "wasm_url: give wasm_file or wasm_url, not both (the sidecar loads one)".into(),
            ))
        }
        (None, None) => {
            return Err(DescriptionError(
                "wasm_file: is required: the path, on the sidecar, of the .wasm (or give wasm_url and wasm_sha256 instead)".into(),
            ))
        }
        _ => {}
    }
    for (i, u) in d.upstreams.iter().enumerate() {
        if u.bind_port.is_none() {
            return Err(DescriptionError(format!(
                "upstreams[{i}].local_bind_port: is required: the port the caller reaches {:?} on",
                u.name
            )));
        }
    }
    Ok(())
}
