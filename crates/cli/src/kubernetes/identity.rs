//! A proxy whose AWS identity is its pod's (the description's `kubernetes_identity`): IRSA, a
//! web-identity token exchanged at STS, or EKS Pod Identity, a token shown to the agent on
//! 169.254.170.23. The VM reads no file, so the token comes through the loopback listener of
//! `envoy/files.yaml` (docs/src/token-file.md): the generators add that listener with the one
//! route and injector the identity needs, its cluster, the SDS file naming the token's path,
//! and the cluster the credentials come from (STS, or the Pod Identity agent). The token, its
//! volume and the variables come from EKS's webhook (docs/src/kubernetes-identity.md).

use crate::clusters::sts_cluster;
use crate::description::Description;
use crate::names::DescriptionError;
use crate::output::{header, indent};
use crate::wasm_filter::enable_on_route;
use crate::yaml;
use mesh_lambda_core::arn::partition_of_region;
use mesh_lambda_core::config::fields::Fields;
use mesh_lambda_core::credentials::chain::DEFAULT_STS_CLUSTER;
use mesh_lambda_core::credentials::files::DEFAULT_FILES_CLUSTER;
use serde_json::{json, Value};

/// The files listener's name, and the prefix of its stats.
pub const FILES_LISTENER: &str = "mesh-lambda-files";
/// Its port on 127.0.0.1 (`envoy/files.yaml`'s).
pub const FILES_PORT: u16 = 19_101;
/// EKS Pod Identity's agent (the `FULL_URI` the webhook sets: `http://169.254.170.23/v1/credentials`).
pub const POD_IDENTITY_AGENT: &str = "169.254.170.23";
/// The header the injector writes and the local reply echoes (`envoy/files.yaml`).
const FILE_HEADER: &str = "x-mesh-lambda-file";

/// The identity a Kubernetes pod's proxy signs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubernetesIdentity {
    /// IRSA: `AssumeRoleWithWebIdentity` at STS in `region` (`sts_host`).
    Irsa { region: String, sts_host: String },
    /// EKS Pod Identity: the container source against the agent on 169.254.170.23.
    PodIdentity,
}

