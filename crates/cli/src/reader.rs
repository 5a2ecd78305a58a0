//! Reads the description (JSON) into `description`'s types, with the core's field reader, so
//! unknown fields are refused and every error names its item
//! (`upstreams[1].local_bind_port: ...`); each upstream's filter configuration is checked by
//! the filter's own parser.

use crate::clusters::{check_cluster_names, host_cluster_name};
use crate::consul_catalog::lambda_meta;
use crate::description::{
    Description, GatewaySettings, IstioSettings, KubernetesIdentity, Upstream, POD_IDENTITY_AGENT,
};
use crate::gateway_settings::read_gateway;
use crate::names::{
    absolute_path, ipv4, is_consul_name, is_hostname, is_label_name, is_label_value,
    is_path_prefix, kubernetes_name, DescriptionError,
};
use crate::wasm_source::read_wasm_sources;
use mesh_lambda_core::arn::{partition_of_region, Partition};
use mesh_lambda_core::config::fields::Fields;
use mesh_lambda_core::config::{parse_config, DEFAULT_PAYLOAD_PASSTHROUGH};
use mesh_lambda_core::invocation_mode::InvocationMode;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

pub const DEFAULT_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
pub const DEFAULT_CONTAINER_CREDENTIALS_ADDRESS: &str = "169.254.170.2";
pub const DEFAULT_ROUTE_TIMEOUT_SECONDS: u64 = 300;
/// A streamed answer lasts as long as the function streams, at most Lambda's longest run
/// (900 s): the route of a streaming upstream gets that by default, not the 300 s above.
pub const STREAMING_ROUTE_TIMEOUT_SECONDS: u64 = 900;
/// An upstream's default mesh host is `<name>.lambda.internal`.
pub const DEFAULT_MESH_DOMAIN: &str = "lambda.internal";

/// Reads a description; `base` is the folder relative `catalog` paths start from.
pub fn read_description(bytes: &[u8], base: &Path) -> Result<Description, DescriptionError> {
    let root: Value = serde_json::from_slice(bytes)
        .map_err(|e| DescriptionError(format!("not valid JSON ({e})")))?;
    let Value::Object(object) = &root else {
        return Err(DescriptionError("expected a JSON object".into()));
    };
    let mut fields = Fields::new(object);
    let service = fields.string("service");
    let datacenter = fields.string("datacenter");
    let namespace = fields.string("namespace");
    let partition = fields.string("partition");
    let wasm = read_wasm_sources(&mut fields);
    let istio = fields.object("istio");
    let envoy_gateway = fields.object("envoy_gateway");
    let lambda_gateway = fields.object("gateway");
    let ca_bundle = fields.string("ca_bundle");
    let container_address = fields.string("container_credentials_address");
    let identity = fields.string("kubernetes_identity");
    let aws_region = fields.string("aws_region");
    let upstreams = fields.objects("upstreams");
    fields.finish()?;

    let name =
        |fields: &Fields, field: &str, value: Option<&str>, default: Option<&str>| match value
            .or(default)
        {
            None => Err(fields.error(field, "is required")),
            Some(v) if is_consul_name(v) => Ok(v.to_owned()),
            Some(v) => Err(fields.error(
                field,
                format!("{v:?} is not a Consul name (letters, digits, '-', '_')"),
            )),
        };
    let service = name(&fields, "service", service?, None)?;
    let datacenter = name(&fields, "datacenter", datacenter?, Some("dc1"))?;
    let namespace = name(&fields, "namespace", namespace?, Some("default"))?;
    let partition = name(&fields, "partition", partition?, Some("default"))?;
    let wasm = wasm?;
    let ca_bundle = absolute_path(&fields, "ca_bundle", ca_bundle?, Some(DEFAULT_CA_BUNDLE))?;
    let container_address = container_address?;
    let readers = upstreams?.ok_or_else(|| fields.error("upstreams", "is required"))?;
    if readers.is_empty() {
        return Err(fields.error("upstreams", "lists no upstream").into());
    }
    let mut upstreams = Vec::with_capacity(readers.len());
    for reader in readers {
        upstreams.push(read_upstream(reader, base)?);
    }
    let regions: Vec<_> = upstreams
        .iter()
        .map(|u| (u.config.arn.region.as_str(), u.config.arn.partition))
        .collect();
    let kubernetes_identity = read_kubernetes_identity(&fields, identity?, aws_region?, &regions)?;
    // Pod Identity's agent is the container endpoint, on its own address.
    let container_default = match kubernetes_identity {
        Some(KubernetesIdentity::PodIdentity) => {
            if let Some(given) = container_address.filter(|a| *a != POD_IDENTITY_AGENT) {
                return Err(fields
                    .error(
                        "container_credentials_address",
                        format!(
                            "{given:?} with kubernetes_identity \"pod_identity\", whose agent is {POD_IDENTITY_AGENT}: leave it out"
                        ),
                    )
                    .into());
            }
            POD_IDENTITY_AGENT
        }
        _ => DEFAULT_CONTAINER_CREDENTIALS_ADDRESS,
    };
    let container_credentials_address = ipv4(
        &fields,
        "container_credentials_address",
        container_address,
        container_default,
    )?;
    check_clashes(&upstreams)?;
    let istio = read_istio(istio?, &service)?;
    let envoy_gateway = read_envoy_gateway(envoy_gateway?)?;
    let lambda_gateway = read_gateway(lambda_gateway?)?;
    let description = Description {
        service,
        datacenter,
        namespace,
        partition,
        wasm,
        ca_bundle,
        container_credentials_address,
        kubernetes_identity,
        upstreams,
        istio,
        envoy_gateway,
        lambda_gateway,
    };
    check_cluster_names(&description)?;
    Ok(description)
}

