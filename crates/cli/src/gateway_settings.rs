//! Reads the description's `gateway` object (`gateway generate`): the Lambda gateway's
//! listener and admin ports, the mesh services that may call it, and its plain routes.

use crate::description::{LambdaGateway, PlainRoute};
use crate::names::{ipv4, is_consul_name, is_path_prefix, DescriptionError};
use mesh_lambda_core::config::fields::Fields;

/// The gateway's listener port by default (the `lambda-gateway` service's port).
pub const DEFAULT_PORT: u16 = 8080;
/// Its admin port by default: not 19000, its sidecar's on the same host.
pub const DEFAULT_ADMIN_PORT: u16 = 19001;

pub fn read_gateway(reader: Option<Fields<'_>>) -> Result<LambdaGateway, DescriptionError> {
    let mut gateway = LambdaGateway {
        port: DEFAULT_PORT,
        admin_port: DEFAULT_ADMIN_PORT,
        callers: Vec::new(),
        plain_routes: Vec::new(),
    };
    let Some(mut fields) = reader else {
        return Ok(gateway);
    };
    let port = fields.whole_number("port", 1..=65_535);
    let admin_port = fields.whole_number("admin_port", 1..=65_535);
    let callers = fields.value("callers");
    let plain = fields.objects("plain_routes");
    fields.finish()?;
    let to_port = |n: u64| u16::try_from(n).unwrap_or(u16::MAX);
    if let Some(p) = port? {
        gateway.port = to_port(p);
    }
    if let Some(p) = admin_port? {
        gateway.admin_port = to_port(p);
    }
    if gateway.port == gateway.admin_port {
        return Err(fields
            .error(
                "admin_port",
                "is the listener's port too; give each its own",
            )
            .into());
    }
    if let Some(callers) = callers {
        let names = callers
            .as_array()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| {
                fields.error(
                    "callers",
                    format!("expected a non-empty list of Consul service names, got {callers}"),
                )
            })?;
        for (i, name) in names.iter().enumerate() {
            match name.as_str() {
                Some(n) if is_consul_name(n) && !gateway.callers.iter().any(|c| c == n) => {
                    gateway.callers.push(n.to_owned());
                }
                _ => {
                    return Err(fields
                        .error(
                            &format!("callers[{i}]"),
                            format!("{name} is not a Consul service name, or is listed twice"),
                        )
                        .into())
                }
            }
        }
    }
    for mut route in plain?.unwrap_or_default() {
        let name = route.string("name");
        let prefix = route.string("path_prefix");
        let address = route.string("address");
        let port = route.whole_number("port", 1..=65_535);
        route.finish()?;
        let name = match name? {
            Some(n) if is_consul_name(n) => n.to_owned(),
            other => {
                return Err(route
                    .error(
                        "name",
                        format!("{other:?}: give the upstream a name (letters, digits, '-', '_')"),
                    )
                    .into())
            }
        };
        let path_prefix = match prefix? {
            Some(p) if is_path_prefix(p) => p.to_owned(),
            other => {
                return Err(route
                    .error(
                        "path_prefix",
                        format!("{other:?} is not a path prefix like \"/status/\""),
                    )
                    .into())
            }
        };
        let address = ipv4(&route, "address", address?, "127.0.0.1")?;
        let port = port?.ok_or_else(|| route.error("port", "is required"))?;
        gateway.plain_routes.push(PlainRoute {
            name,
            path_prefix,
            address,
            port: to_port(port),
        });
    }
    Ok(gateway)
}
