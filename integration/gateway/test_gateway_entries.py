"""The Consul pieces `mesh-lambda gateway generate` writes for the shipped example
(envoy/lambda-gateway/example, kept current by crates/cli/tests/gateway_generate.rs), read back
as Consul (HCL, python-hcl2) and Kubernetes (YAML) read them, each checked against Consul's
documented schema for its kind, the two forms saying the same thing.

Schemas (the "Configuration model" of each reference page, and Consul's own validation):
- service-defaults: https://developer.hashicorp.com/consul/docs/connect/config-entries/service-defaults
- service-router: https://developer.hashicorp.com/consul/docs/connect/config-entries/service-router,
  and agent/structs/config_entry_discoverychain.go, ServiceRouterConfigEntry.Validate: a
  PathPrefix starts with '/', PrefixRewrite only on a route matching PathPrefix or PathExact.
- service-intentions: https://developer.hashicorp.com/consul/docs/connect/config-entries/service-intentions
- the service definition with a sidecar:
  https://developer.hashicorp.com/consul/docs/connect/proxies/deploy-sidecar-services
- consul-k8s CRDs (the same fields, camelCase, under spec): https://developer.hashicorp.com/consul/docs/k8s/crds
- consul-k8s annotations: https://developer.hashicorp.com/consul/docs/k8s/annotations-and-labels
"""

import hcl2
import yaml

from harness.gateway import plain
from harness.paths import REPO_ROOT

EXAMPLE = REPO_ROOT / "envoy" / "lambda-gateway" / "example"
FUNCTIONS = {"authentication": "/authentication/", "billing": "/billing/"}
TIMEOUTS = {"authentication": "300s", "billing": "60s"}

SERVICE_DEFAULTS_FIELDS = {
    "Kind", "Name", "Namespace", "Partition", "Meta", "Protocol", "BalanceInboundConnections",
    "Mode", "RateLimits", "UpstreamConfig", "TransparentProxy", "MutualTLSMode",
    "EnvoyExtensions", "Destination", "LocalConnectTimeoutMs", "LocalRequestTimeoutMs",
    "MaxInboundConnections", "MeshGateway", "ExternalSNI", "Expose",
}  # fmt: skip
PROTOCOLS = {"tcp", "http", "http2", "grpc"}
ROUTER_FIELDS = {"Kind", "Name", "Namespace", "Partition", "Meta", "Routes"}
ROUTE_FIELDS = {"Match", "Destination"}
HTTP_MATCH_FIELDS = {
    "PathExact", "PathPrefix", "PathRegex", "CaseInsensitive", "Methods", "Header", "QueryParam",
}  # fmt: skip
DESTINATION_FIELDS = {
    "Service", "ServiceSubset", "Namespace", "Partition", "PrefixRewrite", "RequestTimeout",
    "IdleTimeout", "NumRetries", "RetryOnConnectFailure", "RetryOn", "RetryOnStatusCodes",
    "RequestHeaders", "ResponseHeaders",
}  # fmt: skip
INTENTIONS_FIELDS = {"Kind", "Name", "Namespace", "Partition", "Meta", "JWT", "Sources"}
SOURCE_FIELDS = {
    "Name", "Peer", "Namespace", "Partition", "SamenessGroup", "Action", "Permissions",
    "Precedence", "Type", "Description",
}  # fmt: skip


def hcl(name: str) -> dict:
    return plain(hcl2.loads((EXAMPLE / "consul" / name).read_text()))


def k8s(name: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((EXAMPLE / "kubernetes" / name).read_text()) if d]


def by_kind_and_name(documents: list[dict]) -> dict:
    return {(d["kind"], d["metadata"]["name"]): d for d in documents}


def test_service_defaults_make_the_chain_http_and_wait_for_the_longest_function():
    gateway = hcl("service-defaults-lambda-gateway.hcl")
    assert set(gateway) <= SERVICE_DEFAULTS_FIELDS
    assert (gateway["Kind"], gateway["Name"], gateway["Protocol"]) == (
        "service-defaults",
        "lambda-gateway",
        "http",
    )
    assert gateway["LocalRequestTimeoutMs"] == 300_000
    crds = by_kind_and_name(k8s("service-defaults.yaml"))
    spec = crds[("ServiceDefaults", "lambda-gateway")]["spec"]
    assert spec == {"protocol": "http", "localRequestTimeoutMs": 300_000}
    for function in FUNCTIONS:
        entry = hcl(f"service-defaults-{function}.hcl")
        assert set(entry) <= SERVICE_DEFAULTS_FIELDS
        assert entry["Protocol"] in PROTOCOLS
        # One protocol for every service of a chain (compile.go, recordProtocol).
        assert (entry["Kind"], entry["Name"], entry["Protocol"]) == (
            "service-defaults",
            function,
            gateway["Protocol"],
        )
        assert crds[("ServiceDefaults", function)]["spec"] == {"protocol": "http"}
    for crd in crds.values():
        assert crd["apiVersion"] == "consul.hashicorp.com/v1alpha1"


