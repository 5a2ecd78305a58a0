"""Envoy loads the filter remotely (its `remote` code source: an HTTP URL and the raw .wasm's
sha256, the mechanism Consul's builtin/wasm `Remote` uses) and serves a signed invoke with it;
a module whose bytes do not match the sha256 is refused, and the listener fails closed. And
the whole distribution round trip: packaged, pushed to a registry, pulled back, served, loaded
remotely by Envoy, invoking, with one version (Cargo.toml's) in the command, the image and the
module's start line."""

import hashlib
import json
import subprocess
import tomllib

import pytest

from harness import client
from harness.app import RecordingApp
from harness.consul import build_cli
from harness.envoy import RemoteCode
from harness.expectations import invoke_path, the_signed_request
from harness.paths import REPO_ROOT
from harness.registry import Registry, run_cli

MODULE_PATH = "/releases/0.1.0/plugin.wasm"


@pytest.fixture
def module_server(wasm_path):
    """An HTTP server answering every GET with the release .wasm; it records the requests."""
    server = RecordingApp(wasm_path.read_bytes(), "application/wasm").start()
    yield server
    server.stop()


def test_a_remote_module_with_its_sha256_is_loaded_and_invokes_signed(
    aws, capture, start_envoy, wasm_path, module_server
):
    sha256 = hashlib.sha256(wasm_path.read_bytes()).hexdigest()
    envoy = start_envoy(remote_code=RemoteCode(module_server.port, MODULE_PATH, sha256))

    answer = client.call(envoy.url, "POST", "/", body=b'{"fetched": "remotely"}')

    assert answer.status == 200, str(answer)
    assert answer.body == b'{"fetched": "remotely"}'
    assert [r.target for r in module_server.requests] == [MODULE_PATH]
    invoked = the_signed_request(capture)
    assert invoked.target == invoke_path(aws.function_arn)


def test_a_remote_module_that_does_not_match_its_sha256_is_refused(
    capture, start_envoy, wasm_path, module_server
):
    wrong = hashlib.sha256(wasm_path.read_bytes() + b"tampered").hexdigest()
    envoy = start_envoy(remote_code=RemoteCode(module_server.port, MODULE_PATH, wrong))

    answer = client.call(envoy.url, "POST", "/", body=b'{"fetched": "remotely"}')

    # Envoy fetched the module (and retried), found its hash wrong, and the filter, configured
    # to fail closed, answers instead of letting the request through unsigned.
    assert module_server.requests and {r.target for r in module_server.requests} == {MODULE_PATH}
    assert answer.status == 503, str(answer)
    assert capture.requests == []
    assert "Plugin configured to fail closed failed to load" in envoy.log_text()


def test_package_push_pull_and_remote_load_round_trip(
    aws, capture, start_envoy, wasm_path, tmp_path
):
    cli = build_cli()
    registry = Registry(tmp_path / "registry").start()
    try:
        packaged = run_cli(cli, "package", wasm_path, "--out", tmp_path / "package")
        assert packaged.returncode == 0, packaged.stderr
        wasm_line = packaged.stdout.splitlines()[0]
        sha256 = wasm_line.removeprefix("wasm sha256:")
        assert sha256 == hashlib.sha256(wasm_path.read_bytes()).hexdigest()
        assert (
            manifest_annotations(tmp_path / "package" / "oci-compat")[
                "org.opencontainers.image.version"
            ]
            == workspace_version()
        )
        reference = f"{registry.host}/mesh-lambda:round-trip"
        pushed = run_cli(
            cli, "push", tmp_path / "package" / "oci-compat", reference, "--plain-http"
        )
        assert pushed.returncode == 0, pushed.stderr
        pulled = run_cli(
            cli, "pull", reference, "--out", tmp_path / "pulled", "--plain-http", "--sha256", sha256
        )
        assert pulled.returncode == 0, pulled.stderr
    finally:
        registry.stop()
    module = (tmp_path / "pulled" / "plugin.wasm").read_bytes()
    assert module == wasm_path.read_bytes()

    server = RecordingApp(module, "application/wasm").start()
    try:
        envoy = start_envoy(remote_code=RemoteCode(server.port, MODULE_PATH, sha256))
        answer = client.call(envoy.url, "POST", "/", body=b'{"round": "trip"}')
    finally:
        server.stop()

    assert answer.status == 200, str(answer)
    assert answer.body == b'{"round": "trip"}'
    invoked = the_signed_request(capture)
    assert invoked.target == invoke_path(aws.function_arn)
    # The module that ran says the version the image and the command say.
    envoy.stop()  # a graceful stop flushes Envoy's log file
    version = workspace_version()
    assert f": mesh-lambda {version} starting\n" in envoy.log_text()
    shown = subprocess.run([cli, "--version"], capture_output=True, text=True, check=True)
    assert shown.stdout == f"mesh-lambda {version}\n"


def workspace_version() -> str:
    """`[workspace.package] version` in Cargo.toml, which every crate takes."""
    with open(REPO_ROOT / "Cargo.toml", "rb") as manifest:
        return tomllib.load(manifest)["workspace"]["package"]["version"]


def manifest_annotations(layout) -> dict:
    """The annotations of the one image in an OCI image layout."""
    index = json.loads((layout / "index.json").read_text())
    digest = index["manifests"][0]["digest"].removeprefix("sha256:")
    manifest = json.loads((layout / "blobs" / "sha256" / digest).read_text())
    return manifest["annotations"]
