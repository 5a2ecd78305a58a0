//! OCI image layout folders (`oci-layout`, `index.json`, `blobs/sha256/<hex>`) holding one
//! image: written by `package`, read by `push`.

use super::digest::{verify, PREFIX};
use super::image::{json_bytes, Blob, Descriptor, Image, Manifest, OCI_INDEX, OCI_MANIFEST};
use crate::out_dir::OutDir;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const LAYOUT_FILE: &str = "oci-layout";
const INDEX_FILE: &str = "index.json";
const REF_NAME: &str = "org.opencontainers.image.ref.name";

fn blob_path(dir: &Path, digest: &str) -> PathBuf {
    let hex = digest.strip_prefix(PREFIX).unwrap_or(digest);
    dir.join("blobs").join("sha256").join(hex)
}

/// Writes `image` as the only image of the layout `out/name`, its index entry named
/// `ref_name` (the tag `skopeo copy oci:DIR:<ref_name>` takes). A layout already there is
/// replaced.
pub fn write(out: &OutDir, name: &str, image: &Image, ref_name: &str) -> Result<(), String> {
    let dir = Path::new(name);
    if out.path(dir).join(LAYOUT_FILE).is_file() {
        out.remove_folder(dir)?;
    }
    for blob in &image.blobs {
        out.write(&blob_path(dir, &blob.descriptor.digest), &blob.bytes)?;
    }
    out.write(&blob_path(dir, &image.digest()), &image.manifest)?;
    let mut entry = Descriptor::of(&image.manifest_media_type, &image.manifest).to_json();
    if let Some(fields) = entry.as_object_mut() {
        fields.insert("annotations".into(), json!({ REF_NAME: ref_name }));
    }
    let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [entry]});
    out.write(&dir.join(INDEX_FILE), &json_bytes(&index))?;
    let layout = json!({"imageLayoutVersion": "1.0.0"});
    out.write(&dir.join(LAYOUT_FILE), &json_bytes(&layout))
}

/// Reads the layout's single image, every blob checked against its descriptor.
pub fn read(dir: &Path) -> Result<Image, String> {
    let not_single = |why: String| {
        format!(
            "{} is not a single-image OCI layout: {why} (give a folder `mesh-lambda oci \
             package` wrote, e.g. OUT/oci-compat)",
            dir.display()
        )
    };
    let read_json = |name: &str| -> Result<Value, String> {
        let bytes =
            std::fs::read(dir.join(name)).map_err(|e| not_single(format!("{name}: {e}")))?;
        serde_json::from_slice(&bytes).map_err(|e| not_single(format!("{name}: {e}")))
    };
    read_json(LAYOUT_FILE)?;
    let index = read_json(INDEX_FILE)?;
    let entry = match index
        .get("manifests")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        Some([one]) => Descriptor::from_json(one, "the index's manifest").map_err(not_single)?,
        Some(many) => {
            return Err(not_single(format!(
                "its index lists {} manifests",
                many.len()
            )))
        }
        None => return Err(not_single("its index has no manifests list".into())),
    };
    if entry.media_type != OCI_MANIFEST {
        return Err(not_single(format!(
            "its index entry is {}, not an image manifest",
            entry.media_type
        )));
    }
    let read_blob = |descriptor: &Descriptor, what: &str| -> Result<Vec<u8>, String> {
        let path = blob_path(dir, &descriptor.digest);
        let bytes =
            std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        verify(
            &format!("{what} in {}", dir.display()),
            &descriptor.digest,
            descriptor.size,
            &bytes,
        )?;
        Ok(bytes)
    };
    let manifest_bytes = read_blob(&entry, "the manifest")?;
    let manifest = Manifest::parse(&manifest_bytes).map_err(not_single)?;
    let mut blobs = vec![Blob {
        bytes: read_blob(&manifest.config, "the config")?,
        descriptor: manifest.config.clone(),
    }];
    for (number, layer) in manifest.layers.iter().enumerate() {
        blobs.push(Blob {
            bytes: read_blob(layer, &format!("layer {}", number + 1))?,
            descriptor: layer.clone(),
        });
    }
    Ok(Image {
        manifest: manifest_bytes,
        manifest_media_type: entry.media_type,
        blobs,
    })
}
