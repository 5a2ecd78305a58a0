"""A caller in transparent-proxy mode reaches a Lambda function through the gateway by the
virtual IP of `authentication` (a name with no instances, only a service-router) and by the
gateway's own virtual IP; a destination outside the mesh takes the default chain untouched.

Three Envoys, as Consul would shape them:
- the caller's (`api`) sidecar: Consul's transparent-proxy outbound listener (harness/
  transparent_proxy.py: original_dst listener filter, one filter chain per upstream matched by
  `prefix_ranges` on its virtual IPs, the default chain to `original-destination`), with the
  routes Consul compiles from a service-router on `authentication` (destination
  `lambda-gateway`, `PrefixRewrite = "/authentication/"`) and the default route of the
  gateway's own upstream, both to the gateway's mesh cluster over mTLS with `api`'s
  certificate (hashicorp/consul agent/xds/testdata/clusters/transparent-proxy.latest.golden:
  SNI and SPIFFE SAN as in harness/consul.py);
- the gateway's sidecar: the public listener (mTLS required, XFCC set with the client
  certificate's URI), in front of
- the gateway: mesh-lambda in the `functions` form, `/authentication/` routed to the function.

The virtual IPs are Consul's first two auto-assigned ones (240.0.0.1 for the first service
given a VIP: hashicorp/consul agent/consul/discovery_chain_endpoint_test.go, a chain created by
a service-resolver alone gets `AutoVirtualIPs: ["240.0.0.1"]`). No packet goes to them: the
stand-in for iptables hands the outbound listener the original destination as internal-listener
metadata (see harness/transparent_proxy.py), so what this shows is Envoy choosing the filter
chain by the restored destination, not the kernel's redirection or Consul's DNS.
"""

import json

import requests

from harness.app import RecordingApp
from harness.bootstrap import admin
from harness.consul import (
    Mesh,
    mesh_cluster_name,
    mesh_upstream_cluster,
    public_listener_bootstrap,
    spiffe_id,
)
from harness.envoy import render_config
from harness.expectations import assert_every_request_verified, invoke_path
from harness.gateway import lambda_routes
from harness.transparent_proxy import (
    INTERNAL_LISTENER_EXTENSION,
    OUTBOUND_LISTENER,
    original_destination_cluster,
    outbound_listener,
    redirection,
    router_route_config,
    upstream_chain,
)

CALLER = "api"
GATEWAY = "lambda-gateway"
VIRTUAL_SERVICE = "authentication"
VIRTUAL_SERVICE_VIP = "240.0.0.1"
GATEWAY_VIP = "240.0.0.2"
PREFIX = f"/{VIRTUAL_SERVICE}/"


