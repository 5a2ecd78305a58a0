"""`credentials.assume_role`: the sidecar's own credentials (here the IAM user's key from the
environment) assume a role through STS, and every Invoke is signed with the role's keys.

STS is moto's, behind the STS hop (harness/sts.py): the hop checks each AssumeRole call's
signature with botocore for service `sts`, moto checks it again and hands out the role's
keys, and the capture hop verifies every Invoke with exactly those keys. The refusals moto
makes itself (a caller without `sts:AssumeRole`) come from moto; the ones it does not make (a
wrong external id, throttling) are answered by the hop in STS's error format."""

import re
import time

import pytest

from harness import client
from harness.envoy import plugin_configuration
from harness.expectations import assert_local_reply, assert_nothing_sent_upstream
from harness.metrics import wait_for_metrics, wait_until
from harness.sts import role_arn, sts_error, user_without_sts
from harness.traffic import SteadyTraffic

REQUESTS = 3
EXTERNAL_ID = "mesh-ext-7f3a"


def assume_role_configuration(aws, *, detailed_errors: bool = True, **role) -> str:
    """The tests read STS's reasons in the 503 (`detailed_errors`), unless told otherwise."""
    return plugin_configuration(
        arn=aws.function_arn,
        payload_passthrough=True,
        detailed_errors=detailed_errors,
        credentials={
            "provider": "environment",
            "max_wait_ms": 3000,
            "fetch_timeout_ms": 1000,
            "assume_role": {"role_arn": role_arn(aws), **role},
        },
    )


def test_the_assumed_role_signs_every_invoke(aws, capture, start_envoy, sts_hop):
    envoy = start_envoy(
        assume_role_configuration(aws, external_id=EXTERNAL_ID),
        environment=aws.user_credentials.as_environment(),
        clusters=[sts_hop.cluster()],
    )

    for number in range(REQUESTS):
        body = b'{"n": %d}' % number
        answer = client.call(envoy.url, "POST", "/", body=body)
        assert answer.status == 200, str(answer)
        assert answer.body == body

    # One AssumeRole call, signed with the user's key for sts in the function's region,
    # accepted by the botocore check and by moto.
    [call] = sts_hop.calls()
    assert call.verdict.ok, call.describe()
    assert (call.method, call.target) == ("POST", "/")
    assert call.access_key_id == aws.user_credentials.access_key_id
    assert call.header("host") == "sts.us-east-1.amazonaws.com"
    assert call.header("content-type") == "application/x-www-form-urlencoded; charset=utf-8"
    assert "/us-east-1/sts/aws4_request" in call.header("authorization")
    assert sts_hop.parameters(call) == {
        "Action": "AssumeRole",
        "Version": "2011-06-15",
        "RoleArn": role_arn(aws),
        "RoleSessionName": "mesh-lambda",
        "DurationSeconds": "3600",
        "ExternalId": EXTERNAL_ID,
    }
    assert call.answer.status == 200, call.describe()

    # Every Invoke signed with the role's keys, none with the user's.
    [assumed] = sts_hop.assumed
    invokes = capture.requests
    assert len(invokes) == REQUESTS
    for invoke in invokes:
        assert invoke.verdict.ok, invoke.describe()
        assert invoke.access_key_id == assumed.credentials.access_key_id
        assert invoke.access_key_id != aws.user_credentials.access_key_id
        assert invoke.header("x-amz-security-token") == assumed.credentials.session_token
        assert invoke.answer.status == 200, invoke.describe()

    wait_for_metrics(
        envoy,
        {"credential_fetches.assume_role": 1, "credential_fetch_failures.assume_role": 0},
    )
    envoy.stop()
    assert f"credentials from the assume_role ({assumed.credentials.access_key_id})" in (
        envoy.log_text()
    )


# STS signs for its own region (botocore's data/endpoints.json: `sts.{region}.{dnsSuffix}`,
# and a credentialScope only for the global endpoint), so a call to another region's STS
# signed for the function's region is refused. sts_host -> the settings and the region the
# call must be signed for.
STS_ELSEWHERE = {
    "another-regions-endpoint": ({"sts_host": "sts.eu-west-2.amazonaws.com"}, "eu-west-2"),
    "vpc-endpoint-name": (
        {"sts_host": "vpce-0a1b2c3d4e5f60718-abcdefgh.sts.ap-south-1.vpce.amazonaws.com"},
        "ap-south-1",
    ),
    "host-naming-no-region": (
        {"sts_host": "sts-proxy.internal.test", "sts_region": "ca-central-1"},
        "ca-central-1",
    ),
}


