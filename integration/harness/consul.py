"""A Consul-shaped sidecar without Consul: the generator's entries read back from the files a
user applies, and the Envoy bootstrap Consul would give a service's sidecar built from them.

Consul delivers upstream listeners and mesh clusters over xDS; here they are static resources
of the same names and shapes (Consul's `agent/xds`, reference section 3): the escape-hatch
listener inserted verbatim, the proxy-defaults clusters spliced in as Consul splices
`envoy_extra_static_clusters_json`, an ordinary mesh upstream with Consul's names and mTLS.
"""

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import hcl2
import yaml

from .bootstrap import admin, connection_manager, static_cluster
from .certificates import CertificateAuthority, PemPair
from .paths import REPO_ROOT

CLI_BINARY = REPO_ROOT / "target" / "debug" / "mesh-lambda"
TRUST_DOMAIN = "11111111-2222-3333-4444-555555555555.consul"
DATACENTER = "dc1"
BUILD_TIMEOUT_SECONDS = 600


def build_cli() -> Path:
    """`cargo build -p mesh-lambda-cli`; the binary's path."""
    subprocess.run(
        ["cargo", "build", "--quiet", "-p", "mesh-lambda-cli"],
        cwd=REPO_ROOT,
        check=True,
        timeout=BUILD_TIMEOUT_SECONDS,
    )
    return CLI_BINARY


def generate(cli: Path, description: dict, workdir: Path, platform: str = "consul") -> Path:
    """Runs `mesh-lambda <platform> generate`; the output folder."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "description.json"
    path.write_text(json.dumps(description, indent=2))
    out = workdir / "generated"
    result = subprocess.run(
        [str(cli), platform, "generate", str(path), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return out


def hcl_string(value: str) -> str:
    """A string as python-hcl2 gives it (quotes and heredoc markers kept), as HCL means it."""
    if value.startswith('"<<') and value.endswith('"'):
        value = value[1:-1]
    if value.startswith("<<"):
        marker, _, rest = value[2:].partition("\n")
        body, _, end = rest.rpartition("\n")
        assert end == marker, f"heredoc {marker!r} ends with {end!r}"
        return body
    if value.startswith('"') and value.endswith('"'):
        return json.loads(value)
    return value


def clusters_from(text: str) -> list[dict]:
    """`envoy_extra_static_clusters_json` as Consul splices it into its cluster list."""
    return json.loads(f"[{text}]")


@dataclass
class Entries:
    """The generated files, parsed back the way Consul and Kubernetes read them."""

    service_defaults: dict
    proxy_defaults: dict
    upstreams: list[dict]
    k8s_service_defaults: dict
    k8s_proxy_defaults: dict
    k8s_annotation: dict

    def listeners(self) -> dict[str, dict]:
        """Each override's `EnvoyListenerJSON`, by upstream name, from the HCL (as written: a
        `google.protobuf.Any`, with its `@type`)."""
        overrides = self.service_defaults["UpstreamConfig"]["Overrides"]
        return {
            hcl_string(o["Name"]): json.loads(hcl_string(o["EnvoyListenerJSON"])) for o in overrides
        }

    def clusters(self) -> list[dict]:
        [config] = self.proxy_defaults["Config"]
        return clusters_from(hcl_string(config["envoy_extra_static_clusters_json"]))


def read_entries(out: Path) -> Entries:
    def hcl(name):
        return hcl2.loads((out / "consul" / name).read_text())

    def k8s(name):
        return yaml.safe_load((out / "kubernetes" / name).read_text())

    return Entries(
        service_defaults=hcl("service-defaults.hcl"),
        proxy_defaults=hcl("proxy-defaults.hcl"),
        upstreams=hcl("upstreams.hcl")["upstreams"],
        k8s_service_defaults=k8s("service-defaults.yaml"),
        k8s_proxy_defaults=k8s("proxy-defaults.yaml"),
        k8s_annotation=k8s("upstreams-annotation.yaml"),
    )


def spiffe_id(service: str) -> str:
    return f"spiffe://{TRUST_DOMAIN}/ns/default/dc/{DATACENTER}/svc/{service}"


def mesh_cluster_name(service: str) -> str:
    """Consul's name (and SNI) for the cluster of an upstream mesh service."""
    return f"{service}.default.{DATACENTER}.internal.{TRUST_DOMAIN}"


