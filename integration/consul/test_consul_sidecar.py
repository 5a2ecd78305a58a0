"""The generator's entries in a Consul-shaped sidecar: the bootstrap Consul would give the
sidecar of `api`, with the Lambda upstream `authentication` from the generated escape-hatch
listener (inserted verbatim, as Consul does) and the generated static clusters, beside an
ordinary mesh upstream `billing` (mTLS to a second Envoy acting as billing's sidecar).

Lambda is reached the way the generated cluster reaches it, over TLS with its certificate
checked: here a test CA signs a certificate for `localhost`, and `host_rewrite` points the
filter at the capture hop, which serves HTTPS, verifies the signature and forwards to moto.
"""

import json
import os

from harness import client
from harness.app import RecordingApp
from harness.capture import CaptureHop
from harness.certificates import CertificateAuthority, serving_tls
from harness.consul import (
    Mesh,
    caller_bootstrap,
    generate,
    mesh_cluster_name,
    public_listener_bootstrap,
    read_entries,
    spiffe_id,
)
from harness.descriptions import description, lambda_upstream
from harness.expectations import invoke_path
from harness.processes import free_port
from harness.wasm_server import WasmServer, sha256_of


def start_lone_caller(start_bootstrap, entries, aws, tmp_path):
    """`api`'s sidecar from `entries`, its mesh upstream unused, with the IAM user's key."""
    mesh = Mesh.create(tmp_path / "mesh", ["api", "billing"])
    return start_bootstrap(
        "api-sidecar",
        caller_bootstrap(entries, mesh, "api", "billing", free_port(), free_port()),
        environment=aws.user_credentials.as_environment(),
    )


def test_lambda_and_mesh_upstreams_through_the_generated_sidecar(
    aws, cli, wasm_path, start_bootstrap, tmp_path
):
    lambda_ca = CertificateAuthority(tmp_path / "lambda-ca", "test Lambda CA")
    tls = serving_tls(lambda_ca)
    capture = CaptureHop(
        aws.port, aws.credentials_by_access_key(), region=aws.region, tls=tls
    ).start()
    app = RecordingApp(answer_body=os.urandom(3000)).start()
    try:
        auth_port, billing_port, billing_public = free_port(), free_port(), free_port()
        wanted = description(
            {"wasm_file": str(wasm_path)},
            lambda_ca.certificate,
            [lambda_upstream(aws.function_arn, capture.authority, local_bind_port=auth_port)],
        )
        entries = read_entries(generate(cli, wanted, tmp_path / "generator"))
        mesh = Mesh.create(tmp_path / "mesh", ["api", "billing"])
        start_bootstrap(
            "billing-sidecar", public_listener_bootstrap(mesh, "billing", billing_public, app.port)
        )
        api = start_bootstrap(
            "api-sidecar",
            caller_bootstrap(entries, mesh, "api", "billing", billing_port, billing_public),
            environment=aws.user_credentials.as_environment(),
        )

        # The Lambda upstream: invoked, signed, answered.
        payload = json.dumps({"user": "alice"}).encode()
        answer = client.call(
            f"http://127.0.0.1:{auth_port}",
            "POST",
            "/login",
            [("content-type", "application/json")],
            payload,
        )
        assert answer.status == 200, str(answer)
        assert answer.body == payload  # moto's function echoes its payload
        [invoked] = capture.requests
        assert invoked.verdict.ok, invoked.describe()
        assert invoked.path == invoke_path(aws.function_arn)
        assert invoked.header("host") == f"localhost:{capture.port}"

        # The ordinary upstream: byte-identical both ways, over mTLS as api.
        body = os.urandom(5000)
        answer = client.call(
            f"http://127.0.0.1:{billing_port}",
            "POST",
            "/orders?id=7",
            [("content-type", "application/octet-stream")],
            body,
        )
        assert answer.status == 200, str(answer)
        assert answer.body == app.answer_body
        [received] = app.requests
        assert (received.method, received.target, received.body) == ("POST", "/orders?id=7", body)
        assert f"URI={spiffe_id('api')}" in received.header("x-forwarded-client-cert")
        assert received.header("authorization") is None  # the filter is not on this path

        # Envoy's stats, under Consul's prefixes.
        stats = api.stats()
        assert stats["http.upstream.authentication.default.default.dc1.downstream_rq_2xx"] == 1
        assert stats["http.upstream.billing.default.default.dc1.downstream_rq_2xx"] == 1
        assert stats[f"cluster.{mesh_cluster_name('billing')}.upstream_rq_2xx"] == 1
        lambda_cluster = f"mesh-lambda.localhost_{capture.port}"
        assert stats[f"cluster.{lambda_cluster}.upstream_rq_2xx"] == 1
        assert stats[f"cluster.{lambda_cluster}.ssl.handshake"] >= 1
    finally:
        capture.stop()
        app.stop()


