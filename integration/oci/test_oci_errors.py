"""Each way a push or pull fails through a real registry gives exit status 1 and one line that
says what failed and what to do."""

import gzip
import io
import json
import tarfile

import pytest

from harness.processes import free_port
from harness.registry import run_cli, write_layout


def refused(cli, *args, expect: str) -> str:
    result = run_cli(cli, *args)
    assert result.returncode == 1, result.stdout + result.stderr
    assert expect in result.stderr, result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stdout == ""
    return result.stderr


def test_an_unreachable_registry(cli, packaged, tmp_path):
    host = f"127.0.0.1:{free_port()}"
    refused(
        cli,
        "pull",
        f"{host}/mesh-lambda:1",
        "--out",
        tmp_path,
        "--plain-http",
        expect=f"cannot reach the registry {host}",
    )
    message = refused(
        cli,
        "push",
        packaged.layout("oci-compat"),
        f"{host}/mesh-lambda:1",
        "--plain-http",
        expect="Connection refused",
    )
    assert "check the address and that the registry runs" in message


def test_a_missing_tag(cli, registry, tmp_path):
    reference = f"{registry.host}/mesh-lambda:no-such-tag"
    refused(
        cli,
        "pull",
        reference,
        "--out",
        tmp_path,
        "--plain-http",
        expect=f"{reference}: no such image in the registry (manifest unknown)",
    )


def test_a_malformed_reference(cli, registry, tmp_path):
    refused(
        cli,
        "pull",
        f"{registry.host}/Mesh-Lambda:1",
        "--out",
        tmp_path,
        "--plain-http",
        expect="malformed reference",
    )


@pytest.mark.parametrize("part", ["manifest", "config", "layer"])
def test_a_blob_whose_bytes_do_not_match_its_digest(cli, registry, packaged, tmp_path, part):
    """A stored blob overwritten after the push (same size): the pull refuses it."""
    reference = f"{registry.host}/tampered-{part}:1"
    result = run_cli(cli, "push", packaged.layout("oci-compat"), reference, "--plain-http")
    assert result.returncode == 0, result.stderr
    manifest_digest = packaged.digests["oci-compat"]
    manifest = json.loads(registry.blob_file(manifest_digest).read_bytes())
    digest = {
        "manifest": manifest_digest,
        "config": manifest["config"]["digest"],
        "layer": manifest["layers"][-1]["digest"],
    }[part]
    stored = registry.blob_file(digest)
    original = stored.read_bytes()
    tampered = bytearray(original)
    tampered[len(tampered) // 2] ^= 0x01
    stored.write_bytes(bytes(tampered))
    try:
        refused(cli, "pull", reference, "--out", tmp_path, "--plain-http", expect="digest mismatch")
        assert not (tmp_path / "plugin.wasm").exists()
    finally:
        stored.write_bytes(original)  # the blob is shared by every repository of the registry


def ordinary_layer() -> bytes:
    """A tar+gzip layer holding an unrelated file."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("etc/hostname")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"box\n"))
    return gzip.compress(buffer.getvalue())


@pytest.mark.parametrize(
    ("image", "why"),
    [
        (
            (
                ("application/vnd.oci.image.config.v1+json", b'{"os":"linux"}'),
                ("application/vnd.oci.image.layer.v1.tar+gzip", ordinary_layer()),
            ),
            "its last layer holds no plugin.wasm",
        ),
        (
            (
                ("application/vnd.wasm.config.v0+json", b"{}"),
                ("application/wasm", b"\0asm\x01\0\0\0"),
            ),
            "it is the CNCF application/wasm layout",
        ),
        (
            # Istio's and Envoy Gateway's `extractOCIArtifactImage` (pkg/wasm/imagefetcher.go):
            # "number of layers must be 2 but got 1".
            (
                ("application/vnd.module.wasm.config.v1+json", b"{}"),
                ("application/vnd.module.wasm.content.layer.v1+wasm", b"\0asm\x01\0\0\0"),
            ),
            "it has 1 layers, one of them application/vnd.module.wasm.content.layer.v1+wasm",
        ),
    ],
    ids=["ordinary-image", "cncf-wasm", "single-layer-module-wasm"],
)
def test_an_image_the_loaders_would_not_load(cli, registry, tmp_path, image, why):
    layout = write_layout(tmp_path / "layout", *image)
    reference = f"{registry.host}/not-a-plugin:{len(why)}"
    result = run_cli(cli, "push", layout, reference, "--plain-http")
    assert result.returncode == 0, result.stderr
    message = refused(
        cli,
        "pull",
        reference,
        "--out",
        tmp_path / "out",
        "--plain-http",
        expect=f"{reference} is not a wasm image Istio or Envoy Gateway load: {why}",
    )
    assert "mesh-lambda oci package" in message
    assert not (tmp_path / "out").exists()