def test_each_functions_router_sends_its_callers_to_the_gateway_under_its_prefix():
    crds = by_kind_and_name(k8s("service-routers.yaml"))
    for function, prefix in FUNCTIONS.items():
        router = hcl(f"service-router-{function}.hcl")
        assert set(router) <= ROUTER_FIELDS
        assert (router["Kind"], router["Name"]) == ("service-router", function)
        [route] = router["Routes"]
        assert set(route) <= ROUTE_FIELDS
        assert set(route["Match"]) == {"HTTP"}
        http = route["Match"]["HTTP"]
        assert set(http) <= HTTP_MATCH_FIELDS
        assert http["PathPrefix"].startswith("/")  # Validate: "PathPrefix doesn't start with '/'"
        destination = route["Destination"]
        assert set(destination) <= DESTINATION_FIELDS
        assert destination == {
            "Service": "lambda-gateway",
            "PrefixRewrite": prefix,
            "RequestTimeout": TIMEOUTS[function],
        }
        crd = crds[("ServiceRouter", function)]
        assert crd["apiVersion"] == "consul.hashicorp.com/v1alpha1"
        assert crd["spec"] == {
            "routes": [
                {
                    "match": {"http": {"pathPrefix": http["PathPrefix"]}},
                    "destination": {
                        "service": "lambda-gateway",
                        "prefixRewrite": prefix,
                        "requestTimeout": TIMEOUTS[function],
                    },
                }
            ]
        }


def test_intentions_allow_the_callers_and_deny_everyone_else():
    intentions = hcl("service-intentions.hcl")
    assert set(intentions) <= INTENTIONS_FIELDS
    assert (intentions["Kind"], intentions["Name"]) == ("service-intentions", "lambda-gateway")
    for source in intentions["Sources"]:
        assert set(source) <= SOURCE_FIELDS
        assert source["Action"] in {"allow", "deny"}
    assert [(s["Name"], s["Action"]) for s in intentions["Sources"]] == [
        ("api", "allow"),
        ("*", "deny"),
    ]
    crds = k8s("service-intentions.yaml")
    for crd in crds:
        assert (crd["apiVersion"], crd["kind"]) == (
            "consul.hashicorp.com/v1alpha1",
            "ServiceIntentions",
        )
    assert crds[0]["spec"] == {
        "destination": {"name": "lambda-gateway"},
        "sources": [{"name": "api", "action": "allow"}, {"name": "*", "action": "deny"}],
    }


def test_each_functions_name_has_intentions_for_transparent_proxys_upstreams():
    """A caller in transparent-proxy mode gets an upstream only for the names its intentions
    allow, virtual services without instances included (hashicorp/consul
    agent/consul/state/intention.go, intentionTopologyTxn; "Route traffic to a virtual
    service", https://developer.hashicorp.com/consul/docs/manage-traffic/virtual-service:
    intentions to "the real service and the virtual service"). Nothing is denied there: the
    request is checked at the gateway's sidecar."""
    crds = by_kind_and_name(k8s("service-intentions.yaml"))
    for function in FUNCTIONS:
        intentions = hcl(f"service-intentions-{function}.hcl")
        assert set(intentions) <= INTENTIONS_FIELDS
        assert (intentions["Kind"], intentions["Name"]) == ("service-intentions", function)
        for source in intentions["Sources"]:
            assert set(source) <= SOURCE_FIELDS
        assert [(s["Name"], s["Action"]) for s in intentions["Sources"]] == [("api", "allow")]
        assert crds[("ServiceIntentions", function)]["spec"] == {
            "destination": {"name": function},
            "sources": [{"name": "api", "action": "allow"}],
        }


def test_the_gateway_is_registered_with_a_sidecar_in_front_of_its_loopback_listener():
    [service] = hcl("lambda-gateway-service.hcl")["service"]
    assert (service["name"], service["port"]) == ("lambda-gateway", 8080)
    [connect] = service["connect"]
    [sidecar] = connect["sidecar_service"]
    [proxy] = sidecar["proxy"]
    assert proxy == {"local_service_address": "127.0.0.1", "local_service_port": 8080}
    gateway = yaml.safe_load((EXAMPLE / "envoy" / "gateway.yaml").read_text())
    [listener] = gateway["static_resources"]["listeners"]
    assert listener["address"]["socket_address"] == {"address": "127.0.0.1", "port_value": 8080}

    resources = by_kind_and_name(k8s("lambda-gateway.yaml"))
    deployment = resources[("Deployment", "lambda-gateway")]
    pod = deployment["spec"]["template"]
    annotations = pod["metadata"]["annotations"]
    assert annotations["consul.hashicorp.com/connect-inject"] == "true"
    assert annotations["consul.hashicorp.com/connect-service"] == "lambda-gateway"
    assert annotations["consul.hashicorp.com/connect-service-port"] == "8080"
    # The gateway's own calls to Lambda and STS must not be captured by its sidecar.
    assert annotations["consul.hashicorp.com/transparent-proxy"] == "false"
    assert pod["spec"]["serviceAccountName"] == "lambda-gateway"
    assert ("ServiceAccount", "lambda-gateway") in resources
    service_spec = resources[("Service", "lambda-gateway")]["spec"]
    assert service_spec["selector"] == deployment["spec"]["selector"]["matchLabels"]
    config_map = resources[("ConfigMap", "lambda-gateway-envoy")]
    assert yaml.safe_load(config_map["data"]["envoy.yaml"]) == gateway


def test_callers_dial_each_function_by_its_own_name():
    stanzas = hcl("caller-upstreams.hcl")["upstreams"]
    assert [(s["destination_name"], s["local_bind_port"]) for s in stanzas] == [
        ("authentication", 2345),
        ("billing", 2346),
    ]
    annotation = yaml.safe_load(
        (EXAMPLE / "kubernetes" / "caller-upstreams-annotation.yaml").read_text()
    )["annotations"]["consul.hashicorp.com/connect-service-upstreams"]
    assert annotation == "authentication:2345,billing:2346"
