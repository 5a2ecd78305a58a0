"""A request through Envoy becomes one signed synchronous Lambda Invoke; the function's
answer comes back unchanged."""

import hashlib
import json

import pytest

from harness import client
from harness.envoy import plugin_configuration
from harness.expectations import invoke_path, the_signed_request

EMPTY_PAYLOAD_SHA256 = hashlib.sha256(b"").hexdigest()


@pytest.mark.smoke
def test_post_is_invoked_signed_and_answered_with_the_function_result(aws, capture, start_envoy):
    envoy = start_envoy()
    body = json.dumps({"user": "alice", "action": "login"}).encode()

    answer = client.call(
        envoy.url, "POST", "/login?next=%2Fhome", [("Content-Type", "application/json")], body
    )

    assert answer.status == 200, str(answer)
    assert answer.body == body  # moto's function echoes its payload
    invoked = the_signed_request(capture)
    assert invoked.method == "POST"
    assert invoked.target == invoke_path(aws.function_arn)  # client path and query dropped
    assert invoked.header("host") == f"lambda.{aws.region}.amazonaws.com"
    assert invoked.header("x-amz-invocation-type") == "RequestResponse"
    assert invoked.body == body
    assert f"Credential={aws.user_credentials.access_key_id}/" in invoked.header("authorization")
    assert invoked.header("x-amz-security-token") is None


def test_get_without_body_is_invoked_with_an_empty_payload(aws, capture, start_envoy):
    envoy = start_envoy()

    answer = client.call(envoy.url, "GET", "/health")

    assert answer.status == 200, str(answer)
    invoked = the_signed_request(capture)
    assert invoked.method == "POST"
    assert invoked.target == invoke_path(aws.function_arn)
    assert invoked.body == b""
    assert invoked.verdict.canonical_request.endswith("\n" + EMPTY_PAYLOAD_SHA256)
    # For an empty body the filter sends the payload hash as a header, and signs it.
    assert invoked.header("x-amz-content-sha256") == EMPTY_PAYLOAD_SHA256
    assert "x-amz-content-sha256" in invoked.verdict.signed_headers, invoked.header("authorization")


def test_several_requests_on_one_envoy_are_each_signed(aws, capture, start_envoy):
    envoy = start_envoy(
        plugin_configuration(arn=aws.function_arn, payload_passthrough=True), concurrency=2
    )
    bodies = [json.dumps({"n": n}).encode() for n in range(5)]

    answers = [client.call(envoy.url, "POST", "/", body=b) for b in bodies]

    assert [a.status for a in answers] == [200] * 5, [str(a) for a in answers]
    assert [a.body for a in answers] == bodies
    assert [r.body for r in capture.requests] == bodies
    assert all(r.verdict.ok for r in capture.requests), capture.describe()
