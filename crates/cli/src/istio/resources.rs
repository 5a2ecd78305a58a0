//! The Istio resources: per upstream a `ServiceEntry` and `DestinationRule` for its mesh host,
//! per Lambda host the same pair, and one `EnvoyFilter` for the caller's pods.

use super::{envoy_filter_name, file_list, resource_name};
use crate::clusters::{credential_clusters, host_and_port, request_buffer_bytes};
use crate::description::{Description, Upstream};
use crate::kubernetes::{file, Resource};
use crate::output::GeneratedFile;
use crate::wasm_filter::{enable_on_route, filter_name, wasm_config, Code, WASM_TYPE_URL};
use crate::wasm_source::OciImage;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const COMMAND: &str = "istio generate";
const NETWORKING: &str = "networking.istio.io/v1";
/// The port the app calls a mesh host on, and the Lambda host's port in the mesh: both land
/// in the sidecar's port-80 outbound route table, where the route is selected again after the
/// filter rewrote the request.
const MESH_PORT: u16 = 80;
/// What Istio's agent does not read: the remote source's cluster is required by Envoy's
/// schema, but the agent replaces the whole remote source with its local copy of the image.
const OCI_PLACEHOLDER_CLUSTER: &str = "mesh-lambda.oci-image";

/// A Lambda host (the host the filter signs for) and the upstreams that call it.
struct LambdaHost<'a> {
    name: &'a str,
    port: u16,
    /// As the filter writes it into `:authority` (`name` or `name:port`).
    authority: &'a str,
    route_timeout_seconds: u64,
}

fn lambda_hosts(d: &Description) -> Vec<LambdaHost<'_>> {
    let mut hosts: BTreeMap<&str, LambdaHost> = BTreeMap::new();
    for u in &d.upstreams {
        let (name, port) = host_and_port(&u.config.host);
        let host = hosts.entry(&u.config.host).or_insert(LambdaHost {
            name,
            port,
            authority: &u.config.host,
            route_timeout_seconds: 0,
        });
        host.route_timeout_seconds = host.route_timeout_seconds.max(u.route_timeout_seconds);
    }
    hosts.into_values().collect()
}

/// `<host>:80`: the name Istio gives a service's virtual host in the port-80 route table.
fn vhost_name(host: &str) -> String {
    format!("{host}:{MESH_PORT}")
}

pub fn files(d: &Description, oci: &OciImage) -> Vec<GeneratedFile> {
    let ns = &d.istio.namespace;
    let mut entries = Vec::new();
    let mut rules = Vec::new();
    for u in &d.upstreams {
        let name = format!("mesh-lambda-{}", resource_name(&u.name));
        let (lambda, port) = host_and_port(&u.config.host);
        let what = format!("{}: the app's name for it in the mesh.", u.summary());
        entries.push(service_entry(
            &name,
            ns,
            &u.mesh_host,
            Some(lambda),
            port,
            &[
                &what,
                &format!(
                    "The app calls http://{}/ (port 80); Istio's DNS proxy must resolve the name",
                    u.mesh_host
                ),
                "(ISTIO_META_DNS_CAPTURE and ISTIO_META_DNS_AUTO_ALLOCATE on the pods).",
            ],
        ));
        rules.push(tls_rule(
            &name,
            ns,
            &u.mesh_host,
            lambda,
            &d.ca_bundle,
            &["Its cluster originates TLS to Lambda, in case the route is not selected again."],
        ));
    }
    for host in lambda_hosts(d) {
        let name = format!("mesh-lambda.{}", host.authority.replace(':', "-"));
        entries.push(service_entry(
            &name,
            ns,
            host.name,
            None,
            host.port,
            &[
                &format!("The Lambda endpoint on port 80 of the mesh: after the filter rewrites the request to {},", host.authority),
                "Envoy selects its route again and finds this host (without it: Istio's plaintext passthrough).",
            ],
        ));
        rules.push(tls_rule(
            &name,
            ns,
            host.name,
            host.name,
            &d.ca_bundle,
            &["TLS origination to Lambda: SNI and the certificate checked for the Lambda host."],
        ));
    }
    file_list([
        (
            "istio/service-entries.yaml",
            file(
                COMMAND,
                &["Istio ServiceEntries for mesh-lambda's Lambda upstreams. Apply: kubectl apply -f ."],
                &entries,
            ),
        ),
        (
            "istio/destination-rules.yaml",
            file(
                COMMAND,
                &["Istio DestinationRules: TLS to Lambda for the hosts of service-entries.yaml."],
                &rules,
            ),
        ),
        (
            "istio/envoy-filter.yaml",
            file(
                COMMAND,
                &[
                    "The EnvoyFilter that loads mesh-lambda into the caller's sidecars. Istio's WasmPlugin cannot",
                    "set allow_on_headers_stop_iteration (without it the filter never gets the body it signs) nor",
                    "failure_policy; this adds the complete Wasm config instead. Needs istiod >= 1.28 and Envoy >= 1.35.",
                ],
                &[envoy_filter(d, oci)],
            ),
        ),
    ])
}

fn service_entry(
    name: &str,
    ns: &str,
    host: &str,
    endpoint: Option<&str>,
    target_port: u16,
    comment: &[&str],
) -> Resource {
    let mut spec = json!({
        "hosts": [host],
        "location": "MESH_EXTERNAL",
        "ports": [{"number": MESH_PORT, "name": "http", "protocol": "HTTP", "targetPort": target_port}],
        "resolution": "DNS",
        "exportTo": ["."],
    });
    if let (Some(address), Some(spec)) = (endpoint, spec.as_object_mut()) {
        spec.insert("endpoints".into(), json!([{"address": address}]));
    }
    Resource::new(NETWORKING, "ServiceEntry", name, ns, spec, comment)
}

