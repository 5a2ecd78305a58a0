//! The Envoy clusters the generators add: Lambda over TLS (Consul), the credential endpoints
//! the configured providers call, STS over TLS when a role is assumed, and the server a
//! remote `.wasm` comes from.

use crate::description::Description;
use crate::wasm_source::WasmUrl;
use mesh_lambda_core::credentials::chain::Provider;
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

/// The name of the static cluster that reaches `host` (the host the filter signs for:
/// `lambda.<region>.amazonaws.com`, or `host_rewrite`): `mesh-lambda.<host>`, a port's `:`
/// made `_` as Envoy does in stat names, so the cluster's stats carry its name.
pub fn lambda_cluster_name(host: &str) -> String {
    format!("mesh-lambda.{}", host.replace(':', "_"))
}

/// `host` split into name and port (443 when none is given).
pub fn host_and_port(host: &str) -> (&str, u16) {
    match host.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().unwrap_or(443)),
        None => (host, 443),
    }
}

/// `lambda.<region>.amazonaws.com:443` (or the `host_rewrite` host) over TLS, the server's
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

/// The clusters of the credential endpoints the upstreams' providers call, and of STS for
/// those that assume a role, by name.
pub fn credential_clusters(d: &Description) -> BTreeMap<String, Value> {
    let mut clusters = BTreeMap::new();
    for u in &d.upstreams {
        let chain = &u.config.credentials.chain;
        if let Some(role) = &chain.assume_role {
            clusters
                .entry(role.sts_cluster.clone())
                .or_insert_with(|| sts_cluster(&role.sts_cluster, &role.sts_host, &d.ca_bundle));
        }
        for provider in &chain.providers {
            let (name, address) = match provider {
                Provider::Environment | Provider::AssumeRole => continue,
                Provider::Container => (
                    &chain.container_cluster,
                    d.container_credentials_address.as_str(),
                ),
                Provider::InstanceMetadata => {
                    (&chain.instance_metadata_cluster, INSTANCE_METADATA_ADDRESS)
                }
            };
            clusters
                .entry(name.clone())
                .or_insert_with(|| metadata_cluster(name, address));
        }
    }
    clusters
}

/// STS's endpoint (`sts.<region>.amazonaws.com:443`, or `sts_host`) over TLS, its
/// certificate checked as Lambda's is.
fn sts_cluster(name: &str, host: &str, ca_bundle: &str) -> Value {
    let (address, port) = host_and_port(host);
    let mut cluster = dns_cluster(name, address, port);
    insert(&mut cluster, "transport_socket", tls(address, ca_bundle));
    cluster
}

fn metadata_cluster(name: &str, address: &str) -> Value {
    json!({
        "name": name,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": endpoint(name, address, METADATA_PORT),
    })
}
