//! `mesh-lambda oci`: packages the filter as OCI images the mesh loaders pull (Istio's
//! WasmPlugin and Envoy Gateway's `oci://` sources), pushes them to a registry and pulls them
//! back, checking every digest.

mod auth;
mod authorize;
mod body;
mod digest;
mod image;
mod layout;
mod package;
mod problem;
mod pull;
mod reference;
mod registry;
mod tar_gz;

use crate::usage::Failure;
use digest::is_sha256_hex;
use reference::ImageRef;
use registry::{Session, Transport};
use std::collections::BTreeMap;
use std::path::Path;

/// A command's arguments: positionals, `--name value` options and `--switch`es.
struct Arguments<'a> {
    positional: Vec<&'a str>,
    values: BTreeMap<&'a str, &'a str>,
    switches: Vec<&'a str>,
}

impl<'a> Arguments<'a> {
    fn parse(
        command: &str,
        args: &[&'a str],
        options: &[&str],
        switches: &[&str],
    ) -> Result<Self, Failure> {
        let mut parsed = Self {
            positional: Vec::new(),
            values: BTreeMap::new(),
            switches: Vec::new(),
        };
        let mut rest = args.iter();
        while let Some(&arg) = rest.next() {
            if switches.contains(&arg) {
                parsed.switches.push(arg);
            } else if options.contains(&arg) {
                let value = rest
                    .next()
                    .ok_or_else(|| Failure::usage(format!("oci {command}: {arg} needs a value")))?;
                if parsed.values.insert(arg, value).is_some() {
                    return Err(Failure::usage(format!(
                        "oci {command}: {arg} is given twice"
                    )));
                }
            } else if arg.starts_with("--") {
                return Err(Failure::usage(format!(
                    "oci {command}: unknown option {arg}"
                )));
            } else {
                parsed.positional.push(arg);
            }
        }
        Ok(parsed)
    }

    fn has(&self, switch: &str) -> bool {
        self.switches.contains(&switch)
    }

    fn path(&self, option: &str) -> Option<&'a Path> {
        self.values.get(option).map(|v| Path::new(*v))
    }

    fn transport(&self) -> Transport<'a> {
        Transport {
            plain_http: self.has("--plain-http"),
            ca_file: self.path("--ca-file"),
        }
    }
}

const TRANSPORT_OPTIONS: [&str; 1] = ["--ca-file"];

pub fn run(args: &[&str]) -> Result<String, Failure> {
    match args {
        ["package", rest @ ..] => package_command(rest),
        ["push", rest @ ..] => push_command(rest),
        ["pull", rest @ ..] => pull_command(rest),
        _ => Err(Failure::usage(
            "oci takes: package <WASM> --out <DIR>, push <LAYOUT_DIR> <REFERENCE>, or pull \
             <REFERENCE> --out <DIR>"
                .into(),
        )),
    }
}

fn package_command(args: &[&str]) -> Result<String, Failure> {
    let a = Arguments::parse(
        "package",
        args,
        &["--out", "--revision", "--source"],
        &["--wasm-variant"],
    )?;
    let (&[wasm], Some(out)) = (a.positional.as_slice(), a.path("--out")) else {
        return Err(Failure::usage(
            "oci package takes: <WASM> --out <DIR>".into(),
        ));
    };
    package::package(&package::Options {
        wasm: Path::new(wasm),
        out,
        revision: a.values.get("--revision").copied(),
        source: a.values.get("--source").copied(),
        wasm_variant: a.has("--wasm-variant"),
        source_date_epoch: std::env::var("SOURCE_DATE_EPOCH").ok(),
    })
}

fn reference(text: &str) -> Result<ImageRef, Failure> {
    ImageRef::parse(text).map_err(|message| Failure { status: 1, message })
}

fn push_command(args: &[&str]) -> Result<String, Failure> {
    let a = Arguments::parse("push", args, &TRANSPORT_OPTIONS, &["--plain-http"])?;
    let &[dir, target] = a.positional.as_slice() else {
        return Err(Failure::usage(
            "oci push takes: <LAYOUT_DIR> <REFERENCE>".into(),
        ));
    };
    let target = reference(target)?;
    if target.tag.is_none() || target.digest.is_some() {
        return Err(Failure {
            status: 1,
            message: format!("push to a tag: {target} should be host[:port]/repository:tag"),
        });
    }
    let dir = Path::new(dir);
    if !dir.is_dir() {
        return Err(Failure {
            status: 2,
            message: format!("cannot read {}: not a folder", dir.display()),
        });
    }
    let image = layout::read(dir).map_err(|message| Failure { status: 1, message })?;
    Session::open(&target, &a.transport(), true)?.push(&image)?;
    Ok(format!("pushed {}\n", target.at(&image.digest())))
}

fn pull_command(args: &[&str]) -> Result<String, Failure> {
    let options: Vec<&str> = ["--out", "--sha256"]
        .into_iter()
        .chain(TRANSPORT_OPTIONS)
        .collect();
    let a = Arguments::parse("pull", args, &options, &["--plain-http"])?;
    let (&[source], Some(out)) = (a.positional.as_slice(), a.path("--out")) else {
        return Err(Failure::usage(
            "oci pull takes: <REFERENCE> --out <DIR>".into(),
        ));
    };
    let sha256 = a
        .values
        .get("--sha256")
        .map(|v| v.strip_prefix("sha256:").unwrap_or(v));
    if let Some(hex) = sha256.filter(|hex| !is_sha256_hex(hex)) {
        return Err(Failure::usage(format!(
            "oci pull: --sha256 \"{hex}\" is not 64 lowercase hex digits"
        )));
    }
    pull::pull(&pull::Options {
        reference: reference(source)?,
        out,
        transport: a.transport(),
        sha256,
    })
}
