"""An Istio-shaped sidecar without Istio: the bootstrap istiod and istio-agent would give the
caller's sidecar from the resources `mesh-lambda istio generate` writes.

What istiod makes of them is emulated with the names and shapes Istio uses: per
ServiceEntry host on port 80 a cluster `outbound|80||<host>` (TLS origination from its
DestinationRule) and a virtual host `<host>:80` (domains the host with and without the port,
route `default`) in the route table `80` of the outbound listener `0.0.0.0_80`, beside
`allow_any` (`*` to `PassthroughCluster`, which a test points at a recorder). Then the
EnvoyFilter's patches are applied as istiod applies them. The extension configs reach Envoy
over ECDS: here from a file (what ADS delivers), their `oci://` code replaced by the local
`.wasm` (what istio-agent does after pulling the image).
"""

import copy
import json
from dataclasses import dataclass
from pathlib import Path

from .bootstrap import admin, connection_manager, listener, static_cluster, tls_cluster
from .kubernetes import by_kind, proto_merge

PORT = 80
OUTBOUND_LISTENER = "0.0.0.0_80"
PASSTHROUGH = "PassthroughCluster"
FILES = ["service-entries.yaml", "destination-rules.yaml", "envoy-filter.yaml"]


@dataclass
class IstioResources:
    service_entries: list[dict]
    destination_rules: list[dict]
    envoy_filter: dict

    def patches(self, apply_to: str) -> list[dict]:
        return [p for p in self.envoy_filter["spec"]["configPatches"] if p["applyTo"] == apply_to]


def read_resources(out: Path) -> IstioResources:
    kinds = by_kind([out / "istio" / name for name in FILES])
    [envoy_filter] = kinds["EnvoyFilter"]
    return IstioResources(kinds["ServiceEntry"], kinds["DestinationRule"], envoy_filter)


def _cluster(entry: dict, rule: dict | None) -> dict:
    spec = entry["spec"]
    [host] = spec["hosts"]
    [port] = spec["ports"]
    assert (port["number"], port["protocol"], spec["resolution"]) == (PORT, "HTTP", "DNS")
    address = spec.get("endpoints", [{"address": host}])[0]["address"]
    name = f"outbound|{PORT}||{host}"
    assert rule is not None, f"{host}: no DestinationRule, so no TLS origination"
    tls = rule["spec"]["trafficPolicy"]["tls"]
    assert tls["mode"] == "SIMPLE" and tls["subjectAltNames"] == [tls["sni"]]
    return tls_cluster(name, address, port["targetPort"], tls["sni"], tls["caCertificates"])


def _virtual_host(host: str) -> dict:
    route = {
        "name": "default",
        "match": {"prefix": "/"},
        "route": {"cluster": f"outbound|{PORT}||{host}", "timeout": "0s"},
    }
    return {"name": f"{host}:{PORT}", "domains": [host, f"{host}:{PORT}"], "routes": [route]}


def _the_one(items: list[dict], what: str) -> dict:
    assert len(items) == 1, f"a patch matches {len(items)} {what}"
    return items[0]


