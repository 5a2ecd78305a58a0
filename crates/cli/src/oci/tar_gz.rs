//! The compat variant's layer: a tar holding one file, `plugin.wasm`, gzipped. Every field that
//! could vary between builds is fixed (tar: mtime 0, uid/gid 0, no user or group names, mode
//! 0644; gzip: mtime 0, no file name, OS byte 255 "unknown"), so the same wasm always gives the
//! same bytes.

use flate2::read::GzDecoder;
use flate2::{Compression, GzBuilder};
use std::io::{Read, Write};

/// The file name the loaders look for in the last layer.
pub const PLUGIN_FILE: &str = "plugin.wasm";
/// A plugin larger than this (uncompressed) is refused when reading a layer back.
const MAX_PLUGIN_BYTES: u64 = 256 * 1024 * 1024;
const GZIP_OS_UNKNOWN: u8 = 255;

/// The layer: the uncompressed tar (its sha256 is the config's diff_id) and its gzip.
pub struct Layer {
    pub tar: Vec<u8>,
    pub gzip: Vec<u8>,
}

pub fn compat_layer(wasm: &[u8]) -> Result<Layer, String> {
    let tar = tar_of(wasm).map_err(|e| format!("cannot build the layer's tar: {e}"))?;
    let gzip = gzip_of(&tar).map_err(|e| format!("cannot gzip the layer: {e}"))?;
    Ok(Layer { tar, gzip })
}

fn tar_of(wasm: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut header = tar::Header::new_ustar();
    header.set_path(PLUGIN_FILE)?;
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(wasm.len() as u64);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_cksum();
    let mut builder = tar::Builder::new(Vec::new());
    builder.append(&header, wasm)?;
    builder.into_inner()
}

fn gzip_of(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = GzBuilder::new()
        .mtime(0)
        .operating_system(GZIP_OS_UNKNOWN)
        .write(Vec::new(), Compression::best());
    encoder.write_all(bytes)?;
    encoder.finish()
}

/// `plugin.wasm` from a tar+gzip layer (the first regular file of that name, in any folder,
/// as the loaders take it); None when the layer holds no such file.
pub fn plugin_from_layer(gzip: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let unreadable = |e: std::io::Error| format!("the layer is not a readable tar+gzip: {e}");
    let mut archive = tar::Archive::new(GzDecoder::new(gzip));
    for entry in archive.entries().map_err(unreadable)? {
        let mut entry = entry.map_err(unreadable)?;
        let is_plugin = entry.header().entry_type().is_file()
            && entry.path().map_err(unreadable)?.file_name() == Some(PLUGIN_FILE.as_ref());
        if !is_plugin {
            continue;
        }
        let size = entry.size();
        if size > MAX_PLUGIN_BYTES {
            return Err(format!(
                "the layer's {PLUGIN_FILE} is {size} bytes, more than the {MAX_PLUGIN_BYTES} \
                 accepted"
            ));
        }
        let mut wasm = Vec::new();
        entry.read_to_end(&mut wasm).map_err(unreadable)?;
        return Ok(Some(wasm));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn the_layer_reads_back_and_its_headers_are_fixed() {
        let wasm = b"\0asm\x01\0\0\0 some module".to_vec();
        let layer = compat_layer(&wasm).unwrap();
        assert_eq!(plugin_from_layer(&layer.gzip).unwrap(), Some(wasm.clone()));
        // gzip: magic, deflate, no flags (no file name), mtime 0, OS unknown.
        assert_eq!(&layer.gzip[..4], &[0x1f, 0x8b, 8, 0]);
        assert_eq!(&layer.gzip[4..8], &[0, 0, 0, 0]);
        assert_eq!(layer.gzip[9], GZIP_OS_UNKNOWN);
        let header = tar::Header::from_byte_slice(&layer.tar[..512]);
        assert_eq!(header.mtime().unwrap(), 0);
        assert_eq!(header.mode().unwrap(), 0o644);
        assert_eq!((header.uid().unwrap(), header.gid().unwrap()), (0, 0));
        assert_eq!(header.username().unwrap(), Some(""));
        assert_eq!(header.groupname().unwrap(), Some(""));
        assert_eq!(compat_layer(&wasm).unwrap().gzip, layer.gzip);
    }

    #[test]
    fn a_layer_without_the_plugin_gives_none_and_garbage_an_error() {
        let mut header = tar::Header::new_ustar();
        header.set_path("etc/hostname").unwrap();
        header.set_size(3);
        header.set_cksum();
        let mut builder = tar::Builder::new(Vec::new());
        builder.append(&header, &b"box"[..]).unwrap();
        let gzip = gzip_of(&builder.into_inner().unwrap()).unwrap();
        assert_eq!(plugin_from_layer(&gzip).unwrap(), None);
        assert!(plugin_from_layer(b"not gzip")
            .unwrap_err()
            .contains("not a readable tar+gzip"));
    }
}
