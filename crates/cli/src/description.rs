//! The description of a caller's Lambda upstreams, the generators' input: one for Consul,
//! Istio and Envoy Gateway, each generator taking the fields of its platform. Read from its
//! JSON by `reader`.

use crate::wasm_source::WasmSources;
use mesh_lambda_core::config::FilterConfig;
use std::collections::BTreeMap;

/// What the generator builds the config entries from.
#[derive(Debug, Clone)]
pub struct Description {
    /// The calling service (its service-defaults).
    pub service: String,
    pub datacenter: String,
    pub namespace: String,
    pub partition: String,
    /// Where the proxy gets the filter's `.wasm` from (each generator needs one kind).
    pub wasm: WasmSources,
    /// The CA bundle, on the sidecar, that Lambda's certificate is checked against.
    pub ca_bundle: String,
    /// The container credentials endpoint's address (169.254.170.23 for EKS Pod Identity).
    pub container_credentials_address: String,
    /// The pod's identity on EKS (`kubernetes_identity`), whose token the proxy reads
    /// through its files listener.
    pub kubernetes_identity: Option<KubernetesIdentity>,
    pub upstreams: Vec<Upstream>,
    pub istio: IstioSettings,
    pub envoy_gateway: GatewaySettings,
    pub lambda_gateway: LambdaGateway,
}

/// The Lambda gateway (the optional `gateway` object, `gateway generate`): the Envoy that is
/// the application of service `service`, fronting the upstreams as functions by path prefix.
#[derive(Debug, Clone)]
pub struct LambdaGateway {
    /// The port of its listener on 127.0.0.1 (the service's port, its sidecar's local app).
    pub port: u16,
    /// The port of its admin interface on 127.0.0.1.
    pub admin_port: u16,
    /// The mesh services allowed to call it (its intentions).
    pub callers: Vec<String>,
    /// Routes to ordinary upstreams beside the functions (the filter passes them untouched).
    pub plain_routes: Vec<PlainRoute>,
}

/// A gateway route that names no function: its path prefix to a plain HTTP upstream.
#[derive(Debug, Clone)]
pub struct PlainRoute {
    /// Its cluster's name.
    pub name: String,
    pub path_prefix: String,
    pub address: String,
    pub port: u16,
}

/// Where the Istio resources go (the optional `istio` object).
#[derive(Debug, Clone)]
pub struct IstioSettings {
    /// The caller's namespace: every resource is created there and exported only to it.
    pub namespace: String,
    /// The labels selecting the caller's pods (default: `app: <service>`).
    pub workload_labels: BTreeMap<String, String>,
}

/// The Gateway the Envoy Gateway resources attach to (the optional `envoy_gateway` object).
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    pub gateway: String,
    pub gateway_namespace: String,
    /// The Gateway listener (`sectionName`) the routes attach to.
    pub listener: String,
    /// Where the HTTPRoutes, Backends and BackendTLSPolicies go (default: the Gateway's).
    pub namespace: String,
}

/// One Lambda upstream of the caller.
#[derive(Debug, Clone)]
pub struct Upstream {
    pub name: String,
    pub bind_address: String,
    /// Required by the Consul generator only (`consul::check_consul_fields`).
    pub bind_port: Option<u16>,
    /// The name the caller calls the upstream by in an Istio mesh.
    pub mesh_host: String,
    /// The path prefix a Lambda gateway routes to it by (default `/<name>/`).
    pub path_prefix: String,
    pub route_timeout_seconds: u64,
    /// The plugin configuration the filter gets, as JSON text.
    pub plugin_configuration: String,
    /// The same, as the filter reads it.
    pub config: FilterConfig,
}

impl Upstream {
    /// The port of the Consul upstream's listener (`local_bind_port`, which `consul generate`
    /// requires).
    pub fn local_bind_port(&self) -> u16 {
        self.bind_port.unwrap_or_default()
    }

    /// `<name>: <function ARN> (<invocation type>)`, for the comments of generated files.
    pub fn summary(&self) -> String {
        format!(
            "{}: {} ({})",
            self.name,
            self.config.arn.function_arn,
            self.config.invocation_mode.invocation_type()
        )
    }
}

/// EKS Pod Identity's agent (the `FULL_URI` the webhook sets: `http://169.254.170.23/v1/credentials`).
pub const POD_IDENTITY_AGENT: &str = "169.254.170.23";

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
}
