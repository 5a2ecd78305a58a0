"""Event-stream messages (`application/vnd.amazon.eventstream`), written as Lambda's
InvokeWithResponseStream answers with them, for stand-ins that play Lambda.

A message is `total length (u32 BE) | headers length (u32 BE) | prelude CRC-32 | headers |
payload | message CRC-32`, each header `name length (u8) | name | type (u8) | value`. Lambda's:

    payload_chunk(data)            :event-type PayloadChunk, the function's output bytes
    invoke_complete(...)           :event-type InvokeComplete, JSON {ErrorCode, ErrorDetails,
                                   LogResult}; the error fields when the function failed
                                   after the stream began
    exception(type, message)       :message-type exception, JSON {"message": ...}

`message(headers, payload)` writes any message, with every header value type of the format
(`Typed` for the numeric ones); `http_integration_prelude` writes the JSON prelude and eight
NUL bytes a function URL's HTTP integration puts before the body.
"""

import json
import struct
import uuid
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

CONTENT_TYPE = "application/vnd.amazon.eventstream"

# Value types of the format.
_TRUE, _FALSE, _BYTE, _SHORT, _INT, _LONG, _BYTES, _STRING, _TIMESTAMP, _UUID = range(10)
_NUMERIC = {
    "byte": (_BYTE, ">b"),
    "short": (_SHORT, ">h"),
    "int": (_INT, ">i"),
    "long": (_LONG, ">q"),
    "timestamp": (_TIMESTAMP, ">q"),  # milliseconds since the epoch
}


@dataclass(frozen=True)
class Typed:
    """A header value of a numeric type (`byte`, `short`, `int`, `long`, `timestamp`)."""

    kind: str
    value: int


HeaderValue = bool | str | bytes | Typed | uuid.UUID


def _header(name: str, value: HeaderValue) -> bytes:
    encoded_name = name.encode()
    if not 0 < len(encoded_name) < 256:
        raise ValueError(f"header name of {len(encoded_name)} bytes: {name!r}")
    out = bytes([len(encoded_name)]) + encoded_name
    if isinstance(value, bool):
        return out + bytes([_TRUE if value else _FALSE])
    if isinstance(value, str | bytes):
        data = value.encode() if isinstance(value, str) else value
        kind = _STRING if isinstance(value, str) else _BYTES
        return out + struct.pack(">BH", kind, len(data)) + data
    if isinstance(value, uuid.UUID):
        return out + bytes([_UUID]) + value.bytes
    kind, layout = _NUMERIC[value.kind]
    return out + bytes([kind]) + struct.pack(layout, value.value)


def message(headers: Sequence[tuple[str, HeaderValue]], payload: bytes = b"") -> bytes:
    """One message, its lengths and both CRCs (zlib's CRC-32, the format's) computed."""
    encoded_headers = b"".join(_header(name, value) for name, value in headers)
    total = 12 + len(encoded_headers) + len(payload) + 4
    lengths = struct.pack(">II", total, len(encoded_headers))
    prelude = lengths + struct.pack(">I", zlib.crc32(lengths))
    body = prelude + encoded_headers + payload
    return body + struct.pack(">I", zlib.crc32(body))


def _lambda_message(message_type: str, kind: tuple[str, str], content_type: str, payload: bytes):
    # The order Lambda sends them in.
    return message(
        [kind, (":content-type", content_type), (":message-type", message_type)], payload
    )


def payload_chunk(data: bytes) -> bytes:
    return _lambda_message(
        "event", (":event-type", "PayloadChunk"), "application/octet-stream", data
    )


def invoke_complete(
    error_code: str | None = None,
    error_details: str | None = None,
    log_result: str | None = None,
) -> bytes:
    fields = {"ErrorCode": error_code, "ErrorDetails": error_details, "LogResult": log_result}
    payload = json.dumps({k: v for k, v in fields.items() if v is not None}).encode()
    return _lambda_message("event", (":event-type", "InvokeComplete"), "application/json", payload)


def exception(exception_type: str, text: str) -> bytes:
    payload = json.dumps({"message": text}).encode()
    return _lambda_message(
        "exception", (":exception-type", exception_type), "application/json", payload
    )


def response_stream(
    chunks: Iterable[bytes], error_code: str | None = None, error_details: str | None = None
) -> bytes:
    """A whole answer body: a PayloadChunk per chunk, then InvokeComplete."""
    return b"".join(payload_chunk(c) for c in chunks) + invoke_complete(error_code, error_details)


def http_integration_prelude(
    status: int | None = 200,
    headers: Mapping[str, str] | None = None,
    cookies: Sequence[str] | None = None,
) -> bytes:
    """The JSON prelude of a function URL's HTTP integration, then its eight NUL bytes
    (`status=None` leaves `statusCode` out)."""
    prelude: dict[str, object] = {}
    if status is not None:
        prelude["statusCode"] = status
    if headers is not None:
        prelude["headers"] = dict(headers)
    if cookies is not None:
        prelude["cookies"] = list(cookies)
    return json.dumps(prelude).encode() + b"\0" * 8
