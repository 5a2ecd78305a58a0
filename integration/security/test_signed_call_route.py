"""The signed request is routed only where the caller's request was: never to another tenant of
a shared listener, and never to another upstream that invokes the same function.

Envoy selects the route again after the filter writes the request's headers: a wasm filter of
ABI 0.2.1 clears the route cache on every request-header write (Envoy's changelog, "the route
cache will not be cleared by default if the wasm extension modified the request headers and
the ABI version of wasm extension is larger then 0.2.1"; the filter's SDK speaks 0.2.1). A
virtual host is chosen by `:authority`, then a route by path and headers
(envoy.config.route.v3.VirtualHost.domains, RouteMatch.headers). So the filter keeps the
caller's `:authority` (the same virtual host is chosen again), adds its route key header, and
the route sets the Host it signed for and removes the key (RouteAction.host_rewrite_literal:
"during forwarding, the host header will be swapped with this value"; Route.
request_headers_to_remove). The capture hop checks the Host Lambda receives is the signed one.

Other tenants: a virtual host for `lambda.us-east-1.amazonaws.com` and one for
`*.amazonaws.com` (Envoy prefers both to `*`), each to a recorder, on the caller's listener:
in envoy/local.yaml, in the Envoy Gateway-shaped Gateway (harness/envoy_gateway.py: another
HTTPRoute with those hostnames) and in the Istio-shaped sidecar (harness/istio.py: another
team's ServiceEntry on port 80 holding the host). The filter signs for the real Lambda host;
its clusters reach the capture hop (TLS with a certificate for that name where the generator
makes TLS clusters)."""

import json
from urllib.parse import quote

import pytest

from harness import client
from harness.app import RecordingApp
from harness.capture import CannedResponse, CaptureHop
from harness.certificates import CertificateAuthority, serving_tls
from harness.competitors import add_competing_hosts, point_host_at
from harness.consul import generate
from harness.descriptions import description, lambda_upstream
from harness.envoy import plugin_configuration, render_config
from harness.envoy_gateway import gateway_bootstrap, read_resources
from harness.expectations import invoke_path
from harness.istio import read_resources as read_istio_resources
from harness.istio import sidecar_bootstrap
from harness.processes import free_port
from harness.wasm_server import WasmServer, sha256_of

COMPETING = [["lambda.us-east-1.amazonaws.com"], ["*.amazonaws.com"]]
LAMBDA_HOST = "lambda.us-east-1.amazonaws.com"
CALLER_HOST = "api.example.com"
MESH_HOST = "authentication.lambda.internal"
OCI_DIGEST = "sha256:" + "5e" * 32


@pytest.fixture
def competitor():
    app = RecordingApp(b"another team").start()
    yield app
    app.stop()


@pytest.fixture
def lambda_tls(aws, tmp_path):
    """Lambda's TLS endpoint under its real name: the capture hop, its certificate for the
    Lambda host from a test CA."""
    ca = CertificateAuthority(tmp_path / "lambda-ca", "test Lambda CA")
    hop = CaptureHop(
        aws.port,
        aws.credentials_by_access_key(),
        region=aws.region,
        tls=serving_tls(ca, LAMBDA_HOST),
    ).start()
    yield ca, hop
    hop.stop()


def assert_signed_call_reached_lambda_only(capture, competitor, function_arn, answer, body):
    assert competitor.requests == [], "another tenant received: " + "\n".join(
        f"{r.method} {r.target} {r.headers} {r.body!r}" for r in competitor.requests
    )
    assert answer.status == 200 and answer.body == body, str(answer)
    [invoked] = capture.requests
    assert invoked.verdict.ok, invoked.describe()
    assert invoked.header("host") == LAMBDA_HOST
    assert invoked.path == invoke_path(function_arn)
    assert invoked.header("x-mesh-lambda-route") is None, "the route key reached AWS"


