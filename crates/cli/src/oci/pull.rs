//! `oci pull`: fetches an image and trusts nothing in it until checked: the manifest against
//! the reference's digest, every blob against its descriptor (digest and size), the image's
//! shape against what the loaders accept, the module's magic, and its sha256 against the
//! manifest's annotation and the caller's `--sha256`.

use super::digest::{digest_of, sha256_hex, verify};
use super::image::{Manifest, Variant, MANIFEST_TYPES, WASM_SHA256_ANNOTATION};
use super::reference::ImageRef;
use super::registry::{Session, Transport};
use super::tar_gz::PLUGIN_FILE;
use crate::out_dir::OutDir;
use crate::Failure;
use std::path::Path;

pub struct Options<'a> {
    pub reference: ImageRef,
    pub out: &'a Path,
    pub transport: Transport<'a>,
    /// The module's sha256 the caller expects (lowercase hex).
    pub sha256: Option<&'a str>,
}

fn invalid(message: String) -> Failure {
    Failure { status: 1, message }
}

pub fn pull(options: &Options) -> Result<String, Failure> {
    let reference = &options.reference;
    if reference.tag.is_none() && reference.digest.is_none() {
        return Err(invalid(format!(
            "{reference} names neither a tag nor a digest; add :TAG or @sha256:<hex>"
        )));
    }
    let session = Session::open(reference, &options.transport)?;
    let (manifest_bytes, registry_digest) = session.manifest(&MANIFEST_TYPES)?;
    let digest = digest_of(&manifest_bytes);
    // oci-client checks these too; checked here again so that no pull rests on it alone.
    for wanted in reference.digest.iter().chain([&registry_digest]) {
        if &digest != wanted {
            return Err(invalid(format!(
                "digest mismatch: the manifest of {reference} should be {wanted} but hashes to \
                 {digest}; the registry's copy is corrupt or was tampered with, do not use it"
            )));
        }
    }
    let not_wasm = |why: String| {
        invalid(format!(
            "{reference} is not a wasm image Istio or Envoy Gateway load: {why}; push one that \
             `mesh-lambda oci package` wrote"
        ))
    };
    let manifest = Manifest::parse(&manifest_bytes).map_err(not_wasm)?;
    let variant = Variant::of(&manifest).map_err(not_wasm)?;
    let fetch = |descriptor, what: &str| -> Result<Vec<u8>, Failure> {
        let bytes = session.blob(descriptor)?;
        verify(
            &format!("the {what} of {reference}"),
            &descriptor.digest,
            descriptor.size,
            &bytes,
        )
        .map_err(invalid)?;
        Ok(bytes)
    };
    fetch(&manifest.config, "config")?;
    let module_layer = variant.module_layer(manifest.layers.len());
    let mut module = Vec::new();
    for (number, layer) in manifest.layers.iter().enumerate() {
        let bytes = fetch(layer, &format!("layer {}", number + 1))?;
        if number == module_layer {
            module = bytes;
        }
    }
    let wasm = variant.module(module).map_err(not_wasm)?;
    let hex = sha256_hex(&wasm);
    let mut expected = Vec::new();
    if let Some(annotated) = manifest.annotation(WASM_SHA256_ANNOTATION) {
        expected.push((
            annotated,
            format!("the manifest's {WASM_SHA256_ANNOTATION}"),
        ));
    }
    if let Some(given) = options.sha256 {
        expected.push((given, "--sha256".into()));
    }
    for (wanted, source) in expected {
        if wanted != hex {
            return Err(invalid(format!(
                "digest mismatch: the module in {reference} has sha256 {hex} but {source} says \
                 {wanted}; do not use it"
            )));
        }
    }
    OutDir::create(options.out)
        .and_then(|out| out.write(Path::new(PLUGIN_FILE), &wasm))
        .map_err(|message| Failure { status: 2, message })?;
    Ok(format!(
        "pulled {} wasm sha256:{hex}\n",
        reference.at(&digest)
    ))
}
