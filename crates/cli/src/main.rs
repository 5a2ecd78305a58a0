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

use clap::{CommandFactory, Parser, Subcommand};
use mesh_lambda_core::config::{parse_plugin_config, FilterConfig, PluginConfig};
use output::{write_all, GeneratedFile};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use usage::Failure;

/// The command line. `--version` prints `mesh-lambda <version>`: the workspace's version,
/// which is the filter's (the module logs it at start) and the OCI image's.
#[derive(Parser)]
#[command(
    name = "mesh-lambda",
    version,
    about = "Host-side tools for the mesh-lambda Envoy filter",
    long_about = "Host-side tools for the mesh-lambda Envoy filter: check a filter \
configuration with the filter's own parser, write the configuration that loads the filter \
into a Consul, Istio or Envoy Gateway sidecar or a Lambda gateway, and package, push and pull \
the filter as an OCI image. `mesh-lambda <COMMAND> --help` tells each command's arguments.",
    after_help = examples!(
        "mesh-lambda check-config plugin.json",
        "mesh-lambda consul generate description.json --out consul-entries",
        "mesh-lambda oci package dist/mesh_lambda.wasm --out dist/package",
        "mesh-lambda completions bash > ~/.local/share/bash-completion/completions/mesh-lambda",
    )
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a filter configuration (the plugin's JSON) with the filter's own parser
    #[command(
        long_about = "Check a filter configuration (the plugin's JSON, one function or the \
`functions` form) with the filter's own parser, and print what it invokes: each function's \
ARN, invocation type and Lambda host. An invalid configuration is refused with the message \
the filter would log.",
        after_help = examples!(
            "mesh-lambda check-config plugin.json",
            "jq '.upstreams[0].filter' description.json | mesh-lambda check-config -",
        )
    )]
    CheckConfig {
        /// The configuration file; `-` reads standard input
        file: PathBuf,
    },
    /// Consul: the config entries that load the filter into a caller's sidecar
    #[command(after_help = examples!(
        "mesh-lambda consul generate description.json --out consul-entries",
        "consul config write consul-entries/consul/proxy-defaults.hcl",
    ))]
    Consul {
        #[command(subcommand)]
        command: consul::Command,
    },
    /// OCI images of the filter: package, push, pull
    #[command(after_help = examples!(
        "mesh-lambda oci package dist/mesh_lambda.wasm --out dist/package",
        "mesh-lambda oci push dist/package/oci-compat registry.example.com/mesh-lambda:0.1.0",
        "mesh-lambda oci pull registry.example.com/mesh-lambda:0.1.0 --out pulled",
    ))]
    Oci {
        #[command(subcommand)]
        command: oci::Command,
    },
    /// Istio: the resources that load the filter into a caller's sidecar
    #[command(after_help = examples!(
        "mesh-lambda istio generate description.json --out istio-resources",
    ))]
    Istio {
        #[command(subcommand)]
        command: istio::Command,
    },
    /// Envoy Gateway: the resources that route Gateway paths to Lambda through the filter
    #[command(after_help = examples!(
        "mesh-lambda envoy-gateway generate description.json --out eg-resources",
    ))]
    EnvoyGateway {
        #[command(subcommand)]
        command: envoy_gateway::Command,
    },
    /// A Lambda gateway: one Envoy in front of several functions, in the Consul mesh
    #[command(after_help = examples!(
        "mesh-lambda gateway generate envoy/lambda-gateway/example/description.json --out out/",
    ))]
    Gateway {
        #[command(subcommand)]
        command: gateway::Command,
    },
    /// Print a shell completion script for this command
    #[command(after_help = examples!(
        "mesh-lambda completions bash > ~/.local/share/bash-completion/completions/mesh-lambda",
        "mesh-lambda completions zsh > ~/.zfunc/_mesh-lambda",
        "mesh-lambda completions fish > ~/.config/fish/completions/mesh-lambda.fish",
    ))]
    Completions {
        /// The shell to complete in
        shell: clap_complete::Shell,
    },
    /// Print the manual page, or write one per command into a folder
    #[command(
        long_about = "Print the manual page of mesh-lambda (roff, section 1) to standard \
output, or with --out write one page per command (mesh-lambda.1, mesh-lambda-consul-generate.1, \
...) into DIR. The pages are made from this command's own definition, so they match its \
--help.",
        after_help = examples!(
            "mesh-lambda man | man -l -",
            "mesh-lambda man --out ~/.local/share/man/man1",
        )
    )]
    Man {
        /// The folder to write every command's page into (made if missing)
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Usage errors (status 2, naming the argument, with clap's suggestion for a
            // mistyped command) on standard error; --help and --version on standard output.
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    match run(cli.command) {
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

fn run(command: Command) -> Result<String, Failure> {
    match command {
        Command::CheckConfig { file } => check_config(&file),
        Command::Consul { command } => consul::run(&command),
        Command::Oci { command } => oci::run(&command),
        Command::Istio { command } => istio::run(&command),
        Command::EnvoyGateway { command } => envoy_gateway::run(&command),
        Command::Gateway { command } => gateway::run(&command),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "mesh-lambda", &mut script);
            Ok(String::from_utf8_lossy(&script).into_owned())
        }
        Command::Man { out: None } => Ok(manual_pages()?
            .into_iter()
            .next()
            .map(|page| page.contents)
            .unwrap_or_default()),
        Command::Man { out: Some(out) } => {
            let pages = manual_pages()?;
            write_all(&out, &pages).map_err(|message| Failure { status: 2, message })?;
            Ok(pages
                .iter()
                .map(|page| format!("wrote {}\n", out.join(&page.path).display()))
                .collect())
        }
    }
}

/// The manual pages, `mesh-lambda.1` first, then one per command (`mesh-lambda-oci-push.1`),
/// as clap_mangen names them; `help` has none.
fn manual_pages() -> Result<Vec<GeneratedFile>, Failure> {
    fn add(command: clap::Command, pages: &mut Vec<GeneratedFile>) -> Result<(), Failure> {
        let man = clap_mangen::Man::new(command.clone());
        let mut roff = Vec::new();
        man.render(&mut roff).map_err(|e| Failure {
            status: 2,
            message: format!("cannot write the manual page: {e}"),
        })?;
        pages.push(GeneratedFile {
            path: man.get_filename(),
            contents: String::from_utf8_lossy(&roff).into_owned(),
        });
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
            add(sub.clone(), pages)?;
        }
        Ok(())
    }
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let mut pages = Vec::new();
    add(command, &mut pages)?;
    Ok(pages)
}

fn check_config(file: &Path) -> Result<String, Failure> {
    let path = file.display();
    let bytes = read_input(file).map_err(|e| Failure {
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

fn read_input(path: &Path) -> std::io::Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes)?;
        Ok(bytes)
    } else {
        std::fs::read(path)
    }
}
