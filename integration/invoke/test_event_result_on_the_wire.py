"""An event-format result's status and headers through a real Envoy, read off one kept-alive
HTTP/1.1 connection byte by byte: the caller's connection must carry exactly one response per
request, or the function's body becomes the caller's next response."""

import json

import pytest

from harness import client
from harness.capture import CannedResponse
from harness.client import RawRequest
from harness.envoy import plugin_configuration

# Answered to every request whose event carries `NEXT`: the request after the one tested.
NEXT = b"the-next-request"
NEXT_BODY = "the next answer"
# A text body travels in the event as it is (not base64), where the capture hop finds marks.
TEXT = [("content-type", "text/plain")]


@pytest.fixture
def event_envoy(aws, capture, start_envoy):
    capture.answer_marked(NEXT, result({"statusCode": 200, "body": NEXT_BODY}))
    return start_envoy(plugin_configuration(arn=aws.function_arn, payload_passthrough=False))


def result(document: dict) -> CannedResponse:
    return CannedResponse(
        200, [("content-type", "application/json")], json.dumps(document).encode()
    )


def then_the_next(envoy, first: RawRequest) -> tuple[client.RawAnswer, client.RawAnswer]:
    """`first`, then a request answered `NEXT_BODY`, on one connection: both answers, and
    nothing after the second."""
    following = RawRequest("POST", "/next", TEXT, NEXT)
    (answer, next_answer), left_over = client.keep_alive(envoy.url, [first, following])
    assert next_answer.status_line == "HTTP/1.1 200 OK", str(next_answer)
    assert next_answer.body == NEXT_BODY.encode(), str(next_answer)
    assert left_over == b"", left_over
    return answer, next_answer


def test_a_1xx_status_is_a_502_not_an_interim_response_and_the_connection_stays_in_step(
    capture, event_envoy
):
    """RFC 9110 section 15.2: a 1xx is interim, and the client reads on for the final
    response, so a 1xx with a body would make the function's body the caller's next response
    (here one that sets a cookie). A result may only ask for a final status (200..=599)."""
    injected = "HTTP/1.1 200 OK\r\nSet-Cookie: injected=1\r\nContent-Length: 2\r\n\r\nhi"
    capture.answer_marked(b"attack", result({"statusCode": 100, "body": injected}))

    answer, _ = then_the_next(event_envoy, RawRequest("POST", "/", TEXT, b"attack"))

    assert answer.status_line.startswith("HTTP/1.1 502 "), str(answer)
    document = json.loads(answer.body)
    assert document["error"] == "MalformedFunctionResult", document
    assert answer.header("set-cookie") is None, str(answer)


@pytest.mark.parametrize(
    "status",
    [
        pytest.param(204, id="204: RFC 9110 section 15.3.5, 8.6 (no content, no length)"),
        pytest.param(304, id="304: RFC 9110 section 15.4.5 (no content)"),
    ],
)
def test_204_and_304_carry_no_body_whatever_the_result_says(capture, event_envoy, status):
    """RFC 9110 sections 15.3.5 and 15.4.5: a 204 or 304 response ends at its header section
    and cannot carry content; section 8.6: a 204 has no Content-Length, and a 304's could
    only be that of a 200 the filter never saw. The result's body is dropped."""
    capture.answer_marked(b"no-content", result({"statusCode": status, "body": "not sent"}))

    answer, _ = then_the_next(event_envoy, RawRequest("POST", "/", TEXT, b"no-content"))

    assert answer.status == status, str(answer)
    assert answer.header("content-length") is None, str(answer)
    assert answer.header("transfer-encoding") is None, str(answer)


def test_a_head_request_gets_the_headers_alone(capture, event_envoy):
    """RFC 9110 section 9.3.2: the answer to HEAD carries no content, and section 8.6: a
    Content-Length in it may only be what GET would have got. The event for HEAD has no
    body to mark, so the result is the capture hop's answer for every request."""
    capture.answer_with(result({"statusCode": 200, "body": "a body for GET"}))

    (answer,), left_over = client.keep_alive(event_envoy.url, [RawRequest("HEAD", "/")])

    assert answer.status_line == "HTTP/1.1 200 OK", str(answer)
    assert answer.header("content-length") in (None, str(len("a body for GET"))), str(answer)
    assert left_over == b"", left_over


@pytest.mark.parametrize("control", ["\x01", "\x1b", "\x7f"])
def test_a_header_value_with_a_control_byte_is_a_502(capture, event_envoy, control):
    """RFC 9110 section 5.5: a field value holds HTAB, SP, visible characters and obs-text,
    no other control byte (a terminal escape, DEL): refused as CR and LF are."""
    headers = {"x-from-function": f"a{control}b"}
    capture.answer_marked(b"control", result({"headers": headers, "body": "not sent"}))

    answer, _ = then_the_next(event_envoy, RawRequest("POST", "/", TEXT, b"control"))

    assert answer.status_line.startswith("HTTP/1.1 502 "), str(answer)
    assert json.loads(answer.body)["error"] == "MalformedFunctionResult", str(answer)
    assert answer.header("x-from-function") is None, str(answer)
