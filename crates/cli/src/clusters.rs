//! The Envoy clusters the generators add: Lambda over TLS (Consul), the credential endpoints
//! the configured providers call, STS over TLS when a role is assumed, and the server a
//! remote `.wasm` comes from.

use crate::description::{Description, KubernetesIdentity};
use crate::names::DescriptionError;
use crate::wasm_source::WasmUrl;
use mesh_lambda_core::credentials::chain::Provider;
use mesh_lambda_core::credentials::chain::DEFAULT_STS_CLUSTER;
use mesh_lambda_core::credentials::files::DEFAULT_FILES_CLUSTER;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Room above the largest payload for the headers: Envoy's default buffer limit (1 MiB)
/// would answer 413 itself for larger bodies.
pub const BUFFER_HEADROOM_BYTES: u64 = 1024 * 1024;
/// Lambda's synchronous response limit, which the cluster's buffer must hold.
pub const RESPONSE_LIMIT_BYTES: u64 = 6 * 1024 * 1024;
/// The cluster a remote `.wasm` (`wasm_url`) is fetched through.
pub const WASM_SOURCE_CLUSTER: &str = "mesh-lambda.wasm-source";
const METADATA_PORT: u16 = 80;
const INSTANCE_METADATA_ADDRESS: &str = "169.254.169.254";

/// The listener buffer every upstream's largest request fits in.
pub fn request_buffer_bytes(d: &Description) -> u64 {
    let largest = d.upstreams.iter().map(|u| u.config.max_request_bytes);
    largest.max().unwrap_or(0) + BUFFER_HEADROOM_BYTES
}

/// The name of the cluster that reaches `host` (a host the filter signs for: Lambda's, or
/// STS's when `sts_cluster` is not given): `mesh-lambda.<host>`, a port's `:` made `_` as
/// Envoy does in stat names, so the cluster's stats carry its name. Named by host, two
/// upstreams that reach STS in two regions get two clusters.
pub fn host_cluster_name(host: &str) -> String {
    format!("mesh-lambda.{}", host.replace(':', "_"))
}

/// `host` split into name and port (443 when none is given).
pub fn host_and_port(host: &str) -> (&str, u16) {
    match host.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().unwrap_or(443)),
        None => (host, 443),
    }
}

/// `lambda.<region>.<partition domain>:443` (or the `host_rewrite` host) over TLS, the server's
/// certificate checked against `ca_bundle` for that name.
pub fn lambda_cluster(name: &str, host: &str, ca_bundle: &str) -> Value {
    let (address, port) = host_and_port(host);
    let mut cluster = dns_cluster(name, address, port);
    insert(
        &mut cluster,
        "per_connection_buffer_limit_bytes",
        json!(RESPONSE_LIMIT_BYTES + BUFFER_HEADROOM_BYTES),
    );
    insert(&mut cluster, "transport_socket", tls(address, ca_bundle));
    cluster
}

/// The server of `wasm_url`: over TLS checked as the Lambda cluster is for https, plain for
/// http.
pub fn wasm_source_cluster(url: &WasmUrl, ca_bundle: &str) -> Value {
    let mut cluster = dns_cluster(WASM_SOURCE_CLUSTER, &url.host, url.port);
    if url.https {
        insert(&mut cluster, "transport_socket", tls(&url.host, ca_bundle));
    }
    cluster
}

fn insert(cluster: &mut Value, key: &str, value: Value) {
    if let Some(object) = cluster.as_object_mut() {
        object.insert(key.into(), value);
    }
}

fn dns_cluster(name: &str, address: &str, port: u16) -> Value {
    json!({
        "name": name,
        "type": "LOGICAL_DNS",
        "dns_lookup_family": "V4_ONLY",
        "connect_timeout": "5s",
        "load_assignment": endpoint(name, address, port),
    })
}

fn endpoint(name: &str, address: &str, port: u16) -> Value {
    json!({
        "cluster_name": name,
        "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {
            "socket_address": {"address": address, "port_value": port},
        }}}]}],
    })
}

/// TLS to `server`: SNI, and its certificate checked against `ca_bundle` for that name.
fn tls(server: &str, ca_bundle: &str) -> Value {
    json!({
        "name": "envoy.transport_sockets.tls",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
            "sni": server,
            "common_tls_context": {
                "validation_context": {
                    "trusted_ca": {"filename": ca_bundle},
                    "match_typed_subject_alt_names": [{
                        "san_type": "DNS",
                        "matcher": {"exact": server},
                    }],
                },
            },
        },
    })
}

/// A cluster an upstream's filter calls: the field of the upstream that names it, where it
/// leads (for messages), and the cluster.
struct CredentialCluster<'a> {
    upstream: usize,
    field: &'static str,
    name: &'a str,
    endpoint: &'a str,
    cluster: Value,
}

