//! Kubernetes resources as the Istio and Envoy Gateway generators write them: multi-document
//! YAML files, each document after a comment saying what it is and why.

pub mod identity;

use crate::output::header;
use crate::yaml;
use serde_json::{json, Value};

/// One resource and the comment written above it.
pub struct Resource {
    pub comment: Vec<String>,
    pub value: Value,
}

impl Resource {
    pub fn new(
        api_version: &str,
        kind: &str,
        name: &str,
        namespace: &str,
        spec: Value,
        comment: &[&str],
    ) -> Self {
        Self {
            comment: comment.iter().map(|l| (*l).to_owned()).collect(),
            value: json!({
                "apiVersion": api_version,
                "kind": kind,
                "metadata": {"name": name, "namespace": namespace},
                "spec": spec,
            }),
        }
    }
}

/// A file of `resources`: the generator's header (`command`, `lines`), then each resource.
pub fn file(command: &str, lines: &[&str], resources: &[Resource]) -> String {
    let mut out = header(command, lines);
    for resource in resources {
        out.push_str("---\n");
        for line in &resource.comment {
            out.push_str("# ");
            out.push_str(line);
            out.push('\n');
        }
        out.push_str(&yaml::document(&resource.value));
    }
    out
}
