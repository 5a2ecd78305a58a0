//! An OCI image as this command handles it: descriptors, the manifest read back from bytes, and
//! what makes an image a wasm plugin the loaders accept (reference: Istio's and Envoy
//! Gateway's pull code):
//! - the compat variant: the last layer is a tar+gzip holding `plugin.wasm` (OCI or Docker
//!   media types);
//! - the `vnd.module.wasm` variant: config `application/vnd.module.wasm.config.v1+json` and
//!   one layer `application/vnd.module.wasm.content.layer.v1+wasm`, the raw module.
//!
//! The CNCF `application/wasm` layout and anything else are refused.

use super::digest::digest_of;
use super::tar_gz::{plugin_from_layer, PLUGIN_FILE};
use serde_json::{json, Map, Value};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const TAR_GZIP_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const DOCKER_TAR_GZIP_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
pub const WASM_CONFIG: &str = "application/vnd.module.wasm.config.v1+json";
pub const WASM_LAYER: &str = "application/vnd.module.wasm.content.layer.v1+wasm";
const CNCF_WASM_LAYER: &str = "application/wasm";
/// The manifest annotation carrying the raw module's sha256 (lowercase hex, no prefix).
pub const WASM_SHA256_ANNOTATION: &str = "dev.mesh-lambda.wasm.sha256";
/// The manifest media types a pull asks for.
pub const MANIFEST_TYPES: [&str; 4] = [
    OCI_MANIFEST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    DOCKER_MANIFEST_LIST,
];
const WASM_MAGIC: &[u8] = b"\0asm";

/// Whether `bytes` start as a WebAssembly binary module does.
pub fn is_wasm(bytes: &[u8]) -> bool {
    bytes.starts_with(WASM_MAGIC)
}

/// JSON as written into a layout: compact, keys sorted (serde_json's map is a BTreeMap), so the
/// same value always gives the same bytes.
pub fn json_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

#[derive(Clone, Debug, PartialEq)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
}

impl Descriptor {
    pub fn of(media_type: &str, bytes: &[u8]) -> Self {
        Self {
            media_type: media_type.into(),
            digest: digest_of(bytes),
            size: bytes.len() as u64,
        }
    }

    pub fn to_json(&self) -> Value {
        json!({"mediaType": self.media_type, "digest": self.digest, "size": self.size})
    }

    pub fn from_json(value: &Value, what: &str) -> Result<Self, String> {
        let field = |name: &str| value.get(name).ok_or(format!("{what} has no {name}"));
        let text = |name: &str| {
            field(name)?
                .as_str()
                .map(str::to_owned)
                .ok_or(format!("{what}'s {name} is not a string"))
        };
        let digest = text("digest")?;
        let hex = digest.strip_prefix(super::digest::PREFIX).unwrap_or("");
        if !super::digest::is_sha256_hex(hex) {
            return Err(format!(
                "{what}'s digest \"{digest}\" is not sha256:<64 hex>"
            ));
        }
        Ok(Self {
            media_type: text("mediaType")?,
            digest,
            size: field("size")?
                .as_u64()
                .ok_or(format!("{what}'s size is not a number"))?,
        })
    }
}

/// A blob and its descriptor.
pub struct Blob {
    pub descriptor: Descriptor,
    pub bytes: Vec<u8>,
}

impl Blob {
    pub fn new(media_type: &str, bytes: Vec<u8>) -> Self {
        Self {
            descriptor: Descriptor::of(media_type, &bytes),
            bytes,
        }
    }
}

/// One image: its manifest's bytes and media type, and its blobs (config first).
pub struct Image {
    pub manifest: Vec<u8>,
    pub manifest_media_type: String,
    pub blobs: Vec<Blob>,
}

impl Image {
    pub fn digest(&self) -> String {
        digest_of(&self.manifest)
    }
}

/// An image manifest, read from its bytes.
pub struct Manifest {
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    pub annotations: Map<String, Value>,
}

impl Manifest {
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| format!("the manifest is not JSON: {e}"))?;
        let media_type = value.get("mediaType").and_then(Value::as_str);
        if matches!(media_type, Some(OCI_INDEX | DOCKER_MANIFEST_LIST)) {
            return Err(
                "it is an image index, not an image manifest (a wasm plugin is one \
                        image manifest)"
                    .into(),
            );
        }
        if let Some(other) = media_type.filter(|t| ![OCI_MANIFEST, DOCKER_MANIFEST].contains(t)) {
            return Err(format!("its manifest's media type is {other}"));
        }
        if value.get("schemaVersion").and_then(Value::as_u64) != Some(2) {
            return Err("its manifest is not schemaVersion 2".into());
        }
        let config = Descriptor::from_json(value.get("config").unwrap_or(&Value::Null), "config")?;
        let layers = value
            .get("layers")
            .and_then(Value::as_array)
            .ok_or("the manifest has no layers list")?
            .iter()
            .enumerate()
            .map(|(i, layer)| Descriptor::from_json(layer, &format!("layer {}", i + 1)))
            .collect::<Result<Vec<_>, _>>()?;
        let annotations = value
            .get("annotations")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        Ok(Self {
            config,
            layers,
            annotations,
        })
    }

    pub fn annotation(&self, name: &str) -> Option<&str> {
        self.annotations.get(name).and_then(Value::as_str)
    }
}

