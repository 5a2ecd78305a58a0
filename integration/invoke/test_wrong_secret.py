"""A wrong secret key: Lambda's 403 reaches the caller, after exactly one attempt."""

from harness import client
from harness.expectations import invoke_path

WRONG_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYWRONGKEY"


def test_wrong_secret_gives_the_callers_403_after_one_upstream_request(aws, capture, start_envoy):
    wrong = aws.user_credentials.with_secret(WRONG_SECRET)
    envoy = start_envoy(environment=wrong.as_environment())

    answer = client.call(envoy.url, "POST", "/", body=b'{"attempt": 1}')

    assert answer.status == 403, str(answer)
    [invoked] = capture.requests  # exactly one: no retry storm
    assert invoked.target == invoke_path(aws.function_arn)
    assert invoked.answer.status == 403
    assert answer.body == invoked.answer.body  # moto's SignatureDoesNotMatch, relayed
    assert b"SignatureDoesNotMatch" in answer.body
    assert not invoked.verdict.ok
    # ...yet the filter signed correctly with the secret it was given:
    assert invoked.verify_with({wrong.access_key_id: wrong}, region=aws.region).ok