@pytest.mark.parametrize(
    ("sts", "sts_hop"), STS_ELSEWHERE.values(), ids=STS_ELSEWHERE.keys(), indirect=["sts_hop"]
)
def test_the_sts_call_is_signed_for_the_region_of_sts(aws, capture, start_envoy, sts_hop, sts):
    """The hop (standing where the STS host is) checks the signature with botocore for
    service sts in STS's region, then moto checks it again and hands out the role's keys."""
    envoy = start_envoy(
        plugin_configuration(
            arn=aws.function_arn,
            payload_passthrough=True,
            credentials={
                "provider": "environment",
                "assume_role": {"role_arn": role_arn(aws), **sts},
            },
        ),
        environment=aws.user_credentials.as_environment(),
        clusters=[sts_hop.cluster()],
    )

    answer = client.call(envoy.url, "POST", "/", body=b'{"n": 1}')

    assert answer.status == 200, str(answer)
    [call] = sts_hop.calls()
    assert call.verdict.ok, call.describe()
    assert call.header("host") == sts["sts_host"]
    assert f"/{sts_hop.region}/sts/aws4_request," in call.header("authorization")
    assert call.answer.status == 200, call.describe()
    [invoke] = capture.requests
    assert invoke.verdict.ok, invoke.describe()
    assert invoke.access_key_id == sts_hop.assumed[0].credentials.access_key_id


def test_moto_refusing_the_caller_gives_a_503_naming_role_and_reason(
    aws, capture, start_envoy, sts_hop
):
    caller = user_without_sts(aws)
    sts_hop.accept_credentials(caller)
    envoy = start_envoy(
        assume_role_configuration(aws),
        environment=caller.as_environment(),
        clusters=[sts_hop.cluster()],
    )

    answer = client.call(envoy.url, "POST", "/", body=b'{"unsigned": "never"}')

    message = assert_local_reply(answer, 503, "CredentialsUnavailable")["message"]
    assert message.startswith(f"cannot assume role {role_arn(aws)}: STS refused (HTTP 403): "), (
        message
    )
    assert "AccessDenied" in message and "is not authorized to perform: sts:AssumeRole" in message
    assert message.endswith("; nothing was sent to Lambda"), message
    assert caller.secret_access_key not in message
    calls = sts_hop.calls()
    assert calls and all(c.verdict.ok and c.answer.status == 403 for c in calls), sts_hop.describe()
    assert_nothing_sent_upstream(capture)
    metrics = wait_until(envoy, lambda m: m.get("credential_fetch_failures.assume_role", 0) >= 1)
    assert metrics["credential_fetch_failures.assume_role"] >= 1, metrics
    assert metrics["credential_fetches.assume_role"] == 0, metrics


# What STS answers (its error format) for refusals moto does not make.
REFUSALS = {
    "wrong-external-id": (
        403,
        "AccessDenied",
        "User: arn:aws:iam::123456789012:user/mesh-lambda-e2e is not authorized to perform: "
        "sts:AssumeRole on resource: arn:aws:iam::123456789012:role/mesh-lambda-e2e-role",
    ),
    "throttling": (400, "Throttling", "Rate exceeded"),
}


@pytest.mark.parametrize(("status", "code", "text"), REFUSALS.values(), ids=REFUSALS.keys())
def test_sts_error_answers_give_a_503_with_stss_code_and_message(
    aws, capture, start_envoy, sts_hop, status, code, text
):
    sts_hop.answer_with(sts_error(status, code, text))
    envoy = start_envoy(
        assume_role_configuration(aws, external_id="not-the-one-the-trust-policy-wants"),
        environment=aws.user_credentials.as_environment(),
        clusters=[sts_hop.cluster()],
    )

    answer = client.call(envoy.url, "POST", "/", body=b'{"unsigned": "never"}')

    message = assert_local_reply(answer, 503, "CredentialsUnavailable")["message"]
    assert message == (
        f"cannot assume role {role_arn(aws)}: STS refused (HTTP {status}): {code}: {text}; "
        "nothing was sent to Lambda"
    )
    assert all(c.verdict.ok for c in sts_hop.calls()), sts_hop.describe()
    assert_nothing_sent_upstream(capture)


