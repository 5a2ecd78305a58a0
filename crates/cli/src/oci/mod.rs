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
use std::path::PathBuf;

/// Where push and pull find registry credentials, and where they send them.
macro_rules! registry_credentials {
    () => {
        "Registry credentials: MESH_LAMBDA_REGISTRY_USERNAME and MESH_LAMBDA_REGISTRY_PASSWORD \
for the registry (host[:port]) MESH_LAMBDA_REGISTRY_HOST names, else REGISTRY_AUTH_FILE, \
else the docker config (DOCKER_CONFIG or ~/.docker; auths, credHelpers, credsStore), else \
anonymous. They go to that registry only, and to its token service only on the same host \
and port or the one MESH_LAMBDA_REGISTRY_TOKEN_SERVICE names (e.g. auth.docker.io)."
    };
}

/// `mesh-lambda oci ...`
#[derive(clap::Subcommand)]
pub enum Command {
    /// Package the filter: plugin.wasm, its sha256 and OCI image layouts
    #[command(
        long_about = "Write DIR/plugin.wasm, DIR/plugin.wasm.sha256 and the OCI image layout \
DIR/oci-compat (its one layer a tar+gzip holding plugin.wasm), which Istio's WasmPlugin and \
Envoy Gateway's oci:// sources pull. Reproducible: the created time is SOURCE_DATE_EPOCH \
(1970-01-01T00:00:00Z when unset); the module's sha256 is the manifest annotation \
dev.mesh-lambda.wasm.sha256, the version org.opencontainers.image.version. Prints \
`wasm sha256:<hex>` and `<layout> manifest sha256:<hex>` per layout.",
        after_help = crate::examples!(
            "mesh-lambda oci package dist/mesh_lambda.wasm --out dist/package",
            "SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) mesh-lambda oci package \\",
            "    dist/mesh_lambda.wasm --out dist/package --revision $(git rev-parse HEAD)",
        )
    )]
    Package(PackageArgs),
    /// Push an image layout to a registry, by tag
    #[command(
        long_about = concat!("Push a layout's image (one that `oci package` wrote) to \
REFERENCE, host[:port]/repository:tag. Prints `pushed <REFERENCE>@sha256:<manifest digest>`.\n\n",
            registry_credentials!()),
        after_help = crate::examples!(
            "mesh-lambda oci push dist/package/oci-compat registry.example.com/mesh-lambda:0.1.0",
            "mesh-lambda oci push dist/package/oci-compat 127.0.0.1:5000/mesh-lambda:dev --plain-http",
        )
    )]
    Push(PushArgs),
    /// Pull an image, check every digest and write DIR/plugin.wasm
    #[command(
        long_about = concat!("Pull REFERENCE (by :tag or @sha256:<manifest digest>), check \
every digest, that it is a wasm image the loaders accept, and the module's sha256 (the \
annotation, and --sha256 when given); write DIR/plugin.wasm. Prints `pulled \
<REFERENCE>@sha256:<manifest digest> wasm sha256:<hex>`. Bounds: manifest and config 4 MiB, \
a layer 256 MiB, the compat layer's tar 256 MiB decompressed.\n\n",
            registry_credentials!()),
        after_help = crate::examples!(
            "mesh-lambda oci pull registry.example.com/mesh-lambda:0.1.0 --out pulled",
            "mesh-lambda oci pull registry.example.com/mesh-lambda@sha256:<digest> --out pulled \\",
            "    --sha256 \"$(cut -d' ' -f1 dist/package/plugin.wasm.sha256)\"",
        )
    )]
    Pull(PullArgs),
}

#[derive(clap::Args)]
pub struct PackageArgs {
    /// The built filter (./scripts/build writes dist/mesh_lambda.wasm)
    wasm: PathBuf,
    /// The folder to write into (made if missing)
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The commit built: the annotation org.opencontainers.image.revision
    #[arg(long, value_name = "GIT_SHA")]
    revision: Option<String>,
    /// The annotation org.opencontainers.image.source (default: the repository)
    #[arg(long, value_name = "URL")]
    source: Option<String>,
    /// Also write DIR/oci-wasm: two layers, the vnd.module.wasm runtime config and the raw
    /// module, as Istio's fetcher wants
    #[arg(long)]
    wasm_variant: bool,
}

/// How push and pull talk to the registry.
#[derive(clap::Args)]
pub struct TransportArgs {
    /// Talk HTTP, not HTTPS (and allow a plain-http token service)
    #[arg(long)]
    plain_http: bool,
    /// Trust this CA (PEM) besides the system's, for a registry with a private CA
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
}

impl TransportArgs {
    fn transport(&self) -> Transport<'_> {
        Transport {
            plain_http: self.plain_http,
            ca_file: self.ca_file.as_deref(),
        }
    }
}

#[derive(clap::Args)]
pub struct PushArgs {
    /// An OCI image layout (a folder `oci package` wrote, e.g. dist/package/oci-compat)
    layout_dir: PathBuf,
    /// Where to push: host[:port]/repository:tag
    reference: String,
    #[command(flatten)]
    transport: TransportArgs,
}

#[derive(clap::Args)]
pub struct PullArgs {
    /// What to pull: host[:port]/repository:tag or host[:port]/repository@sha256:<digest>
    reference: String,
    /// The folder to write plugin.wasm into (made if missing)
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The module's expected sha256 (64 lowercase hex digits, `sha256:` allowed before)
    #[arg(long, value_name = "HEX", value_parser = sha256_argument)]
    sha256: Option<String>,
    #[command(flatten)]
    transport: TransportArgs,
}

/// `--sha256`: 64 lowercase hex digits, after an optional `sha256:`.
fn sha256_argument(text: &str) -> Result<String, String> {
    let hex = text.strip_prefix("sha256:").unwrap_or(text);
    if is_sha256_hex(hex) {
        Ok(hex.to_owned())
    } else {
        Err("not 64 lowercase hex digits".to_owned())
    }
}

pub fn run(command: &Command) -> Result<String, Failure> {
    match command {
        Command::Package(a) => package::package(&package::Options {
            wasm: &a.wasm,
            out: &a.out,
            revision: a.revision.as_deref(),
            source: a.source.as_deref(),
            wasm_variant: a.wasm_variant,
            source_date_epoch: std::env::var("SOURCE_DATE_EPOCH").ok(),
        }),
        Command::Push(a) => push(a),
        Command::Pull(a) => pull::pull(&pull::Options {
            reference: reference(&a.reference)?,
            out: &a.out,
            transport: a.transport.transport(),
            sha256: a.sha256.as_deref(),
        }),
    }
}

fn reference(text: &str) -> Result<ImageRef, Failure> {
    ImageRef::parse(text).map_err(|message| Failure { status: 1, message })
}

fn push(a: &PushArgs) -> Result<String, Failure> {
    let target = reference(&a.reference)?;
    if target.tag.is_none() || target.digest.is_some() {
        return Err(Failure {
            status: 1,
            message: format!("push to a tag: {target} should be host[:port]/repository:tag"),
        });
    }
    let dir = a.layout_dir.as_path();
    if !dir.is_dir() {
        return Err(Failure {
            status: 2,
            message: format!("cannot read {}: not a folder", dir.display()),
        });
    }
    let image = layout::read(dir).map_err(|message| Failure { status: 1, message })?;
    Session::open(&target, &a.transport.transport(), true)?.push(&image)?;
    Ok(format!("pushed {}\n", target.at(&image.digest())))
}
