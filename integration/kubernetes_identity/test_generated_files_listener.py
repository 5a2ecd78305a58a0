"""The files listener as `mesh-lambda <platform> generate` writes it for a description with
`kubernetes_identity`, through a real Envoy: it starts, answers the pod's token (laid out and
rotated as the kubelet does, harness.files.KubernetesTokenDir) at the identity's one route, and
answers no other file.

- The Lambda gateway's bootstrap (`gateway generate`): the files listener beside the gateway's,
  its SDS file the generated `envoy/web-identity-token.yaml`.
- consul-k8s (`consul generate`): the ConfigMap's `files.yaml` is what Envoy starts from
  (`--config-path`, from the `consul.hashicorp.com/envoy-extra-args` annotation: consul-k8s splits
  it into Envoy's arguments, control-plane/connect-inject/webhook/ consul_dataplane_sidecar.go, and
  consul-dataplane appends them to its own, pkg/envoy/proxy.go buildCommand), and a Consul-shaped
  bootstrap is merged over it with `--config-yaml`, as consul-dataplane passes its bootstrap (same
  buildCommand). Envoy's command line docs: `--config-yaml` "will override and merge with the
  bootstrap loaded from --config-path".

Paths the pod has (/etc/mesh-lambda/..., /var/run/secrets/...) are replaced by the test's, and
the listener's fixed port (19101) by a free one, the cluster `mesh_lambda_files` with it.
"""

import json
import time

import requests
import yaml

from harness.bootstrap import validate
from harness.consul import generate
from harness.files import CLUSTER, LISTENER, KubernetesTokenDir, render_files_config
from harness.processes import free_port

ARN = "arn:aws:lambda:us-east-1:123456789012:function:authentication"
ROTATION_WITHIN_SECONDS = 5.0


def upstream() -> list[dict]:
    return [
        {
            "name": "authentication",
            "local_bind_port": 2345,
            "filter": {"arn": ARN, "payload_passthrough": True},
        }
    ]


def the_manager(listener: dict) -> dict:
    return listener["filter_chains"][0]["filters"][0]["typed_config"]


def relocate(listener: dict, sds: dict, tokens: KubernetesTokenDir, sds_dir) -> int:
    """Points `listener`'s SDS file at a copy of `sds` in `sds_dir` reading `tokens`, and the
    listener at a free port (returned)."""
    sds_dir.mkdir(parents=True, exist_ok=True)
    (resource,) = sds["resources"]
    resource["generic_secret"]["secret"]["filename"] = str(tokens.token_path)
    (injector, router) = the_manager(listener)["http_filters"]
    assert router["name"] == "envoy.filters.http.router"
    source = injector["typed_config"]["credential"]["typed_config"]["credential"]["sds_config"]
    path = sds_dir / source["path_config_source"]["path"].rsplit("/", 1)[1]
    path.write_text(yaml.safe_dump(sds))
    source["path_config_source"]["path"] = str(path)
    port = free_port()
    listener["address"]["socket_address"]["port_value"] = port
    return port


def point_cluster(clusters: list[dict], port: int) -> None:
    (cluster,) = [c for c in clusters if c["name"] == CLUSTER]
    endpoint = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    assert endpoint["address"]["socket_address"] == {"address": "127.0.0.1", "port_value": 19101}
    endpoint["address"]["socket_address"]["port_value"] = port


def serves_the_token_through_a_rotation(url: str, tokens: KubernetesTokenDir, route: str) -> None:
    first = requests.get(f"{url}/{route}", timeout=5)
    assert (first.status_code, first.json()) == (200, {"contents": "first-token"})
    tokens.write("second-token")
    deadline = time.monotonic() + ROTATION_WITHIN_SECONDS
    while True:
        answer = requests.get(f"{url}/{route}", timeout=5).json()
        if answer == {"contents": "second-token"}:
            break
        assert time.monotonic() < deadline, f"still {answer} after the rotation"
        time.sleep(0.05)
    # Only the identity's file: the others' routes are not generated.
    for other in ("web-identity-token", "pod-identity-token", "aws-credentials"):
        if other != route:
            assert requests.get(f"{url}/{other}", timeout=5).status_code == 404


