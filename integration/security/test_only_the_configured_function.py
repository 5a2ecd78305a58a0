"""A caller reaches the configured function and nothing else: no path, query, header or host
trick turns the signed request into an Invoke of another ARN, another invocation type, or a
call to another AWS API. Whatever the caller sends, exactly one request leaves the proxy: the
Invoke of the configured function, signed, with the configured invocation type."""

import pytest

from harness import client
from harness.envoy import plugin_configuration
from harness.expectations import invoke_path, the_signed_request

OTHER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:other"
STS_HOST = "sts.us-east-1.amazonaws.com"

# (what the caller tries, request target, extra headers)
TRICKS = [
    ("another function's invoke path", f"/2015-03-31/functions/{OTHER_ARN}/invocations", []),
    ("dot segments", "/../../2015-03-31/functions/other/invocations", []),
    ("encoded dot segments", "/%2e%2e/%2E%2E/2015-03-31/functions/other/invocations", []),
    ("a qualifier in the query", "/?Qualifier=other-alias", []),
    ("another API in the query", "/?Action=AssumeRole&Version=2011-06-15", []),
    ("absolute-form target", f"http://{STS_HOST}/?Action=GetCallerIdentity", []),
    ("another host", "/", [("Host", STS_HOST)]),
    ("forwarded host", "/", [("X-Forwarded-Host", STS_HOST), ("X-Original-URL", "/other")]),
    (
        "another API's target header",
        "/",
        [("X-Amz-Target", "AWSSecurityTokenServiceV20110615.GetCallerIdentity")],
    ),
    ("asynchronous invocation type", "/", [("X-Amz-Invocation-Type", "Event")]),
    (
        "the caller's own signature",
        "/",
        [
            ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDCALLER/x, Signature=00"),
            ("X-Amz-Date", "20200101T000000Z"),
            ("X-Amz-Security-Token", "caller-token"),
        ],
    ),
]


@pytest.fixture(params=["passthrough", "event"])
def envoy(request, aws, start_envoy):
    passthrough = request.param == "passthrough"
    return start_envoy(plugin_configuration(arn=aws.function_arn, payload_passthrough=passthrough))


@pytest.mark.parametrize(("trick", "target", "headers"), TRICKS, ids=[t[0] for t in TRICKS])
def test_the_caller_reaches_only_the_configured_function(
    aws, capture, envoy, trick, target, headers
):
    answer = client.call(envoy.url, "POST", target, headers, b'{"n": 1}')

    assert answer.status == 200, f"{trick}: {answer}"
    invoked = the_signed_request(capture)  # one request, its signature verified
    assert invoked.target == invoke_path(aws.function_arn), trick
    assert invoked.header("host") == f"lambda.{aws.region}.amazonaws.com", trick
    assert invoked.header("x-amz-invocation-type") == "RequestResponse", trick
    assert invoked.header("x-amz-target") is None, trick
    assert invoked.header("x-amz-security-token") is None, trick
    assert f"Credential={aws.user_credentials.access_key_id}/" in invoked.header("authorization")
    assert invoked.header_values("authorization") == [invoked.header("authorization")]
