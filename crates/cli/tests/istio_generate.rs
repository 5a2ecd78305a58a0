//! `mesh-lambda istio generate` as a user runs it: the shipped example's output is the golden
//! copy under `envoy/istio/example/` (regenerate with `UPDATE_GOLDEN=1 cargo test`), and what
//! Istio cannot use is refused naming the field, writing nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{envoy_dir, matches_golden_files, one_upstream, refused, SHA};

const FILES: [&str; 3] = [
    "istio/service-entries.yaml",
    "istio/destination-rules.yaml",
    "istio/envoy-filter.yaml",
];

#[test]
fn the_example_matches_its_golden_files() {
    matches_golden_files("istio", &envoy_dir("istio/example"), &FILES);
}

#[test]
fn what_istio_cannot_use_is_refused() {
    let oci = format!(
        r#""oci_image":"oci://registry.example.com/mesh-lambda:0.1.0","oci_digest":"sha256:{SHA}""#
    );
    refused(
        "istio",
        &one_upstream(&format!(
            r#""wasm_url":"https://h/x.wasm","wasm_sha256":"{SHA}""#
        )),
        "oci_image: is required by istio generate",
    );
    refused(
        "istio",
        &one_upstream(&format!(
            r#""oci_image":"oci://registry.example.com/mesh-lambda@sha256:{SHA}","oci_digest":"sha256:{SHA}""#
        )),
        "oci_image: \"oci://registry.example.com/mesh-lambda@sha256:",
    );
    refused(
        "istio",
        &one_upstream(&format!(
            r#""oci_image":"oci://registry.example.com/mesh-lambda:0.1.0","oci_digest":"sha256:{}""#,
            &SHA[1..]
        )),
        "oci_digest: \"sha256:123",
    );
    refused(
        "istio",
        &one_upstream(&format!(r#"{oci},"istio":{{"namespace":"Shop"}}"#)),
        "istio.namespace: \"Shop\" is not a Kubernetes name",
    );
    refused(
        "istio",
        &one_upstream(&format!(
            r#"{oci},"istio":{{"workload_labels":{{"app":"a b"}}}}"#
        )),
        "istio.workload_labels.app:",
    );
    refused(
        "istio",
        &one_upstream(&format!(r#"{oci},"istio":{{"labels":{{}}}}"#)),
        "istio.labels: unknown field",
    );
    refused(
        "istio",
        &format!(
            r#"{{"service":"api",{oci},"upstreams":[{{"name":"Auth.X","filter":{{"arn":"{}"}}}}]}}"#,
            common::ARN
        ),
        "upstreams[0].name: \"Auth.X\" is not a Consul service name",
    );
    refused(
        "istio",
        &format!(
            r#"{{"service":"api",{oci},"upstreams":[{{"name":"auth","mesh_host":"auth","filter":{{"arn":"{}"}}}}]}}"#,
            common::ARN
        ),
        "upstreams[0].mesh_host: \"auth\" is not a DNS name with a domain",
    );
}
