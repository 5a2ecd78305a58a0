//! The Envoy Gateway resources: per upstream an `HTTPRoute`, a `Backend` and a
//! `BackendTLSPolicy`; one `EnvoyPatchPolicy` for the Gateway.

use crate::clusters::{
    credential_clusters, host_and_port, request_buffer_bytes, wasm_source_cluster,
    WASM_SOURCE_CLUSTER,
};
use crate::description::{Description, GatewaySettings, Upstream};
use crate::kubernetes::identity::{
    files_listener, identity_needs, sds_config_map, KubernetesIdentity, FILES_LISTENER,
};
use crate::kubernetes::{file, Resource};
use crate::output::GeneratedFile;
use crate::wasm_filter::{
    enable_on_route, filter_name, plugin_name, wasm_config, Code, ROUTE_HEADER,
};
use crate::wasm_source::WasmUrl;
use mesh_lambda_core::invoke::InvokeTarget;
use serde_json::{json, Value};

const COMMAND: &str = "envoy-gateway generate";
const GATEWAY_API: &str = "gateway.networking.k8s.io/v1";
const ENVOY_GATEWAY: &str = "gateway.envoyproxy.io/v1alpha1";
const LISTENER_TYPE: &str = "type.googleapis.com/envoy.config.listener.v3.Listener";
const ROUTE_CONFIG_TYPE: &str = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
const CLUSTER_TYPE: &str = "type.googleapis.com/envoy.config.cluster.v3.Cluster";

fn resource_name(u: &Upstream) -> String {
    format!("mesh-lambda-{}", u.name)
}

/// The `EnvoyPatchPolicy`'s name, `mesh-lambda-<routes' namespace>-<service>`: it lives in
/// the Gateway's namespace, which the policies of services from several namespaces share
/// (one name for all would make a second service's replace the first's).
fn patch_policy_name(d: &Description) -> String {
    format!("mesh-lambda-{}-{}", d.envoy_gateway.namespace, d.service)
}

/// `<gateway namespace>/<gateway>/<listener>`: Envoy Gateway's name for the xDS listener and
/// its route configuration.
fn xds_listener_name(g: &GatewaySettings) -> String {
    format!("{}/{}/{}", g.gateway_namespace, g.gateway, g.listener)
}

/// The path the signed request carries (the query, `?Qualifier=`, is not part of a match).
fn invoke_path(u: &Upstream) -> String {
    let path = InvokeTarget::new(&u.config).path;
    path.split_once('?')
        .map_or(path.clone(), |(p, _)| p.to_owned())
}

/// Where the files listener's SDS file is mounted in the Gateway's Envoy.
const FILES_SDS_DIR: &str = "/etc/mesh-lambda/files";
/// The volume carrying it.
const FILES_VOLUME: &str = "mesh-lambda-files";
/// Where Envoy Gateway runs a Gateway's Envoy pods by default (its own namespace): the
/// ConfigMap the pods mount must be there.
const PROXY_NAMESPACE: &str = "envoy-gateway-system";

pub fn files(d: &Description, url: &WasmUrl) -> Vec<GeneratedFile> {
    let mut files = routing_files(d, url);
    if let Some(identity) = &d.kubernetes_identity {
        files.extend(identity_files(d, identity));
    }
    files
}

/// The ConfigMap holding the files listener's SDS file (where the Envoy pods run), and the
/// `EnvoyProxy` that mounts it into their `envoy` container.
fn identity_files(d: &Description, identity: &KubernetesIdentity) -> Vec<GeneratedFile> {
    let g = &d.envoy_gateway;
    let name = format!("mesh-lambda-{}-files", g.gateway);
    let config_map = sds_config_map(
        COMMAND,
        &name,
        PROXY_NAMESPACE,
        identity,
        &format!(
            "In {PROXY_NAMESPACE}, where Envoy Gateway runs the Gateway's Envoy pods (elsewhere if you deploy them elsewhere);"
        ),
        None,
    );
    let proxy = Resource::new(
        ENVOY_GATEWAY,
        "EnvoyProxy",
        &format!("mesh-lambda-{}", g.gateway),
        &g.gateway_namespace,
        json!({"provider": {"type": "Kubernetes", "kubernetes": {"envoyDeployment": {
            "pod": {"volumes": [{"name": FILES_VOLUME, "configMap": {"name": name}}]},
            "container": {"volumeMounts": [{"name": FILES_VOLUME, "mountPath": FILES_SDS_DIR, "readOnly": true}]},
        }}}}),
        &[&format!(
            "Mounts the SDS file into the Envoy pods of Gateway {}/{} at {FILES_SDS_DIR}.",
            g.gateway_namespace, g.gateway
        )],
    );
    vec![
        GeneratedFile {
            path: "envoy-gateway/mesh-lambda-files.yaml".into(),
            contents: config_map,
        },
        GeneratedFile {
            path: "envoy-gateway/envoy-proxy.yaml".into(),
            contents: file(
                COMMAND,
                &[
                    &format!(
                        "Reference it from the Gateway: spec.infrastructure.parametersRef (group gateway.envoyproxy.io, kind EnvoyProxy, name mesh-lambda-{}),",
                        g.gateway
                    ),
                    "or merge these fields into the EnvoyProxy you have. Envoy Gateway then rolls the pods.",
                    &identity_needs(identity),
                    "The pods' ServiceAccount is the one Envoy Gateway makes: kubectl get sa -n envoy-gateway-system.",
                ],
                &[proxy],
            ),
        },
    ]
}

