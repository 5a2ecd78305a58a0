//! The same pieces for consul-k8s: ServiceDefaults, ServiceRouter and ServiceIntentions (the
//! config entries as custom resources, consul.hashicorp.com/v1alpha1), the gateway's
//! Deployment (consul-k8s registers a pod's service and injects its sidecar from the
//! `consul.hashicorp.com/connect-inject` annotation, the service named by its Kubernetes
//! Service), and the callers' upstreams annotation.

use super::consul::longest_timeout_ms;
use crate::consul::files::upstreams_annotation;
use crate::description::Description;
use crate::kubernetes::identity::{sds_resource, KubernetesIdentity};
use crate::kubernetes::{file, Resource};
use crate::output::{header, indent, GeneratedFile};
use crate::yaml;
use serde_json::{json, Value};

const COMMAND: &str = "gateway generate";
const CONSUL_API: &str = "consul.hashicorp.com/v1alpha1";
/// The Envoy image of the skeleton (a supported release; the filter needs >= 1.33).
const ENVOY_IMAGE: &str = "envoyproxy/envoy:v1.36.4";
/// Where the gateway's ConfigMap is mounted: the bootstrap, and the files listener's SDS file.
pub const CONFIG_DIR: &str = "/etc/mesh-lambda";

fn config_entries(d: &Description) -> Vec<GeneratedFile> {
    let ns = &d.namespace;
    let mut defaults = vec![Resource::new(
        CONSUL_API,
        "ServiceDefaults",
        &d.service,
        ns,
        json!({"protocol": "http", "localRequestTimeoutMs": longest_timeout_ms(d)}),
        &["The gateway speaks HTTP; its sidecar waits for the longest function."],
    )];
    let mut routers = Vec::new();
    for u in &d.upstreams {
        defaults.push(Resource::new(
            CONSUL_API,
            "ServiceDefaults",
            &u.name,
            ns,
            json!({"protocol": "http"}),
            &[&format!(
                "{:?} has no pods: HTTP so that its ServiceRouter applies.",
                u.name
            )],
        ));
        routers.push(Resource::new(
            CONSUL_API,
            "ServiceRouter",
            &u.name,
            ns,
            json!({"routes": [{
                "match": {"http": {"pathPrefix": "/"}},
                "destination": {
                    "service": d.service,
                    "prefixRewrite": u.path_prefix,
                    "requestTimeout": format!("{}s", u.route_timeout_seconds),
                },
            }]}),
            &[
                &u.summary(),
                &format!(
                    "Callers of {:?} reach {:?} under {}.",
                    u.name, d.service, u.path_prefix
                ),
            ],
        ));
    }
    let mut sources: Vec<Value> = d
        .lambda_gateway
        .callers
        .iter()
        .map(|c| json!({"name": c, "action": "allow"}))
        .collect();
    let mut intentions: Vec<Resource> = d
        .upstreams
        .iter()
        .map(|u| {
            Resource::new(
                CONSUL_API,
                "ServiceIntentions",
                &u.name,
                ns,
                json!({"destination": {"name": u.name}, "sources": sources.clone()}),
                &[&format!(
                    "Transparent proxy gives callers an upstream for {:?} only where intentions \
                     allow it; the request is checked at the gateway's sidecar.",
                    u.name
                )],
            )
        })
        .collect();
    sources.push(json!({"name": "*", "action": "deny"}));
    let gateway_intentions = Resource::new(
        CONSUL_API,
        "ServiceIntentions",
        &d.service,
        ns,
        json!({"destination": {"name": d.service}, "sources": sources}),
        &["Who may call the gateway (its sidecar enforces it); every other service is denied."],
    );
    intentions.insert(0, gateway_intentions);
    let apply = "Apply: kubectl apply -f .";
    vec![
        GeneratedFile {
            path: "kubernetes/service-defaults.yaml".into(),
            contents: file(
                COMMAND,
                &[
                    "consul-k8s ServiceDefaults of the gateway and its functions.",
                    apply,
                ],
                &defaults,
            ),
        },
        GeneratedFile {
            path: "kubernetes/service-routers.yaml".into(),
            contents: file(
                COMMAND,
                &[
                    "consul-k8s ServiceRouters: each function's name to the gateway.",
                    apply,
                ],
                &routers,
            ),
        },
        GeneratedFile {
            path: "kubernetes/service-intentions.yaml".into(),
            contents: file(
                COMMAND,
                &[
                    "consul-k8s ServiceIntentions of the gateway, and of each function's name",
                    "(transparent proxy's upstreams).",
                    apply,
                ],
                &intentions,
            ),
        },
    ]
}

