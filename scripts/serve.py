"""The main job: Envoy with mesh-lambda on 127.0.0.1:2345.

Without LAMBDA_ARN: a local AWS emulator (moto server on 127.0.0.1:5000, signature checking
on) holding a function `authentication` that echoes its payload, and Envoy on
envoy/local.yaml with credentials the emulator issued.
With LAMBDA_ARN (and AWS credentials in the environment): Envoy on envoy/sidecar.yaml with
that ARN, in front of the real lambda.<region>.<partition's domain>.
Runs until interrupted; stops what it started.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from integration.harness.aws import MotoServer, provision  # noqa: E402
from integration.harness.paths import ENVOY_BINARY  # noqa: E402

EMULATOR_PORT = 5000
LISTENER = "127.0.0.1:2345"


def filter_plugin(config: dict) -> dict:
    http_filters = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0][
        "typed_config"
    ]["http_filters"]
    return next(f for f in http_filters if f["name"] == "mesh-lambda")["typed_config"]["config"]


def real_aws_config(arn: str) -> dict:
    """envoy/sidecar.yaml for `arn`: the filter's ARN and the cluster's regional endpoint."""
    config = yaml.safe_load((REPO_ROOT / "envoy" / "sidecar.yaml").read_text())
    plugin = filter_plugin(config)
    fields = json.loads(plugin["configuration"]["value"])
    fields["arn"] = arn
    plugin["configuration"]["value"] = json.dumps(fields)
    host = lambda_host(arn)
    cluster = config["static_resources"]["clusters"][0]
    endpoint = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    endpoint["address"]["socket_address"]["address"] = host
    cluster["transport_socket"]["typed_config"]["sni"] = host
    # The filter signs for the Lambda host and keeps the caller's :authority; the route sends
    # the host the signature covers.
    route_config = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0][
        "typed_config"
    ]["route_config"]
    for virtual_host in route_config["virtual_hosts"]:
        for route in virtual_host["routes"]:
            route["route"]["host_rewrite_literal"] = host
    return config


# The DNS suffix of each partition's endpoints (botocore's data/partitions.json), as the
# filter derives its default host (crates/core/src/arn.rs).
PARTITION_DOMAINS = {
    "aws": "amazonaws.com",
    "aws-cn": "amazonaws.com.cn",
    "aws-us-gov": "amazonaws.com",
    "aws-iso": "c2s.ic.gov",
    "aws-iso-b": "sc2s.sgov.gov",
    "aws-iso-e": "cloud.adc-e.uk",
    "aws-iso-f": "csp.hci.ic.gov",
    "aws-eusc": "amazonaws.eu",
}


def lambda_host(arn: str) -> str:
    """lambda.<region>.<partition's domain> for `arn` (the filter refuses a malformed ARN at
    start with a message naming it; an unknown partition falls back to amazonaws.com here)."""
    parts = arn.split(":")
    partition = parts[1] if len(parts) > 1 else "aws"
    region = parts[3] if len(parts) > 3 else ""
    return f"lambda.{region}.{PARTITION_DOMAINS.get(partition, 'amazonaws.com')}"


def run_envoy(config: dict, environment: dict) -> int:
    with tempfile.TemporaryDirectory(prefix="mesh-lambda-") as tmp:
        path = Path(tmp) / "envoy.yaml"
        path.write_text(yaml.safe_dump(config))
        # Envoy's warnings, plus the filter's own info lines.
        command = [
            str(ENVOY_BINARY),
            "-c",
            str(path),
            "--log-level",
            "warn",
            "--component-log-level",
            "wasm:info",
        ]
        envoy = subprocess.Popen(command, cwd=REPO_ROOT, env=environment)
        try:
            return envoy.wait()
        except KeyboardInterrupt:
            envoy.send_signal(signal.SIGTERM)
            return envoy.wait(timeout=15)


def stop_on_sigterm(_signum, _frame):
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    arn = os.environ.get("LAMBDA_ARN", "").strip()
    if arn:
        if not os.environ.get("AWS_ACCESS_KEY_ID"):
            print("serve: LAMBDA_ARN is set but AWS_ACCESS_KEY_ID is not", file=sys.stderr)
            return 2
        print(f"mesh-lambda: Envoy on {LISTENER} invoking {arn} on AWS")
        return run_envoy(real_aws_config(arn), dict(os.environ))

    logs = Path(tempfile.mkdtemp(prefix="mesh-lambda-emulator-"))
    moto = MotoServer(logs / "moto.log", port=EMULATOR_PORT)
    moto.start()
    try:
        world = provision(moto)
        config = yaml.safe_load((REPO_ROOT / "envoy" / "local.yaml").read_text())
        environment = {**os.environ, **world.user_credentials.as_environment()}
        environment.pop("AWS_SESSION_TOKEN", None)
        example = '{"hello":"mesh"}'
        print(
            f"mesh-lambda: Envoy on {LISTENER} invoking {world.function_arn} on the local "
            f"emulator at {world.endpoint} (log: {logs / 'moto.log'}). Try:\n"
            f"  curl -s {LISTENER}/ -H 'content-type: application/json' -d '{example}'\n"
            "Ctrl-C stops it.",
            flush=True,
        )
        return run_envoy(config, environment)
    finally:
        moto.stop()


if __name__ == "__main__":
    sys.exit(main())
