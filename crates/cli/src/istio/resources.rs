//! The Istio resources: per upstream a `ServiceEntry` and `DestinationRule` for its mesh host,
//! and one `EnvoyFilter` for the caller's pods.

use super::{envoy_filter_name, file_list, resource_name};
use crate::clusters::{credential_clusters, host_and_port, request_buffer_bytes};
use crate::description::{Description, Upstream};
use crate::kubernetes::identity::{
    files_listener, identity_needs, sds_config_map, KubernetesIdentity,
};
use crate::kubernetes::{file, Resource};
use crate::output::GeneratedFile;
use crate::wasm_filter::{
    enable_on_route, filter_name, wasm_config, Code, ROUTE_HEADER, WASM_TYPE_URL,
};
use crate::wasm_source::OciImage;
use crate::yaml;
use serde_json::{json, Value};

const COMMAND: &str = "istio generate";
const NETWORKING: &str = "networking.istio.io/v1";
/// The port the app calls a mesh host on: the sidecar's port-80 outbound route table, where
/// the route is selected again (in the mesh host's virtual host) after the filter rewrote the
/// request.
const MESH_PORT: u16 = 80;
/// What Istio's agent does not read: the remote source's cluster is required by Envoy's
/// schema, but the agent replaces the whole remote source with its local copy of the image.
const OCI_PLACEHOLDER_CLUSTER: &str = "mesh-lambda.oci-image";

/// `<host>:80`: the name Istio gives a service's virtual host in the port-80 route table.
fn vhost_name(host: &str) -> String {
    format!("{host}:{MESH_PORT}")
}

pub fn files(d: &Description, oci: &OciImage) -> Vec<GeneratedFile> {
    let mut files = routing_files(d, oci);
    if let Some(identity) = &d.kubernetes_identity {
        files.extend(identity_files(d, identity));
    }
    files
}

/// Where the files listener's SDS file is mounted in istio-proxy.
const FILES_SDS_DIR: &str = "/etc/mesh-lambda/files";
/// The volume carrying it.
const FILES_VOLUME: &str = "mesh-lambda-files";

fn files_config_map_name(d: &Description) -> String {
    format!("{}-files", envoy_filter_name(d))
}

/// The ConfigMap holding the files listener's SDS file, and the pod annotations that mount it
/// into istio-proxy (Istio's injector reads `sidecar.istio.io/userVolume` and
/// `userVolumeMount`, JSON, and adds them to the pod and the proxy container).
fn identity_files(d: &Description, identity: &KubernetesIdentity) -> Vec<GeneratedFile> {
    let name = files_config_map_name(d);
    let ns = &d.istio.namespace;
    let config_map = sds_config_map(
        COMMAND,
        &name,
        ns,
        identity,
        &format!(
            "Mounted into istio-proxy at {FILES_SDS_DIR} by the annotations of pod-annotations.yaml."
        ),
        None,
    );
    let volume = json!([{"name": FILES_VOLUME, "configMap": {"name": name}}]);
    let mount = json!([{"name": FILES_VOLUME, "mountPath": FILES_SDS_DIR, "readOnly": true}]);
    let mut annotations = crate::output::header(
        COMMAND,
        &[
            &format!(
                "The pods of {:?}: merge into their Deployment's spec.template.metadata. Istio's injector",
                d.service
            ),
            "mounts the volume into istio-proxy, where the files listener reads its SDS file.",
            &identity_needs(identity),
        ],
    );
    annotations.push_str(&yaml::document(&json!({"annotations": {
        "sidecar.istio.io/userVolume": volume.to_string(),
        "sidecar.istio.io/userVolumeMount": mount.to_string(),
    }})));
    file_list([
        ("istio/mesh-lambda-files.yaml", config_map),
        ("istio/pod-annotations.yaml", annotations),
    ])
}

fn routing_files(d: &Description, oci: &OciImage) -> Vec<GeneratedFile> {
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
            lambda,
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
            &["Its cluster originates TLS to Lambda: the signed request leaves by it."],
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
    endpoint: &str,
    target_port: u16,
    comment: &[&str],
) -> Resource {
    let spec = json!({
        "hosts": [host],
        "location": "MESH_EXTERNAL",
        "ports": [{"number": MESH_PORT, "name": "http", "protocol": "HTTP", "targetPort": target_port}],
        "resolution": "DNS",
        "exportTo": ["."],
        "endpoints": [{"address": endpoint}],
    });
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

/// The mesh host's route: the signed request is selected into it again (the filter keeps the
/// caller's `:authority`), and it sends the Host the filter signed for and drops the route key.
fn signed_call_route(u: &Upstream) -> Value {
    json!({
        "route": {
            "timeout": format!("{}s", u.route_timeout_seconds),
            "host_rewrite_literal": u.config.host,
        },
        "request_headers_to_remove": [ROUTE_HEADER],
    })
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
            signed_call_route(u),
        ),
    ]
}

fn envoy_filter(d: &Description, oci: &OciImage) -> Resource {
    let mut patches: Vec<Value> = Vec::new();
    for u in &d.upstreams {
        patches.extend(upstream_patches(u, oci));
    }
    // Room for the largest payload: Envoy's default buffer (1 MiB) would answer 413 itself.
    patches.push(patch(
        "LISTENER",
        Some(outbound_listener()),
        "MERGE",
        json!({"per_connection_buffer_limit_bytes": request_buffer_bytes(d)}),
    ));
    if let Some(listener) = files_listener(d, FILES_SDS_DIR) {
        patches.push(patch(
            "LISTENER",
            Some(json!({"context": "SIDECAR_OUTBOUND"})),
            "ADD",
            listener,
        ));
    }
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
