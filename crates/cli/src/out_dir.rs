//! The folder a command writes into (`--out`). A file is written to a temporary file created
//! exclusively (O_CREAT|O_EXCL, which also refuses a symlink planted at that name) under a
//! random name in the file's own folder, then renamed over its name, so a reader never sees
//! half a file and nobody can prepare the temporary name in advance. Nothing is written
//! through a symlink that leads outside the folder: not a folder on the way, not the file.

use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Component, Path, PathBuf};

/// Attempts at a free temporary name before giving up (a clash means someone else is
/// creating files with these names).
const NAME_ATTEMPTS: u32 = 8;

pub struct OutDir {
    /// As given, for messages and joins.
    root: PathBuf,
    /// Symlinks resolved: what a path must stay under.
    canonical: PathBuf,
}

impl OutDir {
    /// The folder (created if missing; it may itself be a symlink: the caller named it).
    pub fn create(root: &Path) -> Result<Self, String> {
        std::fs::create_dir_all(root)
            .map_err(|e| format!("cannot create {}: {e}", root.display()))?;
        let canonical = root
            .canonicalize()
            .map_err(|e| format!("cannot read {}: {e}", root.display()))?;
        Ok(Self {
            root: root.to_path_buf(),
            canonical,
        })
    }

    pub fn path(&self, relative: &Path) -> PathBuf {
        self.root.join(relative)
    }

    /// Writes `contents` as `relative` (its folders created as needed).
    pub fn write(&self, relative: &Path, contents: &[u8]) -> Result<(), String> {
        let mut file = self.create_file(relative)?;
        file.write_all(contents)
            .map_err(|e| format!("cannot write {}: {e}", file.target.display()))?;
        file.commit()
    }

    /// A file to be written as `relative`: it appears there on `commit`, and nowhere if
    /// dropped before.
    pub fn create_file(&self, relative: &Path) -> Result<PendingFile, String> {
        let target = self.root.join(relative);
        let (Some(name), Some(folder)) = (relative.file_name(), relative.parent()) else {
            return Err(format!(
                "cannot write {}: not a file name",
                target.display()
            ));
        };
        if relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err(format!(
                "cannot write {}: not under {}",
                target.display(),
                self.root.display()
            ));
        }
        let folder = self.folder(folder)?;
        self.refuse_outside_link(&target)?;
        let mut last_error = None;
        for _ in 0..NAME_ATTEMPTS {
            let temporary = folder.join(format!(
                ".{}.{:016x}.partial",
                name.to_string_lossy(),
                random()
            ));
            match OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&temporary)
            {
                Ok(file) => {
                    return Ok(PendingFile {
                        file,
                        temporary,
                        target,
                        committed: false,
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last_error = Some(e),
                Err(e) => return Err(format!("cannot write {}: {e}", temporary.display())),
            }
        }
        Err(format!(
            "cannot write {}: no free temporary name in {} ({})",
            target.display(),
            folder.display(),
            last_error.map(|e| e.to_string()).unwrap_or_default()
        ))
    }

    /// Removes the folder `relative` and what it holds, when it is one; a symlink there is
    /// removed itself, never followed.
    pub fn remove_folder(&self, relative: &Path) -> Result<(), String> {
        let path = self.root.join(relative);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => std::fs::remove_file(&path),
            Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(&path),
            _ => Ok(()),
        }
        .map_err(|e| format!("cannot replace {}: {e}", path.display()))
    }

    /// `relative` (a folder under the root) created level by level; an existing level that is
    /// a symlink must resolve inside the root.
    fn folder(&self, relative: &Path) -> Result<PathBuf, String> {
        let mut path = self.root.clone();
        for part in relative.components() {
            path.push(part);
            match std::fs::symlink_metadata(&path) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    self.refuse_outside_link(&path)?;
                    if !path.is_dir() {
                        return Err(format!(
                            "cannot write into {}: not a folder",
                            path.display()
                        ));
                    }
                }
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => {
                    return Err(format!(
                        "cannot write into {}: not a folder",
                        path.display()
                    ))
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    std::fs::create_dir(&path)
                        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
                }
                Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
            }
        }
        Ok(path)
    }

    /// An error when `path` is a symlink whose target is not inside the root (a dangling one
    /// included: where it would lead cannot be checked).
    fn refuse_outside_link(&self, path: &Path) -> Result<(), String> {
        let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        if !is_link {
            return Ok(());
        }
        match path.canonicalize() {
            Ok(resolved) if resolved.starts_with(&self.canonical) => Ok(()),
            _ => Err(format!(
                "refusing to write through {}: it is a symlink that leads outside {}; remove it",
                path.display(),
                self.root.display()
            )),
        }
    }
}

/// A temporary file on its way to its name.
pub struct PendingFile {
    file: File,
    temporary: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl PendingFile {
    /// Renames the temporary file over the target (a symlink there is replaced, not
    /// followed).
    pub fn commit(mut self) -> Result<(), String> {
        self.file
            .flush()
            .map_err(|e| format!("cannot write {}: {e}", self.target.display()))?;
        std::fs::rename(&self.temporary, &self.target)
            .map_err(|e| format!("cannot write {}: {e}", self.target.display()))?;
        self.committed = true;
        Ok(())
    }
}

impl PendingFile {
    /// The file as written so far, from its start (to read it back before the commit).
    pub fn reread(&mut self) -> std::io::Result<&mut File> {
        self.file.flush()?;
        self.file.seek(SeekFrom::Start(0))?;
        Ok(&mut self.file)
    }
}

impl Write for PendingFile {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.file.write(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}

/// 64 unpredictable bits: std's hasher keys come from the operating system's random source
/// and differ per call.
fn random() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    if let Ok(elapsed) = std::time::UNIX_EPOCH.elapsed() {
        hasher.write_u128(elapsed.as_nanos());
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("mesh-lambda-outdir-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn temporary_names_differ() {
        assert_ne!(random(), random());
    }

    #[test]
    fn a_dropped_file_leaves_nothing() {
        let dir = scratch("drop");
        let out = OutDir::create(&dir.join("out")).unwrap();
        let mut file = out.create_file(Path::new("a/b.txt")).unwrap();
        file.write_all(b"half").unwrap();
        drop(file);
        assert_eq!(std::fs::read_dir(dir.join("out/a")).unwrap().count(), 0);
        out.write(Path::new("a/b.txt"), b"whole").unwrap();
        assert_eq!(std::fs::read(dir.join("out/a/b.txt")).unwrap(), b"whole");
        assert!(out.write(Path::new("../x"), b"").is_err());
    }

    #[test]
    fn links_inside_the_folder_are_followed() {
        let dir = scratch("inside");
        let out = OutDir::create(&dir.join("out")).unwrap();
        std::fs::create_dir_all(dir.join("out/real")).unwrap();
        std::os::unix::fs::symlink("real", dir.join("out/alias")).unwrap();
        out.write(Path::new("alias/f"), b"1").unwrap();
        assert_eq!(std::fs::read(dir.join("out/real/f")).unwrap(), b"1");
    }
}
