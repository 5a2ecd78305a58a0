"""An Envoy Gateway-shaped proxy without Envoy Gateway: the xDS Envoy Gateway would send the
Gateway's Envoy for the resources `mesh-lambda envoy-gateway generate` writes.

Emulated with Envoy Gateway's names and shapes: the listener `<ns>/<gateway>/<listener>`
with its connection manager in `default_filter_chain` and a route configuration of the same
name, one virtual host `<ns>/<gateway>/<listener>/*` (routes without hostnames); per HTTPRoute
match a route `httproute/<ns>/<route>/rule/<i>/match/<j>/*` to the cluster
`httproute/<ns>/<route>/rule/<i>` (the Backend, TLS from its BackendTLSPolicy; the system
CAs stand for the test CA), with its header matches and RequestHeaderModifier removals.
Exact paths sort before prefixes, and more header matches first, as Envoy Gateway sorts them.
Another application's HTTPRoute (`/` to a plain cluster) is added last. Then the
EnvoyPatchPolicy's JSON patches are applied as Envoy Gateway applies them: JSONPath
selections made JSON pointers, RFC 6902 `add` creating missing objects, and an `add` at path
"" of a resource that does not exist adding it.
"""

import copy
import re
from dataclasses import dataclass
from pathlib import Path

from .bootstrap import admin, connection_manager, listener, static_cluster, tls_cluster
from .kubernetes import by_kind

FILES = ["routes.yaml", "envoy-patch-policy.yaml"]
OTHER_APP_ROUTE = "httproute/default/other-app/rule/0/match/0/*"
OTHER_APP_CLUSTER = "httproute/default/other-app/rule/0"
TYPES = {
    "type.googleapis.com/envoy.config.listener.v3.Listener": "listeners",
    "type.googleapis.com/envoy.config.route.v3.RouteConfiguration": "route_configs",
    "type.googleapis.com/envoy.config.cluster.v3.Cluster": "clusters",
}


@dataclass
class GatewayResources:
    kinds: dict[str, list[dict]]

    def __getitem__(self, kind: str) -> list[dict]:
        return self.kinds[kind]

    @property
    def patch_policy(self) -> dict:
        [policy] = self.kinds["EnvoyPatchPolicy"]
        return policy


def read_resources(out: Path) -> GatewayResources:
    return GatewayResources(by_kind([out / "envoy-gateway" / name for name in FILES]))


# JSONPath, the subset the generator writes: $, .key, ..key, [*], [?(@.name == 'x')] and
# [?(@.name =~ /regex/)].
_TOKEN = re.compile(
    r"\$|\.\.(?P<descend>\w+)|\.(?P<child>\w+)|\[\*\]"
    r"|\[\?\(@\.name (?P<op>==|=~) (?P<operand>'[^']*'|/(?:\\/|[^/])*/)\)\]"
)


def _name_test(op: str, operand: str):
    if op == "==":
        return lambda name: name == operand[1:-1]
    pattern = re.compile(operand[1:-1].replace("\\/", "/"))
    return lambda name: pattern.search(name) is not None


def locate(document, expression: str) -> list[list]:
    """The paths (lists of keys and indexes) of what `expression` selects in `document`."""
    found = [([], document)]
    position = 0
    while position < len(expression):
        token = _TOKEN.match(expression, position)
        assert token is not None, f"unsupported JSONPath at {expression[position:]!r}"
        position = token.end()
        selected = []
        for path, node in found:
            if token.group("descend"):
                selected += _descend(path, node, token.group("descend"))
            elif token.group("child"):
                key = token.group("child")
                if isinstance(node, dict) and key in node:
                    selected.append(([*path, key], node[key]))
            elif token.group() == "[*]":
                if isinstance(node, list):
                    selected += [([*path, i], item) for i, item in enumerate(node)]
            elif token.group("op"):
                test = _name_test(token.group("op"), token.group("operand"))
                if isinstance(node, list):
                    selected += [
                        ([*path, i], item)
                        for i, item in enumerate(node)
                        if isinstance(item, dict) and test(item.get("name", ""))
                    ]
            else:
                selected.append((path, node))  # $
        found = selected
    return [path for path, _ in found]


def _descend(path: list, node, key: str) -> list:
    found = []
    if isinstance(node, dict):
        for k, value in node.items():
            if k == key:
                found.append(([*path, k], value))
            found += _descend([*path, k], value, key)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            found += _descend([*path, i], item, key)
    return found


def _pointer_add(document: dict, pointer: str, value) -> None:
    """RFC 6902 `add`, creating missing objects on the way (EnsurePathExistsOnAdd)."""
    keys = [k.replace("~1", "/").replace("~0", "~") for k in pointer.split("/")[1:]]
    node = document
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    last = keys[-1]
    if isinstance(node, list):
        node.insert(len(node) if last == "-" else int(last), value)
    else:
        node[last] = value


