"""`./scripts/run` with LAMBDA_ARN (scripts/serve.py) writes envoy/sidecar.yaml for that ARN:
the filter signs for the Lambda host of the ARN's region and partition, and the route must
send exactly that host (the filter keeps the caller's :authority), to a cluster whose endpoint
and SNI are that host. A host that differs anywhere is a 403 from Lambda."""

import json
import subprocess
import sys
from pathlib import Path

import botocore
import pytest
import yaml

from harness.envoy import envoy_environment, next_base_id
from harness.paths import ENVOY_BINARY, REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))
import serve

ARNS = [
    "arn:aws:lambda:eu-west-1:111122223333:function:reports",
    "arn:aws-cn:lambda:cn-north-1:111122223333:function:reports",
    "arn:aws-us-gov:lambda:us-gov-west-1:111122223333:function:reports:live",
]


def partitions_dns_suffixes() -> dict:
    """Each partition's dnsSuffix, from botocore's own endpoint data."""
    data = json.loads((Path(botocore.__file__).parent / "data" / "partitions.json").read_text())
    return {p["id"]: p["outputs"]["dnsSuffix"] for p in data["partitions"]}


def test_the_partition_domains_are_botocores():
    suffixes = partitions_dns_suffixes()
    for partition, domain in serve.PARTITION_DOMAINS.items():
        assert suffixes[partition] == domain, partition


@pytest.mark.parametrize("arn", ARNS)
def test_route_cluster_and_sni_carry_the_host_signed_for(wasm_path, tmp_path, arn):
    region, partition = arn.split(":")[3], arn.split(":")[1]
    host = f"lambda.{region}.{partitions_dns_suffixes()[partition]}"
    config = serve.real_aws_config(arn)

    listener = config["static_resources"]["listeners"][0]
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    routes = [r for vh in manager["route_config"]["virtual_hosts"] for r in vh["routes"]]
    assert routes and all(r["route"]["host_rewrite_literal"] == host for r in routes)
    cluster = config["static_resources"]["clusters"][0]
    endpoint = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    assert endpoint["address"]["socket_address"]["address"] == host
    assert cluster["transport_socket"]["typed_config"]["sni"] == host
    assert json.loads(serve.filter_plugin(config)["configuration"]["value"])["arn"] == arn

    path = tmp_path / "envoy.yaml"
    path.write_text(yaml.safe_dump(config))
    result = subprocess.run(
        [str(ENVOY_BINARY), "--mode", "validate", "-c", str(path)]
        + ["--base-id", str(next_base_id()), "--disable-hot-restart"],
        cwd=REPO_ROOT,
        env=envoy_environment({}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
