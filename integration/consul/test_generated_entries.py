"""The files `mesh-lambda consul generate` writes for the shipped example parse back as Consul
(HCL) and Kubernetes (YAML) read them, say the same thing in both forms, carry what the
filter needs in a Consul sidecar, and pass `envoy --mode validate` once assembled."""

import json

import pytest
import yaml

from harness.bootstrap import validate
from harness.consul import Entries, Mesh, caller_bootstrap, hcl_string, read_entries
from harness.paths import LOCAL_ENVOY_CONFIG, REPO_ROOT

EXAMPLE = REPO_ROOT / "envoy" / "consul" / "example"


@pytest.fixture(scope="module")
def entries() -> Entries:
    return read_entries(EXAMPLE)


def wasm_config(listener: dict) -> dict:
    [chain] = listener["filter_chains"]
    [manager] = chain["filters"]
    filters = manager["typed_config"]["http_filters"]
    assert [f["name"] for f in filters] == ["envoy.filters.http.wasm", "envoy.filters.http.router"]
    return filters[0]["typed_config"]["config"]


def test_hcl_and_kubernetes_resources_agree(entries):
    assert hcl_string(entries.service_defaults["Kind"]) == "service-defaults"
    assert hcl_string(entries.service_defaults["Name"]) == "api"
    k8s = entries.k8s_service_defaults
    assert (k8s["apiVersion"], k8s["kind"], k8s["metadata"]["name"]) == (
        "consul.hashicorp.com/v1alpha1",
        "ServiceDefaults",
        "api",
    )
    from_k8s = {
        o["name"]: json.loads(o["envoyListenerJSON"])
        for o in k8s["spec"]["upstreamConfig"]["overrides"]
    }
    assert from_k8s == entries.listeners()
    k8s_clusters = json.loads(
        "[" + entries.k8s_proxy_defaults["spec"]["config"]["envoy_extra_static_clusters_json"] + "]"
    )
    assert k8s_clusters == entries.clusters()
    assert entries.k8s_proxy_defaults["kind"] == "ProxyDefaults"
    annotation = entries.k8s_annotation["annotations"][
        "consul.hashicorp.com/connect-service-upstreams"
    ]
    assert annotation == "authentication:2345,reports:2346"
    stanzas = [(hcl_string(u["destination_name"]), u["local_bind_port"]) for u in entries.upstreams]
    assert stanzas == [("authentication", 2345), ("reports", 2346)]


def test_listeners_are_named_as_consul_names_them_and_carry_the_filter(entries):
    listeners = entries.listeners()
    assert set(listeners) == {"authentication", "reports"}
    auth = listeners["authentication"]
    assert auth["name"] == "authentication:127.0.0.1:2345"
    assert auth["traffic_direction"] == "OUTBOUND"
    assert auth["per_connection_buffer_limit_bytes"] > 6 * 1024 * 1024
    [chain] = auth["filter_chains"]
    manager = chain["filters"][0]["typed_config"]
    assert manager["stat_prefix"] == "upstream.authentication.default.default.dc1"
    [vhost] = manager["route_config"]["virtual_hosts"]
    assert manager["route_config"]["name"] == "authentication"
    assert vhost["name"] == "authentication.default.default.dc1"
    assert vhost["routes"][0]["route"]["cluster"] == "mesh-lambda.lambda.us-east-1.amazonaws.com"
    # Envoy's own replies in JSON, as the shipped configs have them (operations/test_faults.py).
    shipped = yaml.safe_load(LOCAL_ENVOY_CONFIG.read_text())
    [shipped_listener] = shipped["static_resources"]["listeners"]
    shipped_manager = shipped_listener["filter_chains"][0]["filters"][0]["typed_config"]
    assert manager["local_reply_config"] == shipped_manager["local_reply_config"]
    configs = [wasm_config(listener) for listener in listeners.values()]
    for config in configs:
        assert config["allow_on_headers_stop_iteration"] is True
        assert config["failure_policy"] == "FAIL_RELOAD"
        assert "fail_open" not in config
        assert "AWS_ACCESS_KEY_ID" in config["vm_config"]["environment_variables"]["host_env_keys"]
    # One VM for all: credentials are fetched once per proxy.
    assert {c["vm_config"]["vm_id"] for c in configs} == {"mesh-lambda"}
    reports = json.loads(wasm_config(listeners["reports"])["configuration"]["value"])
    assert reports["invocation_mode"] == "asynchronous"


def test_clusters_check_lambdas_certificate_and_reach_the_credential_endpoints(entries):
    clusters = {c["name"]: c for c in entries.clusters()}
    assert set(clusters) == {
        "mesh-lambda.lambda.us-east-1.amazonaws.com",
        "mesh-lambda.lambda.eu-west-1.amazonaws.com",
        "aws_container_credentials",
        "aws_instance_metadata",
    }
    lambda_cluster = clusters["mesh-lambda.lambda.eu-west-1.amazonaws.com"]
    tls = lambda_cluster["transport_socket"]["typed_config"]
    assert tls["sni"] == "lambda.eu-west-1.amazonaws.com"
    validation = tls["common_tls_context"]["validation_context"]
    assert validation["trusted_ca"]["filename"] == "/etc/ssl/certs/ca-certificates.crt"
    assert validation["match_typed_subject_alt_names"][0]["matcher"]["exact"] == (
        "lambda.eu-west-1.amazonaws.com"
    )
    address = clusters["aws_container_credentials"]["load_assignment"]["endpoints"][0][
        "lb_endpoints"
    ][0]["endpoint"]["address"]["socket_address"]
    assert (address["address"], address["port_value"]) == ("169.254.170.2", 80)


def test_the_assembled_sidecar_validates(entries, wasm_path, tmp_path):
    """Consul's splice of the example's entries (with this build's .wasm and a CA bundle that
    exists here) passes Envoy's own validation."""
    mesh = Mesh.create(tmp_path / "mesh", ["api", "billing"])
    bootstrap = caller_bootstrap(entries, mesh, "api", "billing", 9191, 20000)
    for listener in bootstrap["static_resources"]["listeners"]:
        for chain in listener["filter_chains"]:
            for f in chain["filters"][0]["typed_config"]["http_filters"]:
                if f["name"] == "envoy.filters.http.wasm":
                    code = f["typed_config"]["config"]["vm_config"]["code"]
                    code["local"]["filename"] = str(wasm_path)
    result = validate(bootstrap, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
