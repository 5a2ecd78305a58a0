"""Consul's transparent-proxy outbound listener, built without Consul and without iptables.

What Consul generates for a connect proxy in transparent mode (hashicorp/consul
agent/xds/listeners.go, `listenersFromSnapshotConnectProxy`; the golden
agent/xds/testdata/listeners/transparent-proxy-http-upstream.latest.golden): one listener
`outbound_listener:127.0.0.1:15001` whose only listener filter is
`envoy.filters.listener.original_dst`, one filter chain per upstream matched by `prefix_ranges`
on that upstream's virtual IPs (each a /32), and a default filter chain that TCP-proxies to the
`original-destination` cluster (type ORIGINAL_DST, lb_policy CLUSTER_PROVIDED, connect timeout
5 s: agent/xds/testdata/clusters/transparent-proxy.latest.golden) unless the mesh sets
`MeshDestinationsOnly`. An upstream whose discovery chain is not the default one (a
service-router) gets an HTTP connection manager over RDS; its route configuration is named
after the upstream, one virtual host with domains `*` (agent/xds/testdata/routes/
connect-proxy-with-chain-and-router.latest.golden: a router route with `prefixRewrite`, then
the chain's own default route `/` to the service's own cluster).

What cannot be had on 127.0.0.1 without root: iptables REDIRECT, whose SO_ORIGINAL_DST the
filter reads on a real socket. The stand-in: the outbound listener is an Envoy *internal*
listener, and the connection a caller opens reaches it through a cluster whose endpoint
carries the original destination as dynamic metadata (`envoy.filters.listener.original_dst`,
field `local`), passed by the internal upstream transport. Envoy documents that the same
filter reads that metadata on internal listeners instead of the socket option
(envoyproxy/envoy docs/root/configuration/listeners/listener_filters/original_dst_filter.rst,
"Internal listeners"), and that later processing sees the restored destination as the
connection's local address: the filter chain is chosen by it, as after iptables.
`outbound_listener(..., internal=False)` gives the socket form instead, which only a connection
made straight to it reaches.
"""

from .bootstrap import connection_manager

OUTBOUND_LISTENER = "outbound_listener:127.0.0.1:15001"
ORIGINAL_DESTINATION = "original-destination"
ORIGINAL_DST_FILTER = "envoy.filters.listener.original_dst"

INTERNAL_LISTENER_EXTENSION = {
    "name": "envoy.bootstrap.internal_listener",
    "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3."
        "InternalListener"
    },
}


def tcp_proxy(stat_prefix: str, cluster: str) -> dict:
    return {
        "name": "envoy.filters.network.tcp_proxy",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
            "stat_prefix": stat_prefix,
            "cluster": cluster,
        },
    }


def original_destination_cluster() -> dict:
    """Consul's `original-destination` cluster: where the default chain sends what no upstream
    chain matched, to the address the connection was meant for."""
    return {
        "name": ORIGINAL_DESTINATION,
        "type": "ORIGINAL_DST",
        "connect_timeout": "5s",
        "lb_policy": "CLUSTER_PROVIDED",
    }


def router_route_config(service: str, routes: list[dict]) -> dict:
    """The RDS answer Consul gives for `service`'s discovery chain: the router's routes."""
    virtual_host = {"name": service, "domains": ["*"], "routes": routes}
    return {"name": service, "virtual_hosts": [virtual_host]}


def upstream_chain(service: str, virtual_ips: list[str], route_config: dict) -> dict:
    """One upstream's filter chain on the outbound listener: matched by its virtual IPs, an
    HTTP connection manager with the upstream's routes (Consul's stat prefix
    `upstream.<service>.<namespace>.<partition>.<dc>`)."""
    ranges = [{"address_prefix": ip, "prefix_len": 32} for ip in virtual_ips]
    stat_prefix = f"upstream.{service}.default.default.dc1"
    return {
        "filter_chain_match": {"prefix_ranges": ranges},
        "filters": [connection_manager(stat_prefix, route_config)],
    }


def outbound_listener(chains: list[dict], *, internal: bool = True) -> dict:
    """The outbound listener: an internal listener (see the module's note), or with
    `internal=False` a socket on 127.0.0.1 as Consul binds it (the port the kernel picks)."""
    where = (
        {"internal_listener": {}}
        if internal
        else {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}}
    )
    return {
        "name": OUTBOUND_LISTENER,
        **where,
        "traffic_direction": "OUTBOUND",
        "listener_filters": [
            {
                "name": ORIGINAL_DST_FILTER,
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.listener."
                    "original_dst.v3.OriginalDst"
                },
            }
        ],
        "filter_chains": chains,
        "default_filter_chain": {
            "filters": [tcp_proxy(f"upstream.{ORIGINAL_DESTINATION}", ORIGINAL_DESTINATION)]
        },
    }


def redirection(name: str, original_destination: str) -> tuple[dict, dict]:
    """The stand-in for iptables: a listener on 127.0.0.1 (the port the kernel picks) whose
    connections reach the outbound listener as if they had been opened to
    `original_destination` ("ip:port") and redirected. The listener and its cluster."""
    cluster = {
        "name": f"redirect_{name}",
        "type": "STATIC",
        "connect_timeout": "5s",
        "load_assignment": {
            "cluster_name": f"redirect_{name}",
            "endpoints": [
                {
                    "lb_endpoints": [
                        {
                            "endpoint": {
                                "address": {
                                    "envoy_internal_address": {
                                        "server_listener_name": OUTBOUND_LISTENER
                                    }
                                }
                            },
                            "metadata": {
                                "filter_metadata": {
                                    ORIGINAL_DST_FILTER: {"local": original_destination}
                                }
                            },
                        }
                    ]
                }
            ],
        },
        "transport_socket": {
            "name": "envoy.transport_sockets.internal_upstream",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets."
                "internal_upstream.v3.InternalUpstreamTransport",
                "passthrough_metadata": [{"kind": {"host": {}}, "name": ORIGINAL_DST_FILTER}],
                "transport_socket": {
                    "name": "envoy.transport_sockets.raw_buffer",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.transport_sockets."
                        "raw_buffer.v3.RawBuffer"
                    },
                },
            },
        },
    }
    listener = {
        "name": f"redirect_{name}",
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}},
        "filter_chains": [{"filters": [tcp_proxy(f"redirect_{name}", cluster["name"])]}],
    }
    return listener, cluster
