"""Several functions without the `functions` form: one single-form filter per function, each
`disabled: true` in the connection manager and enabled on its own function's routes (Envoy's
route based filter chain), so no request reads an attribute to find its function. Two
functions in two regions, each signed for its own region (the botocore check); a route that
enables neither filter passes untouched; both filters run in one VM, and two filters with
equal credential settings share one fetch (one AssumeRole call).

Envoy's rules this relies on:
- docs/root/intro/arch_overview/http/http_filters.rst, "Route based filter chain": a filter
  set `disabled: true` in `http_filters` is "disabled by default", and a route's
  `typed_per_filter_config` entry for it enables it on that route.
- source/common/router/per_filter_config.cc: a `envoy.config.route.v3.FilterConfig` whose
  `config` "is configured but is empty" means "the filter is enabled explicitly" (the Wasm
  filter has no per-route config of its own to give); without `config` the route is refused.
- api/envoy/config/route/v3/route_components.proto, FilterConfig.disabled: the filter chain is
  built from the request's first route; a later re-match (the signed call's) does not add or
  remove filters. So the signed call's route must enable the same filter only for a caller who
  sends the signed call's path and route key himself: that request must be taken and signed.
- source/extensions/common/wasm/wasm.cc: a VM is found by its key,
  `proxy_wasm::makeVmKey(vm_config.vm_id(), vm_config.configuration(), code)`, not by plugin:
  two filters with the same `vm_config` share their VMs (one per thread), each plugin a root
  context of its own in them.
"""

import copy
import json
import time

from harness import client
from harness.app import RecordingApp
from harness.aws import FUNCTION_NAME
from harness.bootstrap import static_cluster
from harness.capture import CaptureHop
from harness.envoy import FILTER_NAME, render_config
from harness.expectations import invoke_path
from harness.gateway import ROUTE_HEADER, WEST, create_function, lambda_routes
from harness.metrics import mesh_lambda_stats, wait_for_metrics
from harness.sts import role_arn

from .two_functions import Function, assert_each_function_signed_and_plain_untouched

BILLING_FILTER = "mesh-lambda-billing"
ENABLE = {"@type": "type.googleapis.com/envoy.config.route.v3.FilterConfig", "config": {}}
# Envoy's wasm runtime gauge: the VMs alive.
ACTIVE_VMS = "wasm.envoy.wasm.runtime.v8.active"
ENV_FETCHES = "credential_fetches.environment"


def _routes_enabling(filter_name: str, routes: list) -> list:
    """`lambda_routes` with the function named by enabling `filter_name` instead of by metadata,
    and the signed call's route keyed on that filter's name (its route key)."""
    routes = copy.deepcopy(routes)
    for route in routes:
        route.pop("metadata", None)
        route["typed_per_filter_config"] = {filter_name: copy.deepcopy(ENABLE)}
        for header in route["match"].get("headers", []):
            if header["name"] == ROUTE_HEADER:
                header["string_match"] = {"exact": filter_name}
    return routes


def _two_filters(wasm_path, lambda_port: int, auth: dict, billing: dict) -> dict:
    """envoy/local.yaml with two single-form filters, `auth`'s (named mesh-lambda) and
    `billing`'s (mesh-lambda-billing, the same vm_config), both disabled by default."""
    config = render_config(
        wasm_path=wasm_path, plugin_configuration=json.dumps(auth), lambda_port=lambda_port
    )
    manager = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    filters = manager["typed_config"]["http_filters"]
    [auth_filter] = [f for f in filters if f["name"] == FILTER_NAME]
    billing_filter = copy.deepcopy(auth_filter)
    billing_filter["name"] = billing_filter["typed_config"]["config"]["name"] = BILLING_FILTER
    billing_filter["typed_config"]["config"]["configuration"]["value"] = json.dumps(billing)
    auth_filter["disabled"] = billing_filter["disabled"] = True
    filters.insert(filters.index(auth_filter) + 1, billing_filter)
    return config


def _vm_and_fetches(envoy) -> tuple[int, int]:
    """VMs alive, and environment credential fetches once every VM has flushed its metrics
    (each on its own timer, every second at the latest: read until two reads a flush apart
    agree)."""
    previous = None
    for _ in range(10):
        current = (envoy.stats()[ACTIVE_VMS], mesh_lambda_stats(envoy).get(ENV_FETCHES, 0))
        if current == previous and current[1] > 0:
            return current
        previous = current
        time.sleep(1.2)
    return current


