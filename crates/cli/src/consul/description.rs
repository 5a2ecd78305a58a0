//! The description of a caller's Lambda upstreams, the generator's input (JSON). Read with the
//! core's field reader, so unknown fields are refused and every error names its item
//! (`upstreams[1].local_bind_port: ...`); each upstream's filter configuration is checked by
//! the filter's own parser.

use super::catalog::lambda_meta;
use mesh_lambda_core::config::fields::Fields;
use mesh_lambda_core::config::{parse_config, ConfigError, FilterConfig};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

pub const DEFAULT_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
pub const DEFAULT_CONTAINER_CREDENTIALS_ADDRESS: &str = "169.254.170.2";
pub const DEFAULT_ROUTE_TIMEOUT_SECONDS: u64 = 300;

/// What the generator builds the config entries from.
#[derive(Debug, Clone)]
pub struct Description {
    /// The calling service (its service-defaults).
    pub service: String,
    pub datacenter: String,
    pub namespace: String,
    pub partition: String,
    /// Where the sidecar finds the filter's `.wasm`.
    pub wasm_file: String,
    /// The CA bundle, on the sidecar, that Lambda's certificate is checked against.
    pub ca_bundle: String,
    /// The container credentials endpoint's address (169.254.170.23 for EKS Pod Identity).
    pub container_credentials_address: String,
    pub upstreams: Vec<Upstream>,
}

/// One Lambda upstream of the caller.
#[derive(Debug, Clone)]
pub struct Upstream {
    pub name: String,
    pub bind_address: String,
    pub bind_port: u16,
    pub route_timeout_seconds: u64,
    /// The plugin configuration the filter gets, as JSON text.
    pub plugin_configuration: String,
    /// The same, as the filter reads it.
    pub config: FilterConfig,
}

/// An error in the description: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescriptionError(pub String);

impl From<ConfigError> for DescriptionError {
    fn from(e: ConfigError) -> Self {
        Self(format!("{}: {}", e.field, e.message))
    }
}

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
    let wasm_file = fields.string("wasm_file");
    let ca_bundle = fields.string("ca_bundle");
    let container_address = fields.string("container_credentials_address");
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
    let wasm_file = absolute_path(&fields, "wasm_file", wasm_file?, None)?;
    let ca_bundle = absolute_path(&fields, "ca_bundle", ca_bundle?, Some(DEFAULT_CA_BUNDLE))?;
    let container_credentials_address = ipv4(
        &fields,
        "container_credentials_address",
        container_address?,
        DEFAULT_CONTAINER_CREDENTIALS_ADDRESS,
    )?;
    let readers = upstreams?.ok_or_else(|| fields.error("upstreams", "is required"))?;
    if readers.is_empty() {
        return Err(fields.error("upstreams", "lists no upstream").into());
    }
    let mut upstreams = Vec::with_capacity(readers.len());
    for reader in readers {
        upstreams.push(read_upstream(reader, base)?);
    }
    check_clashes(&upstreams)?;
    Ok(Description {
        service,
        datacenter,
        namespace,
        partition,
        wasm_file,
        ca_bundle,
        container_credentials_address,
        upstreams,
    })
}

fn read_upstream(mut fields: Fields<'_>, base: &Path) -> Result<Upstream, DescriptionError> {
    let name = fields.string("name");
    let port = fields.whole_number("local_bind_port", 1..=65_535);
    let address = fields.string("local_bind_address");
    let timeout = fields.whole_number("route_timeout_seconds", 1..=900);
    let filter = fields.value("filter");
    let catalog = fields.string("catalog");
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
    let bind_port = port?.ok_or_else(|| fields.error("local_bind_port", "is required"))?;
    let bind_port = u16::try_from(bind_port).unwrap_or(u16::MAX);
    let bind_address = ipv4(&fields, "local_bind_address", address?, "127.0.0.1")?;
    let route_timeout_seconds = timeout?.unwrap_or(DEFAULT_ROUTE_TIMEOUT_SECONDS);

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
    let plugin_configuration = Value::Object(plugin).to_string();
    let config = parse_config(plugin_configuration.as_bytes()).map_err(|e| {
        DescriptionError(format!(
            "{}: {}",
            fields.error(&format!("filter.{}", e.field), "").field,
            e.message
        ))
    })?;
    Ok(Upstream {
        name,
        bind_address,
        bind_port,
        route_timeout_seconds,
        plugin_configuration,
        config,
    })
}

/// Two upstreams with one name, or on one address and port (0.0.0.0 takes the port on every
/// address), cannot both be listeners of one proxy.
fn check_clashes(upstreams: &[Upstream]) -> Result<(), DescriptionError> {
    let mut names = BTreeMap::new();
    let mut ports: BTreeMap<u16, (usize, &str)> = BTreeMap::new();
    for (i, u) in upstreams.iter().enumerate() {
        if let Some(first) = names.insert(u.name.as_str(), i) {
            return Err(DescriptionError(format!(
                "upstreams[{i}].name: {:?} is also upstreams[{first}]'s name",
                u.name
            )));
        }
        if let Some((first, address)) = ports.get(&u.bind_port) {
            let wildcard = *address == "0.0.0.0" || u.bind_address == "0.0.0.0";
            if wildcard || *address == u.bind_address {
                return Err(DescriptionError(format!(
                    "upstreams[{i}].local_bind_port: {}:{} clashes with upstreams[{first}] on {address}:{}",
                    u.bind_address, u.bind_port, u.bind_port
                )));
            }
        }
        ports.insert(u.bind_port, (i, &u.bind_address));
    }
    Ok(())
}

/// Consul service, namespace, partition and datacenter names (what this generator accepts:
/// they are embedded in Envoy names and in the files' strings).
fn is_consul_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn absolute_path(
    fields: &Fields,
    field: &str,
    value: Option<&str>,
    default: Option<&str>,
) -> Result<String, DescriptionError> {
    match value.or(default) {
        None => Err(fields
            .error(field, "is required: the path, on the sidecar, of the file")
            .into()),
        Some(p) if p.starts_with('/') && !p.contains(['"', '\n', '\r', '\\']) => Ok(p.to_owned()),
        Some(p) => Err(fields
            .error(field, format!("{p:?} is not an absolute path"))
            .into()),
    }
}

fn ipv4(
    fields: &Fields,
    field: &str,
    value: Option<&str>,
    default: &str,
) -> Result<String, DescriptionError> {
    match value {
        None => Ok(default.to_owned()),
        Some(a) if a.parse::<std::net::Ipv4Addr>().is_ok() => Ok(a.to_owned()),
        Some(a) => Err(fields
            .error(field, format!("{a:?} is not an IPv4 address"))
            .into()),
    }
}
