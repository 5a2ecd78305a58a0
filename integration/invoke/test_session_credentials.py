"""Temporary credentials (STS AssumeRole): the session token is sent and signed."""

from harness import client
from harness.expectations import the_signed_request


def test_session_credentials_are_signed_with_the_token(aws, capture, start_envoy):
    session = aws.session_credentials
    envoy = start_envoy(environment=session.as_environment())

    answer = client.call(envoy.url, "POST", "/", body=b'{"via": "sts"}')

    assert answer.status == 200, str(answer)
    assert answer.body == b'{"via": "sts"}'
    invoked = the_signed_request(capture)
    assert invoked.header("x-amz-security-token") == session.session_token
    assert "x-amz-security-token" in invoked.verdict.signed_headers
    assert f"Credential={session.access_key_id}/" in invoked.header("authorization")
