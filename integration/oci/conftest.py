"""Fixtures of the OCI tests: the command, the filter packaged once, a plain-HTTP registry and
a private one (TLS from a test CA, htpasswd users)."""

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.certificates import CertificateAuthority
from harness.consul import build_cli
from harness.registry import Registry, run_cli

USER = "publisher"
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session", autouse=True)
def _default_envoy_pass_only():
    """scripts/test runs the suite once per Envoy; no Envoy is involved here."""
    if os.environ.get("MESH_LAMBDA_ENVOY"):
        pytest.skip("no Envoy involved: the OCI tests run in the default-Envoy pass only")


@pytest.fixture(scope="session")
def cli() -> Path:
    """The host-side `mesh-lambda` command, built by this run."""
    return build_cli()


@dataclass(frozen=True)
class Packaged:
    """`mesh-lambda oci package --wasm-variant` of the built filter."""

    out: Path
    wasm: bytes
    wasm_sha256: str
    digests: dict[str, str]  # layout name -> manifest digest, as printed

    def layout(self, name: str) -> Path:
        return self.out / name

    def tag(self) -> str:
        """The ref.name the layouts' index gives their image (the version)."""
        index = json.loads((self.out / "oci-compat" / "index.json").read_text())
        return index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"]


@pytest.fixture(scope="session")
def packaged(cli, wasm_path, tmp_path_factory) -> Packaged:
    out = tmp_path_factory.mktemp("packaged")
    result = run_cli(cli, "package", wasm_path, "--out", out, "--wasm-variant", "--revision", "abc")
    assert result.returncode == 0, result.stderr
    first, *layouts = result.stdout.splitlines()
    digests = {}
    for line in layouts:
        name, label, digest = line.split(" ")
        assert label == "manifest"
        digests[name] = digest
    return Packaged(out, Path(wasm_path).read_bytes(), first.removeprefix("wasm sha256:"), digests)


@pytest.fixture(scope="session")
def registry(tmp_path_factory) -> Registry:
    started = Registry(tmp_path_factory.mktemp("registry")).start()
    yield started
    started.stop()


@pytest.fixture(scope="session")
def private_registry(tmp_path_factory) -> Registry:
    directory = tmp_path_factory.mktemp("private-registry")
    ca = CertificateAuthority(directory / "ca", "mesh-lambda test registry CA")
    started = Registry(directory, users={USER: PASSWORD}, ca=ca).start()
    yield started
    started.stop()
