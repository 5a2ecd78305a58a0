//! `mesh-lambda envoy-gateway generate` as a user runs it: the shipped example's output is the
//! golden copy under `envoy/envoy-gateway/example/` (regenerate with `UPDATE_GOLDEN=1 cargo
//! test`), and what an EnvoyPatchPolicy cannot use is refused naming the field, writing nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{envoy_dir, matches_golden_files, one_upstream, refused, ARN, SHA};

const FILES: [&str; 2] = [
    "envoy-gateway/routes.yaml",
    "envoy-gateway/envoy-patch-policy.yaml",
];

#[test]
fn the_example_matches_its_golden_files() {
    matches_golden_files("envoy-gateway", &envoy_dir("envoy-gateway/example"), &FILES);
}

#[test]
fn what_envoy_gateway_cannot_use_is_refused() {
    let url = format!(r#""wasm_url":"https://h.example/x.wasm","wasm_sha256":"{SHA}""#);
    refused(
        "envoy-gateway",
        &one_upstream(&format!(
            r#""oci_image":"oci://registry.example.com/mesh-lambda:0.1.0","oci_digest":"sha256:{SHA}""#
        )),
        "wasm_url: is required by envoy-gateway generate",
    );
    refused(
        "envoy-gateway",
        &one_upstream(r#""wasm_file":"/x.wasm""#),
        "wasm_url: is required by envoy-gateway generate",
    );
    refused(
        "envoy-gateway",
        &one_upstream(&format!(
            r#""wasm_url":"https://h.example/x.wasm","wasm_sha256":"{}""#,
            SHA.to_uppercase()
        )),
        "wasm_sha256: \"0123456789ABCDEF",
    );
    refused(
        "envoy-gateway",
        &one_upstream(&format!(
            r#""wasm_url":"https://user@h.example/x.wasm","wasm_sha256":"{SHA}""#
        )),
        "wasm_url: \"https://user@h.example/x.wasm\" is not an http or https URL",
    );
    refused(
        "envoy-gateway",
        &one_upstream(&format!(r#"{url},"envoy_gateway":{{"gateway":"EG"}}"#)),
        "envoy_gateway.gateway: \"EG\" is not a Kubernetes name",
    );
    refused(
        "envoy-gateway",
        &one_upstream(&format!(r#"{url},"envoy_gateway":{{"port":80}}"#)),
        "envoy_gateway.port: unknown field",
    );
    refused(
        "envoy-gateway",
        &format!(
            r#"{{"service":"api",{url},"upstreams":[{{"name":"Auth_1","filter":{{"arn":"{ARN}"}}}}]}}"#
        ),
        "upstreams[0].name: \"Auth_1\" cannot name Kubernetes resources",
    );
}
