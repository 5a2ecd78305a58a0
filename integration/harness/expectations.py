"""Assertions shared by the end-to-end tests."""

import base64
import json
from urllib.parse import quote

from . import client
from .capture import CapturedRequest, CaptureHop
from .client import Answer

INVOCATIONS_PATH = "/2015-03-31/functions/{function}/invocations"


def invoke_path(function_arn: str) -> str:
    """The Lambda Invoke path with the ARN percent-encoded as on the wire (`%3A`)."""
    return INVOCATIONS_PATH.format(function=quote(function_arn, safe=""))


def the_signed_request(capture: CaptureHop) -> CapturedRequest:
    """The one request that reached Lambda; its signature must pass the botocore check."""
    captured = capture.requests
    assert len(captured) == 1, f"expected 1 request at the Lambda side, got {len(captured)}"
    request = captured[0]
    assert request.verdict.ok, str(request.verdict)
    return request


def assert_every_request_verified(capture: CaptureHop) -> None:
    for number, request in enumerate(capture.requests, 1):
        assert request.verdict.ok, f"request #{number}: {request.verdict}"


def assert_nothing_sent_upstream(capture: CaptureHop) -> None:
    assert capture.requests == [], capture.describe()


def assert_local_reply(answer: Answer, status: int, error_code: str) -> dict:
    """A reply the filter made itself: JSON {"error": code, "message": text}."""
    assert answer.status == status, str(answer)
    content_type = answer.header("content-type") or ""
    assert content_type.split(";")[0].strip() == "application/json", str(answer)
    document = answer.json()
    assert document.get("error") == error_code, document
    assert isinstance(document.get("message"), str) and document["message"], document
    return document


def lines_leaking(log: str, secret: str, *, envoys_dump_of: str | None = None) -> list[str]:
    """Log lines containing `secret`. With `envoys_dump_of` (a header name), the one line
    shape in which Envoy itself prints a header at debug level, `'<name>', '<secret>'`, is
    not counted: that line is Envoy's dump of the headers it sends, not the filter's doing."""
    allowed = f"'{envoys_dump_of}', '{secret}'" if envoys_dump_of else None
    return [line for line in log.splitlines() if secret in line and line.strip() != allowed]


def invoke_small_and_large(
    url: str, host: str, path: str, capture: CaptureHop, function_arn: str
) -> None:
    """A small call and one above Envoy's default 1 MiB buffer, with `host`, to `path`: both
    answered 200 by moto's echoing function, both signed as the Invoke call of
    `function_arn`."""
    for payload in [{"user": "alice"}, {"blob": "x" * (2 * 1024 * 1024)}]:
        body = json.dumps(payload).encode()
        headers = [("host", host), ("content-type", "application/json")]
        answer = client.call(url, "POST", path, headers, body)
        assert answer.status == 200, str(answer)
        assert answer.body == body
    for invoked in capture.requests:
        assert invoked.verdict.ok, invoked.describe()
        assert invoked.path == invoke_path(function_arn)
    assert len(capture.requests) == 2


def decoded_client_context(request) -> dict:
    """The JSON of a captured Invoke call's `X-Amz-Client-Context` (base64, as Lambda's
    Invoke API takes it)."""
    value = request.header("x-amz-client-context")
    assert value is not None, request.headers
    return json.loads(base64.b64decode(value, validate=True))
