"""Without usable credentials the filter answers 503 itself and sends nothing unsigned to
Lambda. The caller reads a fixed summary; what is missing is in the log, with the request's
context id (and, with `detailed_errors: true`, in the answer)."""

import re

import pytest

from harness import client
from harness.envoy import plugin_configuration
from harness.expectations import assert_local_reply, assert_nothing_sent_upstream

KEY, SECRET = "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"

# case id -> (Envoy's AWS_* variables, given the IAM user's credentials; variable to be named)
CASES = {
    "none": (lambda c: {}, KEY),
    "key-only": (lambda c: {KEY: c.access_key_id}, SECRET),
    "secret-only": (lambda c: {SECRET: c.secret_access_key}, KEY),
    "empty-values": (lambda c: {KEY: "", SECRET: ""}, KEY),
    "token-only": (lambda c: {"AWS_SESSION_TOKEN": "token"}, KEY),
}


@pytest.mark.parametrize(("environment_for", "missing"), CASES.values(), ids=CASES.keys())
def test_missing_credentials_give_a_local_503(aws, capture, start_envoy, environment_for, missing):
    envoy = start_envoy(
        plugin_configuration(arn=aws.function_arn, payload_passthrough=True, detailed_errors=True),
        environment=environment_for(aws.user_credentials),
    )

    answer = client.call(envoy.url, "POST", "/", body=b'{"unsigned": "never"}')

    document = assert_local_reply(answer, 503, "CredentialsUnavailable")
    assert missing in document["message"], document
    assert aws.user_credentials.secret_access_key not in document["message"]
    assert_nothing_sent_upstream(capture)


@pytest.mark.smoke
def test_by_default_the_caller_reads_a_summary_and_the_log_the_reason(aws, capture, start_envoy):
    """`detailed_errors` left out: the answer names no variable, provider or reason (on an
    internet-facing listener those would tell anyone how the proxy gets its keys); the log
    line of the reply carries the reason and the stream's context id."""
    envoy = start_envoy(
        plugin_configuration(arn=aws.function_arn, payload_passthrough=True),
        environment={KEY: aws.user_credentials.access_key_id},
    )

    answer = client.call(envoy.url, "POST", "/", body=b'{"unsigned": "never"}')

    document = assert_local_reply(answer, 503, "CredentialsUnavailable")
    assert document["message"] == (
        "no AWS credentials to sign the request with; nothing was sent to Lambda"
    )
    assert SECRET not in answer.body.decode() and "environment" not in answer.body.decode()
    assert_nothing_sent_upstream(capture)
    envoy.stop()
    [line] = [
        line for line in envoy.log_text().splitlines() if "503 CredentialsUnavailable" in line
    ]
    assert re.search(r"context \d+: 503 CredentialsUnavailable: .*" + SECRET, line), line
