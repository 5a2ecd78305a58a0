"""The largest request a generated listener takes: the generators give the listener a buffer
of `max_request_bytes` plus 1 MiB, and Envoy's `per_connection_buffer_limit_bytes` is a
`uint32` (`envoy.config.listener.v3.Listener`), so a limit the generator accepts must make a
listener Envoy accepts. The filter bounds the limit at 64 MiB (Lambda takes 6 MB a request);
over it the generator refuses the description, writing nothing."""

import json
import subprocess

import pytest

from harness.bootstrap import validate
from harness.consul import Mesh, caller_bootstrap, read_entries
from harness.descriptions import description, lambda_upstream

BOUND = 64 * 1024 * 1024
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"  # the generators' default, present here


@pytest.mark.parametrize("limit", [BOUND, BOUND + 1, 2**32 - 1], ids=["bound", "over", "u32-max"])
def test_a_limit_the_generator_takes_makes_a_listener_envoy_takes(
    aws, cli, wasm_path, tmp_path, limit
):
    upstream = lambda_upstream(
        aws.function_arn,
        "localhost:8443",
        plugin={"payload_passthrough": True, "max_request_bytes": limit},
        local_bind_port=2345,
    )
    path = tmp_path / "description.json"
    wanted = description({"wasm_file": str(wasm_path)}, CA_BUNDLE, [upstream])
    path.write_text(json.dumps(wanted))
    out = tmp_path / "generated"
    run = subprocess.run(
        [str(cli), "consul", "generate", str(path), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if run.returncode != 0:
        assert limit > BOUND, run.stderr
        assert (
            f"upstreams[0].filter.max_request_bytes: expected a whole number from 1 to {BOUND}, "
            f"got {limit}"
        ) in run.stderr
        assert not out.exists()
        return
    entries = read_entries(out)
    mesh = Mesh.create(tmp_path / "mesh", ["api", "billing"])
    bootstrap = caller_bootstrap(entries, mesh, "api", "billing", 9191, 20000)
    [listener] = [
        listener
        for listener in bootstrap["static_resources"]["listeners"]
        if listener["name"].startswith("authentication:")
    ]
    assert listener["per_connection_buffer_limit_bytes"] == limit + 1024 * 1024
    result = validate(bootstrap, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert limit <= BOUND, "the generator took a limit over the bound"
