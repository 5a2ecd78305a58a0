"""Without usable credentials the filter answers 503 itself, naming what is missing, and
sends nothing unsigned to Lambda."""

import pytest

from harness import client
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
    envoy = start_envoy(environment=environment_for(aws.user_credentials))

    answer = client.call(envoy.url, "POST", "/", body=b'{"unsigned": "never"}')

    document = assert_local_reply(answer, 503, "CredentialsUnavailable")
    assert missing in document["message"], document
    assert aws.user_credentials.secret_access_key not in document["message"]
    assert_nothing_sent_upstream(capture)
