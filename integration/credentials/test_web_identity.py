"""IRSA: the filter reads the pod's projected service-account token through Envoy's files
listener (envoy/files.yaml) at each fetch and exchanges it with STS AssumeRoleWithWebIdentity
for the role in AWS_ROLE_ARN; every Invoke is signed with the role's keys.

The token file is laid out and rotated as the kubelet does (harness/files.py); STS's part (the
token check) is played by harness/web_identity.py, which asks moto for the role's keys. What
the SDKs read and how: botocore's AssumeRoleWithWebIdentityProvider (credentials.py) reads
AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN and AWS_ROLE_SESSION_NAME, and re-reads the file at
each refresh (FileWebIdentityTokenLoader), as the filter does here.
"""

import time

import pytest

from harness import client
from harness.envoy import plugin_configuration
from harness.expectations import assert_local_reply, assert_nothing_sent_upstream
from harness.files import WEB_IDENTITY_TOKEN, KubernetesTokenDir
from harness.sts import role_arn
from harness.traffic import SteadyTraffic

# Projected tokens are JWTs; their contents do not matter to the filter.
FIRST_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YXBpIn0.first"
SECOND_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YXBpIn0.second"
SESSION_NAME = "api-pod-7d9f"
# moto hands out keys for 3600 s: refreshing 3597 s ahead fetches every ~3 s.
REFRESH_MARGIN_SECONDS = 3597


def irsa_environment(aws, tokens: KubernetesTokenDir) -> dict[str, str]:
    """What EKS's pod identity webhook puts into the pod's containers (amazon-eks-pod-identity-
    webhook pkg/handler: AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE, AWS_REGION, ...)."""
    return {
        "AWS_ROLE_ARN": role_arn(aws),
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(tokens.token_path),
        "AWS_REGION": aws.region,
        "AWS_ROLE_SESSION_NAME": SESSION_NAME,
    }


def irsa_configuration(aws, **credentials) -> str:
    return plugin_configuration(
        arn=aws.function_arn,
        payload_passthrough=True,
        detailed_errors=True,
        credentials={
            "provider": "web_identity",
            "max_wait_ms": 3000,
            "fetch_timeout_ms": 1000,
            **credentials,
        },
    )


def start_irsa_envoy(start_envoy, aws, web_identity_sts, tokens, **kwargs):
    return start_envoy(
        kwargs.pop("configuration", None) or irsa_configuration(aws),
        environment=irsa_environment(aws, tokens),
        clusters=[web_identity_sts.cluster()],
        files={WEB_IDENTITY_TOKEN: tokens.token_path},
        **kwargs,
    )


@pytest.mark.smoke
def test_a_rotated_token_is_sent_at_the_next_fetch_without_restart(
    aws, capture, start_envoy, web_identity_sts, tmp_path
):
    tokens = KubernetesTokenDir(tmp_path / "eks.amazonaws.com" / "serviceaccount")
    tokens.write(FIRST_TOKEN)
    web_identity_sts.accepted_tokens = {FIRST_TOKEN}
    envoy = start_irsa_envoy(
        start_envoy,
        aws,
        web_identity_sts,
        tokens,
        configuration=irsa_configuration(aws, refresh_margin_seconds=REFRESH_MARGIN_SECONDS),
        concurrency=2,
    )
    pid = envoy.pid

    with SteadyTraffic(envoy.url, interval=0.1, streams=2) as traffic:
        time.sleep(2)
        # The kubelet's rotation: the new token is valid from now on, the old one until it
        # expires; then only the new one.
        web_identity_sts.accepted_tokens = {FIRST_TOKEN, SECOND_TOKEN}
        tokens.write(SECOND_TOKEN)
        time.sleep(1)
        web_identity_sts.accepted_tokens = {SECOND_TOKEN}
        rotated_at = len(web_identity_sts.web_identity_calls())
        time.sleep(5)
    traffic.all_answered_200(more_than=40)
    assert envoy.pid == pid and envoy.exit_code is None

    calls = web_identity_sts.web_identity_calls()
    assert len(calls) >= rotated_at + 1, web_identity_sts.describe()
    sent = [web_identity_sts.parameters(c)["WebIdentityToken"] for c in calls]
    assert sent[0] == FIRST_TOKEN
    assert set(sent[rotated_at:]) == {SECOND_TOKEN}, sent
    for call in calls:
        parameters = web_identity_sts.parameters(call)
        assert call.header("authorization") is None, call.describe()  # unsigned, as STS asks
        assert call.header("host") == f"sts.{aws.region}.amazonaws.com"
        assert parameters["RoleArn"] == role_arn(aws)
        assert parameters["RoleSessionName"] == SESSION_NAME
        assert call.answer.status == 200, call.describe()

    # Every Invoke verified, each signed with keys STS handed out for a token, the last ones
    # with keys from the new token's exchange.
    handed_out = {a.credentials.access_key_id for a in web_identity_sts.assumed}
    after_rotation = {a.credentials.access_key_id for a in web_identity_sts.assumed[rotated_at:]}
    invokes = capture.requests
    for request in invokes:
        assert request.verdict.ok, request.describe()
        assert request.access_key_id in handed_out, request.describe()
    assert invokes[-1].access_key_id in after_rotation

    # The token is in no log line.
    envoy.stop()
    log = envoy.log_text()
    assert FIRST_TOKEN not in log and SECOND_TOKEN not in log


