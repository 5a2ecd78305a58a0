"""`payload_passthrough: false` with the default `payload_format: envoy`: the request reaches
Lambda as the native filter's JSON event (signed as it is sent), and the function's result
becomes the HTTP response. moto's function echoes its payload, so an echoed event maps back to
the caller's own body; scripted results (the capture hop's canned answers) cover the rest."""

import base64
import json

import pytest

from harness import client
from harness.capture import CannedResponse
from harness.envoy import plugin_configuration
from harness.expectations import assert_local_reply, invoke_path, the_signed_request


@pytest.fixture
def event_envoy(aws, start_envoy):
    def start(**fields):
        configuration = plugin_configuration(
            arn=aws.function_arn, payload_passthrough=False, detailed_errors=True, **fields
        )
        return start_envoy(configuration)

    return start


def event_of(request) -> dict:
    return json.loads(request.body)


@pytest.mark.smoke
def test_a_json_request_becomes_the_native_event(aws, capture, event_envoy):
    envoy = event_envoy()
    body = json.dumps({"user": "alice"}).encode()

    answer = client.call(
        envoy.url,
        "POST",
        "/login?next=%2Fhome&a=1&a=2",
        [("content-type", "application/json"), ("x-tag", "one"), ("x-tag", "two")],
        body,
    )

    invoked = the_signed_request(capture)
    assert invoked.target == invoke_path(aws.function_arn)
    assert invoked.header("content-type") == "application/json"
    event = event_of(invoked)
    assert event["raw_path"] == "/login?next=%2Fhome&a=1&a=2"
    assert event["method"] == "POST"
    assert event["headers"]["x-tag"] == "one,two"
    assert event["headers"]["content-type"] == "application/json"
    assert event["query_string_parameters"] == {"next": "%2Fhome", "a": "1"}
    assert (event["body"], event["is_base64_encoded"]) == (body.decode(), False)
    # The echoed event is a result: its body is the caller's.
    assert answer.status == 200, str(answer)
    assert answer.body == body
    assert answer.header("content-length") == str(len(body))


def test_a_binary_body_travels_base64_and_comes_back_decoded(capture, event_envoy):
    envoy = event_envoy()
    body = bytes(range(256))

    answer = client.call(
        envoy.url, "PUT", "/upload", [("content-type", "application/octet-stream")], body
    )

    event = event_of(the_signed_request(capture))
    assert event["is_base64_encoded"] is True
    assert base64.b64decode(event["body"]) == body
    assert answer.status == 200, str(answer)
    assert answer.body == body


def test_a_request_without_a_body_is_invoked_by_the_filter_itself(aws, capture, event_envoy):
    envoy = event_envoy()

    answer = client.call(envoy.url, "GET", "/health?verbose")

    invoked = the_signed_request(capture)
    assert invoked.target == invoke_path(aws.function_arn)
    event = event_of(invoked)
    assert (event["method"], event["raw_path"]) == ("GET", "/health?verbose")
    assert event["query_string_parameters"] == {"verbose": ""}
    assert (event["body"], event["is_base64_encoded"]) == ("", False)
    assert answer.status == 200, str(answer)


def canned(body, status=200, headers=()):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return CannedResponse(status, [("content-type", "application/json"), *headers], data)


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_a_result_with_status_headers_cookies_and_base64_body(capture, event_envoy, method):
    envoy = event_envoy()
    capture.answer_with(
        canned(
            {
                "statusCode": 201,
                "headers": {"X-Result": "yes", "Content-Length": "999"},
                "cookies": ["a=1; Path=/", "b=2"],
                "body": base64.b64encode(b"\x00\x01binary").decode(),
                "isBase64Encoded": True,
            }
        )
    )

    body = b"{}" if method == "POST" else b""
    answer = client.call(envoy.url, method, "/", [("content-type", "application/json")], body)

    assert answer.status == 201, str(answer)
    assert answer.header("x-result") == "yes"
    assert answer.header_values("set-cookie") == ["a=1; Path=/", "b=2"]
    assert answer.body == b"\x00\x01binary"
    assert answer.header("content-length") == "8"
    assert answer.header("content-type") == "application/json"


def test_a_result_without_status_code_is_a_200(capture, event_envoy):
    envoy = event_envoy()
    capture.answer_with(canned({"body": "plain", "headers": {"content-type": "text/plain"}}))

    answer = client.call(envoy.url, "POST", "/", body=b"{}")

    assert (answer.status, answer.body) == (200, b"plain")
    assert answer.header("content-type") == "text/plain"


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        (b"not json", "not JSON"),
        (b'["a list"]', "not a JSON object"),
        (b'{"statusCode": "teapot"}', "statusCode that is not a number"),
        (b'{"body": "%%%", "isBase64Encoded": true}', "not base64"),
    ],
    ids=["not-json", "not-an-object", "bad-status", "bad-base64"],
)
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_a_malformed_result_is_a_502_never_a_success(capture, event_envoy, result, reason, method):
    envoy = event_envoy()
    capture.answer_with(canned(result))

    body = b"{}" if method == "POST" else b""
    answer = client.call(envoy.url, method, "/", body=body)

    reply = assert_local_reply(answer, 502, "MalformedFunctionResult")
    assert reason in reply["message"]


def test_a_result_over_six_megabytes_is_a_502(capture, event_envoy):
    envoy = event_envoy()
    capture.answer_with(canned({"body": "x" * (6 * 1024 * 1024)}))

    answer = client.call(envoy.url, "POST", "/", body=b"{}")

    reply = assert_local_reply(answer, 502, "MalformedFunctionResult")
    assert "exceeds Lambda's limit" in reply["message"]


@pytest.mark.parametrize(("policy", "status"), [(None, 502), ("passthrough", 200)])
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_a_function_error(capture, event_envoy, policy, status, method):
    envoy = event_envoy(**({"function_error": policy} if policy else {}))
    error = {"errorMessage": "boom", "errorType": "Exception"}
    capture.answer_with(canned(error, headers=[("X-Amz-Function-Error", "Unhandled")]))

    body = b"{}" if method == "POST" else b""
    answer = client.call(envoy.url, method, "/", body=body)

    assert answer.status == status, str(answer)
    assert answer.json() == error
    assert answer.header("x-amz-function-error") == "Unhandled"


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_lambda_errors_pass_as_they_are(capture, event_envoy, method):
    envoy = event_envoy()
    throttled = {"Reason": "CallerRateLimitExceeded", "message": "Rate exceeded"}
    capture.answer_with(
        canned(
            throttled,
            status=429,
            headers=[("x-amzn-errortype", "TooManyRequestsException"), ("Retry-After", "3")],
        )
    )

    body = b"{}" if method == "POST" else b""
    answer = client.call(envoy.url, method, "/", body=body)

    assert answer.status == 429, str(answer)
    assert answer.json() == throttled
    assert answer.header("retry-after") == "3"


def test_the_limit_applies_to_the_encoded_event(capture, event_envoy):
    """A binary body that fits max_request_bytes raw but not base64-encoded gets the 413."""
    envoy = event_envoy(max_request_bytes=1000)

    answer = client.call(envoy.url, "POST", "/", [("content-type", "image/png")], bytes(900))

    reply = assert_local_reply(answer, 413, "RequestTooLarge")
    assert "its body encoded" in reply["message"]
    assert capture.requests == []
