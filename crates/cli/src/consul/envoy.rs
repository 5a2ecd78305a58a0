//! The Envoy resources the Consul escape hatches carry: per Lambda upstream a complete
//! listener, named and shaped as Consul names an upstream's listener (so its stats keep
//! Consul's prefixes), with the filter before the router; and the static clusters the
//! listeners route and fetch credentials through.

use crate::clusters::{
    credential_clusters, host_cluster_name, lambda_cluster, wasm_source_cluster,
    WASM_SOURCE_CLUSTER,
};
use crate::description::{Description, Upstream};
use crate::local_replies::local_reply_config;
use crate::wasm_filter::{wasm_config, Code, ROUTE_HEADER};
use mesh_lambda_core::event::PayloadFormat;
use serde_json::{json, Value};

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
            listener: format!("{}:{}:{}", u.name, u.bind_address, u.local_bind_port()),
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
        "address": {"socket_address": {"address": u.bind_address, "port_value": u.local_bind_port()}},
        "traffic_direction": "OUTBOUND",
        "per_connection_buffer_limit_bytes": u.config.max_request_bytes + crate::clusters::BUFFER_HEADROOM_BYTES,
        "filter_chains": [{"filters": [{
            "name": "envoy.filters.network.http_connection_manager",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                "stat_prefix": names.stat_prefix,
                "local_reply_config": local_reply_config(),
                "route_config": {
                    "name": u.name,
                    "virtual_hosts": [{
                        "name": names.virtual_host,
                        "domains": ["*"],
                        // The filter keeps the caller's `:authority` and signs for the
                        // Lambda host, which the route sends.
                        "routes": [{
                            "match": {"prefix": "/"},
                            "request_headers_to_remove": [ROUTE_HEADER],
                            "route": {
                                "cluster": host_cluster_name(&u.config.host),
                                "host_rewrite_literal": u.config.host,
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

/// The `.wasm` as the description gives it: a file on the proxy, or `wasm_url` fetched through
/// `WASM_SOURCE_CLUSTER` (one of the two: `super::check_consul_fields`).
pub fn code(d: &Description) -> Code<'_> {
    match (&d.wasm.file, &d.wasm.url) {
        (Some(file), _) => Code::Local(file),
        (None, Some(url)) => Code::Remote {
            uri: &url.url,
            cluster: WASM_SOURCE_CLUSTER,
            sha256: &url.sha256,
        },
        // Refused before generating.
        (None, None) => Code::Local(""),
    }
}

fn wasm_filter(d: &Description, u: &Upstream) -> Value {
    json!({
        "name": "envoy.filters.http.wasm",
        "typed_config": wasm_config(&u.name, &u.plugin_configuration, &code(d)),
    })
}

/// The static clusters (proxy-defaults `envoy_extra_static_clusters_json`): one per Lambda
/// host, the credential endpoints the configured providers call, and the `wasm_url` server,
/// in name order. Plain `Cluster` objects, without `@type`: Consul splices them into its
/// bootstrap's cluster list, where Envoy refuses an `@type` field.
pub fn static_clusters(d: &Description) -> Vec<Value> {
    let mut clusters = credential_clusters(d);
    for u in &d.upstreams {
        // Replaces STS's cluster to the same host (both named by it): same endpoint and TLS,
        // and Lambda's buffer holds the larger answers.
        let name = host_cluster_name(&u.config.host);
        let cluster = lambda_cluster(&name, &u.config.host, &d.ca_bundle);
        clusters.insert(name, cluster);
    }
    if let (None, Some(url)) = (&d.wasm.file, &d.wasm.url) {
        clusters.insert(
            WASM_SOURCE_CLUSTER.to_owned(),
            wasm_source_cluster(url, &d.ca_bundle),
        );
    }
    clusters.into_values().collect()
}
