"""`oci pull` bounds everything it reads: the manifest and config as read, each layer as
declared and as it streams to disk, the compat layer's tar as it decompresses (skipped entries
included). Over a bound, it refuses in one line and writes nothing. The bomb goes through a
real registry (distribution); what a registry would not store or send, through a fake."""

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest

from harness.fake_registry import FakeRegistry
from harness.registry import run_cli, sha256_digest, write_layout

MANIFEST_CAP = 4 * 1024 * 1024
CONFIG_CAP = 4 * 1024 * 1024
# The loaders' own bound on the decompressed layer (Istio's ISTIO_WASM_MAX_BINARY_SIZE_BYTES
# default, pkg/wasm/imagefetcher.go `extractWasmPluginBinary`; Envoy Gateway's maxWasmSize).
LAYER_CAP = 256 * 1024 * 1024
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
TAR_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
WASM = b"\0asm\x01\0\0\0"


def refused(cli, reference: str, out: Path, expect: str) -> None:
    result = run_cli(cli, "pull", reference, "--out", out, "--plain-http")
    assert result.returncode == 1, result.stdout + result.stderr
    assert expect in result.stderr, result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert not out.exists()


def bomb() -> bytes:
    """A tar+gzip of about 256 KiB: a first entry of zeros one byte over the cap, then
    plugin.wasm."""
    buffer = io.BytesIO()

    class Zeros:
        def read(self, size: int) -> bytes:
            return bytes(size)

    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=1, mtime=0) as compressed,
        tarfile.open(fileobj=compressed, mode="w|") as tar,
    ):
        filler = tarfile.TarInfo("filler")
        filler.size = LAYER_CAP + 1
        tar.addfile(filler, Zeros())
        plugin = tarfile.TarInfo("plugin.wasm")
        plugin.size = len(WASM)
        tar.addfile(plugin, io.BytesIO(WASM))
    return buffer.getvalue()


def test_a_decompression_bomb_is_refused(cli, registry, tmp_path):
    layer = bomb()
    assert len(layer) < 2 * 1024 * 1024
    layout = write_layout(tmp_path / "layout", (OCI_CONFIG, b"{}"), (TAR_GZIP, layer))
    reference = f"{registry.host}/bomb:1"
    pushed = run_cli(cli, "push", layout, reference, "--plain-http")
    assert pushed.returncode == 0, pushed.stderr
    refused(
        cli,
        reference,
        tmp_path / "out",
        f"the layer decompresses to more than {LAYER_CAP} bytes (a decompression bomb",
    )


def image(fake: FakeRegistry, config: dict, layer: dict, tag: str) -> str:
    """A compat manifest of these descriptors in the fake; its reference."""
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": [layer]}
    fake.manifests[tag] = (OCI_MANIFEST, json.dumps(manifest).encode())
    return f"{fake.host}/wasm:{tag}"


@pytest.fixture
def fake():
    started = FakeRegistry().start()
    config = b"{}"
    started.blobs[sha256_digest(config)] = config
    yield started
    started.stop()


def descriptor(media_type: str, data: bytes, size: int | None = None) -> dict:
    return {"mediaType": media_type, "digest": sha256_digest(data), "size": size or len(data)}


def zeros_forever():
    while True:
        yield bytes(1 << 16)


def test_a_manifest_over_the_cap(cli, fake, tmp_path):
    fake.manifests["big"] = (OCI_MANIFEST, b" " * (MANIFEST_CAP + 1))
    refused(
        cli,
        f"{fake.host}/wasm:big",
        tmp_path / "out",
        f"the manifest of {fake.host}/wasm:big is {MANIFEST_CAP + 1} bytes or more, over the "
        f"{MANIFEST_CAP} bytes accepted",
    )


def test_a_manifest_streamed_past_the_cap(cli, fake, tmp_path):
    fake.manifests["endless"] = (OCI_MANIFEST, zeros_forever)
    refused(
        cli,
        f"{fake.host}/wasm:endless",
        tmp_path / "out",
        f"bytes or more, over the {MANIFEST_CAP} bytes accepted",
    )


@pytest.mark.parametrize(("part", "cap"), [("config", CONFIG_CAP), ("layer 1", LAYER_CAP)])
def test_a_blob_declared_over_the_cap_is_not_fetched(cli, fake, tmp_path, part, cap):
    config = descriptor(OCI_CONFIG, b"{}")
    layer = descriptor(TAR_GZIP, b"layer")
    oversized = config if part == "config" else layer
    oversized["size"] = cap + 1
    reference = image(fake, config, layer, "declared")
    refused(
        cli,
        reference,
        tmp_path / "out",
        f"{part} of {reference} is {cap + 1} bytes, over the {cap} bytes accepted; refused",
    )
    assert not [seen for seen in fake.seen if seen.path.endswith(oversized["digest"])]


def test_a_blob_longer_than_declared_is_cut_off(cli, fake, tmp_path):
    """The registry keeps sending: the pull stops at the declared size plus what it read."""
    declared = b"sixteen bytes..."
    layer = descriptor(TAR_GZIP, declared)
    fake.blobs[layer["digest"]] = zeros_forever
    reference = image(fake, descriptor(OCI_CONFIG, b"{}"), layer, "longer")
    refused(
        cli,
        reference,
        tmp_path / "out",
        f"size mismatch: the layer 1 of {reference} ({layer['digest']}) should be 16 bytes but "
        "the registry sends more",
    )