fn tls_rule(
    name: &str,
    ns: &str,
    host: &str,
    lambda: &str,
    ca_bundle: &str,
    comment: &[&str],
) -> Resource {
    let spec = json!({
        "host": host,
        "exportTo": ["."],
        "trafficPolicy": {"tls": {
            "mode": "SIMPLE",
            "sni": lambda,
            "subjectAltNames": [lambda],
            "caCertificates": ca_bundle,
        }},
    });
    Resource::new(NETWORKING, "DestinationRule", name, ns, spec, comment)
}

fn outbound_listener() -> Value {
    json!({"context": "SIDECAR_OUTBOUND", "listener": {"portNumber": MESH_PORT}})
}

fn route_table(vhost: &str, route: Option<&str>) -> Value {
    let mut vhost = json!({"name": vhost_name(vhost)});
    if let (Some(route), Some(v)) = (route, vhost.as_object_mut()) {
        v.insert("route".into(), json!({"name": route}));
    }
    json!({"context": "SIDECAR_OUTBOUND", "routeConfiguration": {"portNumber": MESH_PORT, "vhost": vhost}})
}

fn patch(apply_to: &str, matching: Option<Value>, operation: &str, value: Value) -> Value {
    let mut patch = json!({"applyTo": apply_to, "patch": {"operation": operation, "value": value}});
    if let (Some(m), Some(p)) = (matching, patch.as_object_mut()) {
        p.insert("match".into(), m);
    }
    patch
}

/// The route Istio makes for a host without a VirtualService.
const DEFAULT_ROUTE: &str = "default";

fn timeout(seconds: u64) -> Value {
    json!({"route": {"timeout": format!("{seconds}s")}})
}

fn upstream_patches(u: &Upstream, oci: &OciImage) -> [Value; 4] {
    let name = filter_name(&u.name);
    let code = Code::Remote {
        uri: &oci.image,
        cluster: OCI_PLACEHOLDER_CLUSTER,
        sha256: &oci.manifest_sha256,
    };
    let mut on_route = serde_json::Map::new();
    on_route.insert(name.clone(), enable_on_route());
    [
        patch(
            "EXTENSION_CONFIG",
            None,
            "ADD",
            json!({"name": name, "typed_config": wasm_config(&u.name, &u.plugin_configuration, &code)}),
        ),
        patch(
            "HTTP_FILTER",
            Some(json!({
                "context": "SIDECAR_OUTBOUND",
                "listener": {"portNumber": MESH_PORT, "filterChain": {"filter": {
                    "name": "envoy.filters.network.http_connection_manager",
                    "subFilter": {"name": "envoy.filters.http.router"},
                }}},
            })),
            "INSERT_BEFORE",
            json!({
                "name": name,
                // Off on every other route of the table; the mesh host's enables it.
                "disabled": true,
                "config_discovery": {
                    // 0s: wait for the extension config (never run without it).
                    "config_source": {"ads": {}, "initial_fetch_timeout": "0s"},
                    "type_urls": [WASM_TYPE_URL],
                },
            }),
        ),
        patch(
            "VIRTUAL_HOST",
            Some(route_table(&u.mesh_host, None)),
            "MERGE",
            json!({"typed_per_filter_config": on_route}),
        ),
        patch(
            "HTTP_ROUTE",
            Some(route_table(&u.mesh_host, Some(DEFAULT_ROUTE))),
            "MERGE",
            timeout(u.route_timeout_seconds),
        ),
    ]
}

fn envoy_filter(d: &Description, oci: &OciImage) -> Resource {
    let mut patches: Vec<Value> = Vec::new();
    for u in &d.upstreams {
        patches.extend(upstream_patches(u, oci));
    }
    for host in lambda_hosts(d) {
        // The signed request's route: the Lambda host's, its timeout the longest upstream's.
        patches.push(patch(
            "HTTP_ROUTE",
            Some(route_table(host.name, Some(DEFAULT_ROUTE))),
            "MERGE",
            timeout(host.route_timeout_seconds),
        ));
        if host.authority != host.name {
            // `:authority` carries the port: the Lambda host's virtual host must answer to it.
            patches.push(patch(
                "VIRTUAL_HOST",
                Some(route_table(host.name, None)),
                "MERGE",
                json!({"domains": [host.authority]}),
            ));
        }
    }
    // Room for the largest payload: Envoy's default buffer (1 MiB) would answer 413 itself.
    patches.push(patch(
        "LISTENER",
        Some(outbound_listener()),
        "MERGE",
        json!({"per_connection_buffer_limit_bytes": request_buffer_bytes(d)}),
    ));
    for cluster in credential_clusters(d).into_values() {
        patches.push(patch(
            "CLUSTER",
            Some(json!({"context": "SIDECAR_OUTBOUND"})),
            "ADD",
            cluster,
        ));
    }
    let spec = json!({
        "workloadSelector": {"labels": d.istio.workload_labels},
        "configPatches": patches,
    });
    Resource::new(
        "networking.istio.io/v1alpha3",
        "EnvoyFilter",
        &envoy_filter_name(d),
        &d.istio.namespace,
        spec,
        &[&format!(
            "The filter for the pods of {:?}, one Wasm extension config per Lambda upstream.",
            d.service
        )],
    )
}
