//! `mesh-lambda oci` as a user runs it, without a registry (integration/oci covers push and
//! pull against a real one): packaging is reproducible, the compat layout reads back as the
//! loaders read it (checked with the system's tar and gzip too), bad input is refused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A small valid module: the magic, version 1, and one custom section.
const WASM: &[u8] = b"\0asm\x01\0\0\0\0\x05\x04test";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mesh-lambda-oci-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn cli(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mesh-lambda"));
    command.args(args).env_remove("SOURCE_DATE_EPOCH");
    for (name, value) in envs {
        command.env(name, value);
    }
    command.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn package(dir: &Path, extra: &[&str], envs: &[(&str, &str)]) -> Output {
    let wasm = dir.join("in.wasm");
    std::fs::write(&wasm, WASM).unwrap();
    let out = dir.join("out");
    let mut args = vec![
        "oci",
        "package",
        wasm.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    cli(&args, envs)
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn blob(layout: &Path, digest: &Value) -> PathBuf {
    let digest = digest.as_str().unwrap();
    layout
        .join("blobs/sha256")
        .join(digest.strip_prefix("sha256:").unwrap())
}

/// Every file under `dir`, by relative path, with its bytes.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push((
                    path.strip_prefix(dir).unwrap().into(),
                    std::fs::read(&path).unwrap(),
                ));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn two_packages_are_byte_identical() {
    let (a, b) = (scratch("a"), scratch("b"));
    let args = ["--wasm-variant", "--revision", "0123abc"];
    let (first, second) = (package(&a, &args, &[]), package(&b, &args, &[]));
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_eq!(text(&first.stdout), text(&second.stdout));
    let files = tree(&a.join("out"));
    assert_eq!(
        files.len(),
        2 + 2 * 5,
        "{:?}",
        files.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert_eq!(files, tree(&b.join("out")));
    let lines: Vec<String> = text(&first.stdout).lines().map(str::to_owned).collect();
    assert_eq!(lines[0], format!("wasm sha256:{}", hex(WASM)));
    for (line, layout) in lines[1..].iter().zip(["oci-compat", "oci-wasm"]) {
        let index = json(&a.join("out").join(layout).join("index.json"));
        let digest = index["manifests"][0]["digest"].as_str().unwrap();
        assert_eq!(line, &format!("{layout} manifest {digest}"));
    }
}

#[test]
fn the_compat_layout_reads_back_as_the_loaders_read_it() {
    let dir = scratch("compat");
    let run = package(
        &dir,
        &["--revision", "0123abc"],
        &[("SOURCE_DATE_EPOCH", "1700000000")],
    );
    assert!(run.status.success(), "{}", text(&run.stderr));
    let out = dir.join("out");
    assert_eq!(std::fs::read(out.join("plugin.wasm")).unwrap(), WASM);
    assert_eq!(
        std::fs::read_to_string(out.join("plugin.wasm.sha256")).unwrap(),
        format!("{}  plugin.wasm\n", hex(WASM))
    );
    assert!(!out.join("oci-wasm").exists());
    let layout = out.join("oci-compat");
    assert_eq!(
        json(&layout.join("oci-layout")),
        serde_json::json!({"imageLayoutVersion": "1.0.0"})
    );
    let index = json(&layout.join("index.json"));
    let [entry] = index["manifests"].as_array().unwrap().as_slice() else {
        panic!("{index}")
    };
    assert_eq!(
        entry["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(
        entry["annotations"]["org.opencontainers.image.ref.name"],
        env!("CARGO_PKG_VERSION")
    );
    let manifest_bytes = std::fs::read(blob(&layout, &entry["digest"])).unwrap();
    assert_eq!(format!("sha256:{}", hex(&manifest_bytes)), entry["digest"]);
    assert_eq!(entry["size"], manifest_bytes.len());
    let manifest: Value = serde_json::from_slice(&manifest_bytes).unwrap();
    assert_eq!(manifest["schemaVersion"], 2);
    let annotations = &manifest["annotations"];
    let version = common::workspace_version();
    for (name, value) in [
        ("module.wasm.image/variant", "compat"),
        // The workspace's version, as `mesh-lambda --version` and the filter's start line
        // (tests/cli.rs, crates/core's vm::START_LINE) give it.
        ("org.opencontainers.image.version", &version),
        ("org.opencontainers.image.revision", "0123abc"),
        ("org.opencontainers.image.created", "2023-11-14T22:13:20Z"),
        ("org.opencontainers.image.licenses", "Apache-2.0"),
        (
            "org.opencontainers.image.source",
            env!("CARGO_PKG_REPOSITORY"),
        ),
        ("org.opencontainers.image.title", "plugin.wasm"),
        ("dev.mesh-lambda.wasm.sha256", &hex(WASM)),
    ] {
        assert_eq!(annotations[name], value, "{name}");
    }
    assert_eq!(annotations.as_object().unwrap().len(), 8);

    let [layer] = manifest["layers"].as_array().unwrap().as_slice() else {
        panic!()
    };
    assert_eq!(
        layer["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    let layer_path = blob(&layout, &layer["digest"]);
    let gzip = std::fs::read(&layer_path).unwrap();
    assert_eq!(layer["size"], gzip.len());
    // gzip header: no file name flag, mtime 0, OS "unknown".
    assert_eq!((gzip[3], &gzip[4..8], gzip[9]), (0, &[0u8; 4][..], 255));
    let tar = Command::new("gzip")
        .arg("-dc")
        .arg(&layer_path)
        .output()
        .unwrap()
        .stdout;
    let listing = Command::new("tar")
        .arg("-tvf")
        .arg(&layer_path)
        .output()
        .unwrap();
    assert_eq!(
        text(&listing.stdout).split_whitespace().collect::<Vec<_>>(),
        [
            "-rw-r--r--",
            "0/0",
            &WASM.len().to_string(),
            "1970-01-01",
            "00:00",
            "plugin.wasm"
        ]
    );

    let config_path = blob(&layout, &manifest["config"]["digest"]);
    let config = json(&config_path);
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    assert_eq!(config["rootfs"]["type"], "layers");
    assert_eq!(
        config["rootfs"]["diff_ids"],
        serde_json::json!([format!("sha256:{}", hex(&tar))])
    );
    assert_eq!(
        (config["architecture"].as_str(), config["os"].as_str()),
        (Some("wasm"), Some("wasip1"))
    );
    assert_eq!(config["created"], "2023-11-14T22:13:20Z");
}

const WASM_CONFIG: &str = "application/vnd.module.wasm.config.v1+json";
const WASM_LAYER: &str = "application/vnd.module.wasm.content.layer.v1+wasm";

/// The module Istio's fetcher takes from the image in `layout`, or why it refuses it. A
/// re-implementation of the rule in istio/istio `pkg/wasm/imagefetcher.go`, the function
/// `PrepareFetch` returns, and the three it calls (Envoy Gateway's
/// `internal/wasm/imagefetcher.go` is a copy):
/// - a manifest of media type `application/vnd.docker.distribution.manifest.v2+json`:
///   `extractDockerImage`, the last layer must be `application/vnd.docker.image.rootfs.diff.
///   tar.gzip`, the module is its first entry named `plugin.wasm` (any folder);
/// - any other: `extractOCIStandardImage`, the same with the last layer
///   `application/vnd.oci.image.layer.v1.tar+gzip`; when that fails,
///   `extractOCIArtifactImage`: "number of layers must be 2", and the module is the raw bytes
///   of the first layer typed `application/vnd.module.wasm.content.layer.v1+wasm`.
fn istio_fetch(layout: &Path) -> Result<Vec<u8>, String> {
    let index = json(&layout.join("index.json"));
    let manifest = json(&blob(layout, &index["manifests"][0]["digest"]));
    let layers = manifest["layers"].as_array().unwrap();
    let media_type = |layer: &Value| layer["mediaType"].as_str().unwrap().to_owned();
    let bytes = |layer: &Value| std::fs::read(blob(layout, &layer["digest"])).unwrap();
    let plugin_in = |gzip: Vec<u8>| -> Result<Vec<u8>, String> {
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&gzip[..]));
        for entry in archive.entries().map_err(|e| e.to_string())? {
            let mut entry = entry.map_err(|e| e.to_string())?;
            if entry.path().unwrap().file_name() == Some("plugin.wasm".as_ref()) {
                let mut module = Vec::new();
                std::io::Read::read_to_end(&mut entry, &mut module).unwrap();
                return Ok(module);
            }
        }
        Err("plugin.wasm not found in the archive".into())
    };
    let tar_gzip_last = |wanted: &str| -> Result<Vec<u8>, String> {
        let last = layers
            .last()
            .ok_or("number of layers must be greater than zero")?;
        if media_type(last) != wanted {
            return Err(format!("invalid media type {}", media_type(last)));
        }
        plugin_in(bytes(last))
    };
    if manifest["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json" {
        return tar_gzip_last("application/vnd.docker.image.rootfs.diff.tar.gzip");
    }
    let compat = tar_gzip_last("application/vnd.oci.image.layer.v1.tar+gzip");
    if compat.is_ok() {
        return compat;
    }
    if layers.len() != 2 {
        return Err(format!(
            "number of layers must be 2 but got {}",
            layers.len()
        ));
    }
    layers
        .iter()
        .find(|layer| media_type(layer) == WASM_LAYER)
        .map(bytes)
        .ok_or(format!("could not find the layer of type {WASM_LAYER}"))
}

#[test]
fn istio_takes_the_module_from_both_variants() {
    let dir = scratch("istio");
    let run = package(&dir, &["--wasm-variant"], &[]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    for layout in ["oci-compat", "oci-wasm"] {
        assert_eq!(
            istio_fetch(&dir.join("out").join(layout)),
            Ok(WASM.to_vec()),
            "{layout}"
        );
    }
}

#[test]
fn istio_refuses_a_single_layer_wasm_variant() {
    let dir = scratch("single");
    assert!(package(&dir, &["--wasm-variant"], &[]).status.success());
    let layout = dir.join("out/oci-wasm");
    let index_path = layout.join("index.json");
    let mut index = json(&index_path);
    let mut manifest = json(&blob(&layout, &index["manifests"][0]["digest"]));
    let wasm_layer = manifest["layers"][1].clone();
    manifest["layers"] = serde_json::json!([wasm_layer]);
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let digest = format!("sha256:{}", hex(&bytes));
    std::fs::write(blob(&layout, &Value::from(digest.clone())), &bytes).unwrap();
    index["manifests"][0]["digest"] = digest.into();
    index["manifests"][0]["size"] = bytes.len().into();
    std::fs::write(&index_path, index.to_string()).unwrap();
    assert_eq!(
        istio_fetch(&layout),
        Err("number of layers must be 2 but got 1".into())
    );
}

#[test]
fn the_wasm_variant_is_the_runtime_config_and_the_raw_module() {
    let dir = scratch("variant");
    assert!(package(&dir, &["--wasm-variant"], &[]).status.success());
    let layout = dir.join("out/oci-wasm");
    let index = json(&layout.join("index.json"));
    let manifest = json(&blob(&layout, &index["manifests"][0]["digest"]));
    assert_eq!(manifest["config"]["mediaType"], WASM_CONFIG);
    let [config, module] = manifest["layers"].as_array().unwrap().as_slice() else {
        panic!("{manifest}")
    };
    assert_eq!(config["mediaType"], WASM_CONFIG);
    assert_eq!(
        json(&blob(&layout, &config["digest"]))["type"],
        "envoy_proxy"
    );
    assert_eq!(module["mediaType"], WASM_LAYER);
    assert_eq!(
        std::fs::read(blob(&layout, &module["digest"])).unwrap(),
        WASM
    );
    assert!(manifest["annotations"]
        .get("module.wasm.image/variant")
        .is_none());
    // Without a revision the annotation is left out; without SOURCE_DATE_EPOCH, the epoch.
    assert!(manifest["annotations"]
        .get("org.opencontainers.image.revision")
        .is_none());
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.created"],
        "1970-01-01T00:00:00Z"
    );
}

fn refused(args: &[&str], envs: &[(&str, &str)], status: i32, needle: &str) {
    let run = cli(args, envs);
    assert_eq!(
        run.status.code(),
        Some(status),
        "{args:?}: {}",
        text(&run.stderr)
    );
    let stderr = text(&run.stderr);
    assert!(stderr.contains(needle), "{args:?}: {stderr}");
}

#[test]
fn a_file_that_is_not_wasm_is_refused_and_nothing_written() {
    let dir = scratch("notwasm");
    let input = dir.join("plugin.json");
    std::fs::write(&input, "{}").unwrap();
    let out = dir.join("out");
    let args = [
        "oci",
        "package",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    refused(
        &args,
        &[],
        1,
        "is not a WebAssembly module (it does not start with \\0asm)",
    );
    assert!(!out.exists());
    let missing = dir.join("missing.wasm");
    refused(
        &["oci", "package", missing.to_str().unwrap(), "--out", "x"],
        &[],
        2,
        "cannot read",
    );
    let run = package(&dir, &[], &[("SOURCE_DATE_EPOCH", "yesterday")]);
    assert_eq!(run.status.code(), Some(1));
    assert!(text(&run.stderr).contains("SOURCE_DATE_EPOCH=\"yesterday\" is not a number"));
}

#[test]
fn usage_errors_exit_2() {
    for (args, needle) in [
        // The help, listing the three, on standard error.
        (&["oci"][..], "Commands:\n  package "),
        (
            &["oci", "package", "x.wasm"][..],
            "not provided:\n  --out <DIR>",
        ),
        (
            &["oci", "package", "x.wasm", "--out"][..],
            "a value is required for '--out <DIR>'",
        ),
        (
            &["oci", "package", "x.wasm", "--out", "o", "--colour"][..],
            "unexpected argument '--colour'",
        ),
        (
            &["oci", "package", "x.wasm", "--out", "o", "--out", "p"][..],
            "'--out <DIR>' cannot be used multiple times",
        ),
        (&["oci", "push", "dir"][..], "not provided:\n  <REFERENCE>"),
        (
            &["oci", "pull", "127.0.0.1:1/x:1"][..],
            "not provided:\n  --out <DIR>",
        ),
        (
            &[
                "oci",
                "pull",
                "127.0.0.1:1/x:1",
                "--out",
                "o",
                "--sha256",
                "abc",
            ][..],
            "invalid value 'abc' for '--sha256 <HEX>': not 64 lowercase hex",
        ),
    ] {
        refused(args, &[], 2, needle);
    }
}

#[test]
fn a_malformed_reference_is_refused() {
    let dir = scratch("reference");
    assert!(package(&dir, &[], &[]).status.success());
    let layout = dir.join("out/oci-compat");
    for reference in [
        "mesh-lambda:0.1.0",
        "127.0.0.1:5000/Mesh:1",
        "127.0.0.1:5000/x",
    ] {
        refused(
            &["oci", "push", layout.to_str().unwrap(), reference],
            &[],
            1,
            reference,
        );
    }
    refused(
        &["oci", "pull", "no-registry", "--out", "o"],
        &[],
        1,
        "malformed reference \"no-registry\"",
    );
}

#[test]
fn push_refuses_a_layout_that_is_not_one_intact_image() {
    let dir = scratch("layouts");
    assert!(package(&dir, &[], &[]).status.success());
    let layout = dir.join("out/oci-compat");
    let push =
        |path: &Path| ["oci", "push", path.to_str().unwrap(), "127.0.0.1:1/x:1"].map(String::from);
    let args = push(&dir.join("out"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    refused(
        &args,
        &[],
        1,
        "is not a single-image OCI layout: oci-layout",
    );

    let index_path = layout.join("index.json");
    let index = json(&index_path);
    let entry = index["manifests"][0].clone();
    let two = serde_json::json!({"schemaVersion": 2, "manifests": [entry.clone(), entry]});
    std::fs::write(&index_path, two.to_string()).unwrap();
    let args = push(&layout);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    refused(&args, &[], 1, "its index lists 2 manifests");

    std::fs::write(&index_path, index.to_string()).unwrap();
    let manifest = json(&blob(&layout, &index["manifests"][0]["digest"]));
    let layer = blob(&layout, &manifest["layers"][0]["digest"]);
    let mut bytes = std::fs::read(&layer).unwrap();
    bytes[20] ^= 1;
    std::fs::write(&layer, bytes).unwrap();
    refused(&args, &[], 1, "digest mismatch: layer 1 in");
}

/// A symlink planted where the command used to put its temporary file (`<name>.partial`),
/// and one at an output path or folder that leads outside `--out`: none is written through.
#[test]
fn planted_symlinks_are_not_followed() {
    let dir = scratch("symlinks");
    let outside = dir.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let victim = outside.join("victim");
    std::fs::write(&victim, "untouched").unwrap();
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    for partial in ["plugin.partial", "plugin.wasm.partial"] {
        std::os::unix::fs::symlink(&victim, out.join(partial)).unwrap();
    }
    let run = package(&dir, &[], &[]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
    assert_eq!(std::fs::read(out.join("plugin.wasm")).unwrap(), WASM);
    assert!(!out.join("plugin.wasm").is_symlink());

    for (link, target) in [("oci-compat", &outside), ("plugin.wasm", &victim)] {
        std::fs::remove_dir_all(&out).unwrap();
        std::fs::create_dir_all(&out).unwrap();
        std::os::unix::fs::symlink(target, out.join(link)).unwrap();
        let run = package(&dir, &[], &[]);
        assert_eq!(run.status.code(), Some(2), "{link}: {}", text(&run.stderr));
        assert!(
            text(&run.stderr).contains("it is a symlink that leads outside"),
            "{}",
            text(&run.stderr)
        );
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 1, "{link}");
    }
}