def test_by_default_an_sts_refusal_names_no_role_to_the_caller(aws, capture, start_envoy, sts_hop):
    """`detailed_errors` left out: the caller reads the code and a fixed summary, never the
    role, the accounts or STS's words; the log has them, with the request's context id, and
    the agent's one line for the failed fetch."""
    status, code, text = REFUSALS["wrong-external-id"]
    sts_hop.answer_with(sts_error(status, code, text))
    envoy = start_envoy(
        assume_role_configuration(aws, detailed_errors=False, external_id="not-the-one"),
        environment=aws.user_credentials.as_environment(),
        clusters=[sts_hop.cluster()],
    )

    answer = client.call(envoy.url, "POST", "/", body=b'{"unsigned": "never"}')

    document = assert_local_reply(answer, 503, "CredentialsUnavailable")
    assert document == {
        "error": "CredentialsUnavailable",
        "message": "no AWS credentials to sign the request with; nothing was sent to Lambda",
    }
    assert_nothing_sent_upstream(capture)
    envoy.stop()
    log = envoy.log_text()
    reason = f"cannot assume role {role_arn(aws)}: STS refused (HTTP {status}): {code}: {text}"
    replies = [line for line in log.splitlines() if "503 CredentialsUnavailable" in line]
    assert replies, log
    for line in replies:
        assert re.search(r"context \d+: 503 CredentialsUnavailable: ", line), line
        assert reason in line, line
    assert f"credential fetch failed: {reason}" in log


def test_sts_unreachable_gives_a_503(aws, capture, start_envoy, sts_hop):
    unreachable = sts_hop.cluster()
    sts_hop.stop()  # its port now refuses connections
    envoy = start_envoy(
        assume_role_configuration(aws),
        environment=aws.user_credentials.as_environment(),
        clusters=[unreachable],
    )

    answer = client.call(envoy.url, "POST", "/", body=b'{"unsigned": "never"}')

    message = assert_local_reply(answer, 503, "CredentialsUnavailable")["message"]
    # Envoy answers the call itself (503, its text), which the filter quotes.
    assert message.startswith(
        f"cannot assume role {role_arn(aws)}: STS answered HTTP 503 with no error document: "
        "upstream connect error or disconnect/reset before headers."
    ), message
    assert aws.user_credentials.secret_access_key not in message
    assert_nothing_sent_upstream(capture)


LIFETIME_SECONDS = 900  # the shortest STS grants
MARGIN_SECONDS = 897  # so the role is assumed again every 3 s
TRAFFIC_SECONDS = 8


def test_the_role_is_assumed_again_ahead_of_expiry_under_traffic(
    aws, capture, start_envoy, sts_hop
):
    configuration = plugin_configuration(
        arn=aws.function_arn,
        payload_passthrough=True,
        detailed_errors=True,
        credentials={
            "provider": "environment",
            "refresh_margin_seconds": MARGIN_SECONDS,
            "assume_role": {"role_arn": role_arn(aws), "duration_seconds": LIFETIME_SECONDS},
        },
    )
    envoy = start_envoy(
        configuration,
        environment=aws.user_credentials.as_environment(),
        clusters=[sts_hop.cluster()],
        concurrency=2,
    )

    with SteadyTraffic(envoy.url, interval=0.1, streams=2) as traffic:
        time.sleep(TRAFFIC_SECONDS)

    outcomes = traffic.all_answered_200(more_than=30)

    calls = sts_hop.calls()
    for call in calls:
        assert call.verdict.ok and call.answer.status == 200, call.describe()
        assert sts_hop.parameters(call)["DurationSeconds"] == str(LIFETIME_SECONDS)
    assumed = {a.credentials.access_key_id for a in sts_hop.assumed}
    seen = capture.requests
    assert len(seen) == len(outcomes)
    for invoke in seen:
        assert invoke.verdict.ok, invoke.describe()
        assert invoke.access_key_id in assumed, invoke.describe()
    used = {invoke.access_key_id for invoke in seen}
    assert len(used) >= 2, f"no new role keys in {TRAFFIC_SECONDS}s: {used}"
    # One AssumeRole per refresh (every LIFETIME - MARGIN seconds), not one per VM.
    refresh_every = LIFETIME_SECONDS - MARGIN_SECONDS
    assert len(calls) <= TRAFFIC_SECONDS // refresh_every + 2, sts_hop.describe()
