//! `kubernetes_identity` in a description (`irsa`, `pod_identity`): each generator's example
//! under `envoy/*/example-irsa` or `example-pod-identity` is its golden copy (regenerate with
//! `UPDATE_GOLDEN=1 cargo test`), what the outputs carry (the files listener with its one
//! route, its SDS file at the path the mount gives, STS's or the agent's cluster), and the
//! descriptions refused, naming the item and writing nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{envoy_dir, generate, matches_golden_files, one_upstream, refused, scratch, SHA};

const CONSUL_FILES: [&str; 8] = [
    "consul/service-defaults.hcl",
    "consul/proxy-defaults.hcl",
    "consul/upstreams.hcl",
    "kubernetes/service-defaults.yaml",
    "kubernetes/proxy-defaults.yaml",
    "kubernetes/upstreams-annotation.yaml",
    "kubernetes/mesh-lambda-files.yaml",
    "kubernetes/identity-annotations.yaml",
];
const ISTIO_FILES: [&str; 5] = [
    "istio/service-entries.yaml",
    "istio/destination-rules.yaml",
    "istio/envoy-filter.yaml",
    "istio/mesh-lambda-files.yaml",
    "istio/pod-annotations.yaml",
];
const ENVOY_GATEWAY_FILES: [&str; 4] = [
    "envoy-gateway/routes.yaml",
    "envoy-gateway/envoy-patch-policy.yaml",
    "envoy-gateway/mesh-lambda-files.yaml",
    "envoy-gateway/envoy-proxy.yaml",
];
const GATEWAY_FILES: [&str; 4] = [
    "envoy/gateway.yaml",
    "envoy/web-identity-token.yaml",
    "kubernetes/lambda-gateway.yaml",
    "consul/lambda-gateway-service.hcl",
];

#[test]
fn the_examples_match_their_golden_files() {
    matches_golden_files("consul", &envoy_dir("consul/example-irsa"), &CONSUL_FILES);
    matches_golden_files(
        "istio",
        &envoy_dir("istio/example-pod-identity"),
        &ISTIO_FILES,
    );
    matches_golden_files(
        "envoy-gateway",
        &envoy_dir("envoy-gateway/example-irsa"),
        &ENVOY_GATEWAY_FILES,
    );
    matches_golden_files(
        "gateway",
        &envoy_dir("lambda-gateway/example-irsa"),
        &GATEWAY_FILES,
    );
}

/// The files `platform generate` writes for `description`, by path.
fn outputs(platform: &str, description: &str, name: &str) -> Vec<(String, String)> {
    let dir = scratch(&format!("identity-{name}"));
    std::fs::write(dir.join("description.json"), description).unwrap();
    let run = generate(platform, &dir.join("description.json"), &dir.join("out"));
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut files = Vec::new();
    let mut stack = vec![dir.join("out")];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(dir.join("out")).unwrap();
                let text = std::fs::read_to_string(&path).unwrap();
                files.push((relative.to_string_lossy().into_owned(), text));
            }
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
    files.sort();
    files
}

fn consul(identity: &str) -> String {
    one_upstream(&format!(
        r#""wasm_file":"/m.wasm","kubernetes_identity":"{identity}""#
    ))
    .replace(
        r#""name":"authentication""#,
        r#""name":"authentication","local_bind_port":2345"#,
    )
}

fn all_text(files: &[(String, String)]) -> String {
    files.iter().map(|(_, text)| text.as_str()).collect()
}

