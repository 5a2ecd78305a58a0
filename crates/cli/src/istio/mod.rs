//! `mesh-lambda istio generate`: from the same description as the Consul generator, the
//! Istio resources that put mesh-lambda in a caller's sidecar with what Istio's `WasmPlugin`
//! cannot set (`allow_on_headers_stop_iteration`, the failure policy): an `EnvoyFilter` that
//! adds the filter's complete Wasm extension config (pulled from an OCI registry by
//! istio-agent), puts it, disabled, before the router of the sidecar's port-80 outbound
//! routes and enables it on each Lambda upstream's mesh host; and the `ServiceEntry` and
//! `DestinationRule` pairs that make every way out of the filter TLS to Lambda.
//!
//! How the signed request leaves: the app calls `<mesh host>:80`. The filter keeps that
//! `:authority` and Envoy selects the route again (the route cache is cleared on the filter's
//! header write): in the mesh host's virtual host again, whose route sends the Lambda host
//! the filter signed for (`host_rewrite_literal`) through the mesh host's cluster, TLS to
//! Lambda. No virtual host of the shared port-80 route table (another team's `ServiceEntry`
//! for `*.amazonaws.com`, say) can claim it, and none for the Lambda host is made.

mod resources;

use crate::description::Description;
use crate::names::{is_dns_label, DescriptionError};
use crate::output::{generate, GenerateArgs, GeneratedFile};
use crate::usage::Failure;

/// `mesh-lambda istio ...`
#[derive(clap::Subcommand)]
pub enum Command {
    /// Write the Istio resources that load the filter into a caller's sidecar
    #[command(
        long_about = "Write the Istio resources (an EnvoyFilter, and a ServiceEntry and a \
DestinationRule per Lambda upstream) that load the filter into a caller's sidecar for its \
Lambda upstreams, the module pulled by istio-agent from the description's oci_image (with \
oci_digest). The description is the one `consul generate` reads (docs/src/istio.md); bad \
input is an error naming the item, and then nothing is written.",
        after_help = crate::examples!(
            "mesh-lambda istio generate description.json --out istio-resources",
            "kubectl apply -f istio-resources/istio/",
        )
    )]
    Generate(GenerateArgs),
}

pub fn run(command: &Command) -> Result<String, Failure> {
    let Command::Generate(args) = command;
    generate(&args.description, &args.out, |d| {
        let oci = check_istio_fields(d)?;
        Ok(resources::files(d, oci))
    })
}

/// The OCI image (Istio's agent pulls the module; a file or a URL is not how Istio gets it),
/// and upstream names that can name Kubernetes resources.
fn check_istio_fields(d: &Description) -> Result<&crate::wasm_source::OciImage, DescriptionError> {
    let oci = d.wasm.oci.as_ref().ok_or_else(|| {
        DescriptionError(
            "oci_image: is required by istio generate (with oci_digest): Istio's agent pulls \
             the filter from an OCI registry"
                .into(),
        )
    })?;
    if !is_dns_label(&resource_name(&d.service)) {
        return Err(DescriptionError(format!(
            "service: {:?} cannot name Kubernetes resources (lowercase letters, digits, '-')",
            d.service
        )));
    }
    for (i, u) in d.upstreams.iter().enumerate() {
        if !is_dns_label(&resource_name(&u.name)) {
            return Err(DescriptionError(format!(
                "upstreams[{i}].name: {:?} cannot name Kubernetes resources (lowercase letters, digits, '-')",
                u.name
            )));
        }
    }
    Ok(oci)
}

/// An upstream's or service's name as Kubernetes names take it (`_` is not allowed there).
fn resource_name(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

/// The `EnvoyFilter`'s name, `mesh-lambda-<service>`: it lives in the caller's namespace,
/// where each service's is its own (one name for all would make a second service's
/// replace the first's, whose calls then fail).
fn envoy_filter_name(d: &Description) -> String {
    format!("mesh-lambda-{}", resource_name(&d.service))
}

/// The files, in the order they are listed to the user.
fn file_list<const N: usize>(resources: [(&'static str, String); N]) -> Vec<GeneratedFile> {
    resources
        .into_iter()
        .map(|(path, contents)| GeneratedFile {
            path: path.into(),
            contents,
        })
        .collect()
}
