//! `mesh-lambda consul generate`: from a description of a caller's Lambda upstreams, the
//! Consul config entries that put mesh-lambda in the caller's sidecar through Consul's escape
//! hatches (an upstream listener per Lambda upstream in service-defaults, static clusters in
//! proxy-defaults), as HCL and as consul-k8s resources, and the upstream stanzas.

pub mod catalog;
pub mod description;
pub mod envoy;
pub mod files;

use crate::output::write_all;
use crate::Failure;
use description::read_description;
use std::path::Path;

pub const USAGE: &str = "\
  mesh-lambda consul generate <DESCRIPTION.json> --out <DIR>
                                    write the Consul config entries (HCL and consul-k8s YAML)
                                    that load the filter into a caller's sidecar for its Lambda
                                    upstreams; DESCRIPTION.json is described in the README";

pub fn run(args: &[&str]) -> Result<String, Failure> {
    match args {
        ["generate", description, "--out", out] | ["generate", "--out", out, description] => {
            generate(Path::new(description), Path::new(out))
        }
        _ => Err(Failure::usage(
            "consul takes: generate <DESCRIPTION.json> --out <DIR>".into(),
        )),
    }
}

fn generate(description_path: &Path, out: &Path) -> Result<String, Failure> {
    let bytes = std::fs::read(description_path).map_err(|e| Failure {
        status: 2,
        message: format!("cannot read {}: {e}", description_path.display()),
    })?;
    let base = description_path.parent().unwrap_or(Path::new("."));
    let description = read_description(&bytes, base).map_err(|e| Failure {
        status: 1,
        message: format!(
            "{}: {}; nothing was written",
            description_path.display(),
            e.0
        ),
    })?;
    let generated = files::all_files(&description);
    write_all(out, &generated).map_err(|e| Failure {
        status: 2,
        message: e,
    })?;
    let mut report = String::new();
    for file in &generated {
        report.push_str(&format!("wrote {}\n", out.join(file.path).display()));
    }
    Ok(report)
}
