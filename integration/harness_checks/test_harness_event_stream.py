"""The event-stream writer of the Lambda stand-ins (`harness.event_stream`), read back by
botocore's decoder (`botocore.eventstream.EventStreamBuffer`, which the AWS SDK for Python
reads InvokeWithResponseStream with): headers and payloads round-trip, in any split, and
botocore refuses the messages once a byte is changed (the CRCs are real). A failure here is a
harness problem."""

import json
import uuid

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

from harness import event_stream
from harness.event_stream import Typed


def read(data, piece=None):
    buffer = EventStreamBuffer()
    messages = []
    step = piece or len(data) or 1
    for at in range(0, len(data), step):
        buffer.add_data(data[at : at + step])
        messages.extend(buffer)
    return [(m.headers, m.payload) for m in messages]


def lambda_headers(kind_name, kind, content_type, message_type="event"):
    return {kind_name: kind, ":content-type": content_type, ":message-type": message_type}


def test_lambda_messages_round_trip_through_botocore():
    output = event_stream.http_integration_prelude(201, {"x-a": "1"}, ["c=1"]) + b"body\0\xff"
    data = event_stream.response_stream([output[:10], output[10:], b""]) + event_stream.exception(
        "ServiceException", "it broke"
    )
    chunk = lambda_headers(":event-type", "PayloadChunk", "application/octet-stream")
    expected = [
        (chunk, output[:10]),
        (chunk, output[10:]),
        (chunk, b""),
        (lambda_headers(":event-type", "InvokeComplete", "application/json"), b"{}"),
        (
            lambda_headers(":exception-type", "ServiceException", "application/json", "exception"),
            b'{"message": "it broke"}',
        ),
    ]
    assert read(data) == expected
    for piece in (1, 7, 100):
        assert read(data, piece) == expected


def test_invoke_complete_carries_the_function_error():
    data = event_stream.invoke_complete("Unhandled", "boom", "U1RBUlQ=")
    [(headers, payload)] = read(data)
    assert headers[":event-type"] == "InvokeComplete"
    assert json.loads(payload) == {
        "ErrorCode": "Unhandled",
        "ErrorDetails": "boom",
        "LogResult": "U1RBUlQ=",
    }


def test_every_header_type_round_trips():
    an_id = uuid.UUID("b79bc914-de21-4e13-b8b2-bc47e85b7f0b")
    headers = [
        ("true", True),
        ("false", False),
        ("byte", Typed("byte", -50)),
        ("short", Typed("short", 20_000)),
        ("int", Typed("int", -500_000)),
        ("long", Typed("long", 50_000_000_000)),
        ("bytes", b"\x00some bytes\xff"),
        ("str", "some str \u20ac"),
        ("time", Typed("timestamp", 5_000_000_000)),
        ("uuid", an_id),
    ]
    [(decoded, payload)] = read(event_stream.message(headers, b"some payload"))
    assert payload == b"some payload"
    assert decoded == {
        "true": True,
        "false": False,
        "byte": -50,
        "short": 20_000,
        "int": -500_000,
        "long": 50_000_000_000,
        "bytes": b"\x00some bytes\xff",
        "str": "some str \u20ac",
        "time": 5_000_000_000,
        "uuid": an_id.bytes,
    }


@pytest.mark.parametrize("at", [9, 20, -1])
def test_botocore_refuses_a_changed_byte(at):
    data = bytearray(event_stream.payload_chunk(b"payload"))
    data[at] ^= 0x01
    with pytest.raises(ChecksumMismatch):
        read(bytes(data))


def test_http_integration_prelude():
    prelude = event_stream.http_integration_prelude(404, {"a": "b"}, ["x=1"])
    text, separator = prelude[:-8], prelude[-8:]
    assert separator == b"\0" * 8
    assert b"\0" not in text
    assert json.loads(text) == {"statusCode": 404, "headers": {"a": "b"}, "cookies": ["x=1"]}
    assert event_stream.http_integration_prelude(None) == b"{}" + b"\0" * 8
