"""Loaded without `allow_on_headers_stop_iteration` (as Consul's builtin/wasm, Istio's
WasmPlugin and Envoy Gateway load a filter), Envoy never hands the filter a request's body.
Such a request does not hang until the route's timeout: once Envoy has received the body and
held it back, it gets the filter's 500 naming the setting, and nothing is sent to Lambda. How
fast the caller sends its body plays no part: a slow upload to a well-configured Envoy is
signed, however late its body starts. A request without a body still works.

What Envoy has received is its stream info's count of body bytes, which the connection
manager adds to before its filter chain sees the data; wasm reads it as `request.total_size`,
that count plus the headers' size (Envoy's `source/extensions/filters/common/expr/context.cc`,
`TotalSize`; the attribute is listed in Envoy's docs, "Attributes", request attributes)."""

import json
import time

import pytest

from harness import client
from harness.envoy import plugin_configuration
from harness.expectations import the_signed_request

# Longer than the 5 s after which the filter used to give up on a body that had not come.
BODY_AFTER_SECONDS = 7
# The filter's timer checks once a second and answers a body held back for a second.
ANSWERED_WITHIN_SECONDS = 3


def configuration(aws) -> str:
    """The filter's own 500 names the setting to fix only with detailed_errors."""
    return plugin_configuration(
        arn=aws.function_arn, payload_passthrough=True, detailed_errors=True
    )


# With a declared length the whole body must have arrived; chunked, any of it.
@pytest.mark.parametrize("chunk_size", [None, 4], ids=["content-length", "chunked"])
def test_a_body_envoy_holds_back_is_answered_once_sent_with_the_setting_to_fix(
    aws, capture, start_envoy, chunk_size
):
    envoy = start_envoy(configuration(aws), allow_on_headers_stop_iteration=False)

    started = time.monotonic()
    answer = client.call(
        envoy.url,
        "POST",
        "/",
        body=b'{"user": "alice"}',
        chunk_size=chunk_size,
        body_after=BODY_AFTER_SECONDS,
    )
    waited = answer.answered_at - started

    assert answer.status == 500, str(answer)
    assert answer.json()["error"] == "BodyNotDelivered"
    assert "allow_on_headers_stop_iteration" in answer.body.decode()
    assert BODY_AFTER_SECONDS <= waited < BODY_AFTER_SECONDS + ANSWERED_WITHIN_SECONDS, waited
    assert capture.requests == []
    envoy.stop()
    assert "request bodies do not reach the filter" in envoy.log_text()


def test_a_slow_upload_to_a_fresh_envoy_is_signed(aws, capture, start_envoy):
    envoy = start_envoy(configuration(aws))

    answer = client.call(
        envoy.url, "POST", "/", body=b'{"user": "alice"}', body_after=BODY_AFTER_SECONDS
    )

    assert answer.status == 200, str(answer)
    assert json.loads(answer.body) == {"user": "alice"}
    assert the_signed_request(capture).verdict.ok
    envoy.stop()
    assert "request bodies do not reach the filter" not in envoy.log_text()


def test_a_request_without_a_body_is_still_signed(aws, capture, start_envoy):
    envoy = start_envoy(configuration(aws), allow_on_headers_stop_iteration=False)

    answer = client.call(envoy.url, "GET", "/health")

    assert answer.status == 200, str(answer)
    assert the_signed_request(capture).verdict.ok
