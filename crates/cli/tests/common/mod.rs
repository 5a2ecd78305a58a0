//! What the generator tests share: running `mesh-lambda <platform> generate`, golden files
//! (regenerated with `UPDATE_GOLDEN=1`), and refusals that name the item and write nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
pub const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:authentication";

/// `envoy/<relative>` in the repository.
pub fn envoy_dir(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../envoy")
        .join(relative)
}

pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mesh-lambda-gen-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn generate(platform: &str, description: &Path, out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mesh-lambda"))
        .args([platform, "generate"])
        .arg(description)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

/// The example's output equals its golden copy, file by file, and a second run writes the
/// same bytes.
pub fn matches_golden_files(platform: &str, example: &Path, files: &[&str]) {
    let name = format!(
        "{platform}-{}",
        example.file_name().unwrap().to_string_lossy()
    );
    let (out, again) = (scratch(&name), scratch(&format!("{name}-again")));
    for dir in [&out, &again] {
        let run = generate(platform, &example.join("description.json"), dir);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    for file in files {
        let generated = std::fs::read_to_string(out.join(file)).unwrap();
        assert_eq!(
            generated,
            std::fs::read_to_string(again.join(file)).unwrap()
        );
        let golden_path = example.join(file);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(golden_path.parent().unwrap()).unwrap();
            std::fs::write(&golden_path, &generated).unwrap();
        }
        let golden = std::fs::read_to_string(&golden_path).unwrap_or_else(|e| {
            panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", golden_path.display())
        });
        assert_eq!(generated, golden, "{file} differs from its golden copy");
    }
    std::fs::remove_dir_all(out).unwrap();
    std::fs::remove_dir_all(again).unwrap();
}

/// `platform generate` refuses `description` with status 1, naming `needle`, writing nothing.
pub fn refused(platform: &str, description: &str, needle: &str) {
    // Its own folder per call: tests of one binary run at once.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = scratch(&format!("{platform}-bad-{call}"));
    let path = dir.join("description.json");
    std::fs::write(&path, description).unwrap();
    let out = dir.join("out");
    let run = generate(platform, &path, &out);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{description}: {stderr}");
    assert!(
        stderr.contains(needle),
        "{description}: {stderr:?} lacks {needle:?}"
    );
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(!out.exists(), "{description}: something was written");
    std::fs::remove_dir_all(dir).unwrap();
}

/// A description of one upstream `authentication` with `fields` at the top.
pub fn one_upstream(fields: &str) -> String {
    format!(
        r#"{{"service":"api",{fields},"upstreams":[{{"name":"authentication","filter":{{"arn":"{ARN}"}}}}]}}"#
    )
}

/// The workspace's version, `[workspace.package] version` in the top-level Cargo.toml: the
/// one version the filter, the command and the image carry. Read from the file, so a crate
/// that gave itself another would fail the tests that compare with it.
pub fn workspace_version() -> String {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml"))
            .unwrap();
    let section = manifest
        .split("\n[")
        .find(|s| s.starts_with("workspace.package]"))
        .expect("Cargo.toml has [workspace.package]");
    let version = section
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("[workspace.package] has a version")
        .to_owned();
    // Semantic versioning: MAJOR.MINOR.PATCH, then an optional -pre-release.
    let core = version.split('-').next().unwrap();
    let parts: Vec<&str> = core.split('.').collect();
    assert!(
        parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())),
        "{version} is not MAJOR.MINOR.PATCH"
    );
    version
}
