//! `mesh-lambda consul generate`: from a description of a caller's Lambda upstreams, the
//! Consul config entries that put mesh-lambda in the caller's sidecar through Consul's escape
//! hatches (an upstream listener per Lambda upstream in service-defaults, static clusters in
//! proxy-defaults), as HCL and as consul-k8s resources, and the upstream stanzas.

pub mod envoy;
pub mod files;

use crate::description::Description;
use crate::names::DescriptionError;
use crate::output::{generate, GenerateArgs};
use crate::usage::Failure;

/// `mesh-lambda consul ...`
#[derive(clap::Subcommand)]
pub enum Command {
    /// Write the Consul config entries that load the filter into a caller's sidecar
    #[command(
        long_about = "Write the Consul config entries (HCL, and the same as consul-k8s YAML) that \
load the filter into a caller's sidecar for its Lambda upstreams, through Consul's escape \
hatches: a listener per upstream (service-defaults), the clusters to Lambda and to the \
credential endpoints (proxy-defaults), and the upstream stanzas. Every file is commented \
with how to apply it. The description's fields are in the book (docs/src/consul.md); bad \
input is an error naming the item, and then nothing is written.",
        after_help = crate::examples!(
            "mesh-lambda consul generate description.json --out consul-entries",
            "mesh-lambda consul generate envoy/consul/example/description.json --out out/",
        )
    )]
    Generate(GenerateArgs),
}

pub fn run(command: &Command) -> Result<String, Failure> {
    let Command::Generate(args) = command;
    generate(&args.description, &args.out, |d| {
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
