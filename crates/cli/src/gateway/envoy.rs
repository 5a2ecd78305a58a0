//! The gateway's Envoy bootstrap: one listener on 127.0.0.1 (the service's sidecar forwards
//! to it), the filter with every function, and per function two routes: the caller's, by path
//! prefix, and its signed call's, where Envoy selects the request again after the filter
//! rewrote it. Both name the function in their metadata. Shaped as `envoy/gateway.yaml`.

use super::{signed_path, PLUGIN_NAME};
use crate::clusters::{host_cluster_name, request_buffer_bytes};
use crate::consul::envoy::{code, static_clusters};
use crate::description::{Description, Upstream};
use crate::kubernetes::identity::{files_listener, sds_resource, KubernetesIdentity};
use crate::local_replies::local_reply_config;
use crate::output::header;
use crate::wasm_filter::{named_wasm_config, ROUTE_HEADER};
use crate::yaml;
use mesh_lambda_core::event::PayloadFormat;
use serde_json::{json, Value};

/// The bootstrap as the file the user runs (`envoy -c`), with a header saying what it is.
pub fn bootstrap_yaml(bootstrap: &Value) -> String {
    let mut out = header(
        "gateway generate",
        &[
            "The Lambda gateway's Envoy: run it beside its Consul sidecar, envoy -c gateway.yaml.",
            "It listens on 127.0.0.1 only: callers reach it through the sidecar (mTLS, intentions),",
            "which sets x-forwarded-client-cert; ALWAYS_FORWARD_ONLY keeps that header on this",
            "plaintext hop (every other value removes it when the connection has no client",
            "certificate: Envoy's conn_manager_utility.cc, mutateXfccRequestHeader).",
            "Each function has two routes naming it in their metadata: the caller's (by path prefix)",
            "and its signed call's (its Invoke path and the route key only the filter writes).",
        ],
    );
    out.push_str(&yaml::document(bootstrap));
    out
}

fn function_metadata(u: &Upstream) -> Value {
    json!({"filter_metadata": {PLUGIN_NAME: {"function": u.name}}})
}

/// Lambda's cluster, the Host the filter signs for, the function's timeout.
fn lambda_action(u: &Upstream) -> Value {
    json!({
        "cluster": host_cluster_name(&u.config.host),
        "host_rewrite_literal": u.config.host,
        "timeout": format!("{}s", u.route_timeout_seconds),
    })
}

/// The signed call: selected again in this virtual host (the caller's `:authority` kept) by
/// its Invoke path and the route key, sent to its own Lambda cluster; a caller who forges
/// both is still on a route naming the function, so the filter signs it.
fn signed_call_route(u: &Upstream) -> Value {
    json!({
        "match": {
            "path": signed_path(u),
            "headers": [{"name": ROUTE_HEADER, "string_match": {"exact": PLUGIN_NAME}}],
        },
        "request_headers_to_remove": [ROUTE_HEADER],
        "metadata": function_metadata(u),
        "route": lambda_action(u),
    })
}

/// The caller's route: the prefix names the function. Its action is used only if the filter
/// did not rewrite the request (it fails closed), and then Lambda refuses it unsigned.
fn caller_route(u: &Upstream) -> Value {
    json!({
        "match": {"prefix": u.path_prefix},
        "metadata": function_metadata(u),
        "route": lambda_action(u),
    })
}

fn routes(d: &Description) -> Vec<Value> {
    let mut routes: Vec<Value> = d.upstreams.iter().map(signed_call_route).collect();
    routes.extend(d.upstreams.iter().map(caller_route));
    for p in &d.lambda_gateway.plain_routes {
        routes.push(json!({"match": {"prefix": p.path_prefix}, "route": {"cluster": p.name}}));
    }
    routes
}

fn wasm_filter(d: &Description, plugin: &str) -> Value {
    json!({"name": PLUGIN_NAME, "typed_config": named_wasm_config(PLUGIN_NAME, plugin, &code(d))})
}

fn listener(d: &Description, plugin: &str) -> Value {
    let g = &d.lambda_gateway;
    let mut manager = json!({
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": d.service,
        "forward_client_cert_details": "ALWAYS_FORWARD_ONLY",
        "local_reply_config": local_reply_config(),
        "route_config": {
            "name": d.service,
            "virtual_hosts": [{"name": d.service, "domains": ["*"], "routes": routes(d)}],
        },
        "http_filters": [wasm_filter(d, plugin), {
            "name": "envoy.filters.http.router",
            "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
        }],
    });
    // The api_gateway_v2 event's sourceIp from the connection, not a forgeable
    // x-forwarded-for (as the Consul generator's listener).
    let v2 = d
        .upstreams
        .iter()
        .any(|u| u.config.event_format() == Some(PayloadFormat::ApiGatewayV2));
    if let (true, Some(object)) = (v2, manager.as_object_mut()) {
        object.insert("use_remote_address".into(), Value::Bool(true));
    }
    json!({
        "name": d.service,
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": g.port}},
        "per_connection_buffer_limit_bytes": request_buffer_bytes(d),
        "filter_chains": [{"filters": [{
            "name": "envoy.filters.network.http_connection_manager",
            "typed_config": manager,
        }]}],
    })
}

/// The clusters the Consul generator's sidecar gets (Lambda's, one per host; the credential
/// endpoints; the `wasm_url` server), then the plain routes' upstreams.
fn clusters(d: &Description) -> Vec<Value> {
    let mut clusters = static_clusters(d);
    for p in &d.lambda_gateway.plain_routes {
        let endpoint =
            json!({"address": {"socket_address": {"address": p.address, "port_value": p.port}}});
        clusters.push(json!({
            "name": p.name,
            "type": "STATIC",
            "connect_timeout": "5s",
            "load_assignment": {
                "cluster_name": p.name,
                "endpoints": [{"lb_endpoints": [{"endpoint": endpoint}]}],
            },
        }));
    }
    clusters
}

/// The whole bootstrap: the gateway's listener, and with a Kubernetes identity the files
/// listener serving its token (its SDS file beside the bootstrap, in `config_dir`).
pub fn bootstrap(d: &Description, plugin: &str, config_dir: &str) -> Value {
    let mut listeners = vec![listener(d, plugin)];
    listeners.extend(files_listener(d, config_dir));
    json!({
        "admin": {"address": {"socket_address": {
            "address": "127.0.0.1",
            "port_value": d.lambda_gateway.admin_port,
        }}},
        "node": {"id": d.service, "cluster": d.service},
        "static_resources": {
            "listeners": listeners,
            "clusters": clusters(d),
        },
    })
}

/// The SDS file of the files listener, with a header saying where it goes.
pub fn sds_yaml(identity: &KubernetesIdentity, config_dir: &str) -> String {
    let mut out = header(
        "gateway generate",
        &[
            &format!(
                "The token of the gateway's identity ({}), read by Envoy from {}",
                identity.name(),
                identity.token_path()
            ),
            "and re-read when the kubelet rotates it; the files listener serves it to the filter.",
            &format!(
                "Put it beside the bootstrap, at {config_dir}/{} (the Kubernetes skeleton does).",
                identity.sds_file_name()
            ),
        ],
    );
    out.push_str(&yaml::document(&sds_resource(identity)));
    out
}