impl KubernetesIdentity {
    /// The description's word for it.
    pub fn name(&self) -> &'static str {
        match self {
            KubernetesIdentity::Irsa { .. } => "irsa",
            KubernetesIdentity::PodIdentity => "pod_identity",
        }
    }

    /// The route and SDS secret of `envoy/files.yaml` that serves its token.
    pub fn file(&self) -> &'static str {
        match self {
            KubernetesIdentity::Irsa { .. } => "web-identity-token",
            KubernetesIdentity::PodIdentity => "pod-identity-token",
        }
    }

    /// Where EKS's webhook mounts the token (its `AWS_WEB_IDENTITY_TOKEN_FILE` or
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`): amazon-eks-pod-identity-webhook's defaults,
    /// `MountPath` + `tokenName` in `pkg/handler/handler.go` and the
    /// `container-credentials-token-*` flags in `main.go`.
    pub fn token_path(&self) -> &'static str {
        match self {
            KubernetesIdentity::Irsa { .. } => {
                "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"
            }
            KubernetesIdentity::PodIdentity => {
                "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"
            }
        }
    }

    /// The SDS file's name (`<file>.yaml`).
    pub fn sds_file_name(&self) -> String {
        format!("{}.yaml", self.file())
    }

    /// The SDS resource (the file's contents): a generic secret whose value is the token.
    pub fn sds_resource(&self) -> Value {
        json!({"resources": [{
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
            "name": self.file(),
            "generic_secret": {"secret": {"filename": self.token_path()}},
        }]})
    }

    /// The files listener serving this identity's token at `/<file>`, its SDS file read from
    /// `sds_dir` (as `envoy/files.yaml`, with one route and one injector).
    pub fn files_listener(&self, sds_dir: &str) -> Value {
        let file = self.file();
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
                                                "path": format!("{sds_dir}/{}", self.sds_file_name()),
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

    /// The clusters it adds, by name: the files listener's, and STS's for IRSA (the Pod
    /// Identity agent's is the container cluster, at `container_credentials_address`).
    pub fn clusters(&self, ca_bundle: &str) -> Vec<(String, Value)> {
        let files = json!({
            "name": DEFAULT_FILES_CLUSTER,
            "type": "STATIC",
            "connect_timeout": "1s",
            "load_assignment": {
                "cluster_name": DEFAULT_FILES_CLUSTER,
                "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {
                    "socket_address": {"address": "127.0.0.1", "port_value": FILES_PORT},
                }}}]}],
            },
        });
        let mut clusters = vec![(DEFAULT_FILES_CLUSTER.to_owned(), files)];
        if let KubernetesIdentity::Irsa { sts_host, .. } = self {
            clusters.push((
                DEFAULT_STS_CLUSTER.to_owned(),
                sts_cluster(DEFAULT_STS_CLUSTER, sts_host, ca_bundle),
            ));
        }
        clusters
    }
}

/// Reads `kubernetes_identity` (`"irsa"` or `"pod_identity"`) and, for IRSA, `aws_region`
/// (the cluster's region, where the webhook's `AWS_REGION` sends STS calls; by default the
/// upstreams' region when they share one).
pub fn read_kubernetes_identity(
    fields: &Fields,
    kind: Option<&str>,
    aws_region: Option<&str>,
    upstream_regions: &[(&str, &'static mesh_lambda_core::arn::Partition)],
) -> Result<Option<KubernetesIdentity>, DescriptionError> {
    let kind = match kind {
        None => {
            if aws_region.is_some() {
                return Err(fields
                    .error(
                        "aws_region",
                        "is read with kubernetes_identity \"irsa\" only (STS's region)",
                    )
                    .into());
            }
            return Ok(None);
        }
        Some(kind) => kind,
    };
    match kind {
        "pod_identity" => {
            if aws_region.is_some() {
                return Err(fields
                    .error(
                        "aws_region",
                        "is read with kubernetes_identity \"irsa\" only: Pod Identity's agent is in the pod's node",
                    )
                    .into());
            }
            Ok(Some(KubernetesIdentity::PodIdentity))
        }
        "irsa" => {
            let region = match aws_region {
                Some(region) => region.to_owned(),
                None => {
                    let mut regions: Vec<&str> = upstream_regions.iter().map(|(r, _)| *r).collect();
                    regions.sort_unstable();
                    regions.dedup();
                    match regions.as_slice() {
                        [one] => (*one).to_owned(),
                        _ => {
                            return Err(fields
                                .error(
                                    "aws_region",
                                    format!(
                                        "is required with kubernetes_identity \"irsa\" when the upstreams are in several regions ({}): the cluster's region, where STS is called",
                                        regions.join(", ")
                                    ),
                                )
                                .into())
                        }
                    }
                }
            };
            let partition = partition_of_region(&region).ok_or_else(|| {
                fields.error("aws_region", format!("{region:?} is not an AWS region"))
            })?;
            if let Some((_, other)) = upstream_regions.iter().find(|(_, p)| p.id != partition.id) {
                return Err(fields
                    .error(
                        "aws_region",
                        format!(
                            "{region:?} is in partition {}, an upstream's function in {}: one identity signs for one partition",
                            partition.id, other.id
                        ),
                    )
                    .into());
            }
            let sts_host = partition.endpoint("sts", &region);
            Ok(Some(KubernetesIdentity::Irsa { region, sts_host }))
        }
        other => Err(fields
            .error(
                "kubernetes_identity",
                format!("{other:?} is not \"irsa\" or \"pod_identity\""),
            )
            .into()),
    }
}

/// The files listener, for a description with a Kubernetes identity.
pub fn files_listener(d: &Description, sds_dir: &str) -> Option<Value> {
    d.kubernetes_identity
        .as_ref()
        .map(|identity| identity.files_listener(sds_dir))
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
    out.push_str(&indent(&yaml::document(&identity.sds_resource()), "    "));
    out
}
