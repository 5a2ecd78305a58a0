"""The filter packaged, pushed to a real registry (distribution) and pulled back byte for byte;
skopeo, a reader nobody here wrote, sees images the loaders accept (reference section 5)."""

import hashlib
import io
import json
import subprocess
import tarfile

from harness.registry import run_cli

TAR_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
WASM_CONFIG = "application/vnd.module.wasm.config.v1+json"
WASM_LAYER = "application/vnd.module.wasm.content.layer.v1+wasm"


def push(cli, layout, reference) -> str:
    result = run_cli(cli, "push", layout, reference, "--plain-http")
    assert result.returncode == 0, result.stderr
    return result.stdout


def skopeo_inspect(reference: str, *raw: str) -> bytes:
    return subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", *raw, f"docker://{reference}"],
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout


def test_each_variant_pushed_and_pulled_back_is_the_same_module(cli, registry, packaged, tmp_path):
    for layout in ("oci-compat", "oci-wasm"):
        reference = f"{registry.host}/mesh-lambda:{layout}"
        digest = packaged.digests[layout]
        assert push(cli, packaged.layout(layout), reference) == f"pushed {reference}@{digest}\n"
        out = tmp_path / layout
        pulled = run_cli(cli, "pull", reference, "--out", out, "--plain-http")
        assert pulled.returncode == 0, pulled.stderr
        assert pulled.stdout == f"pulled {reference}@{digest} wasm sha256:{packaged.wasm_sha256}\n"
        assert (out / "plugin.wasm").read_bytes() == packaged.wasm


def test_a_pull_by_digest_checks_the_given_sha256(cli, registry, packaged, tmp_path):
    push(cli, packaged.layout("oci-compat"), f"{registry.host}/by-digest:1")
    digest = packaged.digests["oci-compat"]
    reference = f"{registry.host}/by-digest@{digest}"
    pulled = run_cli(
        cli, "pull", reference, "--out", tmp_path, "--plain-http", "--sha256", packaged.wasm_sha256
    )
    assert pulled.returncode == 0, pulled.stderr
    assert pulled.stdout == f"pulled {reference} wasm sha256:{packaged.wasm_sha256}\n"
    wrong = "0" * 64
    refused = run_cli(cli, "pull", reference, "--out", tmp_path, "--plain-http", "--sha256", wrong)
    assert refused.returncode == 1
    assert (
        "digest mismatch: the module" in refused.stderr
        and f"--sha256 says {wrong}" in refused.stderr
    )


def manifest_skopeo_reads(cli, registry, packaged, layout: str, tag: str) -> dict:
    """Pushes `layout` as mesh-lambda:`tag`; the manifest skopeo reads back, checked to be the
    one pushed (the digest push printed is the sha256 of its bytes). Never application/wasm."""
    reference = f"{registry.host}/mesh-lambda:{tag}"
    push(cli, packaged.layout(layout), reference)
    raw = skopeo_inspect(reference, "--raw")
    assert f"sha256:{hashlib.sha256(raw).hexdigest()}" == packaged.digests[layout]
    manifest = json.loads(raw)
    assert all(layer["mediaType"] != "application/wasm" for layer in manifest["layers"])
    return manifest


def test_skopeo_reads_the_compat_image_as_the_loaders_accept_it(cli, registry, packaged):
    manifest = manifest_skopeo_reads(cli, registry, packaged, "oci-compat", "skopeo")
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert manifest["annotations"]["module.wasm.image/variant"] == "compat"
    last = manifest["layers"][-1]
    assert last["mediaType"] == TAR_GZIP
    with tarfile.open(fileobj=io.BytesIO(registry.blob("mesh-lambda", last["digest"]))) as tar:
        assert tar.getnames() == ["plugin.wasm"]
        assert tar.extractfile("plugin.wasm").read() == packaged.wasm
    inspected = json.loads(skopeo_inspect(f"{registry.host}/mesh-lambda:skopeo"))
    assert inspected["Digest"] == packaged.digests["oci-compat"]
    assert inspected["Layers"] == [last["digest"]]


def test_skopeo_reads_the_wasm_variant_as_the_loaders_accept_it(cli, registry, packaged):
    """Istio's and Envoy Gateway's `extractOCIArtifactImage` (pkg/wasm/imagefetcher.go) take
    this variant with exactly two layers, the module in the first one of the wasm layer type;
    Istio's own test pairs it with a `vnd.module.wasm.config` layer."""
    manifest = manifest_skopeo_reads(cli, registry, packaged, "oci-wasm", "skopeo-wasm")
    assert manifest["config"]["mediaType"] == WASM_CONFIG
    config, module = manifest["layers"]
    assert config["mediaType"] == WASM_CONFIG
    assert json.loads(registry.blob("mesh-lambda", config["digest"]))["type"] == "envoy_proxy"
    assert module["mediaType"] == WASM_LAYER
    assert registry.blob("mesh-lambda", module["digest"]) == packaged.wasm


def test_skopeo_copies_the_layout_to_the_same_digest(cli, registry, packaged, tmp_path):
    """The layout is read by another tool as written: the image it pushes is ours, digest
    and all."""
    layout = packaged.layout("oci-compat")
    reference = f"{registry.host}/copied:{packaged.tag()}"
    subprocess.run(
        [
            "skopeo",
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            f"oci:{layout}:{packaged.tag()}",
            f"docker://{reference}",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    pulled = run_cli(cli, "pull", reference, "--out", tmp_path, "--plain-http")
    assert pulled.returncode == 0, pulled.stderr
    assert f"@{packaged.digests['oci-compat']} " in pulled.stdout
