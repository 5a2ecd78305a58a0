"""Loaded without `allow_on_headers_stop_iteration` (as Consul's builtin/wasm, Istio's
WasmPlugin and Envoy Gateway load a filter), Envoy never hands the filter a request's body.
Such a request does not hang until the route's timeout: it gets the filter's 500 naming the
setting after 5 s, and nothing is sent to Lambda. A request without a body still works."""

import time

from harness import client
from harness.envoy import plugin_configuration
from harness.expectations import the_signed_request

BODY_EXPECTED_WITHIN_SECONDS = 5


def test_a_body_envoy_holds_back_is_answered_with_the_setting_to_fix(aws, capture, start_envoy):
    envoy = start_envoy(
        plugin_configuration(arn=aws.function_arn, payload_passthrough=True, detailed_errors=True),
        allow_on_headers_stop_iteration=False,
    )

    started = time.monotonic()
    answer = client.call(envoy.url, "POST", "/", body=b'{"user": "alice"}')
    waited = time.monotonic() - started

    assert answer.status == 500, str(answer)
    assert answer.json()["error"] == "BodyNotDelivered"
    assert "allow_on_headers_stop_iteration: true" in answer.json()["message"]
    # The check runs on the filter's timer, once a second.
    assert BODY_EXPECTED_WITHIN_SECONDS <= waited < BODY_EXPECTED_WITHIN_SECONDS + 3, waited
    assert capture.requests == []
    envoy.stop()
    assert "request bodies do not reach the filter" in envoy.log_text()


def test_a_request_without_a_body_is_still_signed(capture, start_envoy):
    envoy = start_envoy(allow_on_headers_stop_iteration=False)

    answer = client.call(envoy.url, "GET", "/health")

    assert answer.status == 200, str(answer)
    assert the_signed_request(capture).verdict.ok
