//! The Consul pieces in HCL: the gateway's registration with a Connect sidecar, its
//! service-defaults, its intentions, and per function the discovery-chain entries that send a
//! caller's upstream `<function>` to the gateway at the function's prefix.
//!
//! Why these entries (Consul's sources): a discovery chain consults the service-router of the
//! service at its top only (`agent/consul/discoverychain/compile.go`, `assembleChain`), so the
//! router is written for the name the caller dials, `<function>`, which has no instances of
//! its own; a router needs an HTTP protocol for every service in the chain
//! (`recordServiceProtocol`: `tcp` unless service-defaults or proxy-defaults say otherwise,
//! and one protocol for all), hence service-defaults `http` for the function's name and for the
//! gateway. The route's `Destination.PrefixRewrite` becomes the Envoy route's
//! `prefix_rewrite` (`agent/xds/routes.go`, `makeUpstreamRouteForDiscoveryChain`), which is
//! what tells the gateway the function. A service-resolver `Redirect` alone would reach the
//! gateway with the caller's path unchanged (`getResolverNode` rewrites the target only).

use crate::description::{Description, Upstream};
use crate::output::{header, GeneratedFile};

const COMMAND: &str = "gateway generate";

/// The largest route timeout, which the gateway's sidecar must allow its local app.
pub fn longest_timeout_ms(d: &Description) -> u64 {
    let longest = d.upstreams.iter().map(|u| u.route_timeout_seconds);
    longest.max().unwrap_or(0) * 1000
}

/// `Namespace` and `Partition` lines when they are not the defaults (Enterprise).
fn scope(d: &Description) -> String {
    if d.namespace == "default" && d.partition == "default" {
        return String::new();
    }
    format!(
        "Namespace = \"{}\"\nPartition = \"{}\"\n",
        d.namespace, d.partition
    )
}

fn registration(d: &Description) -> String {
    let g = &d.lambda_gateway;
    let mut out = header(
        COMMAND,
        &[
            &format!(
                "The registration of \"{}\": the gateway Envoy is the service's application,",
                d.service
            ),
            "listening on 127.0.0.1 only; its Connect sidecar is the one way in (mTLS, intentions).",
            "Register it on the gateway's node: consul services register lambda-gateway-service.hcl,",
            "then start its sidecar: consul connect envoy -sidecar-for <service id>.",
        ],
    );
    out.push_str(&format!(
        "service {{\n  name = \"{}\"\n  port = {}\n  connect {{\n    sidecar_service {{\n      proxy {{\n        local_service_address = \"127.0.0.1\"\n        local_service_port    = {}\n      }}\n    }}\n  }}\n}}\n",
        d.service, g.port, g.port
    ));
    out
}

fn gateway_defaults(d: &Description) -> String {
    let mut out = header(
        COMMAND,
        &[
            &format!(
                "\"{}\" speaks HTTP: a service-router may send its callers to it (one protocol",
                d.service
            ),
            "for the whole discovery chain), and its sidecar's inbound route to the gateway waits",
            "as long as the longest function (LocalRequestTimeoutMs; Envoy's default is 15 s).",
            &format!(
                "Apply: consul config write service-defaults-{}.hcl",
                d.service
            ),
        ],
    );
    out.push_str(&format!(
        "Kind                  = \"service-defaults\"\nName                  = \"{}\"\n{}Protocol              = \"http\"\nLocalRequestTimeoutMs = {}\n",
        d.service,
        scope(d),
        longest_timeout_ms(d)
    ));
    out
}

fn function_defaults(d: &Description, u: &Upstream) -> String {
    let mut out = header(
        COMMAND,
        &[
            &format!(
                "\"{}\" has no instances: its name is what callers dial. HTTP, so that its",
                u.name
            ),
            "service-router applies.",
            &format!("Apply: consul config write service-defaults-{}.hcl", u.name),
        ],
    );
    out.push_str(&format!(
        "Kind     = \"service-defaults\"\nName     = \"{}\"\n{}Protocol = \"http\"\n",
        u.name,
        scope(d)
    ));
    out
}

