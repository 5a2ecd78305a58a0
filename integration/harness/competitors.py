"""Other tenants of a shared listener: virtual hosts another team's route would add to the
caller's route table (for the Lambda host, `*.amazonaws.com`, ...), each to a recorder, so a
test sees whether a signed request ever reaches them. And Lambda's real host name served by a
local stand-in: the clusters that name it are pointed at 127.0.0.1."""

COMPETITOR_CLUSTER = "another-team"


def _route_configs(bootstrap: dict) -> list[dict]:
    """The inline route configurations of every connection manager of the bootstrap."""
    found = []
    for listener in bootstrap["static_resources"]["listeners"]:
        chains = listener.get("filter_chains", [])
        if "default_filter_chain" in listener:
            chains = [*chains, listener["default_filter_chain"]]
        for chain in chains:
            for network_filter in chain["filters"]:
                route_config = network_filter["typed_config"].get("route_config")
                if route_config is not None:
                    found.append(route_config)
    return found


def add_competing_hosts(bootstrap: dict, domains: list[str], recorder_port: int) -> None:
    """A virtual host per domain, routing everything to the recorder on 127.0.0.1. A domain
    another virtual host already answers to is taken from it (the other team holds that
    host), and a virtual host left without domains is dropped."""
    for route_config in _route_configs(bootstrap):
        kept = []
        for vhost in route_config["virtual_hosts"]:
            vhost["domains"] = [d for d in vhost["domains"] if d.rsplit(":", 1)[0] not in domains]
            if vhost["domains"]:
                kept.append(vhost)
        competitors = [
            {
                "name": f"{COMPETITOR_CLUSTER}/{domain}",
                "domains": [domain, f"{domain}:*"] if "*" not in domain else [domain],
                "routes": [{"match": {"prefix": "/"}, "route": {"cluster": COMPETITOR_CLUSTER}}],
            }
            for domain in domains
        ]
        route_config["virtual_hosts"] = competitors + kept
    endpoint = {
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": recorder_port}}
    }
    bootstrap["static_resources"]["clusters"].append(
        {
            "name": COMPETITOR_CLUSTER,
            "type": "STATIC",
            "connect_timeout": "5s",
            "load_assignment": {
                "cluster_name": COMPETITOR_CLUSTER,
                "endpoints": [{"lb_endpoints": [{"endpoint": endpoint}]}],
            },
        }
    )


def point_host_at(bootstrap: dict, host: str, port: int) -> int:
    """Every cluster endpoint at `host` goes to 127.0.0.1:`port` instead (what an /etc/hosts
    entry and a port forward would do); the number of endpoints changed."""
    changed = 0
    for cluster in bootstrap["static_resources"]["clusters"]:
        for locality in cluster.get("load_assignment", {}).get("endpoints", []):
            for lb_endpoint in locality["lb_endpoints"]:
                address = lb_endpoint["endpoint"]["address"]["socket_address"]
                if address["address"] == host:
                    address["address"] = "127.0.0.1"
                    address["port_value"] = port
                    changed += 1
    return changed
