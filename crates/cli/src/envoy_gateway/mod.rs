//! `mesh-lambda envoy-gateway generate`: from the same description as the Consul generator,
//! the Envoy Gateway resources that route a path of the Gateway to each Lambda function
//! through mesh-lambda. Envoy Gateway's `EnvoyExtensionPolicy` cannot set
//! `allow_on_headers_stop_iteration`, so an `EnvoyPatchPolicy` (raw xDS JSON patches, which
//! Envoy Gateway must be configured to accept: `extensionApis.enableEnvoyPatchPolicy: true`)
//! adds the filter, disabled, before the listener's router and enables it on the upstream's
//! routes. Raw xDS has no agent to pull an OCI image, so the module comes from `wasm_url`
//! (Envoy's remote source, checked against `wasm_sha256`).
//!
//! Per upstream: an `HTTPRoute` (`PathPrefix /<name>`) to a `Backend` (the Lambda host, port
//! 443) that a `BackendTLSPolicy` makes TLS. After the filter rewrites the request Envoy
//! selects the route again (verified on Envoy 1.36 and 1.40): the filter keeps the caller's
//! host, so the virtual host is the caller's request's, and the same `HTTPRoute` matches the
//! exact Invoke path with the route key header the filter writes (its plugin name), so the
//! signed request leaves by that upstream's TLS backend, never by another route of the
//! Gateway (another upstream invoking the same function included). The policy sets the Host
//! the filter signed for on those routes.

mod resources;

use crate::description::Description;
use crate::names::{is_dns_label, DescriptionError};
use crate::output::{generate, GenerateArgs};
use crate::usage::Failure;
use crate::wasm_source::WasmUrl;

/// `mesh-lambda envoy-gateway ...`
#[derive(clap::Subcommand)]
pub enum Command {
    /// Write the Envoy Gateway resources that route a Gateway path per Lambda upstream
    #[command(
        long_about = "Write the Envoy Gateway resources (HTTPRoute, Backend, BackendTLSPolicy, \
EnvoyPatchPolicy) that route a path of the Gateway to each Lambda upstream through the \
filter, the module fetched by Envoy from the description's wasm_url (with wasm_sha256). \
Envoy Gateway must accept EnvoyPatchPolicy (extensionApis.enableEnvoyPatchPolicy: true). \
The description is the one `consul generate` reads (docs/src/envoy-gateway.md); bad input \
is an error naming the item, and then nothing is written.",
        after_help = crate::examples!(
            "mesh-lambda envoy-gateway generate description.json --out eg-resources",
            "kubectl apply -f eg-resources/envoy-gateway/",
        )
    )]
    Generate(GenerateArgs),
}

pub fn run(command: &Command) -> Result<String, Failure> {
    let Command::Generate(args) = command;
    generate(&args.description, &args.out, |d| {
        let url = check_gateway_fields(d)?;
        Ok(resources::files(d, url))
    })
}

/// The `.wasm` URL (an `EnvoyPatchPolicy` patches raw xDS, where only Envoy's http(s) remote
/// source works), and upstream names that can name Kubernetes resources and paths.
fn check_gateway_fields(d: &Description) -> Result<&WasmUrl, DescriptionError> {
    let url = d.wasm.url.as_ref().ok_or_else(|| {
        DescriptionError(
            "wasm_url: is required by envoy-gateway generate (with wasm_sha256): the \
             EnvoyPatchPolicy patches raw xDS, where Envoy fetches the module over http(s)"
                .into(),
        )
    })?;
    if !is_dns_label(&d.service) {
        return Err(DescriptionError(format!(
            "service: {:?} cannot name Kubernetes resources (lowercase letters, digits, '-')",
            d.service
        )));
    }
    for (i, u) in d.upstreams.iter().enumerate() {
        if !is_dns_label(&u.name) {
            return Err(DescriptionError(format!(
                "upstreams[{i}].name: {:?} cannot name Kubernetes resources (lowercase letters, digits, '-')",
                u.name
            )));
        }
    }
    Ok(url)
}