def test_each_function_has_its_filter_enabled_on_its_routes_only(
    aws, capture, start_bootstrap, wasm_path
):
    west_arn = create_function(aws, FUNCTION_NAME, WEST)
    west_hop = CaptureHop(aws.port, aws.credentials_by_access_key(), region=WEST).start()
    plain = RecordingApp(b"plain answer", "text/plain").start()
    try:
        config = _two_filters(
            wasm_path,
            capture.port,
            {"arn": aws.function_arn, "payload_passthrough": True},
            {"arn": west_arn, "payload_passthrough": True},
        )
        resources = config["static_resources"]
        manager = resources["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
        east_cluster = resources["clusters"][0]["name"]
        resources["clusters"] += [
            static_cluster("lambda_west", west_hop.port),
            static_cluster("plain", plain.port),
        ]
        manager["route_config"]["virtual_hosts"][0]["routes"] = [
            *_routes_enabling(
                FILTER_NAME,
                lambda_routes("auth", aws.function_arn, aws.region, east_cluster, "/auth"),
            ),
            *_routes_enabling(
                BILLING_FILTER, lambda_routes("billing", west_arn, WEST, "lambda_west", "/billing")
            ),
            {"match": {"prefix": "/plain"}, "route": {"cluster": "plain"}},
        ]
        envoy = start_bootstrap("envoy", config, aws.user_credentials.as_environment())

        assert_each_function_signed_and_plain_untouched(
            envoy,
            Function(capture, aws.function_arn, aws.region, "/auth"),
            Function(west_hop, west_arn, WEST, "/billing"),
            plain,
            west_route_key=BILLING_FILTER,
        )

        # One VM for both plugins: as many VMs alive as with the single function's filter alone
        # (the same vm_config). The environment, which needs no call, is read by each filter's
        # plugin at start: twice the single filter's count (a fetch that calls out is shared
        # by equal settings: the next test).
        two_filters = _vm_and_fetches(envoy)
        single = start_bootstrap(
            "single",
            render_config(
                wasm_path=wasm_path,
                plugin_configuration=json.dumps(
                    {"arn": aws.function_arn, "payload_passthrough": True}
                ),
                lambda_port=capture.port,
            ),
            aws.user_credentials.as_environment(),
        )
        one_filter = _vm_and_fetches(single)
        assert two_filters[0] == one_filter[0], (two_filters, one_filter)
        assert two_filters[1] == 2 * one_filter[1], (two_filters, one_filter)
    finally:
        west_hop.stop()
        plain.stop()


def test_filters_with_equal_credentials_settings_share_one_fetch(
    aws, capture, sts_hop, start_bootstrap, wasm_path
):
    """Two filters, two functions in one region, each assuming the same role with the same
    settings: STS is asked once for the proxy, and every Invoke of both is signed with the
    role's keys. The credential record in shared data is named by the credential settings,
    not by the filter (crates/core/src/vm/agent.rs, `record_name`), and shared data belongs
    to the `vm_id` (proxy-wasm's `proxy_set_shared_data`), which both filters share."""
    billing_arn = create_function(aws, "billing", aws.region)
    credentials = {
        "provider": "environment",
        "fetch_timeout_ms": 1000,
        "assume_role": {"role_arn": role_arn(aws)},
    }
    config = _two_filters(
        wasm_path,
        capture.port,
        {"arn": aws.function_arn, "payload_passthrough": True, "credentials": credentials},
        {"arn": billing_arn, "payload_passthrough": True, "credentials": credentials},
    )
    resources = config["static_resources"]
    manager = resources["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    resources["clusters"].append(sts_hop.cluster())
    cluster = resources["clusters"][0]["name"]
    route = {"cluster": cluster, "host_rewrite_literal": f"lambda.{aws.region}.amazonaws.com"}
    routes = []
    for filter_name, arn, prefix in [
        (FILTER_NAME, aws.function_arn, "/auth"),
        (BILLING_FILTER, billing_arn, "/billing"),
    ]:
        enable = {filter_name: copy.deepcopy(ENABLE)}
        # One region holds both: each signed call's route matches its whole ARN.
        signed = {
            "prefix": invoke_path(arn).removesuffix("invocations"),
            "headers": [{"name": ROUTE_HEADER, "string_match": {"exact": filter_name}}],
        }
        routes += [
            {
                "match": signed,
                "request_headers_to_remove": [ROUTE_HEADER],
                "typed_per_filter_config": enable,
                "route": route,
            },
            {"match": {"prefix": prefix}, "typed_per_filter_config": enable, "route": route},
        ]
    manager["route_config"]["virtual_hosts"][0]["routes"] = routes
    envoy = start_bootstrap("envoy", config, aws.user_credentials.as_environment())

    for number in range(2):
        for path in ["/auth", "/billing"]:
            body = b'{"to": "%s", "n": %d}' % (path[1:].encode(), number)
            answer = client.call(envoy.url, "POST", path, body=body)
            assert answer.status == 200, str(answer)

    [call] = sts_hop.calls()
    assert call.verdict.ok, call.describe()
    [assumed] = sts_hop.assumed
    targets = [invoke.target for invoke in capture.requests]
    assert targets == [invoke_path(aws.function_arn), invoke_path(billing_arn)] * 2, targets
    for invoke in capture.requests:
        assert invoke.verdict.ok, invoke.describe()
        assert invoke.access_key_id == assumed.credentials.access_key_id
    metrics = wait_for_metrics(envoy, {"credential_fetches.assume_role": 1})
    assert metrics["credential_fetches.assume_role"] == 1, metrics
