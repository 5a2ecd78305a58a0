//! `oci pull`: fetches an image and trusts nothing in it until checked: the manifest against
//! the reference's digest, every blob against its descriptor (digest and size, computed as it
//! streams), the image's shape against what the loaders accept, the module's magic, and its
//! sha256 against the manifest's annotation and the caller's `--sha256`. Every size is bounded:
//! the manifest and config as read, the layers as declared and as streamed to disk, the
//! compat layer's tar as it decompresses. `--out` gets `plugin.wasm` only once all is checked.

use super::digest::{digest_of, Running};
use super::image::{
    is_wasm, Descriptor, Manifest, Variant, MANIFEST_TYPES, WASM_SHA256_ANNOTATION,
};
use super::reference::ImageRef;
use super::registry::{Session, Transport};
use super::tar_gz::{plugin_from_layer, MAX_TAR_BYTES, PLUGIN_FILE};
use crate::out_dir::{OutDir, PendingFile};
use crate::usage::Failure;
use std::io::Write;
use std::path::Path;

/// The largest manifest read: distribution refuses to store a larger one (its manifest
/// handler's `maxManifestBodySize`, 4 MiB).
const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;
/// The largest image config read (a wasm image's is a few hundred bytes).
const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;
/// The largest layer fetched: the loaders' bound on the module (see `MAX_TAR_BYTES`).
const MAX_LAYER_BYTES: u64 = MAX_TAR_BYTES;

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

fn file_error(message: String) -> Failure {
    Failure { status: 2, message }
}

/// The module as it is copied: its sha256 and first bytes.
struct Module<'a> {
    into: &'a mut PendingFile,
    running: Running,
    head: Vec<u8>,
}

impl Write for Module<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let n = self.into.write(bytes)?;
        let written = bytes.get(..n).unwrap_or_default();
        let wanted = 4usize.saturating_sub(self.head.len()).min(n);
        self.head
            .extend_from_slice(written.get(..wanted).unwrap_or_default());
        self.running.update(written);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.into.flush()
    }
}

pub fn pull(options: &Options) -> Result<String, Failure> {
    let reference = &options.reference;
    if reference.tag.is_none() && reference.digest.is_none() {
        return Err(invalid(format!(
            "{reference} names neither a tag nor a digest; add :TAG or @sha256:<hex>"
        )));
    }
    let session = Session::open(reference, &options.transport, false)?;
    let (manifest_bytes, registry_digest) =
        session.manifest(&MANIFEST_TYPES, MAX_MANIFEST_BYTES)?;
    let digest = digest_of(&manifest_bytes);
    for wanted in reference.digest.iter().chain(&registry_digest) {
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
    let within = |descriptor: &Descriptor, what: &str, cap: u64| {
        if descriptor.size > cap {
            return Err(invalid(format!(
                "{what} of {reference} is {} bytes, over the {cap} bytes accepted; refused",
                descriptor.size
            )));
        }
        Ok(format!("the {what} of {reference}"))
    };
    let what = within(&manifest.config, "config", MAX_CONFIG_BYTES)?;
    session.blob(&manifest.config, &what, &mut Vec::new())?;

    let scratch = OutDir::create(&std::env::temp_dir()).map_err(file_error)?;
    let module_layer = variant.module_layer(manifest.layers.len());
    let mut layer_file = None;
    for (index, layer) in manifest.layers.iter().enumerate() {
        let what = within(layer, &format!("layer {}", index + 1), MAX_LAYER_BYTES)?;
        if index == module_layer {
            let mut file = scratch
                .create_file(Path::new("mesh-lambda-layer"))
                .map_err(file_error)?;
            session.blob(layer, &what, &mut file)?;
            layer_file = Some(file);
        } else {
            session.blob(layer, &what, &mut std::io::sink())?;
        }
    }
    let mut layer_file = layer_file.ok_or_else(|| not_wasm("it has no layers".into()))?;
    let mut module_file = scratch
        .create_file(Path::new("mesh-lambda-module"))
        .map_err(file_error)?;
    let mut module = Module {
        into: &mut module_file,
        running: Running::default(),
        head: Vec::new(),
    };
    let layer = layer_file
        .reread()
        .map_err(|e| file_error(format!("cannot read the layer back: {e}")))?;
    let layer = std::io::BufReader::new(layer);
    match variant {
        Variant::Compat => {
            if !plugin_from_layer(layer, &mut module).map_err(not_wasm)? {
                return Err(not_wasm(format!("its last layer holds no {PLUGIN_FILE}")));
            }
        }
        Variant::ModuleWasm(_) => {
            let mut layer = layer;
            std::io::copy(&mut layer, &mut module)
                .map_err(|e| file_error(format!("cannot copy the module: {e}")))?;
        }
    }
    if !is_wasm(&module.head) {
        return Err(not_wasm(
            "its module does not start with the wasm magic \\0asm".into(),
        ));
    }
    let hex = module.running.digest();
    let hex = hex.strip_prefix("sha256:").unwrap_or(&hex).to_owned();
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
    let out = OutDir::create(options.out).map_err(file_error)?;
    let mut plugin = out
        .create_file(Path::new(PLUGIN_FILE))
        .map_err(file_error)?;
    let copied = module_file
        .reread()
        .and_then(|module| std::io::copy(module, &mut plugin));
    copied.map_err(|e| file_error(format!("cannot write {PLUGIN_FILE}: {e}")))?;
    plugin.commit().map_err(file_error)?;
    Ok(format!(
        "pulled {} wasm sha256:{hex}\n",
        reference.at(&digest)
    ))
}
