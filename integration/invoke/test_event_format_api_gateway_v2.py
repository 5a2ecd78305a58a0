"""`payload_format: api_gateway_v2`: the event a Lambda framework parses. Events captured at
the upstream of a real Envoy are read with Powertools for AWS Lambda (Python), which nobody
here wrote; a result its router builds is given back to the filter as the function's result
and must come out as the HTTP response it describes."""

import base64
import json

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.shared.cookies import Cookie
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from harness import client
from harness.capture import CannedResponse
from harness.envoy import plugin_configuration
from harness.expectations import the_signed_request

HEADERS = [
    ("content-type", "application/json; charset=utf-8"),
    ("user-agent", "test-client/1"),
    ("x-tag", "one"),
    ("x-tag", "two"),
    ("cookie", "a=1; b=2"),
]


@pytest.fixture
def v2_envoy(aws, start_envoy):
    configuration = plugin_configuration(
        arn=aws.function_arn, payload_passthrough=False, payload_format="api_gateway_v2"
    )
    # As the README says to configure it (and the Consul generator does): the peer's address
    # from the connection, not from x-forwarded-for.
    return start_envoy(configuration, use_remote_address=True)


def captured_event(capture) -> dict:
    return json.loads(the_signed_request(capture).body)


def test_powertools_reads_the_event(aws, capture, v2_envoy):
    client.call(
        v2_envoy.url, "POST", "/orders/caf%C3%A9?item=tea&item=cake&gift", HEADERS, b'{"qty": 2}'
    )

    event = APIGatewayProxyEventV2(captured_event(capture))
    assert event.version == "2.0"
    assert event.http_method == "POST"
    assert event.raw_path == "/orders/caf%C3%A9"
    assert event.path == "/orders/caf%C3%A9"
    assert event.raw_query_string == "item=tea&item=cake&gift"
    assert event.query_string_parameters == {"item": "tea,cake", "gift": ""}
    assert event.cookies == ["a=1", "b=2"]
    assert event.headers["x-tag"] == "one,two"
    assert "cookie" not in event.headers
    assert event.request_context.http.source_ip == "127.0.0.1"  # Envoy's peer, not a header
    assert event.request_context.http.protocol == "HTTP/1.1"
    assert event.request_context.http.user_agent == "test-client/1"
    assert event.request_context.account_id == aws.function_arn.split(":")[4]
    assert event.request_context.request_id == event.headers["x-request-id"]
    assert event.json_body == {"qty": 2}
    assert event.is_base64_encoded is False


def test_a_forged_forwarded_for_is_not_the_source_ip(capture, v2_envoy):
    client.call(v2_envoy.url, "GET", "/", [("x-forwarded-for", "203.0.113.9")], b"")

    event = APIGatewayProxyEventV2(captured_event(capture))
    assert event.request_context.http.source_ip == "127.0.0.1"


def test_a_binary_body_is_base64(capture, v2_envoy):
    body = bytes(range(200))
    client.call(v2_envoy.url, "PUT", "/blob", [("content-type", "image/png")], body)

    event = APIGatewayProxyEventV2(captured_event(capture))
    assert event.is_base64_encoded is True
    assert base64.b64decode(event.body) == body


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_a_powertools_response_becomes_the_http_response(capture, v2_envoy, method):
    app = APIGatewayHttpResolver()

    @app.route("/orders", method=method)
    def orders():
        return Response(
            status_code=201,
            content_type="text/plain",
            body=f"created by {app.current_event.http_method}",
            headers={"x-made-by": "powertools"},
            cookies=[Cookie(name="session", value="abc")],
        )

    body = b'{"qty": 1}' if method == "POST" else b""
    client.call(v2_envoy.url, method, "/orders", HEADERS, body)
    result = app.resolve(captured_event(capture), None)
    capture.answer_with(
        CannedResponse(200, [("content-type", "application/json")], json.dumps(result).encode())
    )

    answer = client.call(v2_envoy.url, method, "/orders", HEADERS, body)

    assert answer.status == 201, str(answer)
    assert answer.body == f"created by {method}".encode()
    assert answer.header("content-type") == "text/plain"
    assert answer.header("x-made-by") == "powertools"
    assert answer.header_values("set-cookie") == ["session=abc; Secure"]


def test_a_result_without_status_code_is_the_body_of_a_200(capture, v2_envoy):
    capture.answer_with(
        CannedResponse(200, [("content-type", "application/json")], b'{"message": "hi"}')
    )

    answer = client.call(v2_envoy.url, "POST", "/", body=b"{}")

    assert (answer.status, answer.json()) == (200, {"message": "hi"})
    assert answer.header("content-type") == "application/json"