@pytest.mark.parametrize("contents", [None, ""], ids=["missing", "empty"])
def test_a_missing_or_empty_token_file_gives_503_naming_the_source(
    aws, capture, start_envoy, web_identity_sts, tmp_path, contents
):
    tokens = KubernetesTokenDir(tmp_path / "serviceaccount")
    tokens.write(contents)
    envoy = start_irsa_envoy(start_envoy, aws, web_identity_sts, tokens)
    answer = client.call(envoy.url, "POST", "/", body=b'{"unsigned": "never"}')
    message = assert_local_reply(answer, 503, "CredentialsUnavailable")["message"]
    assert "web_identity: the file of AWS_WEB_IDENTITY_TOKEN_FILE is missing or empty" in message, (
        message
    )
    assert web_identity_sts.calls() == []
    assert_nothing_sent_upstream(capture)


REFUSALS = {
    # STS API reference, AssumeRoleWithWebIdentity, Errors.
    "expired": (400, "ExpiredTokenException", "Token expired: current date/time must be before"),
    "wrong-audience": (400, "InvalidIdentityToken", "Incorrect token audience"),
}


@pytest.mark.parametrize("refusal", REFUSALS.values(), ids=REFUSALS.keys())
def test_sts_refusing_the_token_gives_503_with_its_reason(
    aws, capture, start_envoy, web_identity_sts, tmp_path, refusal
):
    tokens = KubernetesTokenDir(tmp_path / "serviceaccount")
    tokens.write(FIRST_TOKEN)
    web_identity_sts.accepted_tokens = set()
    web_identity_sts.refusal = refusal
    envoy = start_irsa_envoy(start_envoy, aws, web_identity_sts, tokens)
    answer = client.call(envoy.url, "POST", "/", body=b'{"unsigned": "never"}')
    message = assert_local_reply(answer, 503, "CredentialsUnavailable")["message"]
    status, code, _ = refusal
    assert f"web_identity: STS refused (HTTP {status}): {code}" in message, message
    assert role_arn(aws) in message
    assert FIRST_TOKEN not in message
    assert len(web_identity_sts.web_identity_calls()) >= 1
    assert_nothing_sent_upstream(capture)


def test_web_identity_is_the_base_of_an_assumed_role(
    aws, capture, start_envoy, web_identity_sts, tmp_path
):
    """Role chaining: the pod's identity (web identity) assumes the functions' role, and the
    Invokes are signed with the chained role's keys, not the pod role's."""
    tokens = KubernetesTokenDir(tmp_path / "serviceaccount")
    tokens.write(FIRST_TOKEN)
    web_identity_sts.accepted_tokens = {FIRST_TOKEN}
    configuration = irsa_configuration(
        aws, assume_role={"role_arn": role_arn(aws), "session_name": "chained"}
    )
    envoy = start_irsa_envoy(
        start_envoy, aws, web_identity_sts, tokens, configuration=configuration
    )
    for number in range(3):
        body = b'{"n": %d}' % number
        answer = client.call(envoy.url, "POST", "/", body=body)
        assert answer.status == 200, str(answer)
        assert answer.body == body

    first, second = web_identity_sts.calls()
    assert web_identity_sts.parameters(first)["Action"] == "AssumeRoleWithWebIdentity"
    assert first.header("authorization") is None
    assert web_identity_sts.parameters(second)["Action"] == "AssumeRole"
    assert web_identity_sts.parameters(second)["RoleSessionName"] == "chained"
    pod_role, chained = web_identity_sts.assumed
    # The AssumeRole call signed with the web identity's keys (verified by botocore), and
    # every Invoke with the chained role's.
    assert second.verdict.ok, second.describe()
    assert second.access_key_id == pod_role.credentials.access_key_id
    for request in capture.requests:
        assert request.verdict.ok, request.describe()
        assert request.access_key_id == chained.credentials.access_key_id
