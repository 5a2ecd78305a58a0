"""The route's timeouts and a streamed answer. A route `timeout` bounds the whole exchange,
answer included: a stream longer than it is cut (Envoy's default is 15 s). The shipped
envoy/streaming.yaml turns it off (`timeout: 0s`) and bounds silence instead
(`idle_timeout`): a long stream that keeps moving completes, one that stops moving is cut."""

from harness import client
from harness.event_stream import invoke_complete, payload_chunk
from harness.streaming_lambda import StreamScript, Write

GAP_SECONDS = 1.2
PARTS = [b"one ", b"two ", b"three ", b"four"]  # about 3.6 s in all


def slow_script(gap: float = GAP_SECONDS) -> StreamScript:
    writes = [Write(payload_chunk(part), delay=gap if i else 0) for i, part in enumerate(PARTS)]
    return StreamScript(writes=[*writes, Write(invoke_complete())])


def test_the_shipped_route_lets_a_long_stream_complete(streaming_envoy):
    # The shipped timeout: 0s, with the idle timeout short enough to matter here.
    envoy, stand_in = streaming_envoy(slow_script(), route_idle_timeout="3s")

    got = client.stream(envoy.url, b"{}")

    assert (got.failure, got.body) == (None, b"".join(PARTS)), got
    stand_in.assert_one_good_request()


def test_a_route_timeout_shorter_than_the_stream_cuts_it(streaming_envoy):
    envoy, _ = streaming_envoy(slow_script(), route_timeout="2s")

    got = client.stream(envoy.url, b"{}")

    assert got.status == 200, got
    assert got.failure is not None, f"the stream was not cut: {got}"
    assert got.body.startswith(b"one "), got
    assert got.body != b"".join(PARTS), got


def test_the_idle_timeout_cuts_a_stream_that_stops_moving(streaming_envoy):
    envoy, _ = streaming_envoy(slow_script(gap=3.0), route_idle_timeout="1s")

    got = client.stream(envoy.url, b"{}")

    assert got.failure is not None, f"the stream was not cut: {got}"
    assert got.body == b"one ", got