fn read_istio(
    reader: Option<Fields<'_>>,
    service: &str,
) -> Result<IstioSettings, DescriptionError> {
    let mut settings = IstioSettings {
        namespace: "default".into(),
        workload_labels: BTreeMap::from([("app".to_owned(), service.to_owned())]),
    };
    let Some(mut fields) = reader else {
        return Ok(settings);
    };
    let namespace = fields.string("namespace");
    let labels = fields.value("workload_labels");
    fields.finish()?;
    if let Some(n) = namespace? {
        settings.namespace = kubernetes_name(&fields, "namespace", n)?;
    }
    if let Some(labels) = labels {
        let bad = || {
            fields.error(
                "workload_labels",
                format!(
                    "expected a non-empty object of label names to string values, got {labels}"
                ),
            )
        };
        let Value::Object(map) = labels else {
            return Err(bad().into());
        };
        let mut read = BTreeMap::new();
        for (name, value) in map {
            match value {
                Value::String(v) if is_label_name(name) && is_label_value(v) => {
                    read.insert(name.clone(), v.clone());
                }
                _ => {
                    return Err(fields
                        .error(
                            &format!("workload_labels.{name}"),
                            format!("{name:?}: {value} is not a Kubernetes label"),
                        )
                        .into())
                }
            }
        }
        if read.is_empty() {
            return Err(bad().into());
        }
        settings.workload_labels = read;
    }
    Ok(settings)
}

fn read_envoy_gateway(reader: Option<Fields<'_>>) -> Result<GatewaySettings, DescriptionError> {
    let mut settings = GatewaySettings {
        gateway: "eg".into(),
        gateway_namespace: "default".into(),
        listener: "http".into(),
        namespace: "default".into(),
    };
    let Some(mut fields) = reader else {
        return Ok(settings);
    };
    let gateway = fields.string("gateway");
    let gateway_namespace = fields.string("gateway_namespace");
    let listener = fields.string("listener");
    let namespace = fields.string("namespace");
    fields.finish()?;
    if let Some(v) = gateway? {
        settings.gateway = kubernetes_name(&fields, "gateway", v)?;
    }
    if let Some(v) = gateway_namespace? {
        settings.gateway_namespace = kubernetes_name(&fields, "gateway_namespace", v)?;
    }
    settings.namespace = settings.gateway_namespace.clone();
    if let Some(v) = listener? {
        settings.listener = kubernetes_name(&fields, "listener", v)?;
    }
    if let Some(v) = namespace? {
        settings.namespace = kubernetes_name(&fields, "namespace", v)?;
    }
    Ok(settings)
}