fn routing_files(d: &Description, url: &WasmUrl) -> Vec<GeneratedFile> {
    let g = &d.envoy_gateway;
    let mut routes = Vec::new();
    for u in &d.upstreams {
        let name = resource_name(u);
        let (host, port) = host_and_port(&u.config.host);
        let function = u.summary();
        routes.push(Resource::new(
            GATEWAY_API,
            "HTTPRoute",
            &name,
            &g.namespace,
            http_route(g, u),
            &[
                &format!("{function}: called at /{}/ on the Gateway.", u.name),
                "The second match is the signed request: Envoy selects the route again after the filter",
                "rewrote it (the caller's host kept, the Invoke path and the filter's route key header),",
                "and finds this route (its TLS backend) again, never another upstream's.",
            ],
        ));
        routes.push(Resource::new(
            ENVOY_GATEWAY,
            "Backend",
            &name,
            &g.namespace,
            json!({"endpoints": [{"fqdn": {"hostname": host, "port": port}}]}),
            &[&format!("The Lambda endpoint of {}.", u.name)],
        ));
        routes.push(Resource::new(
            GATEWAY_API,
            "BackendTLSPolicy",
            &name,
            &g.namespace,
            json!({
                "targetRefs": [{"group": "gateway.envoyproxy.io", "kind": "Backend", "name": name}],
                "validation": {"hostname": host, "wellKnownCACertificates": "System"},
            }),
            &["TLS to Lambda: SNI and the certificate checked for the Lambda host (system CAs)."],
        ));
    }
    vec![
        GeneratedFile {
            path: "envoy-gateway/routes.yaml".into(),
            contents: file(
                COMMAND,
                &[
                    "Envoy Gateway routes to mesh-lambda's Lambda upstreams. Apply: kubectl apply -f .",
                    &format!(
                        "They attach to listener {:?} of Gateway {}/{}, which must allow routes from namespace {:?}.",
                        g.listener, g.gateway_namespace, g.gateway, g.namespace
                    ),
                    "The signed request keeps the caller's host: Envoy finds its route again in the same virtual",
                    "host, by the Invoke path and the route key header only the filter writes.",
                ],
                &routes,
            ),
        },
        GeneratedFile {
            path: "envoy-gateway/envoy-patch-policy.yaml".into(),
            contents: file(
                COMMAND,
                &[
                    "The EnvoyPatchPolicy that loads mesh-lambda into the Gateway's Envoy. Envoy Gateway's",
                    "EnvoyExtensionPolicy cannot set allow_on_headers_stop_iteration (without it the filter never",
                    "gets the body it signs) nor failure_policy; this patches the complete Wasm config into xDS.",
                    "Envoy Gateway accepts it only with extensionApis.enableEnvoyPatchPolicy: true in its config.",
                    "The module comes from wasm_url: raw xDS has no agent to pull an OCI image.",
                ],
                &[patch_policy(d, url)],
            ),
        },
    ]
}

fn http_route(g: &GatewaySettings, u: &Upstream) -> Value {
    let (_, port) = host_and_port(&u.config.host);
    json!({
        "parentRefs": [{
            "group": "gateway.networking.k8s.io",
            "kind": "Gateway",
            "name": g.gateway,
            "namespace": g.gateway_namespace,
            "sectionName": g.listener,
        }],
        "rules": [{
            "matches": [
                {"path": {"type": "PathPrefix", "value": format!("/{}", u.name)}},
                {
                    "path": {"type": "Exact", "value": invoke_path(u)},
                    "headers": [{"type": "Exact", "name": ROUTE_HEADER, "value": plugin_name(&u.name)}],
                },
            ],
            "filters": [{
                "type": "RequestHeaderModifier",
                "requestHeaderModifier": {"remove": [ROUTE_HEADER]},
            }],
            "backendRefs": [{
                "group": "gateway.envoyproxy.io",
                "kind": "Backend",
                "name": resource_name(u),
                "port": port,
            }],
            "timeouts": {"request": format!("{}s", u.route_timeout_seconds)},
        }],
    })
}