def test_the_generated_gateway_serves_its_web_identity_token(
    cli, wasm_path, start_bootstrap, tmp_path
):
    description = {
        "service": "lambda-gateway",
        "wasm_file": str(wasm_path),
        "kubernetes_identity": "irsa",
        "gateway": {"port": 8080, "callers": ["api"]},
        "upstreams": upstream(),
    }
    out = generate(cli, description, tmp_path / "generator", platform="gateway")
    bootstrap = yaml.safe_load((out / "envoy" / "gateway.yaml").read_text())
    sds = yaml.safe_load((out / "envoy" / "web-identity-token.yaml").read_text())
    gateway, files = bootstrap["static_resources"]["listeners"]
    assert files["name"] == LISTENER
    tokens = KubernetesTokenDir(tmp_path / "serviceaccount")
    tokens.write("first-token")
    port = relocate(files, sds, tokens, tmp_path / "sds")
    point_cluster(bootstrap["static_resources"]["clusters"], port)
    gateway["address"]["socket_address"]["port_value"] = 0
    bootstrap["admin"]["address"]["socket_address"]["port_value"] = 0
    # STS's cluster for IRSA, TLS to the function's region (the CA bundle is the system's).
    (sts,) = [c for c in bootstrap["static_resources"]["clusters"] if c["name"] == "sts"]
    assert sts["transport_socket"]["typed_config"]["sni"] == "sts.us-east-1.amazonaws.com"

    # The same listener as the shipped envoy/files.yaml keeping only this file's route and
    # injector (what its header says a generator writes), so the two cannot drift apart.
    shipped = render_files_config(
        {"web-identity-token": tokens.token_path}, sds_dir=tmp_path / "sds"
    )
    (shipped_listener,) = shipped["static_resources"]["listeners"]
    shipped_listener["address"]["socket_address"]["port_value"] = port
    assert files == shipped_listener

    checked = validate(bootstrap, tmp_path / "validate")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    envoy = start_bootstrap("gateway", bootstrap)
    serves_the_token_through_a_rotation(envoy.listener_url(LISTENER), tokens, "web-identity-token")


def test_consul_dataplane_merges_its_bootstrap_over_the_files_listener(
    cli, wasm_path, start_bootstrap, tmp_path
):
    description = {
        "service": "api",
        "wasm_file": str(wasm_path),
        "kubernetes_identity": "pod_identity",
        "upstreams": upstream(),
    }
    out = generate(cli, description, tmp_path / "generator")
    documents = yaml.safe_load_all((out / "kubernetes" / "mesh-lambda-files.yaml").read_text())
    (config_map,) = [d for d in documents if d]
    fragment = yaml.safe_load(config_map["data"]["files.yaml"])
    sds = yaml.safe_load(config_map["data"]["pod-identity-token.yaml"])
    annotations = yaml.safe_load((out / "kubernetes" / "identity-annotations.yaml").read_text())
    extra = annotations["annotations"]["consul.hashicorp.com/envoy-extra-args"].split()
    assert extra == ["--config-path", "/etc/mesh-lambda/files/files.yaml"]
    (files,) = fragment["static_resources"]["listeners"]
    tokens = KubernetesTokenDir(tmp_path / "serviceaccount")
    tokens.write("first-token")
    port = relocate(files, sds, tokens, tmp_path / "sds")

    # What consul-dataplane passes with --config-yaml: node, admin, its own clusters (here
    # the escape hatch's, proxy-defaults' envoy_extra_static_clusters_json as generated).
    hcl = (out / "consul" / "proxy-defaults.hcl").read_text()
    clusters = json.loads("[" + hcl.split("<<EOF\n", 1)[1].split("\nEOF", 1)[0] + "]")
    point_cluster(clusters, port)
    (agent,) = [c for c in clusters if c["name"] == "aws_container_credentials"]
    endpoint = agent["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    assert endpoint["address"]["socket_address"]["address"] == "169.254.170.23"
    consul_bootstrap = {
        "node": {"id": "api-sidecar-proxy", "cluster": "api"},
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}},
        "static_resources": {"clusters": clusters},
    }
    envoy = start_bootstrap(
        "consul-dataplane", fragment, extra_args=("--config-yaml", json.dumps(consul_bootstrap))
    )
    serves_the_token_through_a_rotation(envoy.listener_url(LISTENER), tokens, "pod-identity-token")
