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

/// Two upstreams invoking one function (here: unqualified and alias `live`) share the signed
/// request's exact path (a route's path match ignores the query): each one's route for it
/// also matches the route key its own filter writes (the Wasm plugin name), so neither
/// captures the other's calls.
#[test]
fn upstreams_invoking_one_function_get_routes_keyed_apart() {
    let dir = common::scratch("envoy-gateway-one-function");
    let description = format!(
        r#"{{"service":"api","wasm_url":"https://h.example/x.wasm","wasm_sha256":"{SHA}","upstreams":[
            {{"name":"latest","filter":{{"arn":"{ARN}","payload_passthrough":true}}}},
            {{"name":"live","filter":{{"arn":"{ARN}","qualifier":"live","payload_passthrough":true}}}}]}}"#
    );
    let path = dir.join("description.json");
    std::fs::write(&path, description).unwrap();
    let run = common::generate("envoy-gateway", &path, &dir.join("out"));
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let read = |file: &str| std::fs::read_to_string(dir.join("out").join(file)).unwrap();
    let (routes, policy) = (read(FILES[0]), read(FILES[1]));
    let invoke_path = "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aauthentication/invocations\"";
    assert_eq!(routes.matches(invoke_path).count(), 2, "{routes}");
    for name in ["latest", "live"] {
        let key = format!("mesh-lambda/{name}\n");
        assert_eq!(
            routes.matches(&format!("value: {key}")).count(),
            1,
            "{routes}"
        );
        assert_eq!(
            policy.matches(&format!("name: {key}")).count(),
            1,
            "{policy}"
        );
    }
    assert_eq!(routes.matches("name: x-mesh-lambda-route").count(), 2);
    std::fs::remove_dir_all(dir).unwrap();
}
