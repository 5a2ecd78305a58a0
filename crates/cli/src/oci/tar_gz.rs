//! The compat variant's layer: a tar holding one file, `plugin.wasm`, gzipped. Every field that
//! could vary between builds is fixed (tar: mtime 0, uid/gid 0, no user or group names, mode
//! 0644; gzip: mtime 0, no file name, OS byte 255 "unknown"), so the same wasm always gives the
//! same bytes.

use flate2::read::MultiGzDecoder;
use flate2::{Compression, GzBuilder};
use std::cell::Cell;
use std::io::{Read, Write};
use std::rc::Rc;

/// The file name the loaders look for in the last layer.
pub const PLUGIN_FILE: &str = "plugin.wasm";
/// The most a layer's tar may decompress to, the entries before `plugin.wasm` (which are
/// decompressed to be skipped) included: the loaders read the decompressed stream through a
/// limit of the same size (Istio's `extractWasmPluginBinary`, `ISTIO_WASM_MAX_BINARY_SIZE_BYTES`
/// defaulting to 256 MiB; Envoy Gateway's `maxWasmSize`).
pub const MAX_TAR_BYTES: u64 = 256 * 1024 * 1024;
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

/// A reader that counts what goes through it and fails past `cap` bytes.
struct Capped<R> {
    inner: R,
    read: Rc<Cell<u64>>,
    cap: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let read = self.read.get() + n as u64;
        self.read.set(read);
        if read > self.cap {
            return Err(std::io::Error::other("over the decompressed size accepted"));
        }
        Ok(n)
    }
}

/// Copies `plugin.wasm` from a tar+gzip layer into `into`, as the loaders take it: the first
/// entry of that name, in any folder (Istio's `extractWasmPluginBinary` takes it whatever its
/// type, so another type is refused here rather than read as an empty module). Ok(false) when
/// the layer holds no such entry. The whole decompressed stream is bounded by `MAX_TAR_BYTES`;
/// a gzip of several members is read through, as Go's `gzip.Reader` (the loaders') does.
pub fn plugin_from_layer(gzip: impl Read, into: &mut impl Write) -> Result<bool, String> {
    plugin_within(gzip, into, MAX_TAR_BYTES)
}

fn plugin_within(gzip: impl Read, into: &mut impl Write, cap: u64) -> Result<bool, String> {
    let read = Rc::new(Cell::new(0));
    let capped = Capped {
        inner: MultiGzDecoder::new(gzip),
        read: Rc::clone(&read),
        cap,
    };
    let unreadable = |e: std::io::Error| {
        if read.get() > cap {
            format!(
                "the layer decompresses to more than {cap} bytes (a decompression bomb, or not \
                 a wasm plugin); refused"
            )
        } else {
            format!("the layer is not a readable tar+gzip: {e}")
        }
    };
    let mut archive = tar::Archive::new(capped);
    for entry in archive.entries().map_err(unreadable)? {
        let mut entry = entry.map_err(unreadable)?;
        if entry.path().map_err(unreadable)?.file_name() != Some(PLUGIN_FILE.as_ref()) {
            continue;
        }
        if !entry.header().entry_type().is_file() {
            return Err(format!(
                "the layer's {PLUGIN_FILE} is not a regular file ({:?})",
                entry.header().entry_type()
            ));
        }
        std::io::copy(&mut entry, into).map_err(unreadable)?;
        return Ok(true);
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn the_layer_reads_back_and_its_headers_are_fixed() {
        let wasm = b"\0asm\x01\0\0\0 some module".to_vec();
        let layer = compat_layer(&wasm).unwrap();
        let mut read = Vec::new();
        assert!(plugin_from_layer(&layer.gzip[..], &mut read).unwrap());
        assert_eq!(read, wasm);
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
        assert!(!plugin_from_layer(&gzip[..], &mut Vec::new()).unwrap());
        assert!(plugin_from_layer(&b"not gzip"[..], &mut Vec::new())
            .unwrap_err()
            .contains("not a readable tar+gzip"));
    }

    /// A tar whose first entry is larger than the cap: refused once the decompressed stream
    /// passes the cap, before `plugin.wasm` (after it) is reached.
    #[test]
    fn a_decompression_bomb_is_refused() {
        let cap = 64 * 1024;
        let mut builder = tar::Builder::new(Vec::new());
        for (name, size) in [("filler", cap), (PLUGIN_FILE, 8)] {
            let mut header = tar::Header::new_ustar();
            header.set_path(name).unwrap();
            header.set_size(size);
            header.set_cksum();
            builder
                .append(&header, &vec![0u8; size as usize][..])
                .unwrap();
        }
        let gzip = gzip_of(&builder.into_inner().unwrap()).unwrap();
        let error = plugin_within(&gzip[..], &mut Vec::new(), cap).unwrap_err();
        assert!(
            error.contains("decompresses to more than 65536 bytes"),
            "{error}"
        );
        assert!(plugin_within(&gzip[..], &mut Vec::new(), 2 * cap).unwrap());
    }

    #[test]
    fn every_gzip_member_is_read() {
        let mut layer = gzip_of(b"").unwrap();
        layer.extend(compat_layer(b"\0asm").unwrap().gzip);
        let mut read = Vec::new();
        assert!(plugin_from_layer(&layer[..], &mut read).unwrap());
        assert_eq!(read, b"\0asm");
    }

    #[test]
    fn a_plugin_that_is_not_a_regular_file_is_refused() {
        let mut header = tar::Header::new_ustar();
        header.set_path("plugin.wasm").unwrap();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_link_name("/etc/passwd").unwrap();
        header.set_size(0);
        header.set_cksum();
        let mut builder = tar::Builder::new(Vec::new());
        builder.append(&header, &b""[..]).unwrap();
        let gzip = gzip_of(&builder.into_inner().unwrap()).unwrap();
        let error = plugin_from_layer(&gzip[..], &mut Vec::new()).unwrap_err();
        assert!(error.contains("not a regular file"), "{error}");
    }
}
