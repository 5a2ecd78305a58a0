//! The command line's usage text (each command's lines) and the `Failure` a command gives,
//! which for a usage error carries that text.

pub const CONSUL_USAGE: &str = "  mesh-lambda consul generate <DESCRIPTION.json> --out <DIR>
                                    write the Consul config entries (HCL and consul-k8s YAML)
                                    that load the filter into a caller's sidecar for its Lambda
                                    upstreams; DESCRIPTION.json is described in the README";

pub const OCI_USAGE: &str =
    "  mesh-lambda oci package <WASM> --out <DIR> [--revision <GIT_SHA>] [--source <URL>]
                          [--wasm-variant]
                                    write DIR/plugin.wasm, DIR/plugin.wasm.sha256 and the OCI
                                    image layout DIR/oci-compat (the last layer a tar+gzip
                                    holding plugin.wasm); --wasm-variant adds DIR/oci-wasm (two
                                    layers: the vnd.module.wasm runtime config and the raw
                                    module, as Istio's fetcher wants). Reproducible: the created
                                    time is SOURCE_DATE_EPOCH (1970-01-01T00:00:00Z when unset),
                                    the module's sha256 is the manifest annotation
                                    dev.mesh-lambda.wasm.sha256. Prints `wasm sha256:<hex>` and
                                    `<layout> manifest sha256:<hex>` per layout
  mesh-lambda oci push <LAYOUT_DIR> <REFERENCE> [--plain-http] [--ca-file <PEM>]
                                    push a layout's image to REFERENCE, host[:port]/repo:tag;
                                    prints `pushed <REFERENCE>@sha256:<manifest digest>`
  mesh-lambda oci pull <REFERENCE> --out <DIR> [--plain-http] [--ca-file <PEM>]
                          [--sha256 <HEX>]
                                    pull by :tag or @sha256:<manifest digest>, check every
                                    digest, that it is a wasm image the loaders accept and the
                                    module's sha256 (annotation, --sha256); write
                                    DIR/plugin.wasm; prints `pulled <REFERENCE>@sha256:<manifest
                                    digest> wasm sha256:<hex>`
                                    Bounds: manifest and config 4 MiB, a layer 256 MiB, the
                                    compat layer's tar 256 MiB decompressed
                                    Registry credentials: MESH_LAMBDA_REGISTRY_USERNAME and
                                    MESH_LAMBDA_REGISTRY_PASSWORD for the registry (host[:port])
                                    MESH_LAMBDA_REGISTRY_HOST names, else REGISTRY_AUTH_FILE,
                                    else the docker config (DOCKER_CONFIG or ~/.docker; auths,
                                    credHelpers, credsStore), else anonymous. They go to that
                                    registry only, and to its token service only on the same
                                    host and port or the one MESH_LAMBDA_REGISTRY_TOKEN_SERVICE
                                    names (e.g. auth.docker.io). --plain-http talks HTTP (and allows a
                                    plain-http token service); --ca-file trusts a private CA";

pub const ISTIO_USAGE: &str = "  mesh-lambda istio generate <DESCRIPTION.json> --out <DIR>
                                    write the Istio resources (EnvoyFilter, ServiceEntry,
                                    DestinationRule) that load the filter, pulled from
                                    oci_image, into a caller's sidecar for its Lambda upstreams";

pub const ENVOY_GATEWAY_USAGE: &str =
    "  mesh-lambda envoy-gateway generate <DESCRIPTION.json> --out <DIR>
                                    write the Envoy Gateway resources (HTTPRoute, Backend,
                                    BackendTLSPolicy, EnvoyPatchPolicy) that route a Gateway
                                    path per Lambda upstream through the filter (from wasm_url)";

pub const GATEWAY_USAGE: &str = "  mesh-lambda gateway generate <DESCRIPTION.json> --out <DIR>
                                    write a Lambda gateway: its Envoy bootstrap (the filter
                                    with every function, routed by path prefix) and the Consul
                                    pieces that put it in the mesh (registration, intentions,
                                    service-defaults and service-routers; HCL and consul-k8s)";

pub fn usage() -> String {
    format!(
        "\
mesh-lambda: host-side tools for the mesh-lambda Envoy filter

Usage:
  mesh-lambda check-config <FILE>   check a filter configuration (the plugin's JSON) with the
                                    filter's own parser; FILE '-' reads standard input
{}
{}
{}
{}
{}
  mesh-lambda --help                this text
  mesh-lambda --version             the version, which is the filter's

Exit status: 0 done, 1 invalid input, 2 usage or file error.
",
        CONSUL_USAGE, OCI_USAGE, ISTIO_USAGE, ENVOY_GATEWAY_USAGE, GATEWAY_USAGE
    )
}

/// A failure and the exit status it gives.
pub struct Failure {
    pub status: u8,
    pub message: String,
}

impl Failure {
    pub fn usage(message: String) -> Self {
        Self {
            status: 2,
            message: format!("{message}\n\n{}", usage()),
        }
    }
}
