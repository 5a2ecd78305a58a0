//! `mesh-lambda`, the host-side command: checks filter configurations with the filter's own
//! parser (the core crate), and will write the Consul config entries and the OCI artifact.

#![forbid(unsafe_code)]

use mesh_lambda_core::config::parse_config;
use std::io::Read;
use std::process::ExitCode;

const USAGE: &str = "\
mesh-lambda: host-side tools for the mesh-lambda Envoy filter

Usage:
  mesh-lambda check-config <FILE>   check a filter configuration (the plugin's JSON) with the
                                    filter's own parser; FILE '-' reads standard input
  mesh-lambda --help                this text
  mesh-lambda --version             the version, which is the filter's

Exit status: 0 valid, 1 invalid configuration, 2 usage or input error.
";

/// A failure and the exit status it gives.
struct Failure {
    status: u8,
    message: String,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
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

fn usage_error(message: String) -> Failure {
    Failure {
        status: 2,
        message: format!("{message}\n\n{USAGE}"),
    }
}

fn run(args: &[String]) -> Result<String, Failure> {
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => Err(usage_error("no command given".into())),
        ["-h" | "--help" | "help"] => Ok(USAGE.to_owned()),
        ["-V" | "--version"] => Ok(format!("mesh-lambda {}\n", env!("CARGO_PKG_VERSION"))),
        ["check-config", path] => check_config(path),
        ["check-config", ..] => Err(usage_error(
            "check-config takes one argument, the configuration file".into(),
        )),
        [other, ..] => Err(usage_error(format!("unknown command \"{other}\""))),
    }
}

fn check_config(path: &str) -> Result<String, Failure> {
    let bytes = read_input(path).map_err(|e| Failure {
        status: 2,
        message: format!("cannot read {path}: {e}"),
    })?;
    let config = parse_config(&bytes).map_err(|e| Failure {
        status: 1,
        message: format!("{path}: {e}"),
    })?;
    Ok(format!(
        "{path}: valid: invokes {} ({}) via {}\n",
        config.arn.function_arn,
        config.invocation_mode.invocation_type(),
        config.host
    ))
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
