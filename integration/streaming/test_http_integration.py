"""A function-URL-style streamed answer (`application/vnd.awslambda.http-integration-response`):
the JSON prelude's status, headers and cookies become the caller's, the body after the eight
NUL bytes is streamed on."""

import json

from harness import client
from harness.event_stream import response_stream
from harness.streaming_lambda import StreamScript, split_at_random

HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response"


def test_the_prelude_sets_status_headers_and_cookies(streaming_envoy):
    prelude = {
        "statusCode": 201,
        "headers": {"Content-Type": "text/html; charset=utf-8", "X-Served-By": "stream"},
        "cookies": ["session=abc; Secure; HttpOnly", "theme=dark"],
    }
    body = b"<html>" + b"streamed body " * 200 + b"</html>"
    output = json.dumps(prelude).encode() + b"\0" * 8 + body
    # The prelude split across several PayloadChunks, themselves split across writes.
    pieces = [output[:30], output[30:90], output[90:]]
    script = StreamScript(
        headers=[("Content-Type", HTTP_INTEGRATION), ("X-Amzn-RequestId", "req-7")],
        writes=split_at_random(response_stream(pieces), seed=5, parts=40),
    )
    envoy, stand_in = streaming_envoy(script)

    got = client.stream(envoy.url, b"{}")

    assert got.failure is None, got
    assert got.status == 201, got
    assert got.body == body, got
    assert got.header("content-type") == "text/html; charset=utf-8", got
    assert got.header("x-served-by") == "stream", got
    assert got.header_values("set-cookie") == prelude["cookies"], got
    assert got.header("x-amzn-requestid") == "req-7", got
    stand_in.assert_one_good_request()


def test_a_prelude_without_its_separator_resets_the_stream(streaming_envoy):
    script = StreamScript(
        headers=[("Content-Type", HTTP_INTEGRATION)],
        writes=split_at_random(response_stream([b'{"statusCode": 200}']), seed=1, parts=3),
    )
    envoy, _ = streaming_envoy(script)

    try:
        got = client.stream(envoy.url, b"{}")
    except ConnectionError as error:  # the reset came before any response header
        got = error
    assert not isinstance(got, client.StreamedAnswer) or got.failure is not None, got
