//! What the three generators take from one description alike: the endpoints of the function's
//! partition (clusters, SNI, SANs), STS clusters named by their host, resource names that
//! differ between services, and the bound on `max_request_bytes`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{generate, refused, scratch, SHA};
use serde_json::Value;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

const PLATFORMS: [&str; 3] = ["consul", "istio", "envoy-gateway"];

/// A description every generator takes: `.wasm` from a URL (Consul, Envoy Gateway) and an OCI
/// image (Istio).
fn description(service: &str, upstreams: &str) -> String {
    format!(
        r#"{{"service":"{service}","wasm_url":"https://artifacts.example.com/mesh_lambda.wasm",
            "wasm_sha256":"{SHA}","oci_image":"oci://registry.example.com/mesh-lambda:0.1.0",
            "oci_digest":"sha256:{SHA}","upstreams":[{upstreams}]}}"#
    )
}

fn upstream(name: &str, port: u16, filter: &str) -> String {
    format!(r#"{{"name":"{name}","local_bind_port":{port},"filter":{filter}}}"#)
}

/// The files `platform generate` writes for `description`, all in one string.
fn generated(platform: &str, description: &str) -> String {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    let dir = scratch(&format!("every-{platform}-{run}"));
    std::fs::write(dir.join("description.json"), description).unwrap();
    let run = generate(platform, &dir.join("description.json"), &dir.join("out"));
    assert!(
        run.status.success(),
        "{platform}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut all = String::new();
    read_all(&dir.join("out"), &mut all);
    std::fs::remove_dir_all(dir).unwrap();
    all
}

fn read_all(dir: &Path, into: &mut String) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            read_all(&path, into);
        } else {
            into.push_str(&std::fs::read_to_string(path).unwrap());
        }
    }
}

/// The JSON objects in Consul's proxy-defaults.hcl (its static clusters).
fn consul_clusters(files: &str) -> Vec<Value> {
    let json = files
        .split_once("envoy_extra_static_clusters_json = <<EOF\n")
        .and_then(|(_, rest)| rest.split_once("\nEOF"))
        .map(|(json, _)| json)
        .unwrap();
    serde_json::from_str(&format!("[{json}]")).unwrap()
}

fn cluster<'a>(clusters: &'a [Value], name: &str) -> &'a Value {
    clusters
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no cluster {name} in {clusters:?}"))
}

/// The host a cluster reaches and the name its TLS checks (SNI and SAN).
fn reaches(cluster: &Value) -> (String, String, String) {
    let text = |pointer: &str| {
        cluster
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap()
            .to_owned()
    };
    let tls = "/transport_socket/typed_config";
    (
        text("/load_assignment/endpoints/0/lb_endpoints/0/endpoint/address/socket_address/address"),
        text(&format!("{tls}/sni")),
        text(&format!(
            "{tls}/common_tls_context/validation_context/match_typed_subject_alt_names/0/matcher/exact"
        )),
    )
}

