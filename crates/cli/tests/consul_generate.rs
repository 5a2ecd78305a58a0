//! `mesh-lambda consul generate` as a user runs it: the shipped example's output is the
//! golden copy under `envoy/consul/example/` (regenerate with `UPDATE_GOLDEN=1 cargo test`),
//! and bad descriptions fail naming the item, writing nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{
    envoy_dir, generate as generate_for, matches_golden_files, refused as refused_by, ARN, SHA,
};
use std::path::{Path, PathBuf};
use std::process::Output;

const FILES: [&str; 6] = [
    "consul/service-defaults.hcl",
    "consul/proxy-defaults.hcl",
    "consul/upstreams.hcl",
    "kubernetes/service-defaults.yaml",
    "kubernetes/proxy-defaults.yaml",
    "kubernetes/upstreams-annotation.yaml",
];

fn scratch(name: &str) -> PathBuf {
    common::scratch(&format!("consul-{name}"))
}

fn generate(description: &Path, out: &Path) -> Output {
    generate_for("consul", description, out)
}

fn refused(description: &str, needle: &str) {
    refused_by("consul", description, needle);
}

#[test]
fn the_example_matches_its_golden_files() {
    matches_golden_files("consul", &envoy_dir("consul/example"), &FILES);
}

/// The second example: the `.wasm` fetched from a URL rather than read from a file.
#[test]
fn the_wasm_url_example_matches_its_golden_files() {
    matches_golden_files("consul", &envoy_dir("consul/example-wasm-url"), &FILES);
}

