//! The filter's Wasm configuration, one for every generator (Consul's listener, Istio's
//! extension config, Envoy Gateway's patch): what no platform's own Wasm loader sets, and
//! what the filter needs, lives here once.

pub use mesh_lambda_core::invoke::outgoing::ROUTE_HEADER;
use serde_json::{json, Value};

/// One VM for every upstream's filter: the credentials are fetched once per proxy.
pub const VM_ID: &str = "mesh-lambda";
/// The type of the HTTP filter's configuration.
pub const WASM_TYPE_URL: &str = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
/// How long Envoy waits for one fetch of a remote module.
const REMOTE_FETCH_TIMEOUT: &str = "30s";
/// Retries of a failed fetch (or of a module whose sha256 differs), 0.5 s apart and doubling:
/// Envoy's start waits for them, then runs the filter failing closed (503) if none worked.
const REMOTE_FETCH_RETRIES: u32 = 3;

/// The AWS variables the filter's credential providers read, passed into the VM: static keys,
/// the container endpoint (ECS, EKS Pod Identity and its token file), IMDS's switch, IRSA's
/// web identity and STS region, the shared credentials file and profile.
pub const HOST_ENV_KEYS: [&str; 16] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_STS_REGIONAL_ENDPOINTS",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_PROFILE",
];

/// Where the VM's code comes from.
pub enum Code<'a> {
    /// A file on the proxy.
    Local(&'a str),
    /// Envoy's remote source: fetched from `uri` through `cluster`, refused unless its
    /// sha256 is `sha256`. Istio's agent also takes `oci://` URIs here (with the manifest
    /// digest) and hands Envoy a local file instead.
    Remote {
        uri: &'a str,
        cluster: &'a str,
        sha256: &'a str,
    },
}

impl Code<'_> {
    fn source(&self) -> Value {
        match self {
            Code::Local(filename) => json!({"local": {"filename": filename}}),
            Code::Remote {
                uri,
                cluster,
                sha256,
            } => json!({"remote": {
                "http_uri": {"uri": uri, "cluster": cluster, "timeout": REMOTE_FETCH_TIMEOUT},
                "sha256": sha256,
                "retry_policy": {
                    "num_retries": REMOTE_FETCH_RETRIES,
                    "retry_back_off": {"base_interval": "0.5s", "max_interval": "5s"},
                },
            }}),
        }
    }
}

/// The `envoy.extensions.filters.http.wasm.v3.Wasm` message (with its `@type`) that runs the
/// filter for upstream `upstream` with `plugin_configuration` (the filter's JSON).
pub fn wasm_config(upstream: &str, plugin_configuration: &str, code: &Code) -> Value {
    named_wasm_config(&plugin_name(upstream), plugin_configuration, code)
}

/// The same, for the plugin named `name` (the Lambda gateway's one filter of many functions).
pub fn named_wasm_config(name: &str, plugin_configuration: &str, code: &Code) -> Value {
    json!({
        "@type": WASM_TYPE_URL,
        "config": {
            "name": name,
            // Envoy >= 1.35: without it the filter never gets the body it signs.
            "allow_on_headers_stop_iteration": true,
            // Never fail open: an unsigned request must not leave. After a crash of the VM,
            // the request it was serving gets a 503 and the next ones a fresh VM.
            "failure_policy": "FAIL_RELOAD",
            "vm_config": {
                "vm_id": VM_ID,
                "runtime": "envoy.wasm.runtime.v8",
                "code": code.source(),
                "environment_variables": {"host_env_keys": HOST_ENV_KEYS},
            },
            "configuration": {
                "@type": "type.googleapis.com/google.protobuf.StringValue",
                "value": plugin_configuration,
            },
        },
    })
}

/// The Wasm plugin's name for upstream `upstream`: the filter writes it into the signed
/// call's route key header (`ROUTE_HEADER`), which a route shared with other upstreams
/// matches. Unique per upstream name, so upstreams invoking one function reach their own
/// routes.
pub fn plugin_name(upstream: &str) -> String {
    format!("mesh-lambda/{upstream}")
}

/// The name the filter has in an HTTP filter chain (and in `typed_per_filter_config`) when
/// one chain holds one per upstream.
pub fn filter_name(upstream: &str) -> String {
    format!("mesh-lambda-{upstream}")
}

/// A route's `typed_per_filter_config` value that turns on a filter disabled by default:
/// Envoy refuses a `FilterConfig` without `config`, and reads an empty one as "enabled".
pub fn enable_on_route() -> Value {
    json!({"@type": "type.googleapis.com/envoy.config.route.v3.FilterConfig", "config": {}})
}