@pytest.mark.parametrize("domains", COMPETING, ids=lambda d: d[0])
@pytest.mark.parametrize("passthrough", [True, False], ids=["passthrough", "event"])
def test_local_yaml(aws, capture, competitor, wasm_path, start_bootstrap, domains, passthrough):
    """envoy/local.yaml's listener, shared: the event format's call goes to the route's
    cluster directly (a callout is never routed), so only passthrough was ever exposed."""
    config = render_config(
        wasm_path=wasm_path,
        plugin_configuration=plugin_configuration(
            arn=aws.function_arn, payload_passthrough=passthrough
        ),
        lambda_port=capture.port,
    )
    add_competing_hosts(config, domains, competitor.port)
    envoy = start_bootstrap("local", config, aws.user_credentials.as_environment())

    body = b'{"payload": "secret"}'
    answer = client.call(envoy.url, "POST", "/", [("host", "127.0.0.1")], body)

    assert_signed_call_reached_lambda_only(capture, competitor, aws.function_arn, answer, body)


def _gateway(cli, wasm_server, wasm_path, ca, upstreams, other_app, tmp_path) -> dict:
    """The Envoy Gateway-shaped Gateway's bootstrap for `upstreams`, its catch-all HTTPRoute
    to `other_app`."""
    wanted = description(
        {"wasm_url": wasm_server.url(), "wasm_sha256": sha256_of(wasm_path)},
        ca.certificate,
        upstreams,
    )
    resources = read_resources(generate(cli, wanted, tmp_path / "generator", "envoy-gateway"))
    return gateway_bootstrap(
        resources,
        listener_port=free_port(),
        other_app_port=other_app.port,
        system_ca=ca.certificate,
    )


@pytest.mark.parametrize("domains", COMPETING, ids=lambda d: d[0])
def test_envoy_gateway(
    aws, cli, wasm_path, lambda_tls, competitor, start_bootstrap, tmp_path, domains
):
    ca, capture = lambda_tls
    wasm_server = WasmServer(wasm_path).start()
    try:
        upstreams = [lambda_upstream(aws.function_arn, LAMBDA_HOST)]
        bootstrap = _gateway(cli, wasm_server, wasm_path, ca, upstreams, competitor, tmp_path)
        assert point_host_at(bootstrap, LAMBDA_HOST, capture.port) == 1
        add_competing_hosts(bootstrap, domains, competitor.port)
        gateway = start_bootstrap("gateway", bootstrap, aws.user_credentials.as_environment())

        body = b'{"payload": "secret"}'
        answer = client.call(
            gateway.url, "POST", "/authentication/login", [("host", CALLER_HOST)], body
        )

        assert_signed_call_reached_lambda_only(capture, competitor, aws.function_arn, answer, body)
        a_caller_naming_the_other_host_reaches_it_unsigned(gateway.url, "/authentication/x")
        assert_the_other_tenant_got_nothing_signed(competitor)
    finally:
        wasm_server.stop()


def a_caller_naming_the_other_host_reaches_it_unsigned(url: str, path: str) -> None:
    """The caller's own request for the other tenant's host is selected into that tenant's
    route, where the filter is off (the generators enable it on their routes only)."""
    answer = client.call(url, "POST", path, [("host", LAMBDA_HOST)], b"{}")
    assert answer.status == 200 and answer.body == b"another team", str(answer)


def assert_the_other_tenant_got_nothing_signed(competitor) -> None:
    [received] = competitor.requests
    for name in ["authorization", "x-amz-security-token", "x-amz-date", "x-mesh-lambda-route"]:
        assert received.header(name) is None, f"{name} reached another tenant"


@pytest.mark.parametrize("domains", COMPETING, ids=lambda d: d[0])
def test_istio(aws, cli, wasm_path, lambda_tls, competitor, start_bootstrap, tmp_path, domains):
    ca, capture = lambda_tls
    wanted = description(
        {"oci_image": "oci://registry.example.com/mesh-lambda:0.1.0", "oci_digest": OCI_DIGEST},
        ca.certificate,
        [lambda_upstream(aws.function_arn, LAMBDA_HOST)],
    )
    resources = read_istio_resources(generate(cli, wanted, tmp_path / "generator", "istio"))
    port = free_port()
    bootstrap = sidecar_bootstrap(
        resources,
        listener_port=port,
        passthrough_port=competitor.port,
        wasm_path=wasm_path,
        oci_digest=OCI_DIGEST.removeprefix("sha256:"),
        workdir=tmp_path,
    )
    assert point_host_at(bootstrap, LAMBDA_HOST, capture.port) >= 1
    add_competing_hosts(bootstrap, domains, competitor.port)
    start_bootstrap("api-sidecar", bootstrap, aws.user_credentials.as_environment())
    url = f"http://127.0.0.1:{port}"

    body = b'{"payload": "secret"}'
    answer = client.call(url, "POST", "/", [("host", MESH_HOST)], body)

    assert_signed_call_reached_lambda_only(capture, competitor, aws.function_arn, answer, body)
    a_caller_naming_the_other_host_reaches_it_unsigned(url, "/")
    assert_the_other_tenant_got_nothing_signed(competitor)


