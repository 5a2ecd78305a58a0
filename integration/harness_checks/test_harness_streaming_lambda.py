"""The streaming Lambda stand-in's frames, read back by botocore's event-stream parser (an
implementation nobody here wrote), whole and split at random boundaries."""

import json

from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

from harness.streaming_lambda import (
    exception,
    invoke_complete,
    payload_chunk,
    split_at_random,
    streamed,
)


def parsed(data: bytes, parts: int = 1) -> list:
    buffer = EventStreamBuffer()
    messages = []
    for write in split_at_random(data, seed=7, parts=parts):
        buffer.add_data(write.data)
        messages.extend(buffer)
    return messages


def test_botocore_reads_the_payload_chunks_and_the_end():
    for parts in (1, 37):
        messages = parsed(streamed(b"hello, ", b"", b"world" * 100), parts)
        kinds = [m.headers[":event-type"] for m in messages]
        assert kinds == ["PayloadChunk", "PayloadChunk", "PayloadChunk", "InvokeComplete"]
        assert b"".join(m.payload for m in messages[:3]) == b"hello, " + b"world" * 100
        assert all(m.headers[":message-type"] == "event" for m in messages)
        assert json.loads(messages[3].payload) == {"LogResult": ""}


def test_botocore_reads_a_function_error_and_an_exception():
    [complete] = parsed(invoke_complete("Unhandled", "boom"))
    assert json.loads(complete.payload)["ErrorCode"] == "Unhandled"
    [error] = parsed(exception("ServiceException", "no"))
    assert error.headers[":message-type"] == "exception"
    assert error.headers[":exception-type"] == "ServiceException"


def test_botocore_refuses_a_flipped_payload_byte():
    frame = bytearray(payload_chunk(b"abcdef"))
    frame[-6] ^= 0x01
    try:
        parsed(bytes(frame))
    except ChecksumMismatch:
        return
    raise AssertionError("botocore took a frame with a bad CRC")