fn json_patch(kind: &str, name: &str, operation: Value) -> Value {
    json!({"type": kind, "name": name, "operation": operation})
}

fn new_cluster(cluster: Value) -> Value {
    let name = cluster
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    json_patch(
        CLUSTER_TYPE,
        &name,
        json!({"op": "add", "path": "", "value": cluster}),
    )
}

/// The upstream's filter configuration on a Gateway listener, which callers from outside
/// reach: their `x-amzn-trace-id` stays behind (it would choose X-Ray's sampling, billed to
/// the function's account), unless the description's `filter` sets `forward_trace_id`.
fn facing_the_internet(u: &Upstream) -> String {
    match serde_json::from_str::<Value>(&u.plugin_configuration) {
        Ok(Value::Object(mut plugin)) => {
            plugin
                .entry("forward_trace_id")
                .or_insert(Value::Bool(false));
            Value::Object(plugin).to_string()
        }
        _ => u.plugin_configuration.clone(),
    }
}

fn patch_policy(d: &Description, url: &WasmUrl) -> Resource {
    let g = &d.envoy_gateway;
    let listener = xds_listener_name(g);
    let code = Code::Remote {
        uri: &url.url,
        cluster: WASM_SOURCE_CLUSTER,
        sha256: &url.sha256,
    };
    let mut patches = Vec::new();
    for u in &d.upstreams {
        let name = filter_name(&u.name);
        let routes = format!(
            "$.virtual_hosts[*].routes[?(@.name =~ /^httproute\\/{}\\/{}\\/rule\\/0\\/match\\/.*/)]",
            g.namespace,
            resource_name(u)
        );
        // Added at the router's index: before it, after Envoy Gateway's own filters.
        patches.push(json_patch(
            LISTENER_TYPE,
            &listener,
            json!({
                "op": "add",
                "jsonPath": "$..http_filters[?(@.name == 'envoy.filters.http.router')]",
                "value": {
                    "name": name,
                    "disabled": true,
                    "typed_config": wasm_config(&u.name, &facing_the_internet(u), &code),
                },
            }),
        ));
        let on_routes = |path: &str, value: Value| {
            let operation = json!({"op": "add", "jsonPath": routes, "path": path, "value": value});
            json_patch(ROUTE_CONFIG_TYPE, &listener, operation)
        };
        patches.push(on_routes(
            &format!("/typed_per_filter_config/{name}"),
            enable_on_route(),
        ));
        // The Host the filter signed for. Here, not as the HTTPRoute's URLRewrite: its
        // hostname is a Gateway API `PreciseHostname` (no port: a `host_rewrite` with one
        // could not be said), and Envoy Gateway adds x-forwarded-host with it
        // (`buildXdsURLRewriteAction` in internal/xds/translator/route.go).
        patches.push(on_routes(
            "/route/host_rewrite_literal",
            json!(u.config.host),
        ));
    }
    // Room for the largest payload: Envoy's default buffer (1 MiB) would answer 413 itself.
    patches.push(json_patch(
        LISTENER_TYPE,
        &listener,
        json!({"op": "add", "path": "/per_connection_buffer_limit_bytes", "value": request_buffer_bytes(d)}),
    ));
    if let Some(files) = files_listener(d, FILES_SDS_DIR) {
        patches.push(json_patch(
            LISTENER_TYPE,
            FILES_LISTENER,
            json!({"op": "add", "path": "", "value": files}),
        ));
    }
    patches.push(new_cluster(wasm_source_cluster(url, &d.ca_bundle)));
    for cluster in credential_clusters(d).into_values() {
        patches.push(new_cluster(cluster));
    }
    Resource::new(
        ENVOY_GATEWAY,
        "EnvoyPatchPolicy",
        &patch_policy_name(d),
        &g.gateway_namespace,
        json!({
            "targetRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": g.gateway},
            "type": "JSONPatch",
            "jsonPatches": patches,
        }),
        &[&format!("The filter on listener {listener:?}, one per Lambda upstream, enabled on its HTTPRoute's routes.")],
    )
}
