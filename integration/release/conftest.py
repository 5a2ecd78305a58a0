"""The release tooling's own tests: scripts/release_notes.py and scripts/sbom.py, loaded from
their files (scripts/ is not a package). ./scripts/release --dry-run, which ./scripts/test
runs, uses both on the repository itself."""

import importlib.util
import os
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, REPOSITORY / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session", autouse=True)
def _default_envoy_pass_only():
    """scripts/test runs the suite once per Envoy; no Envoy is involved here."""
    if os.environ.get("MESH_LAMBDA_ENVOY"):
        pytest.skip("no Envoy involved: the release tests run in the default-Envoy pass only")