def _apply(patch: dict, bootstrap: dict, manager: dict, extensions: dict) -> None:
    """One configPatch, as istiod applies it to this sidecar's outbound resources."""
    operation, value = patch["patch"]["operation"], copy.deepcopy(patch["patch"]["value"])
    match = patch.get("match", {})
    applies_to = (patch["applyTo"], operation)
    if applies_to == ("EXTENSION_CONFIG", "ADD"):
        extensions[value["name"]] = value
        return
    assert match["context"] == "SIDECAR_OUTBOUND", patch
    if applies_to == ("CLUSTER", "ADD"):
        bootstrap["static_resources"]["clusters"].append(value)
    elif applies_to == ("LISTENER", "MERGE"):
        assert match["listener"] == {"portNumber": PORT}
        proto_merge(bootstrap["static_resources"]["listeners"][0], value)
    elif applies_to == ("HTTP_FILTER", "INSERT_BEFORE"):
        assert match["listener"]["portNumber"] == PORT
        sub_filter = match["listener"]["filterChain"]["filter"]["subFilter"]["name"]
        filters = manager["http_filters"]
        [index] = [i for i, f in enumerate(filters) if f["name"] == sub_filter]
        filters.insert(index, value)
    elif patch["applyTo"] in ("VIRTUAL_HOST", "HTTP_ROUTE") and operation == "MERGE":
        wanted = match["routeConfiguration"]
        assert wanted["portNumber"] == PORT
        hosts = manager["route_config"]["virtual_hosts"]
        vhost = _the_one([v for v in hosts if v["name"] == wanted["vhost"]["name"]], "vhosts")
        if patch["applyTo"] == "VIRTUAL_HOST":
            proto_merge(vhost, value)
        else:
            name = wanted["vhost"]["route"]["name"]
            proto_merge(
                _the_one([r for r in vhost["routes"] if r["name"] == name], "routes"), value
            )
    else:
        raise AssertionError(f"the emulation does not know {applies_to}")


def _ecds_file(extension: dict, wasm_path: Path, digest: str, directory: Path) -> Path:
    """The extension config as ECDS delivers it once istio-agent has pulled the image."""
    extension = copy.deepcopy(extension)
    code = extension["typed_config"]["config"]["vm_config"]["code"]
    remote = code.pop("remote")
    assert remote["http_uri"]["uri"].startswith("oci://"), remote
    assert remote["sha256"] == digest, "the manifest digest istio-agent checks"
    code["local"] = {"filename": str(wasm_path)}
    extension["@type"] = "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{extension['name']}.json"
    path.write_text(json.dumps({"version_info": "1", "resources": [extension]}))
    return path


def sidecar_bootstrap(
    resources: IstioResources,
    *,
    listener_port: int,
    passthrough_port: int,
    wasm_path: Path,
    oci_digest: str,
    workdir: Path,
) -> dict:
    """The caller's sidecar: the outbound listener on 127.0.0.1:`listener_port` (standing for
    0.0.0.0:80 behind the iptables redirect), PassthroughCluster to 127.0.0.1:`passthrough_port`."""
    rules = {r["spec"]["host"]: r for r in resources.destination_rules}
    clusters = [static_cluster(PASSTHROUGH, passthrough_port)]
    hosts = []
    for entry in resources.service_entries:
        [host] = entry["spec"]["hosts"]
        clusters.append(_cluster(entry, rules.get(host)))
        hosts.append(_virtual_host(host))
    allow_any = {
        "name": "allow_any",
        "domains": ["*"],
        "routes": [
            {"name": "allow_any", "match": {"prefix": "/"}, "route": {"cluster": PASSTHROUGH}}
        ],
    }
    route_config = {"name": str(PORT), "virtual_hosts": [*hosts, allow_any]}
    manager = connection_manager(f"outbound_{OUTBOUND_LISTENER}", route_config)
    bootstrap = {
        "admin": admin(),
        "node": {"id": "sidecar~10.0.0.1~api-1.shop~shop.svc.cluster.local", "cluster": "api.shop"},
        "static_resources": {
            "listeners": [listener(OUTBOUND_LISTENER, listener_port, manager)],
            "clusters": clusters,
        },
    }
    extensions: dict[str, dict] = {}
    for patch in resources.envoy_filter["spec"]["configPatches"]:
        _apply(patch, bootstrap, manager["typed_config"], extensions)
    for http_filter in manager["typed_config"]["http_filters"]:
        discovery = http_filter.get("config_discovery")
        if discovery is None:
            continue
        source = discovery["config_source"]
        assert source.pop("ads") == {}, "Istio delivers extension configs over ADS"
        path = _ecds_file(extensions[http_filter["name"]], wasm_path, oci_digest, workdir / "ecds")
        source["path_config_source"] = {"path": str(path)}
    return bootstrap
