//! `oci package`: the module, its sha256 file, and the OCI images that carry it, built only
//! from the module and the command's inputs (no clock, no file metadata), so two runs write the
//! same bytes.

use super::digest::{digest_of, sha256_hex};
use super::image::{
    is_wasm, json_bytes, Blob, Image, OCI_CONFIG, OCI_MANIFEST, TAR_GZIP_LAYER, WASM_CONFIG,
    WASM_LAYER, WASM_SHA256_ANNOTATION,
};
use super::layout;
use super::tar_gz::{compat_layer, PLUGIN_FILE};
use crate::out_dir::OutDir;
use crate::usage::Failure;
use serde_json::{json, Map, Value};
use std::path::Path;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
const DEFAULT_SOURCE: &str = env!("CARGO_PKG_REPOSITORY");
const LICENSE: &str = env!("CARGO_PKG_LICENSE");
/// `org.opencontainers.image.created` when SOURCE_DATE_EPOCH is not set.
const EPOCH: &str = "1970-01-01T00:00:00Z";

pub struct Options<'a> {
    pub wasm: &'a Path,
    pub out: &'a Path,
    pub revision: Option<&'a str>,
    pub source: Option<&'a str>,
    pub wasm_variant: bool,
    /// SOURCE_DATE_EPOCH, when set.
    pub source_date_epoch: Option<String>,
}

pub fn package(options: &Options) -> Result<String, Failure> {
    let invalid = |message: String| Failure { status: 1, message };
    let wasm = std::fs::read(options.wasm).map_err(|e| Failure {
        status: 2,
        message: format!("cannot read {}: {e}", options.wasm.display()),
    })?;
    if !is_wasm(&wasm) {
        return Err(invalid(format!(
            "{} is not a WebAssembly module (it does not start with \\0asm); give the built \
             filter, e.g. dist/mesh_lambda.wasm; nothing was written",
            options.wasm.display()
        )));
    }
    let created = created(options.source_date_epoch.as_deref()).map_err(invalid)?;
    let hex = sha256_hex(&wasm);
    let annotations = annotations(options, &created, &hex);
    let mut images = vec![(
        "oci-compat",
        compat_image(&wasm, &created, &annotations).map_err(invalid)?,
    )];
    if options.wasm_variant {
        images.push(("oci-wasm", module_wasm_image(&wasm, &created, &annotations)));
    }
    let file_error = |message: String| Failure { status: 2, message };
    let out = OutDir::create(options.out).map_err(file_error)?;
    out.write(Path::new(PLUGIN_FILE), &wasm)
        .map_err(file_error)?;
    let sums = format!("{hex}  {PLUGIN_FILE}\n");
    out.write(Path::new(&format!("{PLUGIN_FILE}.sha256")), sums.as_bytes())
        .map_err(file_error)?;
    let mut report = format!("wasm sha256:{hex}\n");
    for (name, image) in &images {
        layout::write(&out, name, image, VERSION).map_err(file_error)?;
        report.push_str(&format!("{name} manifest {}\n", image.digest()));
    }
    Ok(report)
}

/// SOURCE_DATE_EPOCH (seconds since the epoch) as RFC 3339 UTC; the epoch itself when unset.
pub fn created(source_date_epoch: Option<&str>) -> Result<String, String> {
    let Some(text) = source_date_epoch else {
        return Ok(EPOCH.into());
    };
    text.parse::<i64>()
        .ok()
        .and_then(|seconds| chrono::DateTime::from_timestamp(seconds, 0))
        .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .ok_or(format!(
            "SOURCE_DATE_EPOCH=\"{text}\" is not a number of seconds since 1970-01-01; set it \
             to the commit time (git log -1 --format=%ct) or unset it"
        ))
}

fn annotations(options: &Options, created: &str, hex: &str) -> Map<String, Value> {
    let mut map = Map::new();
    let mut put = |name: &str, value: &str| {
        map.insert(name.into(), Value::String(value.into()));
    };
    put("org.opencontainers.image.version", VERSION);
    if let Some(revision) = options.revision {
        put("org.opencontainers.image.revision", revision);
    }
    put("org.opencontainers.image.created", created);
    put("org.opencontainers.image.licenses", LICENSE);
    put(
        "org.opencontainers.image.source",
        options.source.unwrap_or(DEFAULT_SOURCE),
    );
    put("org.opencontainers.image.title", PLUGIN_FILE);
    put(WASM_SHA256_ANNOTATION, hex);
    map
}

/// An OCI image of `config` and `layers` (blobs in that order; a blob used twice is listed
/// twice).
fn image_of(config: Blob, layers: Vec<Blob>, annotations: Map<String, Value>) -> Image {
    let manifest = json_bytes(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config.descriptor.to_json(),
        "layers": layers.iter().map(|l| l.descriptor.to_json()).collect::<Vec<_>>(),
        "annotations": annotations,
    }));
    Image {
        manifest,
        manifest_media_type: OCI_MANIFEST.into(),
        blobs: std::iter::once(config).chain(layers).collect(),
    }
}

/// The compat variant: an OCI image whose one layer is a tar+gzip holding `plugin.wasm`. The
/// manifest is written as is (not inside an index: an index resolves to linux/amd64 in the
/// loaders), so the config can say what the module is, wasm/wasip1.
fn compat_image(
    wasm: &[u8],
    created: &str,
    annotations: &Map<String, Value>,
) -> Result<Image, String> {
    let layer = compat_layer(wasm)?;
    let config = json!({
        "architecture": "wasm",
        "os": "wasip1",
        "created": created,
        "rootfs": {"type": "layers", "diff_ids": [digest_of(&layer.tar)]},
    });
    let mut annotations = annotations.clone();
    annotations.insert("module.wasm.image/variant".into(), "compat".into());
    Ok(image_of(
        Blob::new(OCI_CONFIG, json_bytes(&config)),
        vec![Blob::new(TAR_GZIP_LAYER, layer.gzip)],
        annotations,
    ))
}

/// The `vnd.module.wasm` ("oci") variant as Istio's and Envoy Gateway's fetchers take it
/// (`extractOCIArtifactImage` in their `imagefetcher.go` wants exactly two layers): the runtime
/// config layer, then the raw module, as in solo-io/wasm `spec/spec.md`. The runtime config
/// (`type` names the runtime) is also the image config.
fn module_wasm_image(wasm: &[u8], created: &str, annotations: &Map<String, Value>) -> Image {
    let config = json_bytes(&json!({"created": created, "type": "envoy_proxy"}));
    image_of(
        Blob::new(WASM_CONFIG, config.clone()),
        vec![
            Blob::new(WASM_CONFIG, config),
            Blob::new(WASM_LAYER, wasm.to_vec()),
        ],
        annotations.clone(),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn created_comes_from_source_date_epoch_or_is_the_epoch() {
        assert_eq!(created(None).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(created(Some("1700000000")).unwrap(), "2023-11-14T22:13:20Z");
        assert!(created(Some("yesterday"))
            .unwrap_err()
            .contains("SOURCE_DATE_EPOCH=\"yesterday\""));
    }
}
