//! An OCI image as this command handles it: descriptors, the manifest read back from bytes, and
//! what makes an image a wasm plugin the loaders accept. The rule is Istio's
//! `pkg/wasm/imagefetcher.go` (`PrepareFetch`, `extractDockerImage`, `extractOCIStandardImage`,
//! `extractOCIArtifactImage`; Envoy Gateway's `internal/wasm/imagefetcher.go` is a copy):
//! - a Docker manifest: its last layer is a Docker tar.gzip holding `plugin.wasm`;
//! - any other manifest, the compat variant: its last layer is an OCI tar+gzip holding
//!   `plugin.wasm`;
//! - else the `vnd.module.wasm` variant: exactly two layers, the module being the first one
//!   typed `application/vnd.module.wasm.content.layer.v1+wasm` (raw bytes); the other is the
//!   runtime config, `application/vnd.module.wasm.config.v1+json` (solo-io/wasm `spec/spec.md`).
//!
//! The CNCF `application/wasm` layout and anything else are refused. A pull accepts a subset of
//! what the loaders take (an OCI tar+gzip last layer without `plugin.wasm` is refused here, where
//! Istio goes on to try the two-layer variant).

use super::digest::digest_of;
use super::tar_gz::PLUGIN_FILE;
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
    /// Whether its media type is Docker's (the loaders read those as Docker images only).
    pub docker: bool,
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
            docker: media_type == Some(DOCKER_MANIFEST),
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
    /// The last layer is a tar+gzip holding `plugin.wasm`.
    Compat,
    /// The raw module is the layer at this index.
    ModuleWasm(usize),
}

impl Variant {
    pub fn of(manifest: &Manifest) -> Result<Self, String> {
        let last = manifest.layers.last().ok_or("it has no layers")?;
        let last_type = last.media_type.as_str();
        if manifest.docker {
            return if last_type == DOCKER_TAR_GZIP_LAYER {
                Ok(Self::Compat)
            } else {
                Err(format!(
                    "its manifest is Docker's and its last layer is {last_type}, not \
                     {DOCKER_TAR_GZIP_LAYER}"
                ))
            };
        }
        if last_type == TAR_GZIP_LAYER {
            return Ok(Self::Compat);
        }
        let module = manifest
            .layers
            .iter()
            .position(|layer| layer.media_type == WASM_LAYER);
        match (module, manifest.layers.len()) {
            (Some(index), 2) => Ok(Self::ModuleWasm(index)),
            (Some(_), count) => Err(format!(
                "it has {count} layers, one of them {WASM_LAYER}; the loaders take that variant \
                 only with exactly 2 layers (the module and its {WASM_CONFIG})"
            )),
            (None, _) if last_type == CNCF_WASM_LAYER => {
                Err(format!("it is the CNCF {CNCF_WASM_LAYER} layout"))
            }
            (None, _) => Err(format!(
                "its last layer is {last_type}, neither a {TAR_GZIP_LAYER} holding \
                 {PLUGIN_FILE} nor the two-layer {WASM_LAYER} variant"
            )),
        }
    }

    /// The index of the layer the module is read from.
    pub fn module_layer(self, layers: usize) -> usize {
        match self {
            Self::ModuleWasm(index) => index,
            Self::Compat => layers.saturating_sub(1),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn manifest(media_type: &str, config: &str, layers: &[&str]) -> Vec<u8> {
        let descriptor =
            |media_type: &str| Descriptor::of(media_type, media_type.as_bytes()).to_json();
        json_bytes(&json!({
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": descriptor(config),
            "layers": layers.iter().map(|l| descriptor(l)).collect::<Vec<_>>(),
        }))
    }

    fn variant(config: &str, layers: &[&str]) -> Result<Variant, String> {
        Variant::of(&Manifest::parse(&manifest(OCI_MANIFEST, config, layers)).unwrap())
    }

    fn docker_variant(layers: &[&str]) -> Result<Variant, String> {
        let bytes = manifest(DOCKER_MANIFEST, OCI_CONFIG, layers);
        Variant::of(&Manifest::parse(&bytes).unwrap())
    }

    /// Istio's `pkg/wasm/imagefetcher.go`: `extractDockerImage` for a Docker manifest,
    /// `extractOCIStandardImage` (last layer) then `extractOCIArtifactImage` (exactly two
    /// layers, the first `vnd.module.wasm` one taken) for the others.
    #[test]
    fn the_shapes_the_loaders_accept() {
        assert_eq!(variant(OCI_CONFIG, &[TAR_GZIP_LAYER]), Ok(Variant::Compat));
        assert_eq!(
            variant(OCI_CONFIG, &["x", TAR_GZIP_LAYER]),
            Ok(Variant::Compat)
        );
        assert_eq!(
            docker_variant(&["x", DOCKER_TAR_GZIP_LAYER]),
            Ok(Variant::Compat)
        );
        assert_eq!(
            variant(WASM_CONFIG, &[WASM_CONFIG, WASM_LAYER]),
            Ok(Variant::ModuleWasm(1))
        );
        assert_eq!(
            variant(OCI_CONFIG, &[WASM_LAYER, WASM_CONFIG]),
            Ok(Variant::ModuleWasm(0))
        );
    }

    #[test]
    fn the_shapes_they_refuse() {
        let refused = |result: Result<Variant, String>, why: &str| {
            let error = result.unwrap_err();
            assert!(error.contains(why), "{error}");
        };
        refused(variant(OCI_CONFIG, &[]), "it has no layers");
        refused(
            variant("application/vnd.wasm.config.v0+json", &[CNCF_WASM_LAYER]),
            "CNCF application/wasm",
        );
        // "number of layers must be 2 but got 1" in the loaders.
        refused(
            variant(WASM_CONFIG, &[WASM_LAYER]),
            "it has 1 layers, one of them application/vnd.module.wasm",
        );
        refused(
            variant(WASM_CONFIG, &[WASM_CONFIG, WASM_LAYER, WASM_CONFIG]),
            "exactly 2 layers",
        );
        refused(
            variant(WASM_CONFIG, &[WASM_CONFIG, WASM_CONFIG]),
            "its last layer is application/vnd.module.wasm.config",
        );
        // The layer types are not interchangeable between Docker and OCI manifests.
        refused(
            variant(OCI_CONFIG, &[DOCKER_TAR_GZIP_LAYER]),
            "its last layer is application/vnd.docker.image.rootfs.diff.tar.gzip",
        );
        refused(
            docker_variant(&[TAR_GZIP_LAYER]),
            "its manifest is Docker's",
        );
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
}
