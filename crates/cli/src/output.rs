//! Writing generated files: everything is made and checked before the first byte is written,
//! and each file is written to a temporary name then renamed, so a reader never sees half a
//! file.

use crate::consul::files::GeneratedFile;
use std::path::Path;

pub fn write_all(out: &Path, files: &[GeneratedFile]) -> Result<(), String> {
    for file in files {
        write_file(&out.join(file.path), file.contents.as_bytes())?;
    }
    Ok(())
}

/// Writes one file (its folder created if missing) through a temporary name.
pub fn write_file(path: &Path, contents: &[u8]) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let temporary = path.with_extension("partial");
    std::fs::write(&temporary, contents)
        .map_err(|e| format!("cannot write {}: {e}", temporary.display()))?;
    std::fs::rename(&temporary, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
