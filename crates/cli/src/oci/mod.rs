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

use crate::Failure;
use digest::is_sha256_hex;
use reference::ImageRef;
use registry::{Session, Transport};
use std::collections::BTreeMap;
use std::path::Path;

pub const USAGE: &str =
    "  mesh-lambda oci package <WASM> --out <DIR> [--revision <GIT_SHA>] [--source <URL>]
                          [--wasm-variant]
                                    write DIR/plugin.wasm, DIR/plugin.wasm.sha256 and the OCI
                                    image layout DIR/oci-compat (the last layer a tar+gzip
                                    holding plugin.wasm); --wasm-variant adds DIR/oci-wasm (two
                                    layers: the vnd.module.wasm runtime config and the raw
                                    module, as Istio's fetcher wants). Reproducible: the created
                                    time is SOURCE_DATE_EPOCH (1970-01-01T00:00:00Z when unset),
                                    the module's sha256 is the manifest annotation
                                    dev.mesh-lambda.wasm.sha256. Prints `wasm sha256:<hex>` and
                                    `<layout> manifest sha256:<hex>` per layout
  mesh-lambda oci push <LAYOUT_DIR> <REFERENCE> [--plain-http] [--ca-file <PEM>]
                                    push a layout's image to REFERENCE, host[:port]/repo:tag;
                                    prints `pushed <REFERENCE>@sha256:<manifest digest>`
  mesh-lambda oci pull <REFERENCE> --out <DIR> [--plain-http] [--ca-file <PEM>]
                          [--sha256 <HEX>]
                                    pull by :tag or @sha256:<manifest digest>, check every
                                    digest, that it is a wasm image the loaders accept and the
                                    module's sha256 (annotation, --sha256); write
                                    DIR/plugin.wasm; prints `pulled <REFERENCE>@sha256:<manifest
                                    digest> wasm sha256:<hex>`
                                    Bounds: manifest and config 4 MiB, a layer 256 MiB, the
                                    compat layer's tar 256 MiB decompressed
                                    Registry credentials: MESH_LAMBDA_REGISTRY_USERNAME and
                                    MESH_LAMBDA_REGISTRY_PASSWORD for the registry (host[:port])
                                    MESH_LAMBDA_REGISTRY_HOST names, else REGISTRY_AUTH_FILE,
                                    else the docker config (DOCKER_CONFIG or ~/.docker; auths,
                                    credHelpers, credsStore), else anonymous. They go to that
                                    registry only, and to its token service only on the same
                                    host and port or the one MESH_LAMBDA_REGISTRY_TOKEN_SERVICE
                                    names (e.g. auth.docker.io). --plain-http talks HTTP (and allows a
                                    plain-http token service); --ca-file trusts a private CA";

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