@dataclass
class Mesh:
    """A trust domain's CA and the certificates of the services in the test."""

    ca: CertificateAuthority
    leaves: dict[str, PemPair]

    @classmethod
    def create(cls, directory: Path, services: list[str]) -> "Mesh":
        ca = CertificateAuthority(directory, "Consul CA " + TRUST_DOMAIN)
        return cls(ca, {s: ca.issue(s, uris=[spiffe_id(s)]) for s in services})

    def tls_context(self, service: str, peer: str | None = None) -> dict:
        """`common_tls_context` of `service`'s side; with `peer`, only its SPIFFE id passes."""
        leaf = self.leaves[service]
        validation = {"trusted_ca": {"filename": str(self.ca.certificate)}}
        if peer is not None:
            validation["match_typed_subject_alt_names"] = [
                {"san_type": "URI", "matcher": {"exact": spiffe_id(peer)}}
            ]
        return {
            "tls_certificates": [
                {
                    "certificate_chain": {"filename": str(leaf.certificate)},
                    "private_key": {"filename": str(leaf.key)},
                }
            ],
            "validation_context": validation,
        }


def http_connection_manager(
    stat_prefix: str, route_name: str, vhost: str, cluster: str, **extra
) -> dict:
    """A connection manager whose one virtual host (`*`) routes everything to `cluster`."""
    route = {"match": {"prefix": "/"}, "route": {"cluster": cluster}}
    virtual_host = {"name": vhost, "domains": ["*"], "routes": [route]}
    route_config = {"name": route_name, "virtual_hosts": [virtual_host]}
    return connection_manager(stat_prefix, route_config, **extra)


def mesh_upstream_cluster(mesh: Mesh, caller: str, upstream: str, sidecar_port: int) -> dict:
    """Consul's cluster for a mesh upstream: mTLS with `caller`'s certificate to `upstream`'s
    sidecar (its public listener on `sidecar_port`), only `upstream`'s SPIFFE id accepted."""
    cluster = mesh_cluster_name(upstream)
    return static_cluster(
        cluster,
        sidecar_port,
        transport_socket={
            "name": "envoy.transport_sockets.tls",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3."
                "UpstreamTlsContext",
                "sni": cluster,
                "common_tls_context": mesh.tls_context(caller, peer=upstream),
            },
        },
    )


def mesh_upstream(
    mesh: Mesh, caller: str, upstream: str, upstream_port: int, upstream_sidecar_port: int
) -> tuple[dict, dict]:
    """An ordinary mesh upstream of `caller`'s sidecar as Consul makes it: the listener on
    `upstream_port` (its connection manager left at Envoy's default, SANITIZE: whatever
    x-forwarded-client-cert the app sends is dropped) and the cluster that reaches
    `upstream`'s public listener on `upstream_sidecar_port` over mTLS as `caller`."""
    cluster = mesh_cluster_name(upstream)
    qualified = f"{upstream}.default.default.{DATACENTER}"
    mesh_listener = {
        "name": f"{upstream}:127.0.0.1:{upstream_port}",
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": upstream_port}},
        "traffic_direction": "OUTBOUND",
        "filter_chains": [
            {
                "filters": [
                    http_connection_manager(f"upstream.{qualified}", upstream, qualified, cluster)
                ]
            }
        ],
    }
    mesh_cluster = mesh_upstream_cluster(mesh, caller, upstream, upstream_sidecar_port)
    return mesh_listener, mesh_cluster


def upstream_bootstrap(
    mesh: Mesh, caller: str, upstream: str, upstream_port: int, upstream_sidecar_port: int
) -> dict:
    """`caller`'s sidecar with one mesh upstream, `upstream` on `upstream_port`."""
    listener, cluster = mesh_upstream(mesh, caller, upstream, upstream_port, upstream_sidecar_port)
    return {
        "admin": admin(),
        "node": {"id": f"{caller}-sidecar-proxy", "cluster": caller},
        "static_resources": {"listeners": [listener], "clusters": [cluster]},
    }


