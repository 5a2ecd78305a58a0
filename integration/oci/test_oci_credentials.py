"""Pushing to and pulling from a private registry (TLS from a test CA, htpasswd users) with
credentials from each place the command looks: the environment, the docker config, the
containers auth file, a credential helper. Wrong or missing credentials fail in one line that
never shows a secret."""

import json
import os
import stat
from pathlib import Path

import pytest

from harness.registry import basic_auth, run_cli

from .conftest import PASSWORD, USER

NOT_FOUND = "credentials not found in native keychain"  # the helpers' "none for this host"


def env_variables(host: str, user: str = USER, password: str = PASSWORD) -> dict[str, str]:
    """The environment variables' credentials, given for `host`."""
    return {
        "MESH_LAMBDA_REGISTRY_HOST": host,
        "MESH_LAMBDA_REGISTRY_USERNAME": user,
        "MESH_LAMBDA_REGISTRY_PASSWORD": password,
    }


@pytest.fixture(scope="module")
def pushed(cli, private_registry, packaged) -> str:
    """The compat image in the private registry (pushed with the environment variables)."""
    reference = f"{private_registry.host}/mesh-lambda:private"
    result = run_cli(
        cli,
        "push",
        packaged.layout("oci-compat"),
        reference,
        "--ca-file",
        private_registry.ca_file,
        environment=env_variables(private_registry.host),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"pushed {reference}@{packaged.digests['oci-compat']}\n"
    return reference


def write_json(path: Path, value: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))
    return path


def fake_helper(directory: Path, host: str, user: str, secret: str) -> Path:
    """A `docker-credential-fake` that answers for `host` only (the helper protocol)."""
    directory.mkdir(parents=True, exist_ok=True)
    helper = directory / "docker-credential-fake"
    answer = json.dumps({"ServerURL": host, "Username": user, "Secret": secret})
    helper.write_text(
        "#!/bin/sh\n"
        '[ "$1" = get ] || exit 2\n'
        f'[ "$(cat)" = "{host}" ] || {{ echo "{NOT_FOUND}"; exit 1; }}\n'
        f"echo '{answer}'\n"
    )
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    return directory


def environments(tmp_path: Path, host: str, user: str, password: str) -> dict[str, dict]:
    """The environment for each place credentials can come from."""
    helpers = fake_helper(tmp_path / "bin", host, user, password)
    return {
        "environment variables": env_variables(host, user, password),
        "docker config auth": {
            "DOCKER_CONFIG": str(
                write_json(
                    tmp_path / "docker" / "config.json",
                    {"auths": {f"https://{host}": {"auth": basic_auth(user, password)}}},
                ).parent
            )
        },
        "containers auth file": {
            "REGISTRY_AUTH_FILE": str(
                write_json(
                    tmp_path / "auth.json",
                    {"auths": {host: {"username": user, "password": password}}},
                )
            )
        },
        "credential helper": {
            "DOCKER_CONFIG": str(
                write_json(
                    tmp_path / "helper-config" / "config.json", {"credHelpers": {host: "fake"}}
                ).parent
            ),
            "PATH": f"{helpers}:{os.environ['PATH']}",
        },
    }


SOURCES = [
    "environment variables",
    "docker config auth",
    "containers auth file",
    "credential helper",
]


@pytest.mark.parametrize("source", SOURCES)
def test_a_pull_with_credentials_from(cli, private_registry, packaged, pushed, tmp_path, source):
    environment = environments(tmp_path, private_registry.host, USER, PASSWORD)[source]
    out = tmp_path / "out"
    result = run_cli(
        cli,
        "pull",
        pushed,
        "--out",
        out,
        "--ca-file",
        private_registry.ca_file,
        environment=environment,
    )
    assert result.returncode == 0, result.stderr
    assert (out / "plugin.wasm").read_bytes() == packaged.wasm


@pytest.mark.parametrize("source", SOURCES)
def test_wrong_credentials_from(cli, private_registry, pushed, tmp_path, source):
    wrong = "not-the-password-4711"
    environment = environments(tmp_path, private_registry.host, USER, wrong)[source]
    result = run_cli(
        cli,
        "pull",
        pushed,
        "--out",
        tmp_path / "out",
        "--ca-file",
        private_registry.ca_file,
        environment=environment,
    )
    assert result.returncode == 1, result.stdout
    assert f"the registry {private_registry.host} refused the credentials (401" in result.stderr
    assert wrong not in result.stderr + result.stdout
    assert len(result.stderr.splitlines()) == 1, result.stderr


def test_a_push_with_wrong_credentials(cli, private_registry, packaged):
    wrong = env_variables(private_registry.host, password="not-the-password-4711")
    result = run_cli(
        cli,
        "push",
        packaged.layout("oci-compat"),
        f"{private_registry.host}/mesh-lambda:denied",
        "--ca-file",
        private_registry.ca_file,
        environment=wrong,
    )
    assert result.returncode == 1
    assert "refused the credentials" in result.stderr
    assert "MESH_LAMBDA_REGISTRY_USERNAME/MESH_LAMBDA_REGISTRY_PASSWORD" in result.stderr
    assert "not-the-password-4711" not in result.stderr


def test_no_credentials_at_all(cli, private_registry, pushed, tmp_path):
    result = run_cli(cli, "pull", pushed, "--out", tmp_path, "--ca-file", private_registry.ca_file)
    assert result.returncode == 1
    assert "refused the credentials (401 unauthorized; credentials: none found" in result.stderr


def test_without_the_ca_file_the_certificate_is_not_trusted(
    cli, private_registry, pushed, tmp_path
):
    result = run_cli(
        cli, "pull", pushed, "--out", tmp_path, environment=env_variables(private_registry.host)
    )
    assert result.returncode == 1
    assert f"cannot reach the registry {private_registry.host}" in result.stderr
    assert "--ca-file" in result.stderr
