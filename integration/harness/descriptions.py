"""Descriptions (the generators' input) of one Lambda upstream reached through the capture
hop: `host_rewrite` points the filter at the hop, which serves TLS as Lambda does."""


def description(wasm: dict, ca_bundle, upstreams: list[dict], **extra) -> dict:
    """The caller `api`'s description; `wasm`: its wasm_file / wasm_url / oci_image fields."""
    return {"service": "api", **wasm, "ca_bundle": str(ca_bundle), "upstreams": upstreams, **extra}


def lambda_upstream(
    function_arn: str,
    lambda_host: str,
    *,
    environment_credentials: bool = True,
    plugin: dict | None = None,
    **fields,
) -> dict:
    """Upstream `authentication` invoking `function_arn` at `lambda_host`; `fields`: more of
    the upstream's fields (name, local_bind_port, mesh_host, ...); `plugin`: more of the
    filter's (passthrough unless it says otherwise)."""
    plugin = {
        "arn": function_arn,
        "host_rewrite": lambda_host,
        "payload_passthrough": True,
        **(plugin or {}),
    }
    if environment_credentials:
        plugin["credentials"] = {"provider": "environment"}
    return {"name": "authentication", **fields, "filter": plugin}
