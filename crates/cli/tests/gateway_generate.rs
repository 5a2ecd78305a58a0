//! `mesh-lambda gateway generate` as a user runs it: the example's output is the golden copy
//! under `envoy/lambda-gateway/example/` (regenerate with `UPDATE_GOLDEN=1 cargo test`), what
//! the gateway's Envoy and Consul entries say, and the descriptions it refuses, naming the item
//! and writing nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{envoy_dir, generate, matches_golden_files, refused as refused_by, scratch, ARN};
use serde_json::Value;

const FILES: [&str; 16] = [
    "envoy/gateway.yaml",
    "consul/lambda-gateway-service.hcl",
    "consul/service-defaults-lambda-gateway.hcl",
    "consul/service-intentions.hcl",
    "consul/service-defaults-authentication.hcl",
    "consul/service-router-authentication.hcl",
    "consul/service-intentions-authentication.hcl",
    "consul/service-defaults-billing.hcl",
    "consul/service-router-billing.hcl",
    "consul/service-intentions-billing.hcl",
    "consul/caller-upstreams.hcl",
    "kubernetes/service-defaults.yaml",
    "kubernetes/service-routers.yaml",
    "kubernetes/service-intentions.yaml",
    "kubernetes/lambda-gateway.yaml",
    "kubernetes/caller-upstreams-annotation.yaml",
];

const WEST: &str = "arn:aws:lambda:us-west-2:123456789012:function:billing";

fn refused(description: &str, needle: &str) {
    refused_by("gateway", description, needle);
}

/// A gateway description: `gateway` is the object's fields, `upstreams` the list's items.
fn description(gateway: &str, upstreams: &str) -> String {
    format!(
        r#"{{"service":"lambda-gateway","wasm_file":"/etc/envoy/mesh_lambda.wasm",
            "gateway":{{{gateway}}},"upstreams":[{upstreams}]}}"#
    )
}

