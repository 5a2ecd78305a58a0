"""Bodies over max_request_bytes get a local 413 and nothing is sent to Lambda."""

import pytest

from harness import client
from harness.envoy import plugin_configuration
from harness.expectations import (
    assert_local_reply,
    assert_nothing_sent_upstream,
    the_signed_request,
)

SYNCHRONOUS_DEFAULT_LIMIT = 6_291_456
ASYNCHRONOUS_DEFAULT_LIMIT = 1_048_576
SMALL_LIMIT = 64


@pytest.mark.parametrize("chunk_size", [None, 16], ids=["content-length", "chunked"])
def test_body_at_the_configured_limit_is_invoked(aws, capture, start_envoy, chunk_size):
    envoy = start_envoy(
        plugin_configuration(
            arn=aws.function_arn, payload_passthrough=True, max_request_bytes=SMALL_LIMIT
        )
    )
    body = b"x" * SMALL_LIMIT

    answer = client.call(envoy.url, "POST", "/", body=body, chunk_size=chunk_size)

    assert answer.status == 200, str(answer)
    assert the_signed_request(capture).body == body


@pytest.mark.parametrize("chunk_size", [None, 16], ids=["content-length", "chunked"])
def test_body_over_the_configured_limit_is_refused_locally(aws, capture, start_envoy, chunk_size):
    envoy = start_envoy(
        plugin_configuration(
            arn=aws.function_arn, payload_passthrough=True, max_request_bytes=SMALL_LIMIT
        )
    )

    answer = client.call(
        envoy.url, "POST", "/", body=b"x" * (SMALL_LIMIT + 1), chunk_size=chunk_size
    )

    assert_local_reply(answer, 413, "RequestTooLarge")
    assert_nothing_sent_upstream(capture)


@pytest.mark.parametrize(
    ("mode", "limit"),
    [("synchronous", SYNCHRONOUS_DEFAULT_LIMIT), ("asynchronous", ASYNCHRONOUS_DEFAULT_LIMIT)],
)
def test_body_over_the_default_limit_is_refused_locally(aws, capture, start_envoy, mode, limit):
    envoy = start_envoy(
        plugin_configuration(arn=aws.function_arn, payload_passthrough=True, invocation_mode=mode)
    )

    answer = client.call(envoy.url, "POST", "/", body=b"x" * (limit + 1))

    assert_local_reply(answer, 413, "RequestTooLarge")
    assert_nothing_sent_upstream(capture)


def test_body_at_the_asynchronous_default_limit_is_invoked(aws, capture, start_envoy):
    envoy = start_envoy(
        plugin_configuration(
            arn=aws.function_arn, payload_passthrough=True, invocation_mode="asynchronous"
        )
    )

    answer = client.call(envoy.url, "POST", "/", body=b"x" * ASYNCHRONOUS_DEFAULT_LIMIT)

    assert answer.status == 202, str(answer)
    assert len(the_signed_request(capture).body) == ASYNCHRONOUS_DEFAULT_LIMIT
