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

/// The Gateway's listener faces callers from outside the mesh: the filter there leaves the
/// caller's `x-amzn-trace-id` behind (X-Ray's sampling stays AWS's choice), unless the
/// description's `filter` says otherwise. The sidecar generators keep the filter's default
/// (on: tracing across the hop, for mesh callers).
#[test]
fn the_gateway_does_not_forward_the_callers_trace_id() {
    let dir = common::scratch("eg-trace");
    let description = |wasm: &str| {
        format!(
            r#"{{"service":"api",{wasm},"upstreams":[
              {{"name":"outside","local_bind_port":2345,"filter":{{"arn":"{ARN}","payload_passthrough":true}}}},
              {{"name":"traced","local_bind_port":2346,"filter":{{"arn":"{ARN}","payload_passthrough":true,"forward_trace_id":true}}}}]}}"#
        )
    };
    let generated = |platform: &str, wasm: &str| {
        let path = dir.join(format!("{platform}.json"));
        std::fs::write(&path, description(wasm)).unwrap();
        let out = dir.join(platform);
        let run = common::generate(platform, &path, &out);
        assert!(
            run.status.success(),
            "{platform}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        walk(&out)
    };
    let policy = generated(
        "envoy-gateway",
        &format!(r#""wasm_url":"https://h.example/x.wasm","wasm_sha256":"{SHA}""#),
    );
    let configurations: Vec<&str> = policy
        .lines()
        .filter(|l| l.contains("payload_passthrough"))
        .collect();
    assert_eq!(configurations.len(), 2, "{policy}");
    assert!(configurations[0].contains(r#"\"forward_trace_id\":false"#));
    assert!(configurations[1].contains(r#"\"forward_trace_id\":true"#));
    let sidecars = format!(
        r#""wasm_file":"/x.wasm","oci_image":"oci://r.example/m:1","oci_digest":"sha256:{SHA}""#
    );
    for sidecar in ["consul", "istio"] {
        let written = generated(sidecar, &sidecars);
        assert!(written.contains("payload_passthrough"), "{sidecar}");
        assert!(
            !written.contains(r#"forward_trace_id\":false"#),
            "{sidecar}"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// Every file under `dir`, concatenated.
fn walk(dir: &std::path::Path) -> String {
    let mut all = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all.push_str(&walk(&path));
        } else {
            all.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
    all
}
