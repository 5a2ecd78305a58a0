//! The Envoy resources the Consul escape hatches carry: per Lambda upstream a complete
//! listener, named and shaped as Consul names an upstream's listener (so its stats keep
//! Consul's prefixes), with the filter before the router; and the static clusters the
//! listeners route and fetch credentials through.

use super::description::{Description, Upstream};
use mesh_lambda_core::credentials::chain::Provider;
use mesh_lambda_core::event::PayloadFormat;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// One VM for every upstream's filter: the credentials are fetched once per proxy.
pub const VM_ID: &str = "mesh-lambda";
/// Room above the largest payload for the headers: Envoy's default buffer limit (1 MiB)
/// would answer 413 itself for larger bodies.
const BUFFER_HEADROOM_BYTES: u64 = 1024 * 1024;
/// Lambda's synchronous response limit, which the cluster's buffer must hold.
const RESPONSE_LIMIT_BYTES: u64 = 6 * 1024 * 1024;
const METADATA_PORT: u16 = 80;
const INSTANCE_METADATA_ADDRESS: &str = "169.254.169.254";

/// The AWS variables the filter's credential providers read, passed into the VM.
const HOST_ENV_KEYS: [&str; 7] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_EC2_METADATA_DISABLED",
];

/// The name of the static cluster that reaches `host` (the host the filter signs for:
/// `lambda.<region>.amazonaws.com`, or `host_rewrite`): `mesh-lambda.<host>`, a port's `:`
/// made `_` as Envoy does in stat names, so the cluster's stats carry its name.
pub fn lambda_cluster_name(host: &str) -> String {
    format!("mesh-lambda.{}", host.replace(':', "_"))
}

/// Consul's names for an upstream of the caller (`agent/xds` of Consul).
pub struct ConsulNames {
    /// `<upstream>:<address>:<port>`.
    pub listener: String,
    /// `upstream.<upstream>.<namespace>.<partition>.<datacenter>`.
    pub stat_prefix: String,
    /// `<upstream>.<namespace>.<partition>.<datacenter>`.
    pub virtual_host: String,
}

impl ConsulNames {
    pub fn of(d: &Description, u: &Upstream) -> Self {
        let qualified = format!(
            "{}.{}.{}.{}",
            u.name, d.namespace, d.partition, d.datacenter
        );
        Self {
            listener: format!("{}:{}:{}", u.name, u.bind_address, u.bind_port),
            stat_prefix: format!("upstream.{qualified}"),
            virtual_host: qualified,
        }
    }
}

/// The upstream's listener (the service-defaults `EnvoyListenerJSON`).
pub fn upstream_listener(d: &Description, u: &Upstream) -> Value {
    let names = ConsulNames::of(d, u);
    let mut listener = json!({
        "@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
        "name": names.listener,
        "address": {"socket_address": {"address": u.bind_address, "port_value": u.bind_port}},
        "traffic_direction": "OUTBOUND",
        "per_connection_buffer_limit_bytes": u.config.max_request_bytes + BUFFER_HEADROOM_BYTES,
        "filter_chains": [{"filters": [{
            "name": "envoy.filters.network.http_connection_manager",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                "stat_prefix": names.stat_prefix,
                "route_config": {
                    "name": u.name,
                    "virtual_hosts": [{
                        "name": names.virtual_host,
                        "domains": ["*"],
                        "routes": [{
                            "match": {"prefix": "/"},
                            "route": {
                                "cluster": lambda_cluster_name(&u.config.host),
                                "timeout": format!("{}s", u.route_timeout_seconds),
                            },
                        }],
                    }],
                },
                "http_filters": [wasm_filter(d, u), {
                    "name": "envoy.filters.http.router",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
                    },
                }],
            },
        }]}],
    });
    // The api_gateway_v2 event's sourceIp: the connection's address, not the caller's
    // forgeable x-forwarded-for (Envoy takes that unless told otherwise). Only there: it costs
    // every request a header.
    if u.config.event_format() == Some(PayloadFormat::ApiGatewayV2) {
        if let Some(manager) = listener
            .pointer_mut("/filter_chains/0/filters/0/typed_config")
            .and_then(Value::as_object_mut)
        {
            manager.insert("use_remote_address".into(), Value::Bool(true));
        }
    }
    listener
}

fn wasm_filter(d: &Description, u: &Upstream) -> Value {
    json!({
        "name": "envoy.filters.http.wasm",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
            "config": {
                "name": format!("mesh-lambda/{}", u.name),
                "root_id": "mesh-lambda",
                // Envoy >= 1.35: without it the filter never gets the body it signs.
                "allow_on_headers_stop_iteration": true,
                // Never fail open: an unsigned request must not leave.
                "failure_policy": "FAIL_CLOSED",
                "vm_config": {
                    "vm_id": VM_ID,
                    "runtime": "envoy.wasm.runtime.v8",
                    "code": {"local": {"filename": d.wasm_file}},
                    "environment_variables": {"host_env_keys": HOST_ENV_KEYS},
                },
                "configuration": {
                    "@type": "type.googleapis.com/google.protobuf.StringValue",
                    "value": u.plugin_configuration,
                },
            },
        },
    })
}

/// The static clusters (proxy-defaults `envoy_extra_static_clusters_json`): one per Lambda
/// host, and the credential endpoints the configured providers call, in name order. Plain
/// `Cluster` objects, without `@type`: Consul splices them into its bootstrap's cluster list,
/// where Envoy refuses an `@type` field.
pub fn static_clusters(d: &Description) -> Vec<Value> {
    let mut clusters = BTreeMap::new();
    for u in &d.upstreams {
        let name = lambda_cluster_name(&u.config.host);
        clusters
            .entry(name.clone())
            .or_insert_with(|| lambda_cluster(&name, &u.config.host, &d.ca_bundle));
        let chain = &u.config.credentials.chain;
        for provider in &chain.providers {
            let (name, address) = match provider {
                Provider::Environment => continue,
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
    clusters.into_values().collect()
}

/// `lambda.<region>.amazonaws.com:443` (or the `host_rewrite` host) over TLS, the server's
/// certificate checked against `ca_bundle` for that name.
fn lambda_cluster(name: &str, host: &str, ca_bundle: &str) -> Value {
    let (address, port) = match host.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().unwrap_or(443)),
        None => (host, 443),
    };
    json!({
        "name": name,
        "type": "LOGICAL_DNS",
        "dns_lookup_family": "V4_ONLY",
        "connect_timeout": "5s",
        "per_connection_buffer_limit_bytes": RESPONSE_LIMIT_BYTES + BUFFER_HEADROOM_BYTES,
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {
                "socket_address": {"address": address, "port_value": port},
            }}}]}],
        },
        "transport_socket": {
            "name": "envoy.transport_sockets.tls",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
                "sni": address,
                "common_tls_context": {
                    "validation_context": {
                        "trusted_ca": {"filename": ca_bundle},
                        "match_typed_subject_alt_names": [{
                            "san_type": "DNS",
                            "matcher": {"exact": address},
                        }],
                    },
                },
            },
        },
    })
}

fn metadata_cluster(name: &str, address: &str) -> Value {
    json!({
        "name": name,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {
                "socket_address": {"address": address, "port_value": METADATA_PORT},
            }}}]}],
        },
    })
}