/// A resource without `spec` (ServiceAccount, ConfigMap).
fn plain(kind: &str, name: &str, namespace: &str, comment: &str) -> Resource {
    Resource {
        comment: vec![comment.to_owned()],
        value: json!({
            "apiVersion": "v1",
            "kind": kind,
            "metadata": {"name": name, "namespace": namespace},
        }),
    }
}

/// What the ServiceAccount is for, and how its AWS identity is bound to it.
fn service_account_comment(d: &Description) -> String {
    let bind = match &d.kubernetes_identity {
        None => "bind IAM to it (EKS Pod Identity, IRSA: kubernetes_identity in the description)",
        Some(KubernetesIdentity::Irsa { .. }) => {
            "IRSA: eksctl create iamserviceaccount (or annotate it eks.amazonaws.com/role-arn) before the pods start"
        }
        Some(KubernetesIdentity::PodIdentity) => {
            "EKS Pod Identity: aws eks create-pod-identity-association for it before the pods start"
        }
    };
    format!("Its identity: consul-k8s (with ACLs) wants the service's name; {bind}.")
}

fn deployment(d: &Description, bootstrap: &Value) -> GeneratedFile {
    let (name, ns, port) = (&d.service, &d.namespace, d.lambda_gateway.port);
    let labels = json!({"app": name});
    let pod = json!({
        "metadata": {
            "labels": labels,
            "annotations": {
                "consul.hashicorp.com/connect-inject": "true",
                "consul.hashicorp.com/connect-service": name,
                "consul.hashicorp.com/connect-service-port": port.to_string(),
                // The gateway Envoy calls Lambda, STS and the credential endpoints itself:
                // transparent proxy would send that traffic into its own sidecar.
                "consul.hashicorp.com/transparent-proxy": "false",
            },
        },
        "spec": {
            "serviceAccountName": name,
            "containers": [{
                "name": "gateway",
                "image": ENVOY_IMAGE,
                "args": ["-c", format!("{CONFIG_DIR}/envoy.yaml"), "--disable-hot-restart"],
                "volumeMounts": [{"name": "gateway-config", "mountPath": CONFIG_DIR}],
            }],
            "volumes": [{"name": "gateway-config", "configMap": {"name": format!("{name}-envoy")}}],
        },
    });
    let resources = [
        plain(
            "ServiceAccount",
            name,
            ns,
            &service_account_comment(d),
        ),
        Resource::new(
            "v1",
            "Service",
            name,
            ns,
            json!({"selector": labels, "ports": [{"port": port, "targetPort": port}]}),
            &["consul-k8s registers the pods under this Service's name."],
        ),
        Resource::new(
            "apps/v1",
            "Deployment",
            name,
            ns,
            json!({"replicas": 2, "selector": {"matchLabels": labels}, "template": pod}),
            &[
                "The gateway Envoy, its sidecar injected. The .wasm must be at the path the config",
                "names (wasm_file: mount it, e.g. from `mesh-lambda oci pull`), or come from wasm_url.",
            ],
        ),
    ];
    let mut out = file(
        COMMAND,
        &[
            "consul-k8s: the gateway's pods (a skeleton: image, replicas and the .wasm are yours).",
            "Apply: kubectl apply -f lambda-gateway.yaml",
        ],
        &resources,
    );
    out.push_str("---\n# The gateway's Envoy bootstrap (envoy/gateway.yaml).\n");
    out.push_str(&yaml::document(&json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": format!("{name}-envoy"), "namespace": ns},
    })));
    out.push_str("data:\n  envoy.yaml: |\n");
    out.push_str(&indent(&yaml::document(bootstrap), "    "));
    if let Some(identity) = &d.kubernetes_identity {
        out.push_str(&format!("  {}: |\n", identity.sds_file_name()));
        out.push_str(&indent(&yaml::document(&sds_resource(identity)), "    "));
    }
    GeneratedFile {
        path: format!("kubernetes/{name}.yaml"),
        contents: out,
    }
}

fn caller_annotation(d: &Description) -> GeneratedFile {
    let mut out = header(
        COMMAND,
        &[
            "consul-k8s: the upstreams of each caller: merge into its Deployment's",
            "spec.template.metadata (with transparent proxy, the caller may dial the function's",
            "name instead; see docs/src/transparent-proxy.md).",
        ],
    );
    out.push_str(&upstreams_annotation(d));
    GeneratedFile {
        path: "kubernetes/caller-upstreams-annotation.yaml".into(),
        contents: out,
    }
}

pub fn files(d: &Description, bootstrap: &Value) -> Vec<GeneratedFile> {
    let mut files = config_entries(d);
    files.push(deployment(d, bootstrap));
    files.push(caller_annotation(d));
    files
}