def caller_bootstrap(
    entries: Entries,
    mesh: Mesh,
    caller: str,
    upstream: str,
    upstream_port: int,
    upstream_sidecar_port: int,
) -> dict:
    """The caller's sidecar: the generated Lambda listeners verbatim and the generated static
    clusters, plus an ordinary mesh upstream `upstream` on `upstream_port`, reached over mTLS
    at its sidecar's public listener."""
    mesh_listener, mesh_cluster = mesh_upstream(
        mesh, caller, upstream, upstream_port, upstream_sidecar_port
    )
    # Consul unpacks each escape-hatch listener from its Any (`makeListenerFromUserConfig`).
    unpacked = [
        {k: v for k, v in listener.items() if k != "@type"}
        for listener in entries.listeners().values()
    ]
    listeners = [*unpacked, mesh_listener]
    return {
        "admin": admin(),
        "node": {"id": f"{caller}-sidecar-proxy", "cluster": caller},
        "static_resources": {
            "listeners": listeners,
            "clusters": [*entries.clusters(), mesh_cluster],
        },
    }


def intentions_rbac(allowed: list[str]) -> dict:
    """The HTTP RBAC filter Consul puts first on an HTTP service's public listener for
    intentions that allow `allowed` (namespace default) under the default deny: one policy,
    `consul-intentions-layer4`, any permission, one principal per source matching its URI
    SAN by regex, any datacenter (hashicorp/consul `agent/xds/rbac.go`, `makeRBACHTTPFilter`
    and `makeSpiffePattern`: "Datacenter is not verified by RBAC, so we match on any value";
    the shape of `agent/xds/testdata/rbac/default-deny-one-allow--httpfilter.golden`). A
    service without an allowing intention (`web`) matches no principal: Envoy answers 403."""
    principals = [
        {
            "authenticated": {
                "principal_name": {
                    "safe_regex": {
                        "regex": f"^spiffe://{TRUST_DOMAIN}/ns/default/dc/[^/]+/svc/{name}$"
                    }
                }
            }
        }
        for name in allowed
    ]
    policy = {"permissions": [{"any": True}], "principals": principals}
    return {
        "name": "envoy.filters.http.rbac",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
            "rules": {"policies": {"consul-intentions-layer4": policy}},
        },
    }


# What Consul's public listener sets for an HTTP service (hashicorp/consul
# `agent/xds/listeners.go`, `makeInboundListener`: `forwardClientPolicy = APPEND_FORWARD`
# unless the mesh sets `SanitizeXForwardedClientCert` or the protocol is grpc, and
# `makeListenerFilter` then sets `SetCurrentClientCertDetails` Subject, Cert, Chain, Dns, Uri).
CONSUL_XFCC = {
    "forward_client_cert_details": "APPEND_FORWARD",
    "set_current_client_cert_details": {
        "subject": True,
        "cert": True,
        "chain": True,
        "dns": True,
        "uri": True,
    },
}


def public_listener_bootstrap(
    mesh: Mesh,
    service: str,
    public_port: int,
    app_port: int,
    intentions: dict | None = None,
) -> dict:
    """A mesh service's sidecar as Consul shapes it for an HTTP service: the public listener
    (mTLS, the client's certificate details appended to x-forwarded-client-cert as Consul
    sets them, `CONSUL_XFCC`) in front of the local app; with `intentions` (an HTTP RBAC
    filter, `intentions_rbac`), that filter first, as Consul puts it."""
    manager = http_connection_manager(
        "public_listener", "public_listener", "public_listener", "local_app", **CONSUL_XFCC
    )
    if intentions is not None:
        filters = manager["typed_config"]["http_filters"]
        filters.insert(0, intentions)
    listener = {
        "name": f"public_listener:127.0.0.1:{public_port}",
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": public_port}},
        "traffic_direction": "INBOUND",
        "filter_chains": [
            {
                "filters": [manager],
                "transport_socket": {
                    "name": "envoy.transport_sockets.tls",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3."
                        "DownstreamTlsContext",
                        "common_tls_context": mesh.tls_context(service),
                        "require_client_certificate": True,
                    },
                },
            }
        ],
    }
    return {
        "admin": admin(),
        "node": {"id": f"{service}-sidecar-proxy", "cluster": service},
        "static_resources": {
            "listeners": [listener],
            "clusters": [static_cluster("local_app", app_port)],
        },
    }