#[test]
fn irsa_adds_the_web_identity_route_and_sts_in_the_functions_region() {
    let files = outputs("consul", &consul("irsa"), "irsa");
    let text = all_text(&files);
    // One route and one injector: the token the identity needs, not the others.
    assert!(text.contains("path: /web-identity-token"), "{text}");
    assert!(!text.contains("pod-identity-token"), "{text}");
    assert!(!text.contains("aws-credentials"), "{text}");
    assert!(text.contains("filename: /var/run/secrets/eks.amazonaws.com/serviceaccount/token"));
    // The SDS file's path in the listener is where the annotation mounts the ConfigMap.
    assert!(text.contains("path: /etc/mesh-lambda/files/web-identity-token.yaml"));
    assert!(
        text.contains(r#"\"mountPath\":\"/etc/mesh-lambda/files\""#),
        "{text}"
    );
    assert!(text.contains("--config-path /etc/mesh-lambda/files/files.yaml"));
    // STS over TLS, named `sts`, in the (one) upstream's region, in proxy-defaults.
    let (_, proxy_defaults) = files
        .iter()
        .find(|(path, _)| path == "kubernetes/proxy-defaults.yaml")
        .unwrap();
    assert!(
        proxy_defaults.contains(r#""name": "sts""#),
        "{proxy_defaults}"
    );
    assert!(proxy_defaults.contains(r#""sni": "sts.us-east-1.amazonaws.com""#));
    assert!(proxy_defaults.contains(r#""name": "mesh_lambda_files""#));
    assert!(proxy_defaults.contains(r#""port_value": 19101"#));
}

#[test]
fn pod_identity_reaches_the_agent_and_serves_its_token() {
    let files = outputs("consul", &consul("pod_identity"), "pod-identity");
    let text = all_text(&files);
    assert!(text.contains("path: /pod-identity-token"), "{text}");
    assert!(!text.contains("web-identity-token"), "{text}");
    assert!(text.contains(
        "filename: /var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"
    ));
    // The container cluster goes to the Pod Identity agent, not ECS's 169.254.170.2.
    assert!(text.contains(r#""address": "169.254.170.23""#), "{text}");
    assert!(!text.contains("169.254.170.2\""), "{text}");
    assert!(!text.contains(r#""name": "sts""#), "{text}");
}

#[test]
fn without_an_identity_nothing_is_added() {
    let description = consul("x").replace(r#","kubernetes_identity":"x""#, "");
    let files = outputs("consul", &description, "none");
    let text = all_text(&files);
    assert_eq!(files.len(), 6);
    assert!(!text.contains("mesh_lambda_files"), "{text}");
    assert!(!text.contains("19101"), "{text}");
}

#[test]
fn istio_and_envoy_gateway_add_the_listener() {
    let istio = one_upstream(&format!(
        r#""oci_image":"oci://r.example.com/m:1","oci_digest":"sha256:{SHA}","kubernetes_identity":"irsa""#
    ));
    let text = all_text(&outputs("istio", &istio, "istio"));
    assert!(text.contains("applyTo: LISTENER"), "{text}");
    assert!(text.contains("operation: ADD"), "{text}");
    assert!(text.contains("sidecar.istio.io/userVolumeMount"), "{text}");
    let gateway = one_upstream(&format!(
        r#""wasm_url":"https://a.example.com/m.wasm","wasm_sha256":"{SHA}","kubernetes_identity":"pod_identity""#
    ));
    let text = all_text(&outputs("envoy-gateway", &gateway, "envoy-gateway"));
    assert!(text.contains("name: mesh-lambda-files"), "{text}");
    assert!(text.contains("kind: EnvoyProxy"), "{text}");
    assert!(text.contains("namespace: envoy-gateway-system"), "{text}");
}

#[test]
fn refuses_what_it_cannot_wire() {
    let two_regions = r#"{"service":"api","wasm_file":"/m.wasm","kubernetes_identity":"irsa","upstreams":[
        {"name":"a","local_bind_port":1,"filter":{"arn":"arn:aws:lambda:us-east-1:123456789012:function:a"}},
        {"name":"b","local_bind_port":2,"filter":{"arn":"arn:aws:lambda:eu-west-1:123456789012:function:b"}}]}"#;
    refused("consul", two_regions, "aws_region: is required");
    refused(
        "consul",
        &two_regions.replace(r#""irsa""#, r#""irsa","aws_region":"cn-north-1""#),
        "one identity signs for one partition",
    );
    refused(
        "consul",
        &consul("kiam"),
        "kubernetes_identity: \"kiam\" is not",
    );
    refused(
        "consul",
        &consul("pod_identity")
            .replace(r#""wasm_file""#, r#""aws_region":"us-east-1","wasm_file""#),
        "aws_region: is read with kubernetes_identity \"irsa\" only",
    );
    refused(
        "consul",
        &consul("pod_identity").replace(
            r#""wasm_file""#,
            r#""container_credentials_address":"169.254.170.2","wasm_file""#,
        ),
        "container_credentials_address: \"169.254.170.2\" with kubernetes_identity",
    );
    // A user's cluster named as the identity's, to another endpoint.
    let clash = consul("irsa").replace(
        r#""filter":{"#,
        r#""filter":{"credentials":{"assume_role":{"role_arn":"arn:aws:iam::123456789012:role/r","sts_cluster":"sts","sts_region":"eu-west-1"}},"#,
    );
    refused("consul", &clash, "cluster \"sts\" is kubernetes_identity's");
}
