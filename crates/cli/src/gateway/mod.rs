//! `mesh-lambda gateway generate`: from a description listing functions (the `upstreams`,
//! each with its path prefix) and the `gateway` object, a Lambda gateway: the Envoy bootstrap
//! of the gateway (one filter, the functions selected by their routes' metadata), and the
//! Consul pieces that put it in the mesh as service `<service>` (its registration with a
//! Connect sidecar, its intentions, and per function the discovery-chain entries that send a
//! caller's upstream `<function>` to it), as HCL and as consul-k8s resources.

pub mod consul;
pub mod envoy;
pub mod kubernetes;

use crate::clusters::credential_clusters;
use crate::consul::check_consul_fields;
use crate::description::Description;
use crate::names::DescriptionError;
use crate::output::{generate, GenerateArgs, GeneratedFile};
use crate::usage::Failure;
use mesh_lambda_core::config::parse_plugin_config;
use mesh_lambda_core::invoke::InvokeTarget;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The gateway's one filter: its routes' metadata key and the signed calls' route key.
pub const PLUGIN_NAME: &str = "mesh-lambda";
/// The filter's fields that are the VM's, one for every function (the core's `SHARED`).
const SHARED: [&str; 2] = ["detailed_errors", "caller"];
/// A function's own or every function's (the core's `OWN_OR_SHARED`): at the top level when
/// every upstream gives the same, else in each function's entry (equal blocks are still one
/// identity, fetched once).
const OWN_OR_SHARED: &str = "credentials";

/// `mesh-lambda gateway ...`
#[derive(clap::Subcommand)]
pub enum Command {
    /// Write a Lambda gateway: its Envoy bootstrap and the Consul pieces that put it in the mesh
    #[command(
        long_about = "Write a Lambda gateway: its Envoy bootstrap (the filter with every \
function, routed by path prefix) and the Consul pieces that put it in the mesh (its \
registration, intentions, service-defaults and service-routers; HCL and consul-k8s). The \
description lists the functions as upstreams, with a `gateway` object \
(docs/src/gateway.md); bad input is an error naming the item, and then nothing is written.",
        after_help = crate::examples!(
            "mesh-lambda gateway generate envoy/lambda-gateway/example/description.json --out out/",
            "envoy -c out/envoy/gateway.yaml",
        )
    )]
    Generate(GenerateArgs),
}

pub fn run(command: &Command) -> Result<String, Failure> {
    let Command::Generate(args) = command;
    generate(&args.description, &args.out, |d| {
        check_consul_fields(d)?;
        check_gateway(d)?;
        let plugin = plugin_configuration(d)?;
        Ok(all_files(d, &plugin))
    })
}

/// What the gateway needs beyond the Consul generator's fields: its callers, and routes
/// that tell the functions apart (one prefix per route, one Invoke path per function).
fn check_gateway(d: &Description) -> Result<(), DescriptionError> {
    let g = &d.lambda_gateway;
    if g.callers.is_empty() {
        return Err(DescriptionError(
            "gateway.callers: is required: the mesh services that may call the gateway (its intentions)".into(),
        ));
    }
    let mut prefixes = BTreeMap::new();
    let mut paths = BTreeMap::new();
    for (i, u) in d.upstreams.iter().enumerate() {
        let field = format!("upstreams[{i}]");
        if u.name == d.service || g.callers.contains(&u.name) {
            return Err(DescriptionError(format!(
                "{field}.name: {:?} is the gateway's service or a caller: a function needs a name of its own",
                u.name
            )));
        }
        if let Some(first) = prefixes.insert(u.path_prefix.clone(), field.clone()) {
            return Err(DescriptionError(format!(
                "{field}.path_prefix: {:?} is also {first}'s",
                u.path_prefix
            )));
        }
        let path = signed_path(u);
        if let Some(first) = paths.insert(path, i) {
            return Err(DescriptionError(format!(
                "{field}.filter.arn: upstreams[{first}] invokes the same function: the gateway \
                 tells the signed calls apart by their Invoke path, give each function once"
            )));
        }
    }
    let clusters = credential_clusters(d);
    for (i, p) in g.plain_routes.iter().enumerate() {
        let field = format!("gateway.plain_routes[{i}]");
        if let Some(first) = prefixes.insert(p.path_prefix.clone(), field.clone()) {
            return Err(DescriptionError(format!(
                "{field}.path_prefix: {:?} is also {first}'s",
                p.path_prefix
            )));
        }
        let taken = clusters.contains_key(&p.name)
            || g.plain_routes.iter().take(i).any(|q| q.name == p.name);
        if taken {
            return Err(DescriptionError(format!(
                "{field}.name: {:?} names another cluster of the gateway",
                p.name
            )));
        }
    }
    Ok(())
}