def test_two_upstreams_invoking_one_function_reach_their_own_clusters(
    aws, cli, wasm_path, start_bootstrap, tmp_path, competitor
):
    """Two HTTPRoutes of one Gateway for one ARN (one unqualified, one for alias `live`): the
    signed requests have the same path (a route's path match ignores the query), so only the
    route key tells them apart. Each must leave by its own upstream's cluster, signed for its
    own qualifier."""
    ca = CertificateAuthority(tmp_path / "lambda-ca", "test Lambda CA")
    capture = CaptureHop(
        aws.port, aws.credentials_by_access_key(), region=aws.region, tls=serving_tls(ca)
    ).start()
    # Answered here: moto knows no alias `live`.
    capture.answer_with(
        CannedResponse(200, [("content-type", "application/json")], b'{"ok": true}')
    )
    wasm_server = WasmServer(wasm_path).start()
    try:
        upstreams = [
            lambda_upstream(aws.function_arn, capture.authority, name="latest"),
            lambda_upstream(
                aws.function_arn, capture.authority, name="live", plugin={"qualifier": "live"}
            ),
        ]
        bootstrap = _gateway(cli, wasm_server, wasm_path, ca, upstreams, competitor, tmp_path)
        gateway = start_bootstrap("gateway", bootstrap, aws.user_credentials.as_environment())

        for name in ["live", "latest", "live"]:
            answer = client.call(
                gateway.url,
                "POST",
                f"/{name}/x",
                [("host", CALLER_HOST)],
                json.dumps(name).encode(),
            )
            assert answer.status == 200, str(answer)

        stats = gateway.stats()
        sent = {
            name: stats[f"cluster.httproute/default/mesh-lambda-{name}/rule/0.upstream_rq_total"]
            for name in ["latest", "live"]
        }
        assert sent == {"latest": 1, "live": 2}, sent
        for invoked in capture.requests:
            assert invoked.verdict.ok, invoked.describe()
            assert invoked.path == invoke_path(aws.function_arn)
        qualifiers = [(r.body, r.query) for r in capture.requests]
        live = f"Qualifier={quote('live')}"
        assert qualifiers == [(b'"live"', live), (b'"latest"', ""), (b'"live"', live)]
        assert competitor.requests == []
    finally:
        wasm_server.stop()
        capture.stop()


def test_a_route_without_the_host_rewrite_fails_at_lambda_and_says_why(
    aws, capture, wasm_path, start_bootstrap
):
    """A hand-written route from before the filter kept the caller's `:authority`: the signed
    request still goes only to the Lambda cluster, signed, but with the caller's Host, which
    Lambda refuses (403 InvalidSignatureException, played by the capture hop); the filter's
    log names what the route lacks."""
    config = render_config(
        wasm_path=wasm_path,
        plugin_configuration=plugin_configuration(arn=aws.function_arn, payload_passthrough=True),
        lambda_port=capture.port,
    )
    [listener] = config["static_resources"]["listeners"]
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    del manager["route_config"]["virtual_hosts"][0]["routes"][0]["route"]["host_rewrite_literal"]
    refused = json.dumps({"message": "The request signature we calculated does not match"})
    capture.answer_with(
        CannedResponse(
            403,
            [
                ("content-type", "application/json"),
                ("x-amzn-errortype", "InvalidSignatureException"),
            ],
            refused.encode(),
        )
    )
    envoy = start_bootstrap("local", config, aws.user_credentials.as_environment())

    answer = client.call(envoy.url, "POST", "/", [("host", CALLER_HOST)], b"{}")

    assert answer.status == 403, str(answer)
    [invoked] = capture.requests
    assert invoked.header("host") == CALLER_HOST
    assert (invoked.header("authorization") or "").startswith("AWS4-HMAC-SHA256 ")
    assert not invoked.verdict.ok, "signed for the Lambda host, not the caller's"
    envoy.stop()  # flushes its log
    assert "must set that Host (host_rewrite_literal)" in envoy.log_text()