fn read_upstream(mut fields: Fields<'_>, base: &Path) -> Result<Upstream, DescriptionError> {
    let name = fields.string("name");
    let port = fields.whole_number("local_bind_port", 1..=65_535);
    let address = fields.string("local_bind_address");
    let timeout = fields.whole_number("route_timeout_seconds", 1..=900);
    let filter = fields.value("filter");
    let catalog = fields.string("catalog");
    let mesh_host = fields.string("mesh_host");
    let path_prefix = fields.string("path_prefix");
    fields.finish()?;

    let name = match name? {
        Some(n) if is_consul_name(n) => n.to_owned(),
        Some(n) => {
            return Err(fields
                .error(
                    "name",
                    format!("{n:?} is not a Consul service name (letters, digits, '-', '_')"),
                )
                .into())
        }
        None => return Err(fields.error("name", "is required").into()),
    };
    let bind_port = port?.map(|p| u16::try_from(p).unwrap_or(u16::MAX));
    let bind_address = ipv4(&fields, "local_bind_address", address?, "127.0.0.1")?;
    let route_timeout_seconds = timeout?;
    let mesh_host = match mesh_host? {
        None => format!(
            "{}.{DEFAULT_MESH_DOMAIN}",
            name.to_ascii_lowercase().replace('_', "-")
        ),
        Some(h) if is_hostname(h) && h.contains('.') => h.to_ascii_lowercase(),
        Some(h) => {
            return Err(fields
                .error(
                    "mesh_host",
                    format!("{h:?} is not a DNS name with a domain"),
                )
                .into())
        }
    };

    let path_prefix = match path_prefix? {
        None => format!("/{name}/"),
        Some(p) if is_path_prefix(p) => p.to_owned(),
        Some(p) => {
            return Err(fields
                .error(
                    "path_prefix",
                    format!("{p:?} is not a path prefix like \"/{name}/\""),
                )
                .into())
        }
    };

    let mut plugin = match filter {
        None => Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(other) => {
            return Err(fields
                .error(
                    "filter",
                    format!("expected an object (the filter's configuration), got {other}"),
                )
                .into())
        }
    };
    if let Some(catalog) = catalog? {
        let path = base.join(catalog);
        let bytes = std::fs::read(&path)
            .map_err(|e| fields.error("catalog", format!("cannot read {}: {e}", path.display())))?;
        let meta = lambda_meta(&bytes, &name)
            .map_err(|e| fields.error("catalog", format!("{}: {e}", path.display())))?;
        for (key, value) in meta {
            if plugin.contains_key(key) {
                return Err(fields
                    .error(
                        "filter",
                        format!("{key} comes from the catalog entry; do not give it here too"),
                    )
                    .into());
            }
            plugin.insert(key.to_owned(), value);
        }
    }
    // The mode is written out, whatever its default: a reader of the generated config sees
    // whether the body goes as it is or as an event.
    plugin
        .entry("payload_passthrough")
        .or_insert(Value::Bool(DEFAULT_PAYLOAD_PASSTHROUGH));
    // With an event format the filter sends the Invoke call itself, which the route's timeout
    // does not bound: give the call the same time unless the filter says otherwise (an event
    // format cannot stream, so the route's default is the synchronous one).
    if plugin.get("payload_passthrough") == Some(&Value::Bool(false))
        && !plugin.contains_key("invoke_timeout_ms")
    {
        let seconds = route_timeout_seconds.unwrap_or(DEFAULT_ROUTE_TIMEOUT_SECONDS);
        plugin.insert("invoke_timeout_ms".into(), Value::from(seconds * 1000));
    }
    let parse = |plugin: &Map<String, Value>| {
        let text = Value::Object(plugin.clone()).to_string();
        match parse_config(text.as_bytes()) {
            Ok(config) => Ok((text, config)),
            Err(e) => Err(DescriptionError(format!(
                "{}: {}",
                fields.error(&format!("filter.{}", e.field), "").field,
                e.message
            ))),
        }
    };
    let (mut plugin_configuration, mut config) = parse(&plugin)?;
    // STS's cluster is named by its host unless the user names it: with the filter's default
    // name, upstreams assuming roles through STS in two regions would share one cluster.
    if let (Some(role), Some(block)) = (
        &config.credentials.chain.assume_role,
        plugin
            .get_mut("credentials")
            .and_then(|c| c.get_mut("assume_role"))
            .and_then(Value::as_object_mut),
    ) {
        if block.get("sts_cluster").is_none_or(Value::is_null) {
            block.insert(
                "sts_cluster".into(),
                Value::from(host_cluster_name(&role.sts_host)),
            );
            (plugin_configuration, config) = parse(&plugin)?;
        }
    }
    let route_timeout_seconds =
        route_timeout_seconds.unwrap_or(if config.invocation_mode == InvocationMode::Streaming {
            STREAMING_ROUTE_TIMEOUT_SECONDS
        } else {
            DEFAULT_ROUTE_TIMEOUT_SECONDS
        });
    Ok(Upstream {
        name,
        bind_address,
        bind_port,
        mesh_host,
        path_prefix,
        route_timeout_seconds,
        plugin_configuration,
        config,
    })
}