/// The path a function's signed call carries, without its query (`?Qualifier=`), which a
/// route's `path` match does not see.
pub fn signed_path(u: &crate::description::Upstream) -> String {
    let path = InvokeTarget::new(&u.config).path;
    path.split_once('?')
        .map_or(path.clone(), |(p, _)| p.to_owned())
}

/// The filter's configuration in the `functions` form: each upstream's own fields under its
/// name, the VM's (`SHARED`) once at the top, which must then be the same for all, credentials
/// at the top when all are the same, and `caller` from the sidecar's certificate unless given. Checked with the filter's own parser.
pub fn plugin_configuration(d: &Description) -> Result<String, DescriptionError> {
    let mut functions = Map::new();
    let mut shared: Option<(usize, Map<String, Value>)> = None;
    for (i, u) in d.upstreams.iter().enumerate() {
        let Ok(Value::Object(mut own)) = serde_json::from_str::<Value>(&u.plugin_configuration)
        else {
            return Err(DescriptionError(format!(
                "upstreams[{i}].filter: not an object"
            )));
        };
        let mut vm = Map::new();
        for key in SHARED {
            if let Some(value) = own.remove(key) {
                vm.insert(key.to_owned(), value);
            }
        }
        match &shared {
            None => shared = Some((i, vm)),
            Some((first, first_vm)) if *first_vm != vm => {
                return Err(DescriptionError(format!(
                    "upstreams[{i}].filter: detailed_errors and caller belong to the gateway's \
                     one filter, shared by every function: give each the same as upstreams[{first}]"
                )))
            }
            Some(_) => {}
        }
        // An event carries the path: the caller's, without the prefix the gateway routes on.
        let passthrough = own.get("payload_passthrough") == Some(&Value::Bool(true));
        let prefix = u.path_prefix.trim_end_matches('/');
        if !passthrough && !prefix.is_empty() {
            own.entry("strip_path_prefix")
                .or_insert_with(|| Value::String(prefix.to_owned()));
        }
        functions.insert(u.name.clone(), Value::Object(own));
    }
    let mut root = shared.map(|(_, vm)| vm).unwrap_or_default();
    hoist_common_credentials(&mut functions, &mut root);
    // The gateway learns each request's caller from its sidecar's certificate (trusted from
    // the loopback hop only), so functions are told who called and may list their callers.
    root.entry("caller")
        .or_insert_with(|| serde_json::json!({ "from": "forwarded_client_cert" }));
    root.insert("functions".into(), Value::Object(functions));
    let text = Value::Object(root).to_string();
    parse_plugin_config(text.as_bytes())
        .map_err(|e| DescriptionError(format!("the gateway's filter configuration: {e}")))?;
    Ok(text)
}

/// Moves `credentials` to the top level when every function gives the same block (the
/// configuration a user reads then says "one identity"); otherwise each keeps its own.
fn hoist_common_credentials(functions: &mut Map<String, Value>, root: &mut Map<String, Value>) {
    let mut blocks = functions.values().map(|f| f.get(OWN_OR_SHARED));
    let first = blocks.next().flatten().cloned();
    if first.is_none() || !blocks.all(|b| b == first.as_ref()) {
        return;
    }
    for function in functions.values_mut() {
        if let Value::Object(entry) = function {
            entry.remove(OWN_OR_SHARED);
        }
    }
    if let Some(block) = first {
        root.insert(OWN_OR_SHARED.to_owned(), block);
    }
}

/// Every file, in the order they are listed to the user.
pub fn all_files(d: &Description, plugin: &str) -> Vec<GeneratedFile> {
    let bootstrap = envoy::bootstrap(d, plugin, kubernetes::CONFIG_DIR);
    let mut files = vec![GeneratedFile {
        path: "envoy/gateway.yaml".into(),
        contents: envoy::bootstrap_yaml(&bootstrap),
    }];
    if let Some(identity) = &d.kubernetes_identity {
        files.push(GeneratedFile {
            path: format!("envoy/{}", identity.sds_file_name()),
            contents: envoy::sds_yaml(identity, kubernetes::CONFIG_DIR),
        });
    }
    files.extend(consul::files(d));
    files.extend(kubernetes::files(d, &bootstrap));
    files
}
