"""`mesh-lambda envoy-gateway generate`: its resources parse as Kubernetes reads them, and run
in an Envoy Gateway-shaped proxy (harness/envoy_gateway.py) against moto, Lambda's TLS
endpoint played by the capture hop (`host_rewrite` points the filter at it), which checks
every signature. The module is fetched by Envoy's remote source from a local HTTP server and
checked against wasm_sha256.

The filter rewrites `:path` (keeping `:authority`, adding its route key header), and Envoy
selects the route again: the signed request must leave by the HTTPRoute's TLS backend, never
by another application's route."""

from dataclasses import dataclass

import pytest

from harness import client
from harness.app import RecordingApp
from harness.bootstrap import validate
from harness.capture import CaptureHop
from harness.certificates import CertificateAuthority, serving_tls
from harness.consul import generate
from harness.descriptions import description, lambda_upstream
from harness.envoy_gateway import (
    OTHER_APP_CLUSTER,
    GatewayResources,
    gateway_bootstrap,
    locate,
    read_resources,
)
from harness.expectations import invoke_small_and_large
from harness.paths import REPO_ROOT
from harness.processes import free_port
from harness.wasm_server import WasmServer, sha256_of

EXAMPLE = REPO_ROOT / "envoy" / "envoy-gateway" / "example"
ROUTE_CLUSTER = "httproute/default/mesh-lambda-authentication/rule/0"


@pytest.fixture(scope="module")
def example() -> GatewayResources:
    return read_resources(EXAMPLE)


def test_the_example_resources(example):
    for kind, api in [
        ("HTTPRoute", "gateway.networking.k8s.io/v1"),
        ("BackendTLSPolicy", "gateway.networking.k8s.io/v1"),
        ("Backend", "gateway.envoyproxy.io/v1alpha1"),
    ]:
        assert [(r["apiVersion"], r["metadata"]["name"]) for r in example[kind]] == [
            (api, "mesh-lambda-authentication"),
            (api, "mesh-lambda-reports"),
        ]
    policy = example.patch_policy
    assert policy["apiVersion"] == "gateway.envoyproxy.io/v1alpha1"
    assert policy["spec"]["type"] == "JSONPatch"
    assert policy["spec"]["targetRef"] == {
        "group": "gateway.networking.k8s.io",
        "kind": "Gateway",
        "name": "eg",
    }
    filters = [
        p["operation"]["value"]
        for p in policy["spec"]["jsonPatches"]
        if isinstance(p["operation"]["value"], dict)
        and p["operation"]["value"].get("name", "").startswith("mesh-lambda-")
    ]
    assert [f["name"] for f in filters] == ["mesh-lambda-authentication", "mesh-lambda-reports"]
    for f in filters:
        wasm = f["typed_config"]["config"]
        assert f["disabled"] is True
        assert wasm["allow_on_headers_stop_iteration"] is True
        assert wasm["failure_policy"] == "FAIL_RELOAD"
        assert wasm["vm_config"]["code"]["remote"]["http_uri"]["cluster"] == (
            "mesh-lambda.wasm-source"
        )


def test_the_jsonpath_subset():
    document = {"a": [{"name": "x", "b": {"http_filters": [{"name": "r"}, {"name": "s"}]}}]}
    assert locate(document, "$..http_filters[?(@.name == 's')]") == [
        ["a", 0, "b", "http_filters", 1]
    ]
    assert locate(document, "$.a[*]") == [["a", 0]]
    assert locate(document, r"$.a[?(@.name =~ /^x\/?$/)]") == [["a", 0]]


def test_the_example_gateway_validates(example, tmp_path):
    bootstrap = gateway_bootstrap(
        example,
        listener_port=10080,
        other_app_port=10081,
        system_ca="/etc/ssl/certs/ca-certificates.crt",
    )
    result = validate(bootstrap, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@dataclass
class World:
    """Lambda's TLS endpoint (the capture hop), another application, and the .wasm's server."""

    ca: CertificateAuthority
    capture: CaptureHop
    other_app: RecordingApp
    wasm_server: WasmServer

    def gateway(self, cli, aws, sha256: str, start_bootstrap, tmp_path):
        """The Gateway's Envoy from the generated resources, the module at `sha256`."""
        wanted = description(
            {"wasm_url": self.wasm_server.url(), "wasm_sha256": sha256},
            self.ca.certificate,
            [lambda_upstream(aws.function_arn, self.capture.authority)],
        )
        resources = read_resources(generate(cli, wanted, tmp_path / "generator", "envoy-gateway"))
        bootstrap = gateway_bootstrap(
            resources,
            listener_port=free_port(),
            other_app_port=self.other_app.port,
            system_ca=self.ca.certificate,
        )
        environment = aws.user_credentials.as_environment()
        return start_bootstrap("gateway", bootstrap, environment=environment)


@pytest.fixture
def world(aws, wasm_path, tmp_path):
    ca = CertificateAuthority(tmp_path / "lambda-ca", "test Lambda CA")
    tls = serving_tls(ca)
    capture = CaptureHop(aws.port, aws.credentials_by_access_key(), region=aws.region, tls=tls)
    world = World(ca, capture, RecordingApp(b"other app"), WasmServer(wasm_path))
    for server in (world.capture, world.other_app, world.wasm_server):
        server.start()
    yield world
    for server in (world.capture, world.other_app, world.wasm_server):
        server.stop()


def test_a_lambda_route_through_the_generated_gateway(
    aws, cli, wasm_path, start_bootstrap, tmp_path, world
):
    gateway = world.gateway(cli, aws, sha256_of(wasm_path), start_bootstrap, tmp_path)
    assert world.wasm_server.fetches >= 1

    # One call above Envoy's default 1 MiB buffer (raised by the listener patch).
    invoke_small_and_large(
        gateway.url, "api.example.com", "/authentication/login", world.capture, aws.function_arn
    )

    # Another application's route: untouched (the filter is disabled there).
    answer = client.call(gateway.url, "GET", "/shop", [("host", "api.example.com")])
    assert answer.status == 200 and answer.body == b"other app", str(answer)
    [passed] = world.other_app.requests
    assert passed.header("authorization") is None

    # The signed requests left by the HTTPRoute's TLS backend (Envoy selected the route again,
    # by the Invoke path), none by the other application's route.
    stats = gateway.stats()
    assert stats[f"cluster.{ROUTE_CLUSTER}.upstream_rq_2xx"] == 2
    assert stats[f"cluster.{ROUTE_CLUSTER}.ssl.handshake"] >= 1
    assert stats[f"cluster.{OTHER_APP_CLUSTER}.upstream_rq_total"] == 1


def test_a_module_with_another_sha256_is_refused(aws, cli, start_bootstrap, tmp_path, world):
    gateway = world.gateway(cli, aws, "0" * 64, start_bootstrap, tmp_path)
    # Envoy fetched it (and retried), refused it, and runs the filter failing closed.
    stats = gateway.stats()
    assert stats["wasm.remote_load_fetch_failures"] == 1
    assert stats["wasm.remote_load_fetch_successes"] == 0
    assert world.wasm_server.fetches > 1
    assert "failed to load" in gateway.log_text()
    answer = client.call(gateway.url, "POST", "/authentication/login", body=b"{}")
    assert answer.status == 503, str(answer)
    assert world.capture.requests == []
    # Only the Lambda route: the Gateway's other routes do not run the filter.
    answer = client.call(gateway.url, "GET", "/shop")
    assert answer.status == 200 and answer.body == b"other app", str(answer)