/// Reads `kubernetes_identity` (`"irsa"` or `"pod_identity"`) and, for IRSA, `aws_region`
/// (the cluster's region, where the webhook's `AWS_REGION` sends STS calls; by default the
/// upstreams' region when they share one).
fn read_kubernetes_identity(
    fields: &Fields,
    kind: Option<&str>,
    aws_region: Option<&str>,
    upstream_regions: &[(&str, &'static Partition)],
) -> Result<Option<KubernetesIdentity>, DescriptionError> {
    let kind = match kind {
        None => {
            if aws_region.is_some() {
                return Err(fields
                    .error(
                        "aws_region",
                        "is read with kubernetes_identity \"irsa\" only (STS's region)",
                    )
                    .into());
            }
            return Ok(None);
        }
        Some(kind) => kind,
    };
    match kind {
        "pod_identity" => {
            if aws_region.is_some() {
                return Err(fields
                    .error(
                        "aws_region",
                        "is read with kubernetes_identity \"irsa\" only: Pod Identity's agent is in the pod's node",
                    )
                    .into());
            }
            Ok(Some(KubernetesIdentity::PodIdentity))
        }
        "irsa" => {
            let region = match aws_region {
                Some(region) => region.to_owned(),
                None => {
                    let mut regions: Vec<&str> = upstream_regions.iter().map(|(r, _)| *r).collect();
                    regions.sort_unstable();
                    regions.dedup();
                    match regions.as_slice() {
                        [one] => (*one).to_owned(),
                        _ => {
                            return Err(fields
                                .error(
                                    "aws_region",
                                    format!(
                                        "is required with kubernetes_identity \"irsa\" when the upstreams are in several regions ({}): the cluster's region, where STS is called",
                                        regions.join(", ")
                                    ),
                                )
                                .into())
                        }
                    }
                }
            };
            let partition = partition_of_region(&region).ok_or_else(|| {
                fields.error("aws_region", format!("{region:?} is not an AWS region"))
            })?;
            if let Some((_, other)) = upstream_regions.iter().find(|(_, p)| p.id != partition.id) {
                return Err(fields
                    .error(
                        "aws_region",
                        format!(
                            "{region:?} is in partition {}, an upstream's function in {}: one identity signs for one partition",
                            partition.id, other.id
                        ),
                    )
                    .into());
            }
            let sts_host = partition.endpoint("sts", &region);
            Ok(Some(KubernetesIdentity::Irsa { region, sts_host }))
        }
        other => Err(fields
            .error(
                "kubernetes_identity",
                format!("{other:?} is not \"irsa\" or \"pod_identity\""),
            )
            .into()),
    }
}

/// Two upstreams with one name, or on one address and port (0.0.0.0 takes the port on every
/// address), cannot both be listeners of one proxy. Upstreams invoking one function (the same
/// signed path) are told apart by the route key their filter writes, the Wasm plugin name
/// (`wasm_filter::plugin_name`), unique because the name is.
fn check_clashes(upstreams: &[Upstream]) -> Result<(), DescriptionError> {
    let mut names = BTreeMap::new();
    let mut mesh_hosts = BTreeMap::new();
    let mut ports: BTreeMap<u16, (usize, &str)> = BTreeMap::new();
    for (i, u) in upstreams.iter().enumerate() {
        if let Some(first) = names.insert(u.name.as_str(), i) {
            return Err(DescriptionError(format!(
                "upstreams[{i}].name: {:?} is also upstreams[{first}]'s name",
                u.name
            )));
        }
        if let Some(first) = mesh_hosts.insert(u.mesh_host.as_str(), i) {
            return Err(DescriptionError(format!(
                "upstreams[{i}].mesh_host: {:?} is also upstreams[{first}]'s mesh host",
                u.mesh_host
            )));
        }
        let Some(port) = u.bind_port else { continue };
        if let Some((first, address)) = ports.get(&port) {
            let wildcard = *address == "0.0.0.0" || u.bind_address == "0.0.0.0";
            if wildcard || *address == u.bind_address {
                return Err(DescriptionError(format!(
                    "upstreams[{i}].local_bind_port: {}:{} clashes with upstreams[{first}] on {address}:{}",
                    u.bind_address, port, port
                )));
            }
        }
        ports.insert(port, (i, &u.bind_address));
    }
    Ok(())
}
