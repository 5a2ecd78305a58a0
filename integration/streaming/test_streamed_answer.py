"""A streamed answer (`InvokeWithResponseStream`) through a real Envoy: the caller gets the
function's bytes as a plain chunked response, as they arrive, with the function's content
type; the event stream's frames never reach it."""

import json

import pytest

from harness import client
from harness.event_stream import invoke_complete, payload_chunk, response_stream
from harness.metrics import wait_for_metrics
from harness.streaming_lambda import StreamScript, Write, split_at_random

PAYLOAD = json.dumps({"question": "stream?"}).encode()
SLOW_GAP_SECONDS = 1.5


@pytest.mark.smoke
def test_frames_split_anywhere_arrive_as_the_payload(streaming_envoy):
    payloads = [b"data: token %d\n\n" % i for i in range(40)]
    script = StreamScript(
        headers=[("Content-Type", "text/event-stream"), ("X-Amz-Executed-Version", "$LATEST")],
        writes=split_at_random(response_stream(payloads), seed=13, parts=120),
    )
    envoy, stand_in = streaming_envoy(script)

    got = client.stream(envoy.url, PAYLOAD)

    assert got.failure is None, got
    assert got.status == 200, got
    assert got.body == b"".join(payloads), got
    assert got.header("content-type") == "text/event-stream", got
    assert got.header("transfer-encoding") == "chunked", got
    assert got.header("content-length") is None, got
    assert got.header("x-amz-executed-version") == "$LATEST", got
    request = stand_in.assert_one_good_request()
    assert request.body == PAYLOAD
    wait_for_metrics(envoy, {"invocations.streaming": 1})


def test_the_event_stream_type_becomes_octet_stream(streaming_envoy):
    script = StreamScript(
        headers=[("Content-Type", "application/vnd.amazon.eventstream")],
        writes=[Write(response_stream([b"\x00\x01binary"]))],
    )
    envoy, stand_in = streaming_envoy(script)

    got = client.stream(envoy.url, PAYLOAD)

    assert (got.failure, got.body) == (None, b"\x00\x01binary"), got
    assert got.header("content-type") == "application/octet-stream", got
    stand_in.assert_one_good_request()


def test_the_caller_gets_the_first_bytes_before_the_last_are_sent(streaming_envoy):
    parts = [b"first ", b"second ", b"third"]
    script = StreamScript(
        writes=[
            Write(payload_chunk(parts[0])),
            Write(payload_chunk(parts[1]), delay=SLOW_GAP_SECONDS),
            Write(payload_chunk(parts[2]) + invoke_complete(), delay=SLOW_GAP_SECONDS),
        ]
    )
    envoy, stand_in = streaming_envoy(script)

    got = client.stream(envoy.url, PAYLOAD)

    assert got.failure is None, got
    assert got.body == b"".join(parts), got
    [played] = stand_in.played
    first_read_at, first_read = got.reads[0]
    assert first_read == parts[0], got
    # The first bytes were read long before the stand-in sent the last ones (about 3 s;
    # a margin of 1 s keeps a loaded machine from failing it).
    assert first_read_at < played.writes[-1] - 1.0, (got.reads, played)
    # The second part too was read before the third was sent.
    second_read_at = next(at for at, _ in got.reads if b"second" in _)
    assert second_read_at < played.writes[-1] - 0.5, (got.reads, played)