/// Lambda and STS are reached in the function's partition: China's endpoints are under
/// `amazonaws.com.cn`, the ISO partitions' under their own domains (botocore's
/// `data/partitions.json` `dnsSuffix`; the core's tests check every partition against it).
#[test]
fn clusters_sni_and_sans_follow_the_partition() {
    let role = r#""credentials":{"provider":"container","assume_role":{"role_arn":"arn:aws-cn:iam::123456789012:role/r"}}"#;
    let cn = description(
        "api",
        &upstream(
            "reports",
            2345,
            &format!(r#"{{"arn":"arn:aws-cn:lambda:cn-north-1:123456789012:function:f",{role}}}"#),
        ),
    );
    let lambda = "lambda.cn-north-1.amazonaws.com.cn";
    let sts = "sts.cn-north-1.amazonaws.com.cn";
    let consul = generated("consul", &cn);
    let clusters = consul_clusters(&consul);
    for host in [lambda, sts] {
        let c = cluster(&clusters, &format!("mesh-lambda.{host}"));
        assert_eq!(reaches(c), (host.into(), host.into(), host.into()));
    }
    let istio = generated("istio", &cn);
    assert!(istio.contains(&format!("sni: {lambda}\n")), "{istio}");
    assert!(
        istio.contains(&format!("subjectAltNames:\n        - {lambda}\n")),
        "{istio}"
    );
    assert!(istio.contains(&format!("sni: {sts}\n")), "{istio}");
    let gateway = generated("envoy-gateway", &cn);
    assert!(
        gateway.contains(&format!("hostname: {lambda}\n")),
        "{gateway}"
    );
    assert!(gateway.contains(&format!("sni: {sts}\n")), "{gateway}");
    for platform in PLATFORMS {
        assert!(
            !generated(platform, &cn).contains("amazonaws.com\n"),
            "{platform}"
        );
        refused(
            platform,
            &description(
                "api",
                &upstream("f", 2345, r#"{"arn":"arn:aws:lambda:cn-north-1:123456789012:function:f"}"#),
            ),
            "upstreams[0].filter.arn: \"arn:aws:lambda:cn-north-1:123456789012:function:f\" is not \
             a Lambda function ARN: region cn-north-1 is in partition aws-cn, not aws",
        );
    }
}

/// `metadata.name` of the first resource of `kind` in `files`.
fn resource_name(files: &str, kind: &str) -> String {
    let (_, after) = files
        .split_once(&format!("kind: {kind}\nmetadata:\n  name: "))
        .unwrap_or_else(|| panic!("no {kind} in {files}"));
    after.lines().next().unwrap().to_owned()
}

/// Two services' Istio `EnvoyFilter`s (in one namespace) and Envoy Gateway `EnvoyPatchPolicy`s
/// (on one Gateway) have two names: with one, applying the second replaces the first, and the
/// first service's calls fail.
#[test]
fn two_services_resources_do_not_replace_each_other() {
    let one = |service: &str, namespace: &str| {
        format!(
            r#"{{"service":"{service}","wasm_url":"https://artifacts.example.com/mesh_lambda.wasm",
                "wasm_sha256":"{SHA}","oci_image":"oci://registry.example.com/mesh-lambda:0.1.0",
                "oci_digest":"sha256:{SHA}","istio":{{"namespace":"shop"}},
                "envoy_gateway":{{"gateway_namespace":"edge","namespace":"{namespace}"}},
                "upstreams":[{}]}}"#,
            upstream(
                &format!("{service}-fn"),
                2345,
                &format!(r#"{{"arn":"{}"}}"#, common::ARN)
            )
        )
    };
    let istio =
        |service| resource_name(&generated("istio", &one(service, "team-a")), "EnvoyFilter");
    assert_eq!(istio("api"), "mesh-lambda-api");
    assert_eq!(istio("billing"), "mesh-lambda-billing");
    assert_eq!(istio("Billing_2"), "mesh-lambda-billing-2");
    let gateway = |service, namespace| {
        resource_name(
            &generated("envoy-gateway", &one(service, namespace)),
            "EnvoyPatchPolicy",
        )
    };
    assert_eq!(gateway("api", "team-a"), "mesh-lambda-team-a-api");
    assert_eq!(gateway("billing", "team-a"), "mesh-lambda-team-a-billing");
    assert_eq!(gateway("api", "team-b"), "mesh-lambda-team-b-api");
    refused(
        "istio",
        &one("api_", "team-a"),
        "service: \"api_\" cannot name Kubernetes resources",
    );
    refused(
        "envoy-gateway",
        &one("Api", "team-a"),
        "service: \"Api\" cannot name Kubernetes resources",
    );
}

/// The plugin configuration Consul's listener of `upstream` carries (JSON in JSON).
fn consul_plugin_configuration(files: &str, upstream: &str) -> Value {
    let listener = files
        .split(&format!(
            "Name              = \"{upstream}\"\n      EnvoyListenerJSON = <<EOF\n"
        ))
        .nth(1)
        .and_then(|rest| rest.split_once("\nEOF"))
        .map(|(json, _)| serde_json::from_str::<Value>(json).unwrap())
        .unwrap();
    let text = listener
        .pointer("/filter_chains/0/filters/0/typed_config/http_filters/0/typed_config/config/configuration/value")
        .and_then(Value::as_str)
        .unwrap();
    serde_json::from_str(text).unwrap()
}

/// Upstreams assuming roles through STS in two regions get a cluster each, named by the STS
/// host, and each filter's configuration names its own; a name the user gives to two STS hosts
/// is refused (one cluster would take both upstreams' calls to one region's STS).
#[test]
fn each_sts_host_gets_its_own_cluster() {
    let assuming = |arn: &str, extra: &str| {
        format!(
            r#"{{"arn":"{arn}","credentials":{{"provider":"container","assume_role":{{
                "role_arn":"arn:aws:iam::210987654321:role/invoker"{extra}}}}}}}"#
        )
    };
    let two = description(
        "api",
        &[
            upstream("east", 2345, &assuming(common::ARN, "")),
            upstream(
                "west",
                2346,
                &assuming("arn:aws:lambda:eu-west-1:123456789012:function:f", ""),
            ),
            upstream(
                "global",
                2347,
                &assuming(
                    "arn:aws:lambda:eu-west-1:123456789012:function:g",
                    r#","sts_host":"sts.amazonaws.com""#,
                ),
            ),
        ]
        .join(","),
    );
    let consul = generated("consul", &two);
    let clusters = consul_clusters(&consul);
    for (upstream, host) in [
        ("east", "sts.us-east-1.amazonaws.com"),
        ("west", "sts.eu-west-1.amazonaws.com"),
        ("global", "sts.amazonaws.com"),
    ] {
        let name = format!("mesh-lambda.{host}");
        assert_eq!(reaches(cluster(&clusters, &name)).0, host);
        let plugin = consul_plugin_configuration(&consul, upstream);
        assert_eq!(
            plugin["credentials"]["assume_role"]["sts_cluster"],
            name.as_str()
        );
    }
    assert!(!consul.contains("\"sts\""), "{consul}");
    for platform in ["istio", "envoy-gateway"] {
        let files = generated(platform, &two);
        for host in ["sts.us-east-1.amazonaws.com", "sts.eu-west-1.amazonaws.com"] {
            assert!(
                files.contains(&format!("name: mesh-lambda.{host}\n")),
                "{files}"
            );
        }
    }
    // Both name their STS cluster `sts`; the second's STS is eu-west-1's unless `sts_region`
    // says otherwise.
    let both_named_sts = |second: &str| {
        description(
            "api",
            &[
                upstream(
                    "east",
                    2345,
                    &assuming(common::ARN, r#","sts_cluster":"sts""#),
                ),
                upstream(
                    "west",
                    2346,
                    &assuming(
                        "arn:aws:lambda:eu-west-1:123456789012:function:f",
                        &format!(r#","sts_cluster":"sts"{second}"#),
                    ),
                ),
            ]
            .join(","),
        )
    };
    for platform in PLATFORMS {
        refused(
            platform,
            &both_named_sts(""),
            "upstreams[1].filter.credentials.assume_role.sts_cluster: cluster \"sts\" reaches \
             sts.eu-west-1.amazonaws.com, but upstreams[0].filter.credentials.assume_role.sts_cluster \
             names it for sts.us-east-1.amazonaws.com; give each endpoint its own cluster name",
        );
    }
    // A given name shared by upstreams that reach one STS host is one cluster.
    let shared = both_named_sts(r#","sts_region":"us-east-1""#);
    let clusters = consul_clusters(&generated("consul", &shared));
    assert_eq!(
        reaches(cluster(&clusters, "sts")).0,
        "sts.us-east-1.amazonaws.com"
    );
}

/// `max_request_bytes` is bounded by the filter's parser (Lambda's own limits make more
/// meaningless), so the listener buffer every generator writes (the limit plus 1 MiB of
/// headroom) fits Envoy's `per_connection_buffer_limit_bytes`, a `uint32`.
#[test]
fn the_request_limit_keeps_the_listener_buffer_a_uint32() {
    let with_limit = |limit: u64| {
        description(
            "api",
            &upstream(
                "big",
                2345,
                &format!(r#"{{"arn":"{}","max_request_bytes":{limit}}}"#, common::ARN),
            ),
        )
    };
    let largest = 64 * 1024 * 1024;
    let buffer = largest + 1024 * 1024;
    assert!(buffer <= u64::from(u32::MAX));
    for platform in PLATFORMS {
        let files = generated(platform, &with_limit(largest));
        assert!(files.contains(&buffer.to_string()), "{platform}: {files}");
        for over in [largest + 1, u64::from(u32::MAX)] {
            refused(
                platform,
                &with_limit(over),
                &format!(
                    "upstreams[0].filter.max_request_bytes: expected a whole number from 1 to \
                     {largest}, got {over}"
                ),
            );
        }
    }
}