/// A symlink planted at the old predictable temporary name (`<name>.partial`) is not
/// written through; an output folder that is a symlink leading outside `--out` is refused.
#[test]
fn planted_symlinks_are_not_followed() {
    let dir = scratch("symlinks");
    let (out, outside) = (dir.join("out"), dir.join("outside"));
    std::fs::create_dir_all(out.join("consul")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    let victim = outside.join("victim");
    std::fs::write(&victim, "untouched").unwrap();
    let partial = out.join("consul/service-defaults.partial");
    std::os::unix::fs::symlink(&victim, &partial).unwrap();
    let description = envoy_dir("consul/example/description.json");
    let run = generate(&description, &out);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
    assert!(partial.is_symlink());
    assert!(!out.join("consul/service-defaults.hcl").is_symlink());

    std::fs::remove_dir_all(out.join("kubernetes")).unwrap();
    std::os::unix::fs::symlink(&outside, out.join("kubernetes")).unwrap();
    let run = generate(&description, &out);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("it is a symlink that leads outside"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 1);
}

/// Generates from `description` in `dir`; the service-defaults file written.
fn generated_service_defaults(dir: &Path, description: &str) -> String {
    std::fs::write(dir.join("description.json"), description).unwrap();
    let run = generate(&dir.join("description.json"), &dir.join("out"));
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::read_to_string(dir.join("out/consul/service-defaults.hcl")).unwrap()
}

fn with_upstreams(upstreams: &str) -> String {
    format!(
        r#"{{"service":"api","wasm_file":"/etc/envoy/mesh_lambda.wasm","upstreams":[{upstreams}]}}"#
    )
}

#[test]
fn bad_descriptions_name_the_item_and_write_nothing() {
    let ok =
        format!(r#"{{"name":"authentication","local_bind_port":2345,"filter":{{"arn":"{ARN}"}}}}"#);
    refused(
        &with_upstreams(&format!(
            r#"{ok},{{"name":"authentication","local_bind_port":2346,"filter":{{"arn":"{ARN}"}}}}"#
        )),
        "upstreams[1].name: \"authentication\" is also upstreams[0]'s name",
    );
    refused(
        &with_upstreams(&format!(
            r#"{ok},{{"name":"billing","local_bind_port":2345,"filter":{{"arn":"{ARN}"}}}}"#
        )),
        "upstreams[1].local_bind_port: 127.0.0.1:2345 clashes with upstreams[0]",
    );
    refused(
        &with_upstreams(&format!(
            r#"{ok},{{"name":"billing","local_bind_port":2345,"local_bind_address":"0.0.0.0","filter":{{"arn":"{ARN}"}}}}"#
        )),
        "clashes with upstreams[0]",
    );
    refused(
        &with_upstreams(
            r#"{"name":"authentication","local_bind_port":2345,"filter":{"arn":"arn:aws:s3:::bucket"}}"#,
        ),
        "upstreams[0].filter.arn: \"arn:aws:s3:::bucket\" is not a Lambda function ARN",
    );
    refused(
        &with_upstreams(&format!(
            r#"{{"name":"authentication","local_bind_port":2345,"filter":{{"arn":"{ARN}","invocation_mode":"sideways"}}}}"#
        )),
        "upstreams[0].filter.invocation_mode: unknown value \"sideways\"",
    );
    refused(
        &with_upstreams(&format!(
            r#"{{"name":"authentication","local_bind_prot":2345,"filter":{{"arn":"{ARN}"}}}}"#
        )),
        "upstreams[0].local_bind_prot: unknown field \"local_bind_prot\"",
    );
    refused(
        &with_upstreams(&format!(
            r#"{{"name":"authentication","local_bind_port":70000,"filter":{{"arn":"{ARN}"}}}}"#
        )),
        "upstreams[0].local_bind_port: expected a whole number from 1 to 65535, got 70000",
    );
    refused(
        &with_upstreams(&format!(
            r#"{{"name":"auth entication","local_bind_port":2345,"filter":{{"arn":"{ARN}"}}}}"#
        )),
        "upstreams[0].name: \"auth entication\" is not a Consul service name",
    );
    refused(
        &format!(r#"{{"service":"api","upstreams":[{ok}]}}"#),
        "wasm_file: is required",
    );
    refused(
        &format!(
            r#"{{"service":"api","wasm_file":"/x.wasm","wasm_url":"https://h/x.wasm","wasm_sha256":"{SHA}","upstreams":[{ok}]}}"#
        ),
        "wasm_url: give wasm_file or wasm_url, not both",
    );
    refused(
        &format!(r#"{{"service":"api","wasm_url":"https://h/x.wasm","upstreams":[{ok}]}}"#),
        "wasm_sha256: is required with wasm_url",
    );
    refused(
        &with_upstreams(
            r#"{"name":"authentication","filter":{"arn":"arn:aws:lambda:us-east-1:123456789012:function:f"}}"#,
        ),
        "upstreams[0].local_bind_port: is required",
    );
    refused(
        &with_upstreams(&format!(
            r#"{ok},{{"name":"billing","local_bind_port":2346,"mesh_host":"authentication.lambda.internal","filter":{{"arn":"{ARN}"}}}}"#
        )),
        "upstreams[1].mesh_host: \"authentication.lambda.internal\" is also upstreams[0]'s",
    );
    for (fields, needle) in [
        (
            format!(r#""wasm_url":"ftp://h/x.wasm","wasm_sha256":"{SHA}""#),
            "wasm_url: \"ftp://h/x.wasm\" is not an http or https URL",
        ),
        (
            format!(r#""wasm_url":"https://h:0/x.wasm","wasm_sha256":"{SHA}""#),
            "wasm_url: \"https://h:0/x.wasm\" is not an http or https URL",
        ),
        (
            format!(r#""wasm_url":"https://h","wasm_sha256":"{SHA}""#),
            "needs the file's path",
        ),
        (
            r#""wasm_url":"https://h/x.wasm","wasm_sha256":"ABC""#.to_owned(),
            "wasm_sha256: \"ABC\" is not a sha256",
        ),
        (
            format!(r#""oci_image":"registry.example.com/m:1","oci_digest":"sha256:{SHA}""#),
            "oci_image: \"registry.example.com/m:1\" is not an OCI image reference",
        ),
        (
            format!(r#""oci_image":"oci://registry.example.com/m:1","oci_digest":"{SHA}""#),
            "is not a manifest digest",
        ),
        (
            r#""oci_digest":"sha256:00""#.to_owned(),
            "oci_image: is required with oci_digest",
        ),
    ] {
        refused(
            &format!(r#"{{"service":"api","wasm_file":"/x.wasm",{fields},"upstreams":[{ok}]}}"#),
            needle,
        );
    }
    refused(
        r#"{"service":"api","wasm_file":"/x.wasm","upstreams":[]}"#,
        "upstreams: lists no upstream",
    );
    refused("{", "not valid JSON");
    refused(
        &with_upstreams(
            r#"{"name":"authentication","local_bind_port":2345,"catalog":"missing.json"}"#,
        ),
        "upstreams[0].catalog: cannot read",
    );
}

#[test]
fn the_arn_can_come_from_the_catalog() {
    let dir = scratch("catalog");
    let meta = format!(
        r#"[{{"ServiceName":"authentication","ServiceMeta":{{
            "serverless.consul.hashicorp.com/v1alpha1/lambda/enabled":"true",
            "serverless.consul.hashicorp.com/v1alpha1/lambda/arn":"{ARN}",
            "serverless.consul.hashicorp.com/v1alpha1/lambda/payload-passthrough":"true",
            "serverless.consul.hashicorp.com/v1alpha1/lambda/invocation-mode":"asynchronous"}}}}]"#
    );
    std::fs::write(dir.join("authentication.json"), meta).unwrap();
    let description = with_upstreams(
        r#"{"name":"authentication","local_bind_port":2345,"catalog":"authentication.json","filter":{"qualifier":"live"}}"#,
    );
    let hcl = generated_service_defaults(&dir, &description);
    assert!(
        hcl.contains(&format!(
            "# authentication: {ARN} (Event), on 127.0.0.1:2345."
        )),
        "{hcl}"
    );
    assert!(hcl.contains(r#"\"qualifier\":\"live\""#), "{hcl}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn only_api_gateway_v2_listeners_take_the_peer_address_from_the_connection() {
    let dir = scratch("v2");
    let description = with_upstreams(&format!(
        r#"{{"name":"frameworks","local_bind_port":2345,"filter":{{"arn":"{ARN}","payload_passthrough":false,"payload_format":"api_gateway_v2"}}}},
           {{"name":"native","local_bind_port":2346,"filter":{{"arn":"{ARN}","payload_passthrough":false}}}}"#
    ));
    let hcl = generated_service_defaults(&dir, &description);
    let (frameworks, native) = hcl.split_once("Name              = \"native\"").unwrap();
    assert!(
        frameworks.contains("\"use_remote_address\": true"),
        "{frameworks}"
    );
    assert!(!native.contains("use_remote_address"), "{native}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// With an event format the filter's own call gets the route's timeout, unless the filter's
/// configuration gives one; passthrough requests have the route's alone. An upstream that
/// leaves `payload_passthrough` out gets the filter's default (the event) written out.
#[test]
fn an_event_format_gets_the_routes_timeout_for_its_call() {
    let dir = scratch("invoke-timeout");
    let description = with_upstreams(&format!(
        r#"{{"name":"events","local_bind_port":2345,"route_timeout_seconds":40,"filter":{{"arn":"{ARN}","payload_passthrough":false}}}},
           {{"name":"given","local_bind_port":2346,"filter":{{"arn":"{ARN}","payload_passthrough":false,"invoke_timeout_ms":2500}}}},
           {{"name":"passthrough","local_bind_port":2347,"route_timeout_seconds":40,"filter":{{"arn":"{ARN}","payload_passthrough":true}}}},
           {{"name":"omitted","local_bind_port":2348,"route_timeout_seconds":30,"filter":{{"arn":"{ARN}"}}}}"#
    ));
    let hcl = generated_service_defaults(&dir, &description);
    let (events, rest) = hcl.split_once("Name              = \"given\"").unwrap();
    let (given, rest) = rest
        .split_once("Name              = \"passthrough\"")
        .unwrap();
    let (passthrough, omitted) = rest.split_once("Name              = \"omitted\"").unwrap();
    assert!(
        events.contains(r#"\"invoke_timeout_ms\":40000"#),
        "{events}"
    );
    assert!(given.contains(r#"\"invoke_timeout_ms\":2500"#), "{given}");
    assert!(!passthrough.contains("invoke_timeout_ms"), "{passthrough}");
    assert!(
        omitted.contains(r#"\"invoke_timeout_ms\":30000,\"payload_passthrough\":false"#),
        "{omitted}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_upstream_assuming_a_role_gets_a_tls_cluster_to_sts() {
    let dir = scratch("assume-role");
    let description = with_upstreams(&format!(
        r#"{{"name":"reports","local_bind_port":2345,"filter":{{"arn":"{ARN}",
            "credentials":{{"provider":"container","assume_role":{{
                "role_arn":"arn:aws:iam::210987654321:role/invoker"}}}}}}}}"#
    ));
    generated_service_defaults(&dir, &description);
    let proxy = std::fs::read_to_string(dir.join("out/consul/proxy-defaults.hcl")).unwrap();
    let json = proxy
        .split_once("<<EOF\n")
        .and_then(|(_, rest)| rest.split_once("\nEOF"))
        .map(|(json, _)| json)
        .unwrap();
    let clusters: Vec<serde_json::Value> = serde_json::from_str(&format!("[{json}]")).unwrap();
    // Named by its host (the filter's default name, `sts`, would be one for every region).
    let sts = clusters
        .iter()
        .find(|c| c["name"] == "mesh-lambda.sts.us-east-1.amazonaws.com")
        .unwrap_or_else(|| panic!("no sts cluster: {proxy}"));
    let address = &sts["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
        ["socket_address"];
    assert_eq!(address["address"], "sts.us-east-1.amazonaws.com");
    assert_eq!(address["port_value"], 443);
    let tls = &sts["transport_socket"]["typed_config"];
    assert_eq!(tls["sni"], "sts.us-east-1.amazonaws.com");
    assert_eq!(
        tls["common_tls_context"]["validation_context"]["trusted_ca"]["filename"],
        "/etc/ssl/certs/ca-certificates.crt"
    );
    assert!(proxy.contains("aws_container_credentials"), "{proxy}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// A streaming upstream's route allows Lambda's longest run unless told otherwise: the
/// answer streams until the function ends, and a route timeout bounds it all.
#[test]
fn a_streaming_upstream_gets_lambdas_longest_run_as_its_route_timeout() {
    let dir = scratch("streaming-timeout");
    let upstream = |extra: &str| {
        with_upstreams(&format!(
            r#"{{"name":"tokens","local_bind_port":2345,"filter":{{"arn":"{ARN}","invocation_mode":"streaming","payload_passthrough":true}}{extra}}}"#
        ))
    };
    let generated = generated_service_defaults(&dir, &upstream(""));
    assert!(generated.contains(r#""timeout": "900s""#), "{generated}");
    let generated = generated_service_defaults(&dir, &upstream(r#","route_timeout_seconds":60"#));
    assert!(generated.contains(r#""timeout": "60s""#), "{generated}");
    let synchronous = with_upstreams(&format!(
        r#"{{"name":"auth","local_bind_port":2345,"filter":{{"arn":"{ARN}"}}}}"#
    ));
    let generated = generated_service_defaults(&dir, &synchronous);
    assert!(generated.contains(r#""timeout": "300s""#), "{generated}");
}
