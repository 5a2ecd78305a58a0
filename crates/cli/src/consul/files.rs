//! The files the user applies, rendered from the Envoy resources: Consul config entries in HCL
//! (`consul config write`), the same as consul-k8s resources (YAML), and the upstream
//! stanzas of the caller's registration. Each file says what it is and how to apply it.

use super::envoy::{static_clusters, upstream_listener, ConsulNames};
use crate::description::Description;
use crate::kubernetes::identity::{
    files_listener, identity_needs, sds_config_map, KubernetesIdentity,
};
use crate::output::{indent, pretty, GeneratedFile};

const COMMAND: &str = "consul generate";

fn header(lines: &[&str]) -> String {
    crate::output::header(COMMAND, lines)
}

/// The static clusters as `envoy_extra_static_clusters_json` wants them: objects separated
/// by commas (Consul splices the text into its bootstrap's cluster list).
fn clusters_json(d: &Description) -> String {
    let clusters: Vec<String> = static_clusters(d).iter().map(pretty).collect();
    clusters.join(",\n")
}

pub fn service_defaults_hcl(d: &Description) -> String {
    let mut out = header(&[
        &format!(
            "The upstream listeners of service \"{}\" that invoke Lambda functions.",
            d.service
        ),
        "Apply: consul config write service-defaults.hcl",
        &format!(
            "If \"{}\" has a service-defaults entry already, merge UpstreamConfig.Overrides into",
            d.service
        ),
        "it: writing this file replaces the whole entry.",
    ]);
    // No Protocol: it would also change the caller's own (inbound) listener.
    out.push_str(&format!(
        "Kind = \"service-defaults\"\nName = \"{}\"\n",
        d.service
    ));
    if d.namespace != "default" || d.partition != "default" {
        out.push_str(&format!(
            "Namespace = \"{}\"\nPartition = \"{}\"\n",
            d.namespace, d.partition
        ));
    }
    out.push_str("\nUpstreamConfig = {\n  Overrides = [\n");
    for u in &d.upstreams {
        out.push_str(&format!(
            "    # {}: {} ({}), on {}:{}.\n",
            u.name,
            u.config.arn.function_arn,
            u.config.invocation_mode.invocation_type(),
            u.bind_address,
            u.local_bind_port()
        ));
        out.push_str(&format!(
            "    {{\n      Name              = \"{}\"\n      EnvoyListenerJSON = <<EOF\n{}\nEOF\n    }},\n",
            u.name,
            pretty(&upstream_listener(d, u))
        ));
    }
    out.push_str("  ]\n}\n");
    out
}

pub fn proxy_defaults_hcl(d: &Description) -> String {
    let mut out = header(&[
        "The clusters mesh-lambda's listeners use: Lambda over TLS (its certificate checked),",
        "and the credential endpoints the filter's providers call.",
        "Apply: consul config write proxy-defaults.hcl, then restart the sidecars: Envoy reads",
        "envoy_extra_static_clusters_json at start (consul-dataplane only with",
        "-telemetry-use-central-config).",
        "proxy-defaults \"global\" is one entry for the whole datacenter: if you have one, add",
        "this Config key to it (or append these clusters to your envoy_extra_static_clusters_json).",
    ]);
    out.push_str("Kind = \"proxy-defaults\"\nName = \"global\"\n\nConfig {\n");
    out.push_str(&format!(
        "  envoy_extra_static_clusters_json = <<EOF\n{}\nEOF\n}}\n",
        clusters_json(d)
    ));
    out
}

pub fn upstreams_hcl(d: &Description) -> String {
    let mut out = header(&[
        &format!(
            "The upstreams of \"{}\"'s registration: in its service definition, under",
            d.service
        ),
        "connect { sidecar_service { proxy { ... } } }; then consul services register.",
    ]);
    for u in &d.upstreams {
        out.push_str(&format!(
            "upstreams {{\n  destination_name   = \"{}\"\n  local_bind_address = \"{}\"\n  local_bind_port    = {}\n}}\n",
            u.name, u.bind_address, u.local_bind_port()
        ));
    }
    out
}

pub fn service_defaults_yaml(d: &Description) -> String {
    let mut out = header(&[
        &format!(
            "consul-k8s: the upstream listeners of \"{}\" that invoke Lambda functions.",
            d.service
        ),
        "Apply: kubectl apply -f service-defaults.yaml (merge into an existing ServiceDefaults).",
    ]);
    out.push_str(&format!(
        "apiVersion: consul.hashicorp.com/v1alpha1\nkind: ServiceDefaults\nmetadata:\n  name: {}\n",
        d.service
    ));
    if d.namespace != "default" {
        out.push_str(&format!("  namespace: {}\n", d.namespace));
    }
    out.push_str("spec:\n  upstreamConfig:\n    overrides:\n");
    for u in &d.upstreams {
        let names = ConsulNames::of(d, u);
        out.push_str(&format!(
            "      # {} ({}), listener {}.\n      - name: {}\n        envoyListenerJSON: |\n{}",
            u.config.arn.function_arn,
            u.config.invocation_mode.invocation_type(),
            names.listener,
            u.name,
            indent(&pretty(&upstream_listener(d, u)), "          ")
        ));
    }
    out
}

