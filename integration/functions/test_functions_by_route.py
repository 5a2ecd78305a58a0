"""Several functions in one filter (the `functions` form), each request's function named by
its route's metadata under the filter's name: two functions in two regions, each reached
through its own Lambda cluster and signed for its own region (the botocore check), and a
route that names no function, whose request reaches a plain upstream as the caller sent it."""

import copy
import json

from harness import client
from harness.app import RecordingApp
from harness.aws import FUNCTION_NAME
from harness.bootstrap import static_cluster
from harness.capture import CaptureHop
from harness.envoy import FILTER_NAME, render_config
from harness.expectations import assert_every_request_verified, invoke_path
from harness.gateway import ROUTE_HEADER, WEST, create_function, lambda_routes

from .two_functions import Function, assert_each_function_signed_and_plain_untouched


def test_each_route_reaches_its_function_and_a_route_without_one_passes_untouched(
    aws, capture, start_bootstrap, wasm_path
):
    west_arn = create_function(aws, FUNCTION_NAME, WEST)
    west_hop = CaptureHop(aws.port, aws.credentials_by_access_key(), region=WEST).start()
    plain = RecordingApp(b"plain answer", "text/plain").start()
    try:
        configuration = json.dumps(
            {
                "functions": {
                    "auth": {"arn": aws.function_arn, "payload_passthrough": True},
                    "billing": {"arn": west_arn, "payload_passthrough": True},
                }
            }
        )
        config = render_config(
            wasm_path=wasm_path, plugin_configuration=configuration, lambda_port=capture.port
        )
        resources = config["static_resources"]
        listener = resources["listeners"][0]
        manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
        virtual_host = manager["route_config"]["virtual_hosts"][0]
        east_cluster = resources["clusters"][0]["name"]
        resources["clusters"] += [
            static_cluster("lambda_west", west_hop.port),
            static_cluster("plain", plain.port),
        ]
        virtual_host["routes"] = [
            *lambda_routes("auth", aws.function_arn, aws.region, east_cluster, "/auth"),
            *lambda_routes("billing", west_arn, WEST, "lambda_west", "/billing"),
            {"match": {"prefix": "/plain"}, "route": {"cluster": "plain"}},
        ]
        envoy = start_bootstrap(
            "envoy", copy.deepcopy(config), aws.user_credentials.as_environment()
        )

        assert_each_function_signed_and_plain_untouched(
            envoy,
            Function(capture, aws.function_arn, aws.region, "/auth"),
            Function(west_hop, west_arn, WEST, "/billing"),
            plain,
            west_route_key=FILTER_NAME,
        )
    finally:
        west_hop.stop()
        plain.stop()


def test_a_forged_signed_call_on_a_route_naming_no_function_is_refused_not_sent_unsigned(
    aws, capture, start_bootstrap, wasm_path
):
    """The signed call's route lacks the function's metadata (a misconfiguration). The
    filter's own call still goes out signed (Envoy does not hand it back to the filter), but a
    caller sending that route's path and the filter's route key would pass untouched and reach
    Lambda unsigned: the filter refuses it (500) and nothing reaches Lambda."""
    configuration = json.dumps(
        {"functions": {"auth": {"arn": aws.function_arn, "payload_passthrough": True}}}
    )
    config = render_config(
        wasm_path=wasm_path, plugin_configuration=configuration, lambda_port=capture.port
    )
    resources = config["static_resources"]
    manager = resources["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    cluster = resources["clusters"][0]["name"]
    manager["route_config"]["virtual_hosts"][0]["routes"] = lambda_routes(
        "auth", aws.function_arn, aws.region, cluster, "/auth", signed_named=False
    )
    envoy = start_bootstrap("envoy", config, aws.user_credentials.as_environment())

    signed = client.call(envoy.url, "POST", "/auth", body=b'{"to": "east"}')
    assert signed.status == 200, str(signed)
    forged = client.call(
        envoy.url,
        "POST",
        invoke_path(aws.function_arn),
        headers=[(ROUTE_HEADER, FILTER_NAME)],
        body=b'{"to": "forged"}',
    )

    assert forged.status == 500, str(forged)
    refusal = json.loads(forged.body)
    assert refusal["error"] == "InternalError", refusal
    assert "nothing was sent to Lambda" in refusal["message"], refusal
    assert len(capture.requests) == 1, capture.describe()
    assert capture.requests[0].body == b'{"to": "east"}'
    assert_every_request_verified(capture)
