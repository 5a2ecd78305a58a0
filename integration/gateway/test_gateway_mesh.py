"""A caller in a Consul-shaped mesh keeps calling its upstream `authentication` on a local
port and reaches the function through the gateway.

`api`'s sidecar has an outbound listener for the upstream, named and shaped as Consul's, whose
route is what Consul compiles from the generated service-router: agent/xds/routes.go,
makeUpstreamRouteForDiscoveryChain turns the route's `PathPrefix` into the match, the
destination's `PrefixRewrite` into `prefix_rewrite` and its `RequestTimeout` into `timeout`,
to the cluster of the destination service (`lambda-gateway`'s mesh cluster, mTLS); and
agent/consul/discoverychain/compile.go, assembleChain, appends a catch-all route to the
router's own service (`authentication`, which has no instances). That cluster reaches the
gateway's sidecar (its public listener: mTLS, x-forwarded-client-cert set as Consul sets it,
harness/consul.py), which forwards to the gateway Envoy on loopback. Without Consul: the
routes are built here from the generated HCL, as Consul would build them.
"""

import hcl2

from harness import client
from harness.app import RecordingApp
from harness.bootstrap import admin, connection_manager, static_cluster
from harness.capture import CaptureHop
from harness.certificates import CertificateAuthority, serving_tls
from harness.consul import DATACENTER, Mesh, generate, mesh_cluster_name, public_listener_bootstrap
from harness.expectations import invoke_path
from harness.gateway import (
    WEST,
    create_function,
    gateway_description,
    load,
    plain,
    runnable,
)
from harness.processes import free_port


def compiled_routes(router: dict) -> list[dict]:
    """The Envoy routes Consul makes of a service-router entry (see the module's text)."""
    [route] = router["Routes"]
    destination = route["Destination"]
    return [
        {
            "match": {"prefix": route["Match"]["HTTP"]["PathPrefix"]},
            "route": {
                "cluster": mesh_cluster_name(destination["Service"]),
                "prefix_rewrite": destination["PrefixRewrite"],
                "timeout": destination["RequestTimeout"],
            },
        },
        {"match": {"prefix": "/"}, "route": {"cluster": mesh_cluster_name(router["Name"])}},
    ]


def upstream_listener(router: dict, port: int) -> dict:
    name = router["Name"]
    qualified = f"{name}.default.default.{DATACENTER}"
    route_config = {
        "name": name,
        "virtual_hosts": [{"name": name, "domains": ["*"], "routes": compiled_routes(router)}],
    }
    return {
        "name": f"{name}:127.0.0.1:{port}",
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
        "traffic_direction": "OUTBOUND",
        "filter_chains": [{"filters": [connection_manager(f"upstream.{qualified}", route_config)]}],
    }


def caller_bootstrap(mesh: Mesh, routers: dict[int, dict], gateway_public: int) -> dict:
    """`api`'s sidecar: one upstream listener per router (by local port), `lambda-gateway`'s
    mesh cluster over mTLS, and each function's own (empty) cluster for the catch-all."""
    gateway = mesh_cluster_name("lambda-gateway")
    tls = {
        "name": "envoy.transport_sockets.tls",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3."
            "UpstreamTlsContext",
            "sni": gateway,
            "common_tls_context": mesh.tls_context("api", peer="lambda-gateway"),
        },
    }
    clusters = [static_cluster(gateway, gateway_public, transport_socket=tls)]
    for router in routers.values():
        name = mesh_cluster_name(router["Name"])
        clusters.append(
            {
                "name": name,
                "type": "STATIC",
                "connect_timeout": "5s",
                "load_assignment": {"cluster_name": name, "endpoints": []},
            }
        )
    return {
        "admin": admin(),
        "node": {"id": "api-sidecar-proxy", "cluster": "api"},
        "static_resources": {
            "listeners": [upstream_listener(r, port) for port, r in routers.items()],
            "clusters": clusters,
        },
    }


def test_a_caller_reaches_each_function_by_its_own_upstream(
    aws, cli, start_bootstrap, wasm_path, tmp_path
):
    lambda_ca = CertificateAuthority(tmp_path / "lambda-ca", "test Lambda CA")
    tls = serving_tls(lambda_ca)
    credentials = aws.credentials_by_access_key()
    west_arn = create_function(aws, "billing", WEST)
    east = CaptureHop(aws.port, credentials, region=aws.region, tls=tls).start()
    west = CaptureHop(aws.port, credentials, region=WEST, tls=tls).start()
    status = RecordingApp(b"status", "text/plain").start()
    try:
        description = gateway_description(
            wasm_path,
            lambda_ca,
            (aws.function_arn, east.authority),
            (west_arn, west.authority),
            status.port,
        )
        out = generate(cli, description, tmp_path / "generator", platform="gateway")
        gateway_port = description["gateway"]["port"]
        config = runnable(load(out / "envoy" / "gateway.yaml"), wasm_path, keep_listener_port=True)
        start_bootstrap("gateway", config, aws.user_credentials.as_environment())

        mesh = Mesh.create(tmp_path / "mesh", ["api", "lambda-gateway"])
        public = free_port()
        start_bootstrap(
            "gateway-sidecar",
            public_listener_bootstrap(mesh, "lambda-gateway", public, gateway_port),
        )
        routers = {
            port: plain(hcl2.loads((out / "consul" / f"service-router-{name}.hcl").read_text()))
            for name, port in [("authentication", free_port()), ("billing", free_port())]
        }
        start_bootstrap("api-sidecar", caller_bootstrap(mesh, routers, public))

        (auth_port, billing_port) = routers
        login = client.call(f"http://127.0.0.1:{auth_port}", "POST", "/login", body=b'{"u": 1}')
        pay = client.call(f"http://127.0.0.1:{billing_port}", "POST", "/pay", body=b'{"p": 2}')
        assert login.status == 200, str(login)
        assert login.body == b'{"u": 1}'
        assert pay.status == 200, str(pay)
        for hop, arn, body in [
            (east, aws.function_arn, b'{"u": 1}'),
            (west, west_arn, b'{"p": 2}'),
        ]:
            [invoked] = hop.requests
            assert invoked.verdict.ok, invoked.describe()
            assert invoked.target == invoke_path(arn)
            assert invoked.body == body
        assert status.requests == []
    finally:
        east.stop()
        west.stop()
        status.stop()