pub fn proxy_defaults_yaml(d: &Description) -> String {
    let mut out = header(&[
        "consul-k8s: the clusters mesh-lambda's listeners use (Lambda over TLS, credentials).",
        "Apply: kubectl apply -f proxy-defaults.yaml, then restart the pods' sidecars.",
        "There is one ProxyDefaults (\"global\"): merge this key into yours if you have one.",
    ]);
    out.push_str(
        "apiVersion: consul.hashicorp.com/v1alpha1\nkind: ProxyDefaults\nmetadata:\n  name: global\nspec:\n  config:\n    envoy_extra_static_clusters_json: |\n",
    );
    out.push_str(&indent(&clusters_json(d), "      "));
    out
}

pub fn upstreams_annotation_yaml(d: &Description) -> String {
    let mut out = header(&[
        &format!(
            "consul-k8s: the upstreams of \"{}\": merge into its Deployment's",
            d.service
        ),
        "spec.template.metadata (the connect-inject annotation).",
    ]);
    out.push_str(&upstreams_annotation(d));
    out
}

/// consul-k8s's annotation listing the upstreams, `<name>:<local bind port>` each.
pub fn upstreams_annotation(d: &Description) -> String {
    let list: Vec<String> = d
        .upstreams
        .iter()
        .map(|u| format!("{}:{}", u.name, u.local_bind_port()))
        .collect();
    format!(
        "annotations:\n  consul.hashicorp.com/connect-service-upstreams: \"{}\"\n",
        list.join(",")
    )
}

/// Where the files listener's configuration is mounted in the consul-dataplane container.
const FILES_DIR: &str = "/etc/mesh-lambda/files";
/// The bootstrap fragment there that Envoy starts from (`--config-path`), consul-dataplane's
/// own bootstrap (`--config-yaml`) merged over it.
const FILES_BOOTSTRAP: &str = "files.yaml";
const FILES_VOLUME: &str = "mesh-lambda-files";

/// The files listener as a bootstrap fragment: Envoy's `--config-yaml` "will override and
/// merge with the bootstrap loaded from --config-path" (Envoy's command line options), and a
/// merge appends to `static_resources.listeners`.
pub fn files_bootstrap(d: &Description) -> Option<serde_json::Value> {
    files_listener(d, FILES_DIR)
        .map(|listener| serde_json::json!({"static_resources": {"listeners": [listener]}}))
}

/// consul-k8s: the ConfigMap with the files listener and its SDS file, and the pod
/// annotations that mount it into consul-dataplane and hand Envoy the listener.
fn identity_files(d: &Description, identity: &KubernetesIdentity) -> Vec<GeneratedFile> {
    let name = format!(
        "{}-mesh-lambda-files",
        d.service.to_ascii_lowercase().replace('_', "-")
    );
    let fragment = files_bootstrap(d).unwrap_or_default();
    let config_map = sds_config_map(
        COMMAND,
        &name,
        &d.namespace,
        identity,
        &format!(
            "With {FILES_BOOTSTRAP}, the files listener; mounted into consul-dataplane at {FILES_DIR} (identity-annotations.yaml)."
        ),
        Some((FILES_BOOTSTRAP, &fragment)),
    );
    let volume = serde_json::json!([{"name": FILES_VOLUME, "configMap": {"name": name}}]);
    let mount =
        serde_json::json!([{"name": FILES_VOLUME, "mountPath": FILES_DIR, "readOnly": true}]);
    let mut annotations = header(&[
        &format!(
            "consul-k8s: the pods of \"{}\": merge into their Deployment's spec.template.metadata.",
            d.service
        ),
        "The volume is mounted into the consul-dataplane container, which hands Envoy the extra",
        "arguments: Envoy starts from the files listener and merges Consul's bootstrap over it.",
        "envoy-extra-args replaces the connect injector's -envoy-extra-args flag for these pods.",
        &identity_needs(identity),
    ]);
    annotations.push_str(&crate::yaml::document(&serde_json::json!({"annotations": {
        "consul.hashicorp.com/consul-sidecar-user-volume": volume.to_string(),
        "consul.hashicorp.com/consul-sidecar-user-volume-mount": mount.to_string(),
        "consul.hashicorp.com/envoy-extra-args": format!("--config-path {FILES_DIR}/{FILES_BOOTSTRAP}"),
    }})));
    vec![
        GeneratedFile {
            path: "kubernetes/mesh-lambda-files.yaml".into(),
            contents: config_map,
        },
        GeneratedFile {
            path: "kubernetes/identity-annotations.yaml".into(),
            contents: annotations,
        },
    ]
}

/// Every file, in the order they are listed to the user.
pub fn all_files(d: &Description) -> Vec<GeneratedFile> {
    let mut files = routing_files(d);
    if let Some(identity) = &d.kubernetes_identity {
        files.extend(identity_files(d, identity));
    }
    files
}

fn routing_files(d: &Description) -> Vec<GeneratedFile> {
    vec![
        GeneratedFile {
            path: "consul/service-defaults.hcl".into(),
            contents: service_defaults_hcl(d),
        },
        GeneratedFile {
            path: "consul/proxy-defaults.hcl".into(),
            contents: proxy_defaults_hcl(d),
        },
        GeneratedFile {
            path: "consul/upstreams.hcl".into(),
            contents: upstreams_hcl(d),
        },
        GeneratedFile {
            path: "kubernetes/service-defaults.yaml".into(),
            contents: service_defaults_yaml(d),
        },
        GeneratedFile {
            path: "kubernetes/proxy-defaults.yaml".into(),
            contents: proxy_defaults_yaml(d),
        },
        GeneratedFile {
            path: "kubernetes/upstreams-annotation.yaml".into(),
            contents: upstreams_annotation_yaml(d),
        },
    ]
}