fn router(d: &Description, u: &Upstream) -> String {
    let mut out = header(
        COMMAND,
        &[
            &u.summary(),
            &format!(
                "A caller's upstream \"{}\" goes to \"{}\" under {}, the gateway's route",
                u.name, d.service, u.path_prefix
            ),
            &format!(
                "for the function: the caller's /login arrives as {}login.",
                u.path_prefix
            ),
            &format!("Apply: consul config write service-router-{}.hcl", u.name),
        ],
    );
    out.push_str(&format!(
        "Kind = \"service-router\"\nName = \"{}\"\n{}Routes = [\n  {{\n    Match = {{\n      HTTP = {{\n        PathPrefix = \"/\"\n      }}\n    }}\n    Destination = {{\n      Service        = \"{}\"\n      PrefixRewrite  = \"{}\"\n      RequestTimeout = \"{}s\"\n    }}\n  }},\n]\n",
        u.name,
        scope(d),
        d.service,
        u.path_prefix,
        u.route_timeout_seconds
    ));
    out
}

fn intentions(d: &Description) -> String {
    let mut out = header(
        COMMAND,
        &[
            &format!(
                "Who may call \"{}\": enforced by its sidecar. Callers are named by the",
                d.service
            ),
            "gateway, not by the function: each caller's upstream arrives at the gateway.",
            "Every other service is denied (an exact name takes precedence over \"*\").",
            "Apply: consul config write service-intentions.hcl",
        ],
    );
    out.push_str(&intentions_entry(d, &d.service, true));
    out
}

/// A service-intentions entry on `name`: the gateway's callers allowed, and with `deny_rest`
/// every other service denied.
fn intentions_entry(d: &Description, name: &str, deny_rest: bool) -> String {
    let mut out = format!(
        "Kind = \"service-intentions\"\nName = \"{name}\"\n{}Sources = [\n",
        scope(d)
    );
    for caller in &d.lambda_gateway.callers {
        out.push_str(&format!(
            "  {{\n    Name   = \"{caller}\"\n    Action = \"allow\"\n  }},\n"
        ));
    }
    if deny_rest {
        out.push_str("  {\n    Name   = \"*\"\n    Action = \"deny\"\n  },\n");
    }
    out.push_str("]\n");
    out
}

/// The intentions on a function's name: they decide nothing on the data path (the request
/// lands on the gateway's sidecar, under the gateway's intentions), but in transparent-proxy
/// mode a caller's sidecar gets an upstream only for the names its intentions allow (Consul's
/// `agent/consul/state/intention.go`, `intentionTopologyTxn`, which takes names without
/// instances from the virtual-IP table), so `authentication.virtual.consul` reaches no chain
/// without them.
fn function_intentions(d: &Description, u: &Upstream) -> String {
    let mut out = header(
        COMMAND,
        &[
            &format!(
                "The callers of \"{}\" in transparent-proxy mode: Consul gives a caller's sidecar",
                u.name
            ),
            "an upstream only for names its intentions allow. The request itself is checked",
            &format!("at \"{}\"'s sidecar (service-intentions.hcl).", d.service),
            "Apply: consul config write <this file>",
        ],
    );
    out.push_str(&intentions_entry(d, &u.name, false));
    out
}

fn caller_upstreams(d: &Description) -> String {
    let mut out = header(
        COMMAND,
        &[
            &format!(
                "The upstreams of each caller ({}): in its service definition, under",
                d.lambda_gateway.callers.join(", ")
            ),
            "connect { sidecar_service { proxy { ... } } }. The caller dials the function's name;",
            "Consul's discovery chain (the service-router) takes it to the gateway.",
        ],
    );
    for u in &d.upstreams {
        out.push_str(&format!(
            "upstreams {{\n  destination_name   = \"{}\"\n  local_bind_address = \"{}\"\n  local_bind_port    = {}\n}}\n",
            u.name,
            u.bind_address,
            u.local_bind_port()
        ));
    }
    out
}

pub fn files(d: &Description) -> Vec<GeneratedFile> {
    let mut files = vec![
        GeneratedFile {
            path: format!("consul/{}-service.hcl", d.service),
            contents: registration(d),
        },
        GeneratedFile {
            path: format!("consul/service-defaults-{}.hcl", d.service),
            contents: gateway_defaults(d),
        },
        GeneratedFile {
            path: "consul/service-intentions.hcl".into(),
            contents: intentions(d),
        },
    ];
    for u in &d.upstreams {
        files.push(GeneratedFile {
            path: format!("consul/service-defaults-{}.hcl", u.name),
            contents: function_defaults(d, u),
        });
        files.push(GeneratedFile {
            path: format!("consul/service-router-{}.hcl", u.name),
            contents: router(d, u),
        });
        files.push(GeneratedFile {
            path: format!("consul/service-intentions-{}.hcl", u.name),
            contents: function_intentions(d, u),
        });
    }
    files.push(GeneratedFile {
        path: "consul/caller-upstreams.hcl".into(),
        contents: caller_upstreams(d),
    });
    files
}
