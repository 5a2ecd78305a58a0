"""Credentials and AWS headers a client sends never reach Lambda: the filter's own replace
them, and the request still verifies."""

import pytest

from harness import client
from harness.envoy import plugin_configuration
from harness.expectations import the_signed_request

CLIENT_HEADERS = [
    (
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIDCLIENT/20000101/us-east-1/lambda/"
        "aws4_request, SignedHeaders=host, Signature=" + "0" * 64,
    ),
    ("X-Amz-Security-Token", "client-supplied-token"),
    ("X-Amz-Date", "20000101T000000Z"),
    ("X-Amz-Content-Sha256", "f" * 64),
    ("X-Amz-Invocation-Type", "DryRun"),
    ("X-Amz-Target", "AWSLambda.Invoke"),
    ("X-Amz-Log-Type", "Tail"),
    ("x-amz-foo", "bar"),
]
FILTER_NEVER_SETS = ["x-amz-target", "x-amz-log-type", "x-amz-foo"]


@pytest.mark.parametrize("kind", ["user", "session"])
def test_client_credentials_and_amz_headers_are_dropped(aws, capture, start_envoy, kind):
    credentials = aws.user_credentials if kind == "user" else aws.session_credentials
    envoy = start_envoy(environment=credentials.as_environment())

    answer = client.call(envoy.url, "POST", "/", CLIENT_HEADERS, b'{"sneaky": true}')

    assert answer.status == 200, str(answer)
    invoked = the_signed_request(capture)
    for name, client_value in CLIENT_HEADERS:
        assert client_value not in invoked.header_values(name), f"client's {name} reached Lambda"
    for name in FILTER_NEVER_SETS:
        assert invoked.header_values(name) == [], f"client's {name} reached Lambda"
    assert invoked.header("x-amz-invocation-type") == "RequestResponse"
    assert f"Credential={credentials.access_key_id}/" in invoked.header("authorization")
    assert invoked.header("x-amz-security-token") == credentials.session_token


def test_passthrough_sends_on_only_the_trace_and_request_ids(aws, capture, start_envoy):
    envoy = start_envoy()
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

    answer = client.call(
        envoy.url,
        "POST",
        "/",
        [
            ("X-Amzn-Trace-Id", trace),
            ("X-Request-Id", "caller-request-1"),
            ("Content-Type", "application/json"),
            ("User-Agent", "curl/8.0"),
            ("X-Caller-Secret", "internal-only"),
            ("Cookie", "session=abc"),
        ],
        b'{"traced": true}',
    )

    assert answer.status == 200, str(answer)
    invoked = the_signed_request(capture)
    assert invoked.header("x-amzn-trace-id") == trace  # Lambda continues the X-Ray trace
    assert invoked.header("x-request-id") == "caller-request-1"
    for name in ["content-type", "user-agent", "x-caller-secret", "cookie"]:
        assert invoked.header_values(name) == [], f"the caller's {name} reached Lambda"


def test_the_trace_id_stays_behind_when_not_forwarded(aws, capture, start_envoy):
    """`forward_trace_id: false` (what the Envoy Gateway generator writes, its listener facing
    callers from outside): the caller's `Sampled=1` does not reach Lambda, which otherwise
    continues the trace as the header says; the request id still goes on."""
    envoy = start_envoy(
        plugin_configuration(arn=aws.function_arn, payload_passthrough=True, forward_trace_id=False)
    )
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

    answer = client.call(
        envoy.url,
        "POST",
        "/",
        [("X-Amzn-Trace-Id", trace), ("X-Request-Id", "caller-request-2")],
        b'{"traced": false}',
    )

    assert answer.status == 200, str(answer)
    invoked = the_signed_request(capture)
    assert invoked.header_values("x-amzn-trace-id") == []
    assert invoked.header("x-request-id") == "caller-request-2"