def _apply(resources: dict[str, dict[str, dict]], patch: dict) -> None:
    kind = TYPES[patch["type"]]
    operation = patch["operation"]
    assert operation["op"] == "add", patch
    value = copy.deepcopy(operation["value"])
    existing = resources[kind].get(patch["name"])
    if existing is None:
        assert operation.get("path") == "", f"{patch['name']}: no such {kind}"
        resources[kind][patch["name"]] = value
        return
    if "jsonPath" in operation:
        paths = locate(existing, operation["jsonPath"])
        assert paths, f"{operation['jsonPath']} selects nothing in {patch['name']}"
        pointers = ["".join(f"/{p}" for p in path) + operation.get("path", "") for path in paths]
    else:
        pointers = [operation["path"]]
    for pointer in pointers:
        _pointer_add(existing, pointer, copy.deepcopy(value))


def _route(name: str, rule_index: int, j: int, match: dict, rule: dict, ns: str) -> dict:
    """As Envoy Gateway's xDS translator builds it (internal/xds/translator/route.go,
    buildXdsRoute and buildXdsRouteMatch): header matches as `headers` string matchers, a
    RequestHeaderModifier's removals as the route's `request_headers_to_remove`."""
    path = match["path"]
    kind = {"Exact": "path", "PathPrefix": "path_separated_prefix"}[path["type"]]
    route = {"cluster": f"httproute/{ns}/{name}/rule/{rule_index}"}
    if "timeouts" in rule:
        route["timeout"] = rule["timeouts"]["request"]
    route_match = {kind: path["value"]}
    for header in match.get("headers", []):
        assert header["type"] == "Exact", header
        route_match.setdefault("headers", []).append(
            {"name": header["name"], "string_match": {"exact": header["value"]}}
        )
    built = {
        "name": f"httproute/{ns}/{name}/rule/{rule_index}/match/{j}/*",
        "match": route_match,
        "route": route,
    }
    for f in rule.get("filters", []):
        assert f["type"] == "RequestHeaderModifier", f"the emulation does not know {f['type']}"
        built["request_headers_to_remove"] = f["requestHeaderModifier"]["remove"]
    return built


def gateway_bootstrap(
    resources: GatewayResources, *, listener_port: int, other_app_port: int, system_ca: Path
) -> dict:
    """The Gateway's Envoy, its listener on 127.0.0.1:`listener_port`; the other
    application's route to 127.0.0.1:`other_app_port`."""
    [gateway] = {
        (p["namespace"], p["name"], p["sectionName"])
        for r in resources["HTTPRoute"]
        for p in r["spec"]["parentRefs"]
    }
    xds_name = "/".join(gateway)
    backends = {b["metadata"]["name"]: b["spec"] for b in resources["Backend"]}
    tls = {
        ref["name"]: p["spec"]["validation"]
        for p in resources["BackendTLSPolicy"]
        for ref in p["spec"]["targetRefs"]
    }
    routes, clusters = [], []
    for http_route in resources["HTTPRoute"]:
        name, ns = http_route["metadata"]["name"], http_route["metadata"]["namespace"]
        for i, rule in enumerate(http_route["spec"]["rules"]):
            [ref] = rule["backendRefs"]
            [endpoint] = backends[ref["name"]]["endpoints"]
            validation = tls[ref["name"]]
            assert validation["wellKnownCACertificates"] == "System"
            clusters.append(
                tls_cluster(
                    f"httproute/{ns}/{name}/rule/{i}",
                    endpoint["fqdn"]["hostname"],
                    endpoint["fqdn"]["port"],
                    validation["hostname"],
                    str(system_ca),
                )
            )
            routes += [_route(name, i, j, m, rule, ns) for j, m in enumerate(rule["matches"])]
    # Exact first, then more header matches first (Gateway API's precedence); stable otherwise.
    routes.sort(key=lambda r: ("path" not in r["match"], -len(r["match"].get("headers", []))))
    routes.append(
        {"name": OTHER_APP_ROUTE, "match": {"prefix": "/"}, "route": {"cluster": OTHER_APP_CLUSTER}}
    )
    clusters.append(static_cluster(OTHER_APP_CLUSTER, other_app_port))
    vhost = {"name": f"{xds_name}/*", "domains": ["*"], "routes": routes}
    route_config = {"name": xds_name, "virtual_hosts": [vhost]}
    # RDS delivered inline: the listener holds the route configuration the patches change.
    manager = connection_manager("http-10080", route_config)
    xds = {
        "listeners": {xds_name: listener(xds_name, listener_port, manager, "default_filter_chain")},
        "route_configs": {xds_name: route_config},
        "clusters": {c["name"]: c for c in clusters},
    }
    for patch in resources.patch_policy["spec"]["jsonPatches"]:
        _apply(xds, patch)
    return {
        "admin": admin(),
        "node": {"id": "envoy-default-eg", "cluster": "envoy-default-eg"},
        "static_resources": {
            "listeners": list(xds["listeners"].values()),
            "clusters": list(xds["clusters"].values()),
        },
    }
