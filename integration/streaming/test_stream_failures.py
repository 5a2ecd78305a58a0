"""A streamed answer that goes wrong after Lambda's 200 (the function fails mid-stream, an
exception message, a corrupt frame, the answer cut before InvokeComplete): the caller's read
fails (the stream is reset, not ended cleanly), and the filter counts it. An error before the
stream is Lambda's ordinary JSON error, passed on as for a synchronous call."""

import json

import pytest

from harness import client
from harness.event_stream import exception, invoke_complete, payload_chunk
from harness.metrics import wait_for_metrics
from harness.streaming_lambda import StreamScript, Write

PAYLOAD = b'{"stream": "please"}'
BEGUN = payload_chunk(b"the first part")


def corrupt(frame: bytes) -> bytes:
    flipped = bytearray(frame)
    flipped[-6] ^= 0x01  # a payload byte: the message CRC no longer matches
    return bytes(flipped)


FAILURES = {
    # name: (what follows the first good part, how the answer ends, the counter). The caller
    # gets every PayloadChunk that arrived whole before the failure, then the reset.
    "function_error": (
        invoke_complete("Unhandled", "secret-details-123"),
        "complete",
        "stream_errors.function",
    ),
    "exception": (exception("ServiceException", "it broke"), "complete", "stream_errors.function"),
    "corrupt_crc": (corrupt(payload_chunk(b"more bytes")), "complete", "stream_errors.broken"),
    "ends_without_invoke_complete": (payload_chunk(b"more"), "complete", "stream_errors.broken"),
    "upstream_closes_mid_frame": (payload_chunk(b"more")[:9], "cut", "stream_errors.broken"),
    "bytes_after_invoke_complete": (
        invoke_complete() + payload_chunk(b"late"),
        "complete",
        "stream_errors.broken",
    ),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_a_failure_after_the_200_makes_the_callers_read_fail(streaming_envoy, failure):
    rest, end, counter = FAILURES[failure]
    script = StreamScript(writes=[Write(BEGUN), Write(rest, delay=0.3)], end=end)
    envoy, stand_in = streaming_envoy(script)

    got = client.stream(envoy.url, PAYLOAD)

    assert got.status == 200, got
    assert got.failure is not None, f"the caller saw a clean end: {got}"
    # What arrived before the failure is the function's, never a frame's bytes.
    passed = b"the first partmore" if failure == "ends_without_invoke_complete" else b""
    assert got.body in (b"the first part", passed), got
    stand_in.assert_one_good_request()
    stats = wait_for_metrics(envoy, {counter: 1, "invocations.streaming": 1})
    assert stats.get(counter) == 1, stats
    envoy.stop()  # flushes its log
    log = envoy.log_text()
    assert "streamed answer reset" in log or "streamed answer cut" in log, log[-3000:]
    assert "secret-details-123" not in log


ERRORS_BEFORE_THE_STREAM = [
    (404, "ResourceNotFoundException", [], "lambda_errors.client"),
    (429, "TooManyRequestsException", [("Retry-After", "7")], "lambda_errors.throttled"),
]


@pytest.mark.parametrize(
    ("status", "error_type", "extra", "counter"),
    ERRORS_BEFORE_THE_STREAM,
    ids=[str(s) for s, *_ in ERRORS_BEFORE_THE_STREAM],
)
def test_an_error_before_the_stream_passes_as_for_a_synchronous_call(
    streaming_envoy, status, error_type, extra, counter
):
    document = {"Type": "User", "message": f"{error_type} from the stand-in"}
    body = json.dumps(document).encode()
    script = StreamScript(
        status=status,
        headers=[
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", error_type),
            *extra,
        ],
        whole_body=body,
    )
    envoy, stand_in = streaming_envoy(script)

    got = client.stream(envoy.url, PAYLOAD)

    assert (got.status, got.failure, got.body) == (status, None, body), got
    assert got.header("x-amzn-errortype") == error_type, got
    assert got.header("content-type") == "application/json", got
    for name, value in extra:
        assert got.header(name) == value, got
    stand_in.assert_one_good_request()
    wait_for_metrics(envoy, {counter: 1, "invocations.streaming": 1})
