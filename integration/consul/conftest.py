"""Fixtures of the Consul tests."""

import pytest

from harness.consul import build_cli


@pytest.fixture(scope="session")
def cli():
    """The host-side `mesh-lambda` command, built by this run."""
    return build_cli()
