"""Pieces of the Envoy bootstraps the tests assemble as a control plane would (Consul, Istio,
Envoy Gateway): the admin address, a connection manager, clusters, listeners."""

import copy
import json
import subprocess
from pathlib import Path

from .envoy import envoy_environment, next_base_id
from .paths import ENVOY_BINARY

HCM_TYPE = (
    "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3."
    "HttpConnectionManager"
)
ROUTER = {
    "name": "envoy.filters.http.router",
    "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
}


def admin() -> dict:
    return {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}}


def connection_manager(stat_prefix: str, route_config: dict, **extra) -> dict:
    """The HTTP connection manager network filter, the router its only HTTP filter."""
    return {
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": {
            "@type": HCM_TYPE,
            "stat_prefix": stat_prefix,
            "route_config": route_config,
            "http_filters": [copy.deepcopy(ROUTER)],
            **extra,
        },
    }


def _load_assignment(name: str, address: str, port: int) -> dict:
    endpoint = {"address": {"socket_address": {"address": address, "port_value": port}}}
    return {"cluster_name": name, "endpoints": [{"lb_endpoints": [{"endpoint": endpoint}]}]}


def static_cluster(name: str, port: int, **extra) -> dict:
    """A plain cluster to 127.0.0.1:`port`."""
    return {
        "name": name,
        "type": "STATIC",
        "connect_timeout": "5s",
        "load_assignment": _load_assignment(name, "127.0.0.1", port),
        **extra,
    }


def tls_cluster(name: str, address: str, port: int, sni: str, ca_file: str) -> dict:
    """A cluster to `address`:`port` over TLS, the server's certificate checked against
    `ca_file` for `sni` (as a control plane makes from a TLS origination setting)."""
    validation = {
        "trusted_ca": {"filename": ca_file},
        "match_typed_subject_alt_names": [{"san_type": "DNS", "matcher": {"exact": sni}}],
    }
    return {
        "name": name,
        "type": "LOGICAL_DNS",
        "dns_lookup_family": "V4_ONLY",
        "connect_timeout": "5s",
        "load_assignment": _load_assignment(name, address, port),
        "transport_socket": {
            "name": "envoy.transport_sockets.tls",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3."
                "UpstreamTlsContext",
                "sni": sni,
                "common_tls_context": {"validation_context": validation},
            },
        },
    }


def listener(name: str, port: int, manager: dict, chain_field: str = "filter_chains") -> dict:
    """A listener on 127.0.0.1:`port` with `manager`, in a filter chain list or (with
    `chain_field="default_filter_chain"`) as the default chain."""
    chain = {"filters": [manager]}
    return {
        "name": name,
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
        chain_field: [chain] if chain_field == "filter_chains" else chain,
    }


def validate(
    bootstrap: dict, workdir: Path, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """`envoy --mode validate` on `bootstrap`, run in `cwd` (relative paths in the bootstrap
    are Envoy's working directory's; default: this process's)."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "bootstrap.json"
    path.write_text(json.dumps(bootstrap))
    return subprocess.run(
        [
            str(ENVOY_BINARY),
            "--mode",
            "validate",
            "-c",
            str(path),
            "--base-id",
            str(next_base_id()),
            "--disable-hot-restart",
        ],
        cwd=cwd,
        env=envoy_environment({}),
        capture_output=True,
        text=True,
        timeout=60,
    )
