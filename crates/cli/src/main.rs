//! `mesh-lambda`, the host-side command: checks filter configurations with the filter's own
//! parser (the core crate), and writes the Consul config entries that load the filter into a
//! sidecar, and packages it as OCI images for the loaders that pull it.

#![forbid(unsafe_code)]

mod clusters;
mod consul;
mod consul_catalog;
mod description;
mod envoy_gateway;
mod gateway;
mod gateway_settings;
mod istio;
mod kubernetes;
mod local_replies;
mod names;
mod oci;
mod out_dir;
mod output;
mod reader;
mod usage;
mod wasm_filter;
mod wasm_source;
mod yaml;

use mesh_lambda_core::config::{parse_plugin_config, FilterConfig, PluginConfig};
use std::io::Read;
use std::process::ExitCode;
use usage::{usage, Failure};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match run(&args) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("mesh-lambda: {}", failure.message);
            ExitCode::from(failure.status)
        }
    }
}

fn run(args: &[&str]) -> Result<String, Failure> {
    match args {
        [] => Err(Failure::usage("no command given".into())),
        ["-h" | "--help" | "help"] => Ok(usage()),
        ["-V" | "--version"] => Ok(format!("mesh-lambda {}\n", env!("CARGO_PKG_VERSION"))),
        ["check-config", path] => check_config(path),
        ["check-config", ..] => Err(Failure::usage(
            "check-config takes one argument, the configuration file".into(),
        )),
        ["consul", rest @ ..] => consul::run(rest),
        ["oci", rest @ ..] => oci::run(rest),
        ["istio", rest @ ..] => istio::run(rest),
        ["envoy-gateway", rest @ ..] => envoy_gateway::run(rest),
        ["gateway", rest @ ..] => gateway::run(rest),
        [other, ..] => Err(Failure::usage(format!("unknown command \"{other}\""))),
    }
}

fn check_config(path: &str) -> Result<String, Failure> {
    let bytes = read_input(path).map_err(|e| Failure {
        status: 2,
        message: format!("cannot read {path}: {e}"),
    })?;
    let config = parse_plugin_config(&bytes).map_err(|e| Failure {
        status: 1,
        message: format!("{path}: {e}"),
    })?;
    let invokes = |config: &FilterConfig| {
        format!(
            "invokes {} ({}) via {}",
            config.arn.function_arn,
            config.invocation_mode.invocation_type(),
            config.host
        )
    };
    Ok(match config {
        PluginConfig::Single(config) => format!("{path}: valid: {}\n", invokes(&config)),
        PluginConfig::Named(functions) => {
            let mut out = format!("{path}: valid: {} functions, by route\n", functions.len());
            for (name, config) in &functions {
                out.push_str(&format!("  {name}: {}\n", invokes(config)));
            }
            out
        }
    })
}

fn read_input(path: &str) -> std::io::Result<Vec<u8>> {
    if path == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes)?;
        Ok(bytes)
    } else {
        std::fs::read(path)
    }
}
