"""Where a registry password may go: only to the registry it was given for (docker's config
keys credentials by registry host: docker/cli `cli/config/configfile/file.go` `GetAuthConfig`,
keys compared through `cli/config/credentials/file_store.go` `ConvertToHostname`), to a token
service only on that same host and port (stricter than docker and oras-go, which send it to
any realm), and to a plain-http token service only with --plain-http. A fake registry and
token service on 127.0.0.1 record every Authorization header they receive."""

import json

import pytest

from harness.certificates import CertificateAuthority, serving_tls
from harness.fake_registry import TOKEN, FakeRegistry, basic
from harness.registry import run_cli

from .test_oci_credentials import env_variables

USER = "publisher"
SECRET = "password-that-must-stay-home-0815"


@pytest.fixture
def token_service():
    """A token service on its own port, answering anyone."""
    started = FakeRegistry().start()
    yield started
    started.stop()


def pull(cli, reference: str, out, environment: dict, *transport: str):
    return run_cli(cli, "pull", reference, "--out", out, *transport, environment=environment)


def pull_with_password(cli, host: str, repository: str, out, *transport: str):
    """Pulls `host/repository:1` with the publisher's password given for `host`."""
    environment = env_variables(host, USER, SECRET)
    return pull(cli, f"{host}/{repository}:1", out, environment, *transport)


def never_received(secret: str, *servers: FakeRegistry) -> None:
    for server in servers:
        assert not [a for a in server.authorizations() if a == basic(USER, secret)], server.seen


def test_the_password_does_not_follow_a_realm_to_another_host(cli, token_service, tmp_path):
    """The registry is 127.0.0.1:<port>; its realm names localhost, another host."""
    realm = f"http://localhost:{token_service.port}/token"
    registry = FakeRegistry(challenge=f'Bearer realm="{realm}",service="fake"').start()
    try:
        result = pull_with_password(cli, registry.host, "wasm", tmp_path / "out", "--plain-http")
        never_received(SECRET, registry, token_service)
        assert token_service.seen == []
        assert result.returncode == 1, result.stdout
        assert (
            f"the registry {registry.host} sends token requests to localhost:"
            f"{token_service.port}, another host; the password given for {registry.host} is "
            "not sent there"
        ) in result.stderr
        assert SECRET not in result.stderr
    finally:
        registry.stop()


def test_a_token_service_the_user_names_gets_the_password(cli, packaged, token_service, tmp_path):
    """Docker Hub's token service is on another host (auth.docker.io): with
    MESH_LAMBDA_REGISTRY_TOKEN_SERVICE naming it, the password goes there, and nowhere else."""
    registry = FakeRegistry().start()
    registry.challenge = f'Bearer realm="http://localhost:{token_service.port}/token",service="f"'
    registry.serve_layout(packaged.layout("oci-compat"), "1")
    try:
        environment = env_variables(registry.host, USER, SECRET)
        environment["MESH_LAMBDA_REGISTRY_TOKEN_SERVICE"] = f"localhost:{token_service.port}"
        result = pull(
            cli, f"{registry.host}/mesh-lambda:1", tmp_path / "out", environment, "--plain-http"
        )
        assert result.returncode == 0, result.stderr
        assert (tmp_path / "out" / "plugin.wasm").read_bytes() == packaged.wasm
        assert [seen.authorization for seen in token_service.seen] == [basic(USER, SECRET)]
        never_received(SECRET, registry)
    finally:
        registry.stop()


def test_a_plain_http_realm_needs_plain_http(cli, token_service, tmp_path):
    """A registry on https whose realm is plain http: refused before any token request."""
    ca = CertificateAuthority(tmp_path / "ca", "fake registry CA")
    registry = FakeRegistry(tls=serving_tls(ca)).start()
    host = f"localhost:{registry.port}"
    registry.challenge = f'Bearer realm="http://localhost:{token_service.port}/token"'
    try:
        result = pull_with_password(
            cli, host, "wasm", tmp_path / "out", "--ca-file", ca.certificate
        )
        never_received(SECRET, registry, token_service)
        assert token_service.seen == []
        assert result.returncode == 1, result.stdout
        assert (
            f"sends token requests to http://localhost:{token_service.port}/token, which is "
            "not https; refusing (only --plain-http allows a plain-http token service)"
        ) in result.stderr
    finally:
        registry.stop()