fn function(name: &str, port: u16, filter: &str) -> String {
    format!(r#"{{"name":"{name}","local_bind_port":{port},"filter":{filter}}}"#)
}

fn two_functions() -> String {
    format!(
        "{},{}",
        function("authentication", 2345, &format!(r#"{{"arn":"{ARN}"}}"#)),
        function("billing", 2346, &format!(r#"{{"arn":"{WEST}"}}"#))
    )
}

#[test]
fn the_example_matches_its_golden_files() {
    matches_golden_files("gateway", &envoy_dir("lambda-gateway/example"), &FILES);
}

/// The bootstrap of `description`, parsed back.
fn bootstrap(description: &str, name: &str) -> Value {
    let dir = scratch(&format!("gateway-{name}"));
    std::fs::write(dir.join("description.json"), description).unwrap();
    let run = generate("gateway", &dir.join("description.json"), &dir.join("out"));
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(dir.join("out/envoy/gateway.yaml")).unwrap();
    // The plugin configuration is one JSON string (double-quoted, JSON's escapes); the
    // rest is checked as text.
    let start = text.find("value: \"").expect("the plugin configuration") + "value: ".len();
    let end = start + text[start..].find('\n').unwrap();
    let quoted: String = serde_json::from_str(&text[start..end]).unwrap();
    serde_json::json!({"text": text, "plugin": serde_json::from_str::<Value>(&quoted).unwrap()})
}

#[test]
fn one_filter_holds_every_function_and_the_vms_fields_once() {
    let shared = r#""credentials":{"provider":"environment"}"#;
    let upstreams = format!(
        "{},{}",
        function(
            "authentication",
            2345,
            &format!(r#"{{"arn":"{ARN}",{shared}}}"#)
        ),
        function("billing", 2346, &format!(r#"{{"arn":"{WEST}",{shared}}}"#))
    );
    let out = bootstrap(&description(r#""callers":["api"]"#, &upstreams), "shared");
    let plugin = &out["plugin"];
    assert_eq!(plugin["credentials"]["provider"], "environment");
    assert_eq!(plugin["functions"]["authentication"]["arn"], ARN);
    assert_eq!(plugin["functions"]["billing"]["arn"], WEST);
    assert!(plugin["functions"]["billing"].get("credentials").is_none());
    // Its caller from the sidecar's certificate; each event's path without the gateway's
    // prefix (both functions take the default, an event).
    assert_eq!(plugin["caller"]["from"], "forwarded_client_cert");
    assert_eq!(
        plugin["functions"]["authentication"]["strip_path_prefix"],
        "/authentication"
    );
    assert_eq!(
        plugin["functions"]["billing"]["strip_path_prefix"],
        "/billing"
    );
    let text = out["text"].as_str().unwrap();
    // Each function's signed call has its own route, by its Invoke path and the route key.
    for (arn, region) in [(ARN, "us-east-1"), (WEST, "us-west-2")] {
        let path = format!(
            "path: \"/2015-03-31/functions/{}/invocations\"",
            arn.replace(':', "%3A")
        );
        assert!(text.contains(&path), "{path} in\n{text}");
        assert!(text.contains(&format!(
            "host_rewrite_literal: lambda.{region}.amazonaws.com"
        )));
    }
    assert!(text.contains("prefix: /authentication/"));
    assert!(text.contains("prefix: /billing/"));
    assert!(text.contains("forward_client_cert_details: ALWAYS_FORWARD_ONLY"));
    assert!(text.contains("allow_on_headers_stop_iteration: true"));
    assert_eq!(text.matches("exact: mesh-lambda\n").count(), 2);
}

#[test]
fn functions_with_credentials_of_their_own_keep_them() {
    let role =
        r#""credentials":{"assume_role":{"role_arn":"arn:aws:iam::210987654321:role/billing"}}"#;
    let upstreams = format!(
        "{},{}",
        function("authentication", 2345, &format!(r#"{{"arn":"{ARN}"}}"#)),
        function("billing", 2346, &format!(r#"{{"arn":"{WEST}",{role}}}"#))
    );
    let out = bootstrap(&description(r#""callers":["api"]"#, &upstreams), "own");
    let plugin = &out["plugin"];
    assert!(plugin.get("credentials").is_none(), "{plugin}");
    assert!(plugin["functions"]["authentication"]
        .get("credentials")
        .is_none());
    assert_eq!(
        plugin["functions"]["billing"]["credentials"]["assume_role"]["role_arn"],
        "arn:aws:iam::210987654321:role/billing"
    );
    // The assumed role's STS endpoint has its cluster (the region of billing's function).
    let text = out["text"].as_str().unwrap();
    assert!(text.contains("sts.us-west-2.amazonaws.com"), "{text}");
}

#[test]
fn descriptions_it_cannot_use_are_refused() {
    let callers = r#""callers":["api"]"#;
    refused(
        &description("", &two_functions()),
        "gateway.callers: is required",
    );
    refused(
        &description(r#""callers":[]"#, &two_functions()),
        "gateway.callers: expected a non-empty list",
    );
    refused(
        &description(r#""callers":["api","api"]"#, &two_functions()),
        "gateway.callers[1]",
    );
    let same_prefix = format!(
        r#"{},{{"name":"billing","local_bind_port":2346,"path_prefix":"/authentication/","filter":{{"arn":"{WEST}"}}}}"#,
        function("authentication", 2345, &format!(r#"{{"arn":"{ARN}"}}"#))
    );
    refused(
        &description(callers, &same_prefix),
        "upstreams[1].path_prefix: \"/authentication/\" is also upstreams[0]'s",
    );
    let same_function = format!(
        "{},{}",
        function("authentication", 2345, &format!(r#"{{"arn":"{ARN}"}}"#)),
        function("login", 2346, &format!(r#"{{"arn":"{ARN}"}}"#))
    );
    refused(
        &description(callers, &same_function),
        "upstreams[1].filter.arn: upstreams[0] invokes the same function",
    );
    let two_reasons = format!(
        "{},{}",
        function(
            "authentication",
            2345,
            &format!(r#"{{"arn":"{ARN}","detailed_errors":true}}"#)
        ),
        function("billing", 2346, &format!(r#"{{"arn":"{WEST}"}}"#))
    );
    refused(
        &description(callers, &two_reasons),
        "upstreams[1].filter: detailed_errors and caller belong to the gateway's one filter",
    );
    let named_as_gateway = function("lambda-gateway", 2345, &format!(r#"{{"arn":"{ARN}"}}"#));
    refused(
        &description(callers, &named_as_gateway),
        "upstreams[0].name: \"lambda-gateway\" is the gateway's service",
    );
    let bad_prefix = format!(
        r#"{{"name":"authentication","local_bind_port":2345,"path_prefix":"/auth","filter":{{"arn":"{ARN}"}}}}"#
    );
    refused(
        &description(callers, &bad_prefix),
        "upstreams[0].path_prefix: \"/auth\" is not a path prefix",
    );
    refused(
        &description(
            r#""callers":["api"],"plain_routes":[{"name":"aws_instance_metadata","path_prefix":"/s/","port":9090}]"#,
            &two_functions(),
        ),
        "gateway.plain_routes[0].name: \"aws_instance_metadata\" names another cluster",
    );
    refused(
        &description(
            r#""callers":["api"],"plain_routes":[{"name":"status","path_prefix":"/billing/","port":9090}]"#,
            &two_functions(),
        ),
        "gateway.plain_routes[0].path_prefix: \"/billing/\" is also upstreams[1]'s",
    );
    refused(
        &description(
            r#""callers":["api"],"port":8080,"admin_port":8080"#,
            &two_functions(),
        ),
        "gateway.admin_port: is the listener's port too",
    );
    let no_port = format!(r#"{{"name":"authentication","filter":{{"arn":"{ARN}"}}}}"#);
    refused(
        &description(callers, &no_port),
        "upstreams[0].local_bind_port: is required",
    );
}