/// Which of the accepted wasm image shapes a manifest has.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Variant {
    Compat,
    ModuleWasm,
}

impl Variant {
    pub fn of(manifest: &Manifest) -> Result<Self, String> {
        let last = manifest.layers.last().ok_or("it has no layers")?;
        if manifest.config.media_type == WASM_CONFIG {
            return match manifest.layers.as_slice() {
                [only] if only.media_type == WASM_LAYER => Ok(Self::ModuleWasm),
                _ => Err(format!(
                    "its config is {WASM_CONFIG} but it does not have exactly one {WASM_LAYER} \
                     layer"
                )),
            };
        }
        match last.media_type.as_str() {
            TAR_GZIP_LAYER | DOCKER_TAR_GZIP_LAYER => Ok(Self::Compat),
            CNCF_WASM_LAYER => Err(format!("it is the CNCF {CNCF_WASM_LAYER} layout")),
            other => Err(format!(
                "its last layer is {other}, neither a tar+gzip holding {PLUGIN_FILE} nor the \
                 {WASM_LAYER} variant"
            )),
        }
    }

    /// The module, from the (verified) last layer's bytes.
    pub fn module(self, last_layer: Vec<u8>) -> Result<Vec<u8>, String> {
        let wasm = match self {
            Self::ModuleWasm => last_layer,
            Self::Compat => plugin_from_layer(&last_layer)?
                .ok_or(format!("its last layer holds no {PLUGIN_FILE}"))?,
        };
        if !is_wasm(&wasm) {
            return Err("its module does not start with the wasm magic \\0asm".into());
        }
        Ok(wasm)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn manifest(config: &str, layers: &[&str]) -> Vec<u8> {
        let descriptor =
            |media_type: &str| Descriptor::of(media_type, media_type.as_bytes()).to_json();
        json_bytes(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor(config),
            "layers": layers.iter().map(|l| descriptor(l)).collect::<Vec<_>>(),
        }))
    }

    fn variant(config: &str, layers: &[&str]) -> Result<Variant, String> {
        Variant::of(&Manifest::parse(&manifest(config, layers)).unwrap())
    }

    #[test]
    fn the_shapes_the_loaders_accept() {
        assert_eq!(variant(OCI_CONFIG, &[TAR_GZIP_LAYER]), Ok(Variant::Compat));
        assert_eq!(
            variant(OCI_CONFIG, &["x", DOCKER_TAR_GZIP_LAYER]),
            Ok(Variant::Compat)
        );
        assert_eq!(variant(WASM_CONFIG, &[WASM_LAYER]), Ok(Variant::ModuleWasm));
    }

    #[test]
    fn the_shapes_they_refuse() {
        let refused = |config, layers: &[&str], why: &str| {
            let error = variant(config, layers).unwrap_err();
            assert!(error.contains(why), "{error}");
        };
        refused(OCI_CONFIG, &[], "it has no layers");
        refused(
            "application/vnd.wasm.config.v0+json",
            &[CNCF_WASM_LAYER],
            "CNCF application/wasm",
        );
        refused(
            OCI_CONFIG,
            &[WASM_LAYER],
            "its last layer is application/vnd.module.wasm",
        );
        refused(WASM_CONFIG, &[WASM_LAYER, WASM_LAYER], "exactly one");
        refused(WASM_CONFIG, &[TAR_GZIP_LAYER], "exactly one");
    }

    #[test]
    fn an_index_or_a_foreign_manifest_is_not_read_as_an_image() {
        let index =
            json_bytes(&json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}));
        assert!(Manifest::parse(&index)
            .err()
            .unwrap()
            .contains("image index"));
        let v1 = json_bytes(&json!({"schemaVersion": 1, "name": "x"}));
        assert!(Manifest::parse(&v1)
            .err()
            .unwrap()
            .contains("not schemaVersion 2"));
        let bad_digest = json_bytes(&json!({"schemaVersion": 2, "config":
            {"mediaType": OCI_CONFIG, "digest": "sha256:abc", "size": 1}, "layers": []}));
        assert!(Manifest::parse(&bad_digest)
            .err()
            .unwrap()
            .contains("is not sha256:<64 hex>"));
    }

    #[test]
    fn the_module_must_start_with_the_magic() {
        assert!(Variant::ModuleWasm
            .module(b"\0asm\x01\0\0\0".to_vec())
            .is_ok());
        let error = Variant::ModuleWasm.module(b"MZ".to_vec()).unwrap_err();
        assert!(error.contains("wasm magic"));
    }
}