def test_a_realm_on_the_registry_itself_gets_the_password(cli, packaged, tmp_path):
    registry = FakeRegistry().start()
    registry.challenge = f'Bearer realm="http://{registry.host}/token",service="fake"'
    registry.serve_layout(packaged.layout("oci-compat"), "1")
    try:
        result = pull_with_password(
            cli, registry.host, "mesh-lambda", tmp_path / "out", "--plain-http"
        )
        assert result.returncode == 0, result.stderr
        assert (tmp_path / "out" / "plugin.wasm").read_bytes() == packaged.wasm
        token_requests = [seen for seen in registry.seen if seen.path.startswith("/token?")]
        assert [seen.authorization for seen in token_requests] == [basic(USER, SECRET)]
        assert "scope=repository%3Amesh-lambda%3Apull" in token_requests[0].path
        later = registry.seen[registry.seen.index(token_requests[0]) + 1 :]
        assert later and all(seen.authorization == f"Bearer {TOKEN}" for seen in later)
    finally:
        registry.stop()


def credentials_for(other: str, tmp_path) -> dict[str, dict]:
    docker = tmp_path / "docker"
    docker.mkdir()
    (docker / "config.json").write_text(
        json.dumps({"auths": {f"https://{other}": {"auth": "cHVibGlzaGVyOnNlY3JldA=="}}})
    )
    return {
        "environment variables": env_variables(other, USER, SECRET),
        "docker config": {"DOCKER_CONFIG": str(docker)},
    }


@pytest.mark.parametrize("source", ["environment variables", "docker config"])
def test_credentials_for_another_registry_are_not_sent(cli, tmp_path, source):
    registry = FakeRegistry(challenge='Basic realm="fake"', user=(USER, SECRET)).start()
    try:
        environment = credentials_for("registry.example.com:5000", tmp_path)[source]
        result = pull(cli, f"{registry.host}/wasm:1", tmp_path / "out", environment, "--plain-http")
        assert registry.authorizations() == []
        assert result.returncode == 1, result.stdout
        assert "refused the credentials (401 unauthorized; credentials: none found" in (
            result.stderr
        )
    finally:
        registry.stop()


def test_environment_credentials_need_their_registry(cli, tmp_path):
    environment = env_variables("unused", USER, SECRET)
    del environment["MESH_LAMBDA_REGISTRY_HOST"]
    result = pull(cli, "127.0.0.1:1/wasm:1", tmp_path / "out", environment, "--plain-http")
    assert result.returncode == 1
    assert "MESH_LAMBDA_REGISTRY_HOST is not; set it to the registry (host[:port])" in (
        result.stderr
    )
    assert SECRET not in result.stderr


def test_a_blob_redirected_to_another_host_goes_there_without_the_password(cli, packaged, tmp_path):
    """Registries send blobs to a CDN: the redirect is followed without the Authorization
    header (reqwest `redirect.rs` `remove_sensitive_headers`: another host or port)."""
    cdn = FakeRegistry().start()
    registry = FakeRegistry(challenge='Basic realm="fake"', user=(USER, SECRET)).start()
    try:
        layout = packaged.layout("oci-compat")
        registry.serve_layout(layout, "1")
        cdn.serve_layout(layout, "1")
        manifest = json.loads(registry.manifests["1"][1])
        layer = manifest["layers"][0]["digest"]
        registry.redirects[layer] = f"http://localhost:{cdn.port}/v2/cdn/blobs/{layer}"
        result = pull_with_password(
            cli, registry.host, "mesh-lambda", tmp_path / "out", "--plain-http"
        )
        assert cdn.authorizations() == []
        assert [seen.path for seen in cdn.seen] == [f"/v2/cdn/blobs/{layer}"]
        assert result.returncode == 0, result.stderr
        assert (tmp_path / "out" / "plugin.wasm").read_bytes() == packaged.wasm
        assert basic(USER, SECRET) in registry.authorizations()
    finally:
        registry.stop()
        cdn.stop()
