//! A proxy whose AWS identity is its pod's (the description's `kubernetes_identity`): IRSA, a
//! web-identity token exchanged at STS, or EKS Pod Identity, a token shown to the agent on
//! 169.254.170.23. The VM reads no file, so the token comes through the loopback listener of
//! `envoy/files.yaml` (docs/src/token-file.md): the generators add that listener with the one
//! route and injector the identity needs, its cluster, the SDS file naming the token's path,
//! and the cluster the credentials come from (STS, or the Pod Identity agent). The token, its
//! volume and the variables come from EKS's webhook (docs/src/kubernetes-identity.md).

use crate::clusters::FILES_PORT;
use crate::description::Description;
pub use crate::description::KubernetesIdentity;
use crate::output::{header, indent};
use crate::wasm_filter::enable_on_route;
use crate::yaml;
use serde_json::{json, Value};

/// The files listener's name, and the prefix of its stats.
pub const FILES_LISTENER: &str = "mesh-lambda-files";
/// The header the injector writes and the local reply echoes (`envoy/files.yaml`).
const FILE_HEADER: &str = "x-mesh-lambda-file";

/// The SDS resource (the file's contents): a generic secret whose value is the token.
pub fn sds_resource(identity: &KubernetesIdentity) -> Value {
    json!({"resources": [{
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
        "name": identity.file(),
        "generic_secret": {"secret": {"filename": identity.token_path()}},
    }]})
}

/// The files listener serving the identity's token at `/<file>`, its SDS file read from
/// `sds_dir` (as `envoy/files.yaml`, with one route and one injector).
fn identity_listener(identity: &KubernetesIdentity, sds_dir: &str) -> Value {
    let file = identity.file();
    let mut on_route = serde_json::Map::new();
    on_route.insert(file.to_owned(), enable_on_route());
    json!({
        "name": FILES_LISTENER,
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": FILES_PORT}},
        "filter_chains": [{"filters": [{
            "name": "envoy.filters.network.http_connection_manager",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                "stat_prefix": "mesh_lambda_files",
                "local_reply_config": {"mappers": [{
                    "filter": {"status_code_filter": {"comparison": {
                        "op": "EQ",
                        "value": {"default_value": 200, "runtime_key": "mesh_lambda_files.unused"},
                    }}},
                    "body_format_override": {"json_format": {"contents": format!("%REQ({FILE_HEADER})%")}},
                }]},
                "route_config": {
                    "name": FILES_LISTENER,
                    "virtual_hosts": [{
                        "name": FILES_LISTENER,
                        "domains": ["*"],
                        "routes": [{
                            "match": {"path": format!("/{file}")},
                            "direct_response": {"status": 200},
                            "typed_per_filter_config": on_route,
                        }],
                    }],
                },
                "http_filters": [
                    {
                        "name": file,
                        "disabled": true,
                        "typed_config": {
                            "@type": "type.googleapis.com/envoy.extensions.filters.http.credential_injector.v3.CredentialInjector",
                            "overwrite": true,
                            "credential": {
                                "name": "envoy.http.injected_credentials.generic",
                                "typed_config": {
                                    "@type": "type.googleapis.com/envoy.extensions.http.injected_credentials.generic.v3.Generic",
                                    "header": FILE_HEADER,
                                    "credential": {
                                        "name": file,
                                        "sds_config": {"path_config_source": {
                                            "path": format!("{sds_dir}/{}", identity.sds_file_name()),
                                        }},
                                    },
                                },
                            },
                        },
                    },
                    {
                        "name": "envoy.filters.http.router",
                        "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
                    },
                ],
            },
        }]}],
    })
}

/// The files listener, for a description with a Kubernetes identity.
pub fn files_listener(d: &Description, sds_dir: &str) -> Option<Value> {
    d.kubernetes_identity
        .as_ref()
        .map(|identity| identity_listener(identity, sds_dir))
}

/// A line for generated files: what binds the identity to the pods' ServiceAccount.
pub fn identity_needs(identity: &KubernetesIdentity) -> String {
    match identity {
        KubernetesIdentity::Irsa { region, .. } => format!(
            "IRSA: the pods' ServiceAccount needs eks.amazonaws.com/role-arn (eksctl create iamserviceaccount); STS in {region}."
        ),
        KubernetesIdentity::PodIdentity => {
            "EKS Pod Identity: aws eks create-pod-identity-association for the pods' ServiceAccount.".into()
        }
    }
}

/// A file holding the ConfigMap `name` whose keys are the files listener's SDS file and
/// `extra`, a YAML file by its name.
pub fn sds_config_map(
    command: &str,
    name: &str,
    namespace: &str,
    identity: &KubernetesIdentity,
    mounted: &str,
    extra: Option<(&str, &Value)>,
) -> String {
    let mut out = header(
        command,
        &[
            &format!(
                "The SDS file of the files listener: Envoy reads the {} token from {}",
                identity.name(),
                identity.token_path()
            ),
            "(mounted there by EKS's webhook) and re-reads it when the kubelet rotates it.",
            mounted,
            "Apply: kubectl apply -f .",
        ],
    );
    out.push_str("---\n");
    out.push_str(&yaml::document(&json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
    })));
    out.push_str("data:\n");
    if let Some((key, value)) = extra {
        out.push_str(&format!("  {key}: |\n"));
        out.push_str(&indent(&yaml::document(value), "    "));
    }
    out.push_str(&format!("  {}: |\n", identity.sds_file_name()));
    out.push_str(&indent(&yaml::document(&sds_resource(identity)), "    "));
    out
}