fn each_credential_cluster(d: &Description) -> Vec<CredentialCluster<'_>> {
    let mut clusters = Vec::new();
    for (upstream, u) in d.upstreams.iter().enumerate() {
        let chain = &u.config.credentials.chain;
        if let Some(role) = &chain.assume_role {
            clusters.push(CredentialCluster {
                upstream,
                field: "credentials.assume_role.sts_cluster",
                name: &role.sts_cluster,
                endpoint: &role.sts_host,
                cluster: sts_cluster(&role.sts_cluster, &role.sts_host, &d.ca_bundle),
            });
        }
        for provider in &chain.providers {
            let (field, name, endpoint) = match provider {
                // web_identity's clusters (the files listener's, STS's) come with the
                // description's Kubernetes identity, and the credentials file's with
                // envoy/files.yaml, not from the chain's list.
                Provider::Environment
                | Provider::AssumeRole
                | Provider::WebIdentity
                | Provider::CredentialsFile => continue,
                Provider::Container => (
                    "credentials.container_cluster",
                    &chain.container_cluster,
                    d.container_credentials_address.as_str(),
                ),
                Provider::InstanceMetadata => (
                    "credentials.instance_metadata_cluster",
                    &chain.instance_metadata_cluster,
                    INSTANCE_METADATA_ADDRESS,
                ),
            };
            clusters.push(CredentialCluster {
                upstream,
                field,
                name,
                endpoint,
                cluster: metadata_cluster(name, endpoint, METADATA_PORT),
            });
        }
    }
    clusters
}

/// The clusters of the credential endpoints the upstreams' providers call, and of STS for
/// those that assume a role, by name (`check_cluster_names` has refused one name for two).
pub fn credential_clusters(d: &Description) -> BTreeMap<String, Value> {
    let mut clusters: BTreeMap<String, Value> = each_credential_cluster(d)
        .into_iter()
        .map(|c| (c.name.to_owned(), c.cluster))
        .collect();
    clusters.extend(identity_clusters(d));
    clusters
}

/// The files listener's port on 127.0.0.1 (`envoy/files.yaml`'s), which its cluster reaches.
pub const FILES_PORT: u16 = 19_101;

/// The clusters of the pod's Kubernetes identity, by name: the files listener's, and STS's for
/// IRSA (the Pod Identity agent's is the container cluster, at `container_credentials_address`).
fn identity_clusters(d: &Description) -> Vec<(String, Value)> {
    let Some(identity) = &d.kubernetes_identity else {
        return Vec::new();
    };
    let files = metadata_cluster(DEFAULT_FILES_CLUSTER, "127.0.0.1", FILES_PORT);
    let mut clusters = vec![(DEFAULT_FILES_CLUSTER.to_owned(), files)];
    if let KubernetesIdentity::Irsa { sts_host, .. } = identity {
        clusters.push((
            DEFAULT_STS_CLUSTER.to_owned(),
            sts_cluster(DEFAULT_STS_CLUSTER, sts_host, &d.ca_bundle),
        ));
    }
    clusters
}

/// One cluster name, one endpoint: a name given to two (two upstreams' `sts_cluster` for STS
/// in two regions, or a metadata cluster's name) would send one upstream's calls to the
/// other's endpoint, where they fail.
pub fn check_cluster_names(d: &Description) -> Result<(), DescriptionError> {
    let clusters = each_credential_cluster(d);
    let identity = identity_clusters(d);
    for c in &clusters {
        if let Some((name, _)) = identity
            .iter()
            .find(|(name, cluster)| name == c.name && *cluster != c.cluster)
        {
            return Err(DescriptionError(format!(
                "upstreams[{}].filter.{}: cluster {name:?} is kubernetes_identity's; give {} a cluster name of its own",
                c.upstream, c.field, c.endpoint
            )));
        }
    }
    let mut first: BTreeMap<&str, &CredentialCluster> = BTreeMap::new();
    for c in &clusters {
        match first.get(c.name) {
            Some(f) if f.cluster != c.cluster => {
                return Err(DescriptionError(format!(
                    "upstreams[{}].filter.{}: cluster {:?} reaches {}, but upstreams[{}].filter.{} \
                     names it for {}; give each endpoint its own cluster name",
                    c.upstream, c.field, c.name, c.endpoint, f.upstream, f.field, f.endpoint
                )))
            }
            Some(_) => {}
            None => {
                first.insert(c.name, c);
            }
        }
    }
    Ok(())
}

/// STS's endpoint (`sts.<region>.<partition domain>:443`, or `sts_host`) over TLS, its
/// certificate checked as Lambda's is.
fn sts_cluster(name: &str, host: &str, ca_bundle: &str) -> Value {
    let (address, port) = host_and_port(host);
    let mut cluster = dns_cluster(name, address, port);
    insert(&mut cluster, "transport_socket", tls(address, ca_bundle));
    cluster
}

/// A cluster to a fixed address on the pod's or node's own network (a metadata endpoint, the
/// files listener).
fn metadata_cluster(name: &str, address: &str, port: u16) -> Value {
    json!({
        "name": name,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": endpoint(name, address, port),
    })
}
