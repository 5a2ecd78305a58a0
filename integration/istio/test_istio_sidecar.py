"""`mesh-lambda istio generate`: its resources parse as Kubernetes reads them, and run in an
Istio-shaped sidecar (harness/istio.py) against moto, Lambda's TLS endpoint played by the
capture hop (a certificate for `localhost` from a test CA; `host_rewrite` points the filter
at it), which checks every signature.

The Lambda upstream is called by its mesh host. The filter rewrites `:path` (keeping
`:authority`) and Envoy selects the route again: the signed request must leave through the
mesh host's TLS cluster, never through `allow_any`'s plaintext PassthroughCluster (a recorder
here)."""

import pytest

from harness import client
from harness.app import RecordingApp
from harness.bootstrap import validate
from harness.capture import CaptureHop
from harness.certificates import CertificateAuthority, serving_tls
from harness.consul import generate
from harness.descriptions import description, lambda_upstream
from harness.expectations import invoke_small_and_large
from harness.istio import (
    OUTBOUND_LISTENER,
    PASSTHROUGH,
    IstioResources,
    read_resources,
    sidecar_bootstrap,
)
from harness.paths import REPO_ROOT
from harness.processes import free_port

EXAMPLE = REPO_ROOT / "envoy" / "istio" / "example"
DIGEST = "sha256:" + "5e" * 32
MESH_HOST = "authentication.lambda.internal"
EVENTS_HOST = "events.lambda.internal"


@pytest.fixture(scope="module")
def example() -> IstioResources:
    return read_resources(EXAMPLE)


def test_the_example_resources(example):
    entries = {e["metadata"]["name"]: e for e in example.service_entries}
    # No entry for a Lambda host: the signed request stays in its mesh host's virtual host.
    assert set(entries) == {"mesh-lambda-authentication", "mesh-lambda-reports"}
    every = [*example.service_entries, *example.destination_rules, example.envoy_filter]
    assert {r["metadata"]["namespace"] for r in every} == {"shop"}
    assert {r["apiVersion"] for r in every} == {
        "networking.istio.io/v1",
        "networking.istio.io/v1alpha3",
    }
    assert {r["spec"]["host"] for r in example.destination_rules} == {
        "authentication.lambda.internal",
        "reports.lambda.internal",
    }
    assert example.envoy_filter["spec"]["workloadSelector"] == {"labels": {"app": "api"}}
    configs = [p["patch"]["value"] for p in example.patches("EXTENSION_CONFIG")]
    assert [c["name"] for c in configs] == ["mesh-lambda-authentication", "mesh-lambda-reports"]
    for c in configs:
        wasm = c["typed_config"]["config"]
        assert wasm["allow_on_headers_stop_iteration"] is True
        assert wasm["failure_policy"] == "FAIL_RELOAD"
        assert wasm["vm_config"]["vm_id"] == "mesh-lambda"
        remote = wasm["vm_config"]["code"]["remote"]
        assert remote["http_uri"]["uri"] == "oci://registry.example.com/mesh-lambda:0.1.0"
        assert remote["sha256"] == "0" * 64
    filters = [p["patch"]["value"] for p in example.patches("HTTP_FILTER")]
    assert all(f["disabled"] is True for f in filters)


def test_the_example_sidecar_validates(example, wasm_path, tmp_path):
    bootstrap = sidecar_bootstrap(
        example,
        listener_port=15080,
        passthrough_port=15081,
        wasm_path=wasm_path,
        oci_digest="0" * 64,
        workdir=tmp_path,
    )
    result = validate(bootstrap, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_lambda_upstream_through_the_generated_sidecar(
    aws, cli, wasm_path, start_bootstrap, tmp_path
):
    lambda_ca = CertificateAuthority(tmp_path / "lambda-ca", "test Lambda CA")
    tls = serving_tls(lambda_ca)
    capture = CaptureHop(aws.port, aws.credentials_by_access_key(), region=aws.region, tls=tls)
    passthrough = RecordingApp(answer_body=b"passthrough").start()
    capture.start()
    try:
        wanted = description(
            {"oci_image": "oci://registry.example.com/mesh-lambda:0.1.0", "oci_digest": DIGEST},
            lambda_ca.certificate,
            [
                lambda_upstream(aws.function_arn, capture.authority),
                lambda_upstream(
                    aws.function_arn,
                    capture.authority,
                    name="events",
                    plugin={"payload_passthrough": False},
                ),
            ],
        )
        resources = read_resources(generate(cli, wanted, tmp_path / "generator", "istio"))
        port = free_port()
        bootstrap = sidecar_bootstrap(
            resources,
            listener_port=port,
            passthrough_port=passthrough.port,
            wasm_path=wasm_path,
            oci_digest=DIGEST.removeprefix("sha256:"),
            workdir=tmp_path,
        )
        sidecar = start_bootstrap(
            "api-sidecar", bootstrap, environment=aws.user_credentials.as_environment()
        )
        url = f"http://127.0.0.1:{port}"

        # One call above Envoy's default 1 MiB buffer (raised by the LISTENER patch).
        invoke_small_and_large(url, MESH_HOST, "/login", capture, aws.function_arn)

        # An event-format upstream: the filter calls Lambda itself through the cluster of the
        # route it was selected by (the request's headers are never rewritten): the mesh
        # host's, which must originate TLS too.
        body = b'{"event": 1}'
        answer = client.call(url, "POST", "/e", [("host", EVENTS_HOST)], body)
        assert answer.status == 200 and answer.body == body, str(answer)
        assert len(capture.requests) == 3 and capture.requests[2].verdict.ok

        # Any other host: allow_any, untouched (the filter is disabled there).
        answer = client.call(url, "GET", "/", [("host", "example.org")])
        assert answer.status == 200 and answer.body == b"passthrough", str(answer)
        [passed] = passthrough.requests
        assert passed.header("authorization") is None

        # The signed requests left by the mesh host's route (Envoy selected the route again
        # after the filter's write, in the virtual host of the caller's :authority, kept),
        # over TLS; none by the passthrough, and no cluster for the Lambda host exists.
        stats = sidecar.stats()
        mesh_cluster = f"cluster.outbound|80||{MESH_HOST}"
        assert stats[f"{mesh_cluster}.upstream_rq_2xx"] == 2
        assert stats[f"{mesh_cluster}.ssl.handshake"] >= 1
        assert not any(name.startswith("cluster.outbound|80||localhost.") for name in stats)
        assert stats[f"cluster.outbound|80||{EVENTS_HOST}.upstream_rq_2xx"] == 1
        assert stats[f"cluster.outbound|80||{EVENTS_HOST}.ssl.handshake"] == 1
        assert stats[f"cluster.{PASSTHROUGH}.upstream_rq_total"] == 1
        assert stats[f"http.outbound_{OUTBOUND_LISTENER}.downstream_rq_2xx"] == 4
    finally:
        capture.stop()
        passthrough.stop()