def _gateway_config(aws, capture, wasm_path) -> dict:
    """The gateway Envoy: one function, `authentication`, on the prefix the router rewrites
    to; the envoy event format, so the capture hop sees the path and headers it got."""
    configuration = json.dumps(
        {"functions": {VIRTUAL_SERVICE: {"arn": aws.function_arn, "payload_passthrough": False}}}
    )
    config = render_config(
        wasm_path=wasm_path, plugin_configuration=configuration, lambda_port=capture.port
    )
    resources = config["static_resources"]
    manager = resources["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    # The connection from the gateway's sidecar is plain HTTP on 127.0.0.1: with Envoy's
    # default (SANITIZE) the sidecar's XFCC is dropped here (seen: the event had none), so the
    # gateway keeps it as received. envoyproxy/envoy test/common/http/
    # conn_manager_utility_test.cc, TlsAlwaysForwardOnlyClientCert: "always_forward_only works
    # regardless whether the connection is TLS/mTLS"; http_connection_manager.proto,
    # ForwardClientCertDetails. Sound only where nothing but the sidecar can reach the listener.
    manager["forward_client_cert_details"] = "ALWAYS_FORWARD_ONLY"
    lambda_cluster = resources["clusters"][0]["name"]
    manager["route_config"]["virtual_hosts"][0]["routes"] = lambda_routes(
        VIRTUAL_SERVICE, aws.function_arn, aws.region, lambda_cluster, PREFIX
    )
    return config


def _router_routes() -> list[dict]:
    """The routes Consul compiles for `authentication` from its service-router: the router's
    one route (match `/`, destination `lambda-gateway`, PrefixRewrite), then the chain's own
    default route to `authentication`'s cluster, which has no endpoints (routes golden
    connect-proxy-with-chain-and-router: `prefixRewrite` on the route action, the default
    route last)."""
    return [
        {
            "match": {"prefix": "/"},
            "route": {"cluster": mesh_cluster_name(GATEWAY), "prefix_rewrite": PREFIX},
        },
        {"match": {"prefix": "/"}, "route": {"cluster": mesh_cluster_name(VIRTUAL_SERVICE)}},
    ]


def _caller_sidecar(
    mesh: Mesh,
    gateway_sidecar_port: int,
    redirections: list[tuple[str, str]],
    virtual_service_vip: str = VIRTUAL_SERVICE_VIP,
) -> dict:
    """The caller's sidecar: the outbound listener with the chains of its two upstreams and,
    for each (name, "ip:port") of `redirections`, a stand-in redirection of a connection
    opened to that destination. Without redirections the outbound listener is a socket on
    127.0.0.1, as Consul binds it."""
    gateway_routes = [{"match": {"prefix": "/"}, "route": {"cluster": mesh_cluster_name(GATEWAY)}}]
    chains = [
        upstream_chain(
            VIRTUAL_SERVICE,
            [virtual_service_vip],
            router_route_config(VIRTUAL_SERVICE, _router_routes()),
        ),
        upstream_chain(GATEWAY, [GATEWAY_VIP], router_route_config(GATEWAY, gateway_routes)),
    ]
    listeners = [outbound_listener(chains, internal=bool(redirections))]
    clusters = [
        mesh_upstream_cluster(mesh, CALLER, GATEWAY, gateway_sidecar_port),
        _no_instances(mesh_cluster_name(VIRTUAL_SERVICE)),
        original_destination_cluster(),
    ]
    for name, destination in redirections:
        listener, cluster = redirection(name, destination)
        listeners.append(listener)
        clusters.append(cluster)
    bootstrap = {
        "admin": admin(),
        "node": {"id": f"{CALLER}-sidecar-proxy", "cluster": CALLER},
        "static_resources": {"listeners": listeners, "clusters": clusters},
    }
    if redirections:
        bootstrap["bootstrap_extensions"] = [INTERNAL_LISTENER_EXTENSION]
    return bootstrap


def _start_gateway(aws, capture, wasm_path, start_bootstrap, mesh: Mesh) -> int:
    """The gateway Envoy and its sidecar; the port of the sidecar's public listener."""
    gateway = start_bootstrap(
        "gateway", _gateway_config(aws, capture, wasm_path), aws.user_credentials.as_environment()
    )
    gateway_port = int(gateway.url.rsplit(":", 1)[1])
    sidecar = start_bootstrap(
        "gateway-sidecar", public_listener_bootstrap(mesh, GATEWAY, 0, gateway_port)
    )
    return int(sidecar.url.rsplit(":", 1)[1])


def _no_instances(name: str) -> dict:
    """The cluster of a service that only exists through config entries: no endpoints."""
    return {
        "name": name,
        "type": "STATIC",
        "connect_timeout": "5s",
        "load_assignment": {"cluster_name": name, "endpoints": []},
    }


def _call(url: str, method: str, target: str, headers: dict, body: bytes) -> requests.Response:
    """One request on a kept-alive connection, closed by the caller once answered. (With
    `Connection: close`, as harness/client.py sends, the HTTP connection manager on the
    internal listener closes first and the answer never reached the caller: seen on 1.40.)"""
    with requests.Session() as session:
        return session.request(method, url + target, headers=headers, data=body, timeout=30)


def _event(request) -> dict:
    return json.loads(request.body)


def test_virtual_ips_reach_the_function_through_the_gateway_and_others_pass_through(
    aws, capture, wasm_path, start_bootstrap, tmp_path
):
    mesh = Mesh.create(tmp_path / "mesh", [CALLER, GATEWAY])
    outside_app = RecordingApp(b"outside answer", "text/plain").start()
    try:
        sidecar_port = _start_gateway(aws, capture, wasm_path, start_bootstrap, mesh)
        redirections = [
            ("virtual_service", f"{VIRTUAL_SERVICE_VIP}:80"),
            ("virtual_service_8080", f"{VIRTUAL_SERVICE_VIP}:8080"),
            ("gateway", f"{GATEWAY_VIP}:80"),
            ("outside", f"127.0.0.1:{outside_app.port}"),
        ]
        caller = start_bootstrap(
            "caller-sidecar", _caller_sidecar(mesh, sidecar_port, redirections)
        )

        # The app dials authentication.virtual.consul (port 80, then 8080): the router's
        # chain takes both, rewrites the path and sends it to the gateway over mTLS.
        sent = [
            ("virtual_service", f"{VIRTUAL_SERVICE}.virtual.consul", "/login?next=1"),
            ("virtual_service_8080", f"{VIRTUAL_SERVICE}.virtual.consul:8080", "/check"),
            # The gateway's own name: its default chain, the caller names the prefix itself.
            ("gateway", f"{GATEWAY}.virtual.consul", f"{PREFIX}direct"),
        ]
        for redirect, host, target in sent:
            answer = _call(
                caller.listener_url(f"redirect_{redirect}"),
                "POST",
                target,
                {"host": host, "content-type": "application/json"},
                b'{"user": "alice"}',
            )
            assert answer.status_code == 200, f"{redirect}: {answer.status_code} {answer.text}"

        assert len(capture.requests) == len(sent), capture.describe()
        assert_every_request_verified(capture)
        expected_paths = [f"{PREFIX}login?next=1", f"{PREFIX}check", f"{PREFIX}direct"]
        for request, path in zip(capture.requests, expected_paths, strict=True):
            assert request.target == invoke_path(aws.function_arn)
            event = _event(request)
            assert event["raw_path"] == path
            assert event["body"] == '{"user": "alice"}'
            # Only the gateway's sidecar vouches for the caller: the certificate `api`'s
            # sidecar presented, in the XFCC element the sidecar set.
            assert f"URI={spiffe_id(CALLER)}" in event["headers"]["x-forwarded-client-cert"]

        # A destination no upstream's virtual IP covers: the default chain, a TCP proxy to the
        # original destination, the request as the app sent it (no rewrite, no mesh).
        outside = _call(
            caller.listener_url("redirect_outside"),
            "PUT",
            "/login?next=1",
            {"host": "example.test"},
            b"as it is",
        )
        assert outside.status_code == 200, outside.text
        assert outside.content == b"outside answer"
        (received,) = outside_app.requests
        assert [received.method, received.target, received.body] == [
            "PUT",
            "/login?next=1",
            b"as it is",
        ]
        assert received.header("x-forwarded-client-cert") is None
        assert len(capture.requests) == len(sent), capture.describe()

        stats = caller.stats()
        assert stats["http.upstream.authentication.default.default.dc1.downstream_rq_total"] == 2
        assert stats["http.upstream.lambda-gateway.default.default.dc1.downstream_rq_total"] == 1
        assert stats["tcp.upstream.original-destination.downstream_cx_total"] == 1
    finally:
        outside_app.stop()


def test_a_connection_made_straight_to_the_outbound_listener_keeps_its_own_address(
    aws, capture, wasm_path, start_bootstrap, tmp_path
):
    """The outbound listener bound as Consul binds it, a socket on 127.0.0.1, and a connection
    made straight to it (nothing redirected it): the destination after the original_dst filter
    is the listener's own address (the socket has no other original destination), so the chain
    matching 127.0.0.1/32 takes it (the stand-in virtual IP that 127.0.0.1 alone allows). This
    is the filter's socket path; what a redirection would restore is the other test's
    subject."""
    mesh = Mesh.create(tmp_path / "mesh", [CALLER, GATEWAY])
    sidecar_port = _start_gateway(aws, capture, wasm_path, start_bootstrap, mesh)
    caller = start_bootstrap(
        "caller-sidecar", _caller_sidecar(mesh, sidecar_port, [], virtual_service_vip="127.0.0.1")
    )

    answer = _call(
        caller.listener_url(OUTBOUND_LISTENER),
        "POST",
        "/login",
        {"host": f"{VIRTUAL_SERVICE}.virtual.consul", "content-type": "application/json"},
        b'{"user": "bob"}',
    )

    assert answer.status_code == 200, answer.text
    (request,) = capture.requests
    assert_every_request_verified(capture)
    assert _event(request)["raw_path"] == f"{PREFIX}login"