def test_lambdas_certificate_is_checked(aws, cli, wasm_path, start_bootstrap, tmp_path):
    """A server whose certificate the CA bundle does not vouch for gets nothing: the TLS
    handshake fails and the caller gets Envoy's 503."""
    trusted = CertificateAuthority(tmp_path / "trusted-ca", "trusted CA")
    impostor = CertificateAuthority(tmp_path / "impostor-ca", "impostor CA")
    capture = CaptureHop(aws.port, aws.credentials_by_access_key(), tls=serving_tls(impostor))
    capture.start()
    try:
        port = free_port()
        upstream = lambda_upstream(
            aws.function_arn, capture.authority, environment_credentials=False, local_bind_port=port
        )
        wanted = description({"wasm_file": str(wasm_path)}, trusted.certificate, [upstream])
        entries = read_entries(generate(cli, wanted, tmp_path / "generator"))
        api = start_lone_caller(start_bootstrap, entries, aws, tmp_path)
        answer = client.call(f"http://127.0.0.1:{port}", "POST", "/", body=b"{}")
        assert answer.status == 503, str(answer)
        assert capture.requests == []
        stats = api.stats()
        assert stats[f"cluster.mesh-lambda.localhost_{capture.port}.ssl.fail_verify_error"] >= 1
    finally:
        capture.stop()


def test_the_filter_loads_from_wasm_url(aws, cli, wasm_path, start_bootstrap, tmp_path):
    """With `wasm_url`, the generated listener fetches the .wasm over HTTPS through the
    generated `mesh-lambda.wasm-source` cluster (its certificate checked against the CA
    bundle), checks its sha256, and the filter serves a signed invoke."""
    lambda_ca = CertificateAuthority(tmp_path / "lambda-ca", "test Lambda CA")
    tls = serving_tls(lambda_ca)
    capture = CaptureHop(aws.port, aws.credentials_by_access_key(), region=aws.region, tls=tls)
    wasm_server = WasmServer(wasm_path, tls=tls)
    capture.start()
    wasm_server.start()
    try:
        port = free_port()
        wanted = description(
            {"wasm_url": wasm_server.url(), "wasm_sha256": sha256_of(wasm_path)},
            lambda_ca.certificate,
            [lambda_upstream(aws.function_arn, capture.authority, local_bind_port=port)],
        )
        entries = read_entries(generate(cli, wanted, tmp_path / "generator"))
        assert "mesh-lambda.wasm-source" in {c["name"] for c in entries.clusters()}
        api = start_lone_caller(start_bootstrap, entries, aws, tmp_path)
        answer = client.call(f"http://127.0.0.1:{port}", "POST", "/", body=b'{"a":1}')
        assert answer.status == 200, str(answer)
        [invoked] = capture.requests
        assert invoked.verdict.ok, invoked.describe()
        assert wasm_server.fetches >= 1
        assert api.stats()["cluster.mesh-lambda.wasm-source.ssl.handshake"] >= 1
    finally:
        capture.stop()
        wasm_server.stop()
