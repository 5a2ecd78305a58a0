"""Lambda's answer to a bad signature (403 `InvalidSignatureException`) quotes the canonical
request it computed, the `x-amz-security-token` header with it. A stand-in that quotes every
header it received (`authorization` too) answers here: whatever reaches the caller carries
neither the session token, nor the signature, nor the access key id (which names the account),
in both payload modes, whether the error's body arrives in one read or in several."""

import pytest

from harness import client
from harness.envoy import plugin_configuration
from harness.faulty_lambda import FaultyLambda, echo_error_body


@pytest.fixture
def echoing_lambda(aws):
    started: list[FaultyLambda] = []

    def start(parts: int) -> FaultyLambda:
        stand_in = FaultyLambda(
            aws.credentials_by_access_key(), aws.region, "echo_error", parts=parts
        )
        started.append(stand_in.start())
        return stand_in

    yield start
    for stand_in in started:
        stand_in.stop()


@pytest.mark.parametrize("parts", [1, 3], ids=["one-read", "three-reads"])
@pytest.mark.parametrize("passthrough", [True, False], ids=["passthrough", "event"])
def test_the_calls_secrets_never_reach_the_caller(
    aws, start_envoy, echoing_lambda, passthrough, parts
):
    session = aws.session_credentials
    stand_in = echoing_lambda(parts)
    envoy = start_envoy(
        plugin_configuration(arn=aws.function_arn, payload_passthrough=passthrough),
        environment=session.as_environment(),
        lambda_port=stand_in.port,
    )

    answer = client.call(
        envoy.url, "POST", "/", [("content-type", "application/json")], b'{"a": 1}'
    )

    (sent,) = stand_in.requests
    assert sent.verdict.ok, sent.describe()
    signature = sent.header("authorization").rsplit("Signature=", 1)[1]
    assert answer.status == 403, str(answer)
    text = answer.body.decode()
    secrets = (session.session_token, signature, session.access_key_id)
    for secret in secrets:
        assert secret not in text, text
        assert secret.replace("/", "\\/") not in text, text
    # All the rest is Lambda's body as it was, every part of it (none lost on the way).
    expected = echo_error_body(sent).decode()
    for secret in secrets:
        expected = expected.replace(secret, "<redacted>")
    assert text == expected
    assert answer.header("x-amzn-errortype") == "InvalidSignatureException", str(answer)
