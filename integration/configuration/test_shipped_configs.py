"""The Envoy configurations the project ships pass `envoy --mode validate` as users run them:
from the repository root, with the freshly built filter at the relative path they name."""

import subprocess

import pytest
import yaml

from harness.envoy import FILTER_NAME, envoy_environment, next_base_id
from harness.paths import (
    ENVOY_BINARY,
    GATEWAY_ENVOY_CONFIG,
    LOCAL_ENVOY_CONFIG,
    REPO_ROOT,
    SIDECAR_ENVOY_CONFIG,
    STREAMING_ENVOY_CONFIG,
)

SHIPPED = [
    LOCAL_ENVOY_CONFIG,
    SIDECAR_ENVOY_CONFIG,
    STREAMING_ENVOY_CONFIG,
    GATEWAY_ENVOY_CONFIG,
]


def wasm_filename(config_path) -> str:
    return plugin_config(config_path)["vm_config"]["code"]["local"]["filename"]


def plugin_config(config_path) -> dict:
    config = yaml.safe_load(config_path.read_text())
    [listener] = config["static_resources"]["listeners"]
    [manager] = listener["filter_chains"][0]["filters"]
    [plugin] = [f for f in manager["typed_config"]["http_filters"] if f["name"] == FILTER_NAME]
    return plugin["typed_config"]["config"]


@pytest.mark.parametrize("config_path", SHIPPED, ids=lambda p: p.name)
def test_shipped_configs_fail_closed_and_reload(config_path):
    """The failure policy operations/test_faults.py tests, as the generators set it."""
    config = plugin_config(config_path)
    assert config["failure_policy"] == "FAIL_RELOAD"
    assert "fail_open" not in config


@pytest.mark.parametrize("config_path", SHIPPED, ids=lambda p: p.name)
def test_shipped_config_validates(wasm_path, config_path):
    assert (REPO_ROOT / wasm_filename(config_path)).resolve() == wasm_path
    relative = config_path.relative_to(REPO_ROOT)
    result = subprocess.run(
        [
            str(ENVOY_BINARY),
            "--mode",
            "validate",
            "-c",
            str(relative),
            "--base-id",
            str(next_base_id()),
            "--disable-hot-restart",
        ],
        cwd=REPO_ROOT,
        env=envoy_environment({}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"configuration '{relative}' OK" in output, output
